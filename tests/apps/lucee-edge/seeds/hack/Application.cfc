/**
 * The second source document's first approach to ending a session, in its style: on
 * ?killSession, a one-second sessionTimeout in the pseudo-constructor, then the CFID, CFTOKEN
 * and CFMAGIC cookies expired by hand and a redirect. Each session writes a temp file that
 * onSessionEnd deletes (the first document's problem).
 */
component extends="EdgeApplication" {
    this.name = "seed-hack";
    this.applicationTimeout = createTimeSpan(0, 0, 5, 0);
    this.sessionManagement = true;
    this.sessionTimeout = createTimeSpan(0, 0, 3, 0);
    if (structKeyExists(url, "killSession")) {
        // "NOTE: Using a ZERO timeout seems to be ignored. Hence, I am using 1 second."
        this.sessionTimeout = createTimeSpan(0, 0, 0, 1);
    }

    function appDir() {
        return server.system.environment.APP_DIR & "/seed-hack";
    }

    function onApplicationStart() {
        application.edgeOriginKey = server.system.environment.EDGE_ORIGIN_KEY;
        if (!directoryExists(appDir() & "/temp")) directoryCreate(appDir() & "/temp", true, true);
        return true;
    }

    function onSessionStart() {
        session.hitCount = 0;
        session.tempFile = appDir() & "/temp/" & session.cfid & ".tmp";
        fileWrite(session.tempFile, "stamp image");
    }

    function onRequestStart(required string targetPage) {
        if (structKeyExists(url, "killSession")) {
            for (var cookieName in ["cfid", "cftoken", "cfmagic"]) {
                cfcookie(name = cookieName, value = "", expires = "now");
            }
            cflocation(url = "./index.cfm", addtoken = false);
        }
        session.hitCount++;
        return true;
    }

    function onSessionEnd(required struct sessionScope, struct applicationScope) {
        if (fileExists(arguments.sessionScope.tempFile)) fileDelete(arguments.sessionScope.tempFile);
        fileAppend(appDir() & "/ended.log", arguments.sessionScope.cfid & chr(10));
    }

    edgeSession();
}
