<%@ page session="false" contentType="text/plain; charset=UTF-8" trimDirectiveWhitespaces="true"
    import="javax.crypto.Mac,javax.crypto.spec.SecretKeySpec,java.nio.charset.StandardCharsets,java.security.MessageDigest"
%><%@ include file="/WEB-INF/seen.jspf" %><%
  // ORIGIN_KILL_URL: a signed POST carrying the ended session's cookies; ends that session.
  String body = new String(request.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
  String t = null, v2 = null;
  String header = request.getHeader("X-Session-Signature");
  for (String part : (header == null ? "" : header).split(",")) {
    String[] kv = part.split("=", 2);
    if (kv.length == 2 && kv[0].equals("t")) t = kv[1];
    if (kv.length == 2 && kv[0].equals("v2")) v2 = kv[1];
  }
  boolean fresh = false;
  try { fresh = t != null && Math.abs(System.currentTimeMillis() / 1000 - Long.parseLong(t)) <= 300; } catch (NumberFormatException e) {}
  Mac mac = Mac.getInstance("HmacSHA256");
  mac.init(new SecretKeySpec(System.getenv("EDGE_ORIGIN_KEY").getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
  StringBuilder expected = new StringBuilder();
  for (byte b : mac.doFinal(("cfsession-hook-v1\n" + t + "\n" + body).getBytes(StandardCharsets.UTF_8))) expected.append(String.format("%02x", b));
  if (!"POST".equals(request.getMethod()) || !fresh || v2 == null
      || !MessageDigest.isEqual(expected.toString().getBytes(StandardCharsets.UTF_8), v2.getBytes(StandardCharsets.UTF_8))) {
    response.setStatus(401);
    out.print("unsigned");
    return;
  }
  HttpSession s = request.getSession(false);
  String id = s == null ? "none" : s.getId();
  if (s != null) s.invalidate();
  java.nio.file.Files.writeString(java.nio.file.Path.of(System.getenv("APP_DIR"), "destroyed.log"), id + "\n",
      java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
  out.print("destroyed " + id);
%>
