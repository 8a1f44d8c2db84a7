<cfscript>
// Lucee's own sessionInvalidate(), called plainly (does it run onSessionEnd?).
sessionInvalidate();
writeOutput("invalidated");
</cfscript>
