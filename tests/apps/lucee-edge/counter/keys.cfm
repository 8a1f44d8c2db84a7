<cfscript>
// This application's session, as JSON (the engine's own keys left out).
out = {};
for (k in session) {
    if (!listFindNoCase("cfid,cftoken,urltoken,sessionid,timecreated,lastvisit", k)) out[lCase(k)] = session[k];
}
writeOutput(serializeJSON(out));
</cfscript>
