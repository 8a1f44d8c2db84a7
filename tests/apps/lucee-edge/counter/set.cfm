<cfscript>
// session[url.k] = url.v, after url.ms milliseconds; answers "<server>"
sleep(val(url.ms ?: 0));
session[url.k] = url.v;
writeOutput(server.system.environment.LUCEE_NODE);
</cfscript>
