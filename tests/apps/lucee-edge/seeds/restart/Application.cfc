/**
 * The fifth source document's application and session timeouts, in its style: a short
 * applicationTimeout, a longer sessionTimeout, and applicationStop() on ?stop. The application
 * scope restarts (onApplicationStart again); the sessions are left as they were.
 */
component extends="EdgeApplication" {
    this.name = "seed-restart";
    this.applicationTimeout = createTimeSpan(0, 0, 0, 10);
    this.sessionManagement = true;
    this.sessionTimeout = createTimeSpan(0, 0, 5, 0);

    function onApplicationStart() {
        application.dateInitialized = now();
        application.starts = (server.seedRestartStarts ?: 0) + 1;
        server.seedRestartStarts = application.starts;
        application.edgeOriginKey = server.system.environment.EDGE_ORIGIN_KEY;
        return true;
    }

    function onSessionStart() {
        session.dateInitialized = now();
        session.hits = 0;
    }

    edgeSession();
}
