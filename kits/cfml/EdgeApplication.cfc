/**
 * cfsession-edge's drop-in for CFML: the application's own `session` scope, `onSessionStart`,
 * `onSessionEnd`, `sessionInvalidate()` and `sessionRotate()` on the edge's session (edge
 * mode), with only Application.cfc changed:
 *
 *   component extends="EdgeApplication" {   // was: component {
 *       this.name = "shop";
 *       … everything as it was …
 *       edgeSession();                        // the last line of the pseudo-constructor
 *   }
 *
 * Each request gets a fresh engine session that holds the edge's data for this request only;
 * what changed goes back in X-Session-Set when the request ends (onRequestEnd, onAbort or
 * onError). The engine's own session ids, cookies and end events are never used. The
 * application's handlers (onRequestStart, onRequestEnd, onAbort, onError, onSessionStart,
 * onSessionEnd) are kept and run at the same points as before. Run on Lucee 7 by the test
 * suite (tests/lucee_edge.rs); written for Adobe ColdFusion 2021+, not run there.
 * The semantics, limits and measurements: kits/cfml/README.md and docs/cfml.md.
 */
component {

    this.sessionManagement = true;
    this.setClientCookies = false;

    /** The engine keys of a session scope that are not session data. */
    variables.CFS_RESERVED = "cfid,cftoken,urltoken,sessionid,timecreated,lastvisit";
    /** The key (after the prefix) of an application's own record in the edge session. */
    variables.CFS_MARKER = "";
    /** Written into `session` at the end of a request to see whether the scope was replaced. */
    variables.CFS_PROBE = "cfsession-edge.probe";
    /** The handlers the kit runs around the application's own. */
    variables.CFS_HANDLERS = ["onRequestStart", "onRequestEnd", "onAbort", "onError", "onSessionStart", "onSessionEnd"];
    /** Header on an end event passed on to another application of the session: run only yours. */
    variables.CFS_FANOUT = "X-CFSession-Fanout";

    /**
     * Puts the application's `session` on the edge's session. Call it as the last statement of
     * Application.cfc's pseudo-constructor (after `this.name`, `this.sessionTimeout`, …).
     * originKey: the origin key (default: the CFS_ORIGIN_KEY environment variable);
     * edgeUrl: the edge's public URL for the origin API (default: CFS_EDGE_URL, else the
     * request's own host over https); prefix: this application's keys in the shared edge
     * session (default: `this.name` and ":"); dataLimit: the edge's SESSION_DATA_LIMIT in bytes
     * (default 3072): a request that would pass it fails with EdgeSession.DataLimit.
     */
    public void function edgeSession(string originKey, string edgeUrl, string prefix, numeric dataLimit = 3072) {
        var appTimeout = structKeyExists(this, "sessionTimeout") ? round(this.sessionTimeout * 86400) : 0;
        var requestTimeout = structKeyExists(this, "requestTimeout") ? round(this.requestTimeout * 86400) : 50;
        variables.cfs = {
            originKey = arguments.originKey ?: environment("CFS_ORIGIN_KEY"),
            edgeUrl = arguments.edgeUrl ?: environment("CFS_EDGE_URL"),
            prefix = arguments.prefix ?: this.name & ":",
            dataLimit = arguments.dataLimit,
            // The application's own idle timeout (seconds), sent to the edge; 0: the edge's.
            timeout = appTimeout,
            handlers = {}
        };
        for (var h in variables.CFS_HANDLERS) {
            if (structKeyExists(this, h)) {
                variables["cfsApp_" & h] = this[h];
                variables.cfs.handlers[h] = true;
                structDelete(this, h);
            }
        }
        this.onRequestStart = cfsOnRequestStart;
        this.onRequestEnd = cfsOnRequestEnd;
        this.onAbort = cfsOnAbort;
        this.onError = cfsOnError;
        // The engine's per-request session: in memory, CFML-type, never a cookie, and kept
        // past the longest request (an engine session that times out mid-request is emptied).
        this.sessionManagement = true;
        this.setClientCookies = false;
        this.sessionType = "cfml";
        this.sessionStorage = "memory";
        this.sessionCluster = false;
        this.sessionTimeout = createTimeSpan(0, 0, 0, max(requestTimeout, 50) + 60);
    }

    /**
     * `onSessionStart()` and `onSessionEnd(sessionScope, applicationScope)` called by the
     * application itself (the source documents' SessionInvalidate() backport does): the kit
     * keeps them out of `this` so that the engine never calls them for its per-request copies.
     */
    public any function onMissingMethod(required string missingMethodName, struct missingMethodArguments = {}) {
        var name = arguments.missingMethodName;
        if (arrayFindNoCase(["onSessionStart", "onSessionEnd"], name) && structKeyExists(variables.cfs.handlers, name)) {
            var handler = variables["cfsApp_" & name];
            return handler(argumentCollection = arguments.missingMethodArguments);
        }
        throw(type = "Application", message = "The method " & name & " was not found in component " & getMetadata(this).name);
    }

    private any function cfsOnRequestStart(required string targetPage) {
        if (isHookCall()) {
            answerHook();
            return false;
        }
        request.edge = new EdgeSession(variables.cfs.originKey, variables.cfs.edgeUrl, variables.cfs.prefix);
        if (!request.edge.load()) {
            request.edge.refuse();
            structDelete(request, "edge");
            return false;
        }
        loadScope();
        if (structKeyExists(variables.cfs.handlers, "onRequestStart")) {
            var go = variables.cfsApp_onRequestStart(arguments.targetPage);
            if (!isNull(go) && isBoolean(go) && !go) {
                finish(); // the engine runs no onRequestEnd after a false
                return false;
            }
        }
        return true;
    }

    private void function cfsOnRequestEnd(required string targetPage) {
        if (structKeyExists(variables.cfs.handlers, "onRequestEnd")) {
            variables.cfsApp_onRequestEnd(arguments.targetPage);
        }
        finish();
    }

    /** location(), cflocation and abort end a request without onRequestEnd. */
    private void function cfsOnAbort(required string targetPage) {
        if (structKeyExists(variables.cfs.handlers, "onAbort")) {
            variables.cfsApp_onAbort(arguments.targetPage);
        }
        finish();
    }

    /**
     * An error keeps what the request wrote into `session` before it (as the engine's own
     * session would); the application's onError runs first, else the engine's error page.
     */
    private void function cfsOnError(required any exception, string eventName = "") {
        if (structKeyExists(variables.cfs.handlers, "onError")) {
            try {
                variables.cfsApp_onError(arguments.exception, arguments.eventName);
            } finally {
                finishLogged();
            }
            return;
        }
        finishLogged();
        throw(object = arguments.exception);
    }

    /** The edge's data into this request's (new, empty) engine session; onSessionStart when the session is new to this application. */
    private void function loadScope() {
        var edge = request.edge;
        for (var k in edge.keys()) {
            if (k != variables.CFS_MARKER) {
                session[k] = edge.get(k); // the loaded value (the diff compares with its own copy)
            }
        }
        session.cfid = edge.getId();
        session.sessionid = this.name & "_" & edge.getId();
        // Code that reads cookie.cfid finds the edge's CFID (the edge keeps its cookies from
        // the origin; the Set-Cookie this assignment adds is dropped by the edge). Never
        // CFTOKEN: the origin never sees it.
        if (!structKeyExists(cookie, "cfid")) {
            cookie.cfid = edge.getId();
        }
        request.cfsScope = session;
        request.cfsInterval = engineInterval(session);
        var marker = edge.get(variables.CFS_MARKER, "");
        if (!isStruct(marker) || !structKeyExists(marker, "hook")) {
            // The edge session is new, or new to this application (several applications share one).
            marker = { "app" = this.name, "hook" = getPageContext().getRequest().getRequestURI() };
            edge.set(variables.CFS_MARKER, marker);
            if (structKeyExists(variables.cfs.handlers, "onSessionStart")) {
                variables.cfsApp_onSessionStart();
            }
        }
        if (variables.cfs.timeout > 0 && (marker.timeout ?: 0) != variables.cfs.timeout) {
            edge.setTimeout(variables.cfs.timeout);
            marker["timeout"] = variables.cfs.timeout;
            edge.set(variables.CFS_MARKER, marker);
        }
    }

    /** Sends the request's session changes (once per request). */
    private void function finish() {
        if (!structKeyExists(request, "edge") || (request.cfsFinished ?: false)) {
            return;
        }
        request.cfsFinished = true;
        var edge = request.edge;
        // sessionInvalidate() and sessionRotate() put a new scope in place of the loaded one;
        // rotate copies the data and leaves the old scope's, invalidate empties it.
        session[variables.CFS_PROBE] = true;
        var replaced = !structKeyExists(request.cfsScope, variables.CFS_PROBE);
        structDelete(session, variables.CFS_PROBE);
        if (replaced && !hasData(request.cfsScope)) {
            edge.invalidate();
        } else {
            if (replaced) {
                edge.rotate();
            } else {
                var interval = engineInterval(session);
                if (interval > 0 && interval != request.cfsInterval) {
                    edge.setTimeout(interval); // session.setMaxInactiveInterval(n)
                }
            }
            for (var k in session) {
                if (!listFindNoCase(variables.CFS_RESERVED, k)) {
                    edge.set(k, session[k] ?: javaCast("null", ""));
                }
            }
            for (var k in edge.keys()) {
                if (k != variables.CFS_MARKER && !structKeyExists(session, k)) {
                    edge.delete(k);
                }
            }
        }
        if (getPageContext().getResponse().isCommitted()) {
            // cfflush or cfcontent file= sent the headers already: nothing can go to the edge.
            var lost = structKeyList(edge.changes());
            if (len(lost)) {
                writeLog(type = "error", file = "cfsession-edge", text = "session changes lost, the response was flushed before the request ended ("
                    & getPageContext().getRequest().getRequestURI() & "): " & lost);
            }
        } else {
            edge.emit(variables.cfs.dataLimit);
        }
        releaseCopy(session);
    }

    /** finish() on an error path: a failure of its own is logged, not raised over the first. */
    private void function finishLogged() {
        try {
            finish();
        } catch (any e) {
            writeLog(type = "error", file = "cfsession-edge", text = e.message & " " & e.detail);
        }
    }

    private boolean function hasData(required any scope) {
        for (var k in arguments.scope) {
            if (!listFindNoCase(variables.CFS_RESERVED, k)) {
                return true;
            }
        }
        return false;
    }

    /** The engine session's idle timeout in seconds (0 where the engine has no such method). */
    private numeric function engineInterval(required any scope) {
        try {
            return arguments.scope.getMaxInactiveInterval();
        } catch (any e) {
            return 0;
        }
    }

    /** Empties this request's engine session and lets the engine drop it at its next sweep. */
    private void function releaseCopy(required any scope) {
        for (var k in structKeyArray(arguments.scope)) {
            if (!listFindNoCase(variables.CFS_RESERVED, k)) {
                structDelete(arguments.scope, k);
            }
        }
        try {
            arguments.scope.setMaxInactiveInterval(1);
        } catch (any e) {
            // not every engine has it: the copy then lives until its own timeout
        }
    }

    /** A lifecycle call from the edge (SESSION_END_URL or SESSION_START_URL pointing into this application). */
    private boolean function isHookCall() {
        if (cgi.request_method != "POST") {
            return false;
        }
        var h = getHttpRequestData(false).headers;
        return structKeyExists(h, "X-Session-Signature") && structKeyExists(h, "Idempotency-Key") && !structKeyExists(h, "X-Session-Id");
    }

    /**
     * The edge's end event: this application's onSessionEnd with the session's last data (its
     * keys, cfid, sessionid, timecreated, lastvisit) and its application scope; the event is
     * passed on to every other application the session used (each recorded where it first
     * saw the session). 204 when all ran; 401 for a bad signature; 502 when one failed
     * (the edge retries; an application that already ran skips it on that server).
     */
    private void function answerHook() {
        var req = getHttpRequestData();
        var body = isBinary(req.content) ? charsetEncode(req.content, "utf-8") : toString(req.content);
        var headers = req.headers;
        var edge = new EdgeSession(variables.cfs.originKey, variables.cfs.edgeUrl, variables.cfs.prefix);
        var status = 204;
        if (!edge.verifyHook(headers["X-Session-Signature"], body)) {
            status = 401;
        } else {
            var event = deserializeJSON(body);
            if (event.event == "end" && isStruct(event.data ?: "")) {
                var key = headers["Idempotency-Key"];
                var own = edge.ownKeys(event.data);
                if (structKeyExists(own, variables.CFS_MARKER) && !alreadyEnded(key)) {
                    endSession(own, event);
                    markEnded(key);
                }
                if (!structKeyExists(headers, variables.CFS_FANOUT) && !passOn(event, body, headers)) {
                    status = 502;
                }
            }
        }
        cfheader(statusCode = status);
        cfcontent(type = "text/plain; charset=utf-8", reset = true);
    }

    private void function endSession(required struct own, required struct event) {
        var scope = arguments.own;
        structDelete(scope, variables.CFS_MARKER);
        scope["cfid"] = arguments.event.cfid;
        scope["sessionid"] = this.name & "_" & arguments.event.cfid;
        scope["timecreated"] = createObject("java", "java.util.Date").init(javaCast("long", arguments.event.created));
        scope["lastvisit"] = createObject("java", "java.util.Date").init(javaCast("long", arguments.event.last_access));
        if (structKeyExists(variables.cfs.handlers, "onSessionEnd")) {
            variables.cfsApp_onSessionEnd(scope, application);
        }
    }

    /** Posts the signed event to the other applications of the session; false when one did not take it. */
    private boolean function passOn(required struct event, required string body, required struct headers) {
        var ok = true;
        var here = getPageContext().getRequest().getRequestURL().toString();
        var base = left(here, len(here) - len(getPageContext().getRequest().getRequestURI()));
        for (var k in arguments.event.data) {
            var m = arguments.event.data[k];
            if (right(k, 1) == ":" && k != variables.cfs.prefix && isStruct(m) && structKeyExists(m, "hook") && left(m.hook, 1) == "/") {
                var result = "";
                cfhttp(method = "POST", url = base & m.hook, result = "result", timeout = 5) {
                    cfhttpparam(type = "header", name = "Content-Type", value = "application/json");
                    cfhttpparam(type = "header", name = "X-Session-Signature", value = arguments.headers["X-Session-Signature"]);
                    cfhttpparam(type = "header", name = "Idempotency-Key", value = arguments.headers["Idempotency-Key"]);
                    cfhttpparam(type = "header", name = variables.CFS_FANOUT, value = k);
                    cfhttpparam(type = "body", value = arguments.body);
                }
                if (left(result.statusCode, 1) != "2") {
                    writeLog(type = "error", file = "cfsession-edge", text = "end event for " & k & " at " & m.hook & ": " & result.statusCode);
                    ok = false;
                }
            }
        }
        return ok;
    }

    /** End events this application ran on this server (a redelivery runs nothing twice). */
    private boolean function alreadyEnded(required string key) {
        return structKeyExists(application, "cfsessionEdgeEnded") && structKeyExists(application.cfsessionEdgeEnded, arguments.key);
    }

    private void function markEnded(required string key) {
        cflock(scope = "application", type = "exclusive", timeout = 5) {
            if (!structKeyExists(application, "cfsessionEdgeEnded") || structCount(application.cfsessionEdgeEnded) >= 10000) {
                application.cfsessionEdgeEnded = {};
            }
            application.cfsessionEdgeEnded[arguments.key] = true;
        }
    }

    private string function environment(required string name) {
        var v = createObject("java", "java.lang.System").getenv(arguments.name);
        return isNull(v) ? "" : v;
    }
}
