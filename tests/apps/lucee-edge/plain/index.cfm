<cfscript>
writeOutput("1 " & server.system.environment.LUCEE_NODE);
</cfscript>
