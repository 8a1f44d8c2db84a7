<cfscript>
// A login: Lucee's own rotation (new ids, same data).
sessionRotate();
session.hits++;
writeOutput((getApplicationSettings().sessionType == "jee" ? session.sessionid : session.cfid) & " " & session.hits);
</cfscript>
