<cfscript>
new components.Auth().logout();
location("index.cfm", false);
</cfscript>
