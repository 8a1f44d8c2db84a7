<cfscript>
new components.Auth().login(url.name);
location("index.cfm", false);
</cfscript>
