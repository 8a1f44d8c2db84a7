<cfscript>
// A page of a guarded Lucee application: its own session's key and hit count.
session.hits++;
writeOutput((getApplicationSettings().sessionType == "jee" ? session.sessionid : session.cfid) & " " & session.hits);
</cfscript>
