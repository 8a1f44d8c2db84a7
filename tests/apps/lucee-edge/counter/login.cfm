<cfscript>
// Tags the session with a user (the drop-in keeps the explicit API at request.edge).
request.edge.setUser(url.user);
writeOutput("logged in");
</cfscript>
