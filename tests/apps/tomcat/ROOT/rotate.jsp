<%@ page session="true" contentType="text/plain; charset=UTF-8" trimDirectiveWhitespaces="true" %><%@ include file="/WEB-INF/seen.jspf" %><%
  // The application's own rotation (at a login): a new id, the same data.
  String id = request.changeSessionId();
  Integer n = (Integer) session.getAttribute("n");
  n = n == null ? 1 : n + 1;
  session.setAttribute("n", n);
  out.print(id + " " + n);
%>
