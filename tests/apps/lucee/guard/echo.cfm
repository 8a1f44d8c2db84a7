<cfscript>
// The differential tests (included by cfml/echo.cfm and jee/echo.cfm): every cookie Lucee's
// `cookie` scope holds (Tomcat's getCookies() overridden by Lucee's own parse of the raw
// header), and whose session Lucee attached. `?as=NAME` marks this session as NAME's.
if (structKeyExists(url, "as")) {
    session.owner = url.as;
}
pairs = [];
for (name in cookie) {
    arrayAppend(pairs, [name, toString(cookie[name])]);
}
content type="application/json" reset=true;
writeOutput(serializeJSON({"readers": {"lucee": pairs}, "owner": session.owner ?: ""}));
</cfscript>
