/**
 * The kits' test site on Lucee (edge mode): ColdFusion's own sessions off, the edge's session
 * through kits/cfml/EdgeSession.cfc (copied beside this file by the test harness). Every path
 * reaches index.cfm as path info (the edge's ORIGIN_URL ends in /kit/index.cfm).
 */
component {
    this.name = "edge-kit";
    this.sessionManagement = false;
    this.setClientCookies = false;

    public boolean function onRequestStart(required string targetPage) {
        if (cgi.path_info == "/hooks/end" || cgi.path_info == "/ended") {
            return true; // verified there with verifyHook(), or public
        }
        // The edge's public URL, from the site's configuration (the test writes it).
        var urlFile = server.system.environment.APP_DIR & "/kit-edge-url";
        var edgeUrl = fileExists(urlFile) ? trim(fileRead(urlFile)) : "";
        request.edge = new EdgeSession(originKey = server.system.environment.CFS_ORIGIN_KEY, edgeUrl = edgeUrl);
        if (!request.edge.load()) {
            request.edge.refuse();
            return false;
        }
        return true;
    }

    public void function onRequestEnd(required string targetPage) {
        if (structKeyExists(request, "edge")) {
            request.edge.emit();
        }
    }
}
