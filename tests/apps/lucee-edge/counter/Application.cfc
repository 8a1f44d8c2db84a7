/**
 * A small application on the edge's session through the drop-in (kits/cfml/EdgeApplication.cfc):
 * a counter, any key set from the URL, and its session start and end written to files.
 */
component extends="EdgeApplication" {
    this.name = "counter";
    this.sessionTimeout = createTimeSpan(0, 0, 20, 0);

    function appDir() {
        return server.system.environment.APP_DIR & "/counter";
    }

    function onApplicationStart() {
        if (!directoryExists(appDir())) directoryCreate(appDir(), true, true);
        return true;
    }

    function onSessionStart() {
        session.count = 0;
        fileAppend(appDir() & "/started.log", session.cfid & chr(10));
    }

    function onSessionEnd(required struct sessionScope, struct applicationScope) {
        fileAppend(appDir() & "/ended.log", arguments.sessionScope.cfid & " " & arguments.sessionScope.count & chr(10));
    }

    edgeSession();
}
