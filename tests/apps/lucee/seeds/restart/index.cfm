<cfscript>
if (structKeyExists(url, "stop")) {
    applicationStop();
    writeOutput("stopped");
    abort;
}
session.hits++;
writeOutput(session.cfid & " " & session.hits & " " & application.starts);
</cfscript>
