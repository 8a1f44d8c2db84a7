<cfscript>
session.rotated = true;
sessionRotate();
writeOutput("rotated");
</cfscript>
