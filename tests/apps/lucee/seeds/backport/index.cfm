<cfscript>
if (structKeyExists(url, "invalidate")) {
    // The backport: fire onSessionEnd, then empty the session.
    createObject("component", "Application").onSessionEnd(session, application);
    structClear(session);
}
session.hits = (session.hits ?: 0) + 1;
writeOutput((structKeyExists(session, "cfid") ? session.cfid : cookie.cfid) & " " & session.hits);
</cfscript>
