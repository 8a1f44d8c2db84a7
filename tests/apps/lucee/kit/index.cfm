<cfscript>
// The same site the Node and PHP kits' tests run (tests/kits.rs), in CFML.
endedLog = server.system.environment.APP_DIR & "/kit-ended.log";
cfcontent(type = "text/plain; charset=utf-8");
switch (cgi.path_info) {
    case "/count":
        request.edge.set("count", request.edge.get("count", 0) + 1);
        writeOutput(request.edge.get("count"));
        break;
    case "/store":
        request.edge.set(url.key ?: "value", url.value);
        writeOutput("stored");
        break;
    case "/lone-surrogate":
        request.edge.set("broken", chr(55296)); // a lone UTF-16 surrogate, which Lucee's strings can hold
        writeOutput("stored");
        break;
    case "/show":
        cfcontent(type = "application/json; charset=utf-8");
        writeOutput(serializeJSON({ "id": request.edge.getId(), "session": request.edge.all() }));
        break;
    case "/login":
        request.edge.setUser(url.user);
        writeOutput("logged in");
        break;
    case "/logout":
        request.edge.invalidate();
        writeOutput("logged out");
        break;
    case "/sessions":
        cfcontent(type = "application/json; charset=utf-8");
        writeOutput(serializeJSON(request.edge.listMySessions()));
        break;
    case "/end-others":
        cfcontent(type = "application/json; charset=utf-8");
        writeOutput(serializeJSON(request.edge.endOtherSessions()));
        break;
    case "/ended":
        cfcontent(type = "application/json; charset=utf-8");
        lines = fileExists(endedLog) ? listToArray(fileRead(endedLog), chr(10)) : [];
        writeOutput(serializeJSON(lines));
        break;
    case "/hooks/end":
        body = toString(getHttpRequestData().content);
        hooks = new EdgeSession(originKey = server.system.environment.CFS_ORIGIN_KEY);
        if (!hooks.verifyHook(cgi.http_x_session_signature, body)) {
            cfheader(statusCode = 401);
            writeOutput("bad hook signature");
            break;
        }
        fileAppend(endedLog, deserializeJSON(body).cfid & chr(10));
        cfheader(statusCode = 204);
        break;
    default:
        cfheader(statusCode = 404);
        writeOutput("no such page");
}
</cfscript>