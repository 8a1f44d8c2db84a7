/**
 * The demo as a real Lucee application (scripts/dev --lucee), unmodified for the edge: its own
 * sessions (cfid/cftoken), a hit count, a per-session temp file that onSessionEnd deletes, and
 * an onSessionEnd log. The edge guards it (guard mode): End Session, the edge's timeouts and
 * the dashboard work without any change here; kill.cfm (written by scripts/dev from
 * docs/guard-mode.md) is the ORIGIN_KILL_URL page.
 */
component {
    this.name = "cfsession-lucee-demo";
    this.sessionManagement = true;
    this.setClientCookies = true;
    this.sessionTimeout = createTimeSpan(0, 0, 20, 0);

    function dataDir() {
        return server.system.environment.APP_DIR & "/demo";
    }

    function onApplicationStart() {
        application.edgeOriginKey = server.system.environment.EDGE_ORIGIN_KEY;
        if (!directoryExists(dataDir() & "/temp")) directoryCreate(dataDir() & "/temp", true, true);
        return true;
    }

    function onSessionStart() {
        session.hits = 0;
        session.tempFile = dataDir() & "/temp/" & session.cfid & ".tmp";
        fileWrite(session.tempFile, "a per-session temp file");
    }

    function onSessionEnd(required struct sessionScope, struct applicationScope) {
        if (structKeyExists(arguments.sessionScope, "tempFile") && fileExists(arguments.sessionScope.tempFile)) {
            fileDelete(arguments.sessionScope.tempFile);
        }
        fileAppend(dataDir() & "/ended.log", "onSessionEnd: " & arguments.sessionScope.cfid & " (temp file deleted)" & chr(10));
    }
}
