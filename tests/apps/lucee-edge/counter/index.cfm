<cfscript>
// "<count> <server>"
session.count++;
writeOutput(session.count & " " & server.system.environment.LUCEE_NODE);
</cfscript>
