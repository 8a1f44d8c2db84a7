/**
 * An example Application.cfc for a site behind cfsession-edge (edge mode), using EdgeSession.cfc.
 * ColdFusion's own session management is off: the edge owns CFID/CFTOKEN.
 */
component {
    this.name = "edge-example";
    this.sessionManagement = false;
    this.setClientCookies = false;

    public boolean function onRequestStart(required string targetPage) {
        if (arguments.targetPage == "/hooks/end.cfm") {
            return true; // verified there with request.edge.verifyHook()
        }
        request.edge = new EdgeSession(originKey = server.system.environment.CFS_ORIGIN_KEY);
        if (!request.edge.load()) {
            request.edge.refuse();
            return false;
        }
        request.edge.set("count", request.edge.get("count", 0) + 1);
        return true;
    }

    public void function onRequestEnd(required string targetPage) {
        if (structKeyExists(request, "edge")) {
            request.edge.emit();
        }
    }

    // location() and abort end the request without onRequestEnd: emit the changes here too.
    public void function onAbort(required string targetPage) {
        onRequestEnd(arguments.targetPage);
    }
}
