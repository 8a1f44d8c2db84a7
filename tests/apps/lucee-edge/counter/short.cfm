<cfscript>
// This session's idle timeout, in seconds (ColdFusion's per-session setting).
session.setMaxInactiveInterval(val(url.s));
writeOutput("timeout " & url.s);
</cfscript>
