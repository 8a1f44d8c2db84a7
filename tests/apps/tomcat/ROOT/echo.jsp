<%@ page session="false" contentType="application/json; charset=UTF-8" trimDirectiveWhitespaces="true" %><%!
  // JSON string escaping for the echo below.
  static String json(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20 || c > 0x7e) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }
%><%
  // The differential tests: every cookie the servlet API (getCookies) read, and whose
  // HttpSession Tomcat attached. `?as=NAME` starts a session owned by NAME.
  String as = request.getParameter("as");
  HttpSession s = request.getSession(as != null);
  if (as != null) s.setAttribute("owner", as);
  StringBuilder pairs = new StringBuilder();
  jakarta.servlet.http.Cookie[] cookies = request.getCookies();
  if (cookies != null) {
    for (jakarta.servlet.http.Cookie c : cookies) {
      if (pairs.length() > 0) pairs.append(',');
      pairs.append('[').append(json(c.getName())).append(',').append(json(c.getValue())).append(']');
    }
  }
  Object owner = s == null ? null : s.getAttribute("owner");
  out.print("{\"readers\":{\"servlet\":[" + pairs + "]},\"owner\":" + json(owner == null ? "" : owner.toString()) + "}");
%>
