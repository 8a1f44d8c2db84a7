<%@ page session="true" contentType="text/plain; charset=UTF-8" trimDirectiveWhitespaces="true" %><%@ include file="/WEB-INF/seen.jspf" %><%
  // Tomcat's own HttpSession (JSESSIONID): a hit counter.
  Integer n = (Integer) session.getAttribute("n");
  n = n == null ? 1 : n + 1;
  session.setAttribute("n", n);
  out.print(session.getId() + " " + n);
%>
