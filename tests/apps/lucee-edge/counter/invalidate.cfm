<cfscript>
sessionInvalidate();
writeOutput("invalidated");
</cfscript>
