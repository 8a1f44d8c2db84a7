<cfif thisTag.executionMode == "start"><cfscript>
// <cf_flash>: shows the flash message once.
if (len(session.flash ?: "")) {
    writeOutput("(" & session.flash & ")");
    session.flash = "";
}
</cfscript></cfif>
