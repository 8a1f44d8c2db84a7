/**
 * The fourth source document's SessionInvalidate() backport, in its style on Lucee (ACF's
 * getEventInvoker() and SessionTracker do not exist there): on ?invalidate, onSessionEnd is
 * called by hand and the session scope cleared. The session itself lives on.
 */
component extends="EdgeApplication" {
    this.name = "seed-backport";
    this.sessionManagement = true;
    this.sessionTimeout = createTimeSpan(0, 1, 0, 0);

    function appDir() {
        return server.system.environment.APP_DIR & "/seed-backport";
    }

    function onApplicationStart() {
        application.edgeOriginKey = server.system.environment.EDGE_ORIGIN_KEY;
        if (!directoryExists(appDir() & "/temp")) directoryCreate(appDir() & "/temp", true, true);
        return true;
    }

    function onSessionStart() {
        session.stamp = now();
        session.hits = 0;
        session.tempFile = appDir() & "/temp/" & session.cfid & ".tmp";
        fileWrite(session.tempFile, "stamp image");
    }

    function onSessionEnd(required struct sessionScope, struct applicationScope) {
        if (structKeyExists(arguments.sessionScope, "tempFile") && fileExists(arguments.sessionScope.tempFile)) {
            fileDelete(arguments.sessionScope.tempFile);
        }
        fileAppend(appDir() & "/ended.log", arguments.sessionScope.cfid & chr(10));
    }

    edgeSession();
}
