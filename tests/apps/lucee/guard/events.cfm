<cfscript>
// The guard-mode test applications' shared settings and events (included by cfml/ and jee/
// Application.cfc, which set this.name and this.sessionType). The first source document's
// problem: every session writes a temp file that onSessionEnd must delete.
this.sessionManagement = true;
this.setClientCookies = true;
this.sessionTimeout = createTimeSpan(0, 1, 0, 0); // Lucee's own: an hour, longer than the edge's

function appDir() {
    return server.system.environment.APP_DIR & "/" & this.sessionType;
}

function sessionKey(required struct s) {
    return this.sessionType == "jee" ? s.sessionid : s.cfid;
}

function onApplicationStart() {
    application.edgeOriginKey = server.system.environment.EDGE_ORIGIN_KEY;
    if (!directoryExists(appDir() & "/temp")) {
        directoryCreate(appDir() & "/temp", true, true);
    }
    return true;
}

function onRequestStart(required string targetPage) {
    // Every request's Cookie header, one line each: what reached the application.
    fileAppend(appDir() & "/seen.log", cgi.http_cookie & chr(10));
    return true;
}

function onSessionStart() {
    session.hits = 0;
    session.tempFile = appDir() & "/temp/" & sessionKey(session) & ".tmp";
    fileWrite(session.tempFile, "a per-session temp file (a stamp image, say)");
}

function onSessionEnd(required struct sessionScope, struct applicationScope) {
    if (structKeyExists(arguments.sessionScope, "tempFile") && fileExists(arguments.sessionScope.tempFile)) {
        fileDelete(arguments.sessionScope.tempFile);
    }
    fileAppend(appDir() & "/ended.log", sessionKey(arguments.sessionScope) & chr(10));
}
</cfscript>
