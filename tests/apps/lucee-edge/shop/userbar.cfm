<cfif thisTag.executionMode == "start"><cfscript>
// <cf_userbar>: who is logged in; counts its own renders in the session.
session.userbarRenders = (session.userbarRenders ?: 0) + 1;
writeOutput("[" & (structKeyExists(session, "user") ? session.user.name : "guest") & "]");
</cfscript></cfif>
