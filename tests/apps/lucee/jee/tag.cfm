<cfscript>
// Tags the guarded session with a user id (the edge's X-Session-User), for log-out-everywhere.
cfheader(name = "X-Session-User", value = url.user);
session.hits++;
writeOutput((getApplicationSettings().sessionType == "jee" ? session.sessionid : session.cfid) & " " & session.hits);
</cfscript>
