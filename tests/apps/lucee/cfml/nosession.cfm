<cfscript>
// A page that never touches the session scope (does Lucee set cookies anyway?).
writeOutput("no session used");
</cfscript>
