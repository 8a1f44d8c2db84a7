/**
 * cfsession-edge origin kit for CFML: one component. Executed on Lucee 7 by the test suite
 * (tests/lucee_kit.rs); written for Adobe ColdFusion 2018+ too, which cannot be installed there.
 *
 * In Application.cfc (sessionManagement = false: the edge owns the session):
 *
 *   function onRequestStart(targetPage) {
 *       request.edge = new EdgeSession(originKey = server.system.environment.CFS_ORIGIN_KEY);
 *       if (!request.edge.load()) { request.edge.refuse(); return false; }
 *       return true;
 *   }
 *   function onRequestEnd(targetPage) { request.edge.emit(); }
 *
 * then, anywhere: request.edge.set("count", request.edge.get("count", 0) + 1).
 * emit() sends X-Session-Set (changed keys only), X-Session-Action and X-Session-User; call it
 * before the first byte is flushed (onRequestEnd is fine unless the page used cfflush).
 */
component accessors="false" {

    variables.MAX_SKEW_S = 300;

    public EdgeSession function init(required string originKey, string edgeUrl = "") {
        variables.originKey = arguments.originKey;
        variables.edgeUrl = arguments.edgeUrl;
        variables.before = {};
        variables.data = {};
        variables.actions = [];
        variables.user = "";
        variables.id = "";
        variables.isNew = false;
        return this;
    }

    /** Verifies the request's signature and loads the session; false when it did not come through the edge. */
    public boolean function load() {
        var h = getHttpRequestData(false).headers;
        if (!verifyRequest(h)) {
            return false;
        }
        variables.id = h["X-Session-Id"];
        variables.isNew = (h["X-Session-New"] == "true");
        variables.before = decodeData(structKeyExists(h, "X-Session-Data") ? h["X-Session-Data"] : "e30");
        variables.data = duplicate(variables.before);
        return true;
    }

    /** Answers 403 for a request that did not come through the edge. */
    public void function refuse() {
        cfheader(statusCode = 403, statusText = "Forbidden");
        cfcontent(type = "text/plain; charset=utf-8", reset = true);
        writeOutput("this request did not come through the session edge");
    }

    public boolean function verifyRequest(required struct headers) {
        var h = arguments.headers;
        if (!structKeyExists(h, "X-Session-Signature") || !len(variables.originKey)) {
            return false;
        }
        var sig = parseSignature(h["X-Session-Signature"]);
        // The path as the edge signed it: the request URI as sent (not cgi.script_name &
        // cgi.path_info, which differ for "/" served by index.cfm and for rewritten URLs).
        var path = getPageContext().getRequest().getRequestURI();
        var canonical = arrayToList([
            "cfsession-v1", sig.t, uCase(cgi.request_method), path, cgi.query_string,
            headerOr(h, "X-Session-Id"), headerOr(h, "X-Session-New"), headerOr(h, "X-Session-Hits"),
            headerOr(h, "X-Session-Data")
        ], chr(10));
        return isFresh(sig.t) && signedByAny(canonical, sig.v2);
    }

    /**
     * Whether `given` is the HMAC of `text` under one of the origin keys: one key, or during a
     * key rotation two, comma-separated ("<key>,<other key>"; origin-API calls are signed with
     * the first). Each is compared in constant time.
     */
    private boolean function signedByAny(required string text, required string given) {
        for (var key in listToArray(variables.originKey)) {
            if (len(trim(key)) && constantTimeEquals(lCase(hmac(arguments.text, trim(key), "HMACSHA256", "utf-8")), lCase(arguments.given))) {
                return true;
            }
        }
        return false;
    }

    /** True when a lifecycle hook call (its X-Session-Signature and raw body) was signed by the edge. */
    public boolean function verifyHook(required string signatureHeader, required string body) {
        var sig = parseSignature(arguments.signatureHeader);
        return isFresh(sig.t) && signedByAny("cfsession-hook-v1" & chr(10) & sig.t & chr(10) & arguments.body, sig.v2);
    }

    public any function get(required string key, any defaultValue = "") {
        return structKeyExists(variables.data, arguments.key) ? variables.data[arguments.key] : arguments.defaultValue;
    }

    public void function set(required string key, required any value) {
        variables.data[arguments.key] = arguments.value;
    }

    public void function delete(required string key) {
        structDelete(variables.data, arguments.key);
    }

    /** All of the session's data (a copy). */
    public struct function all() {
        return duplicate(variables.data);
    }

    public string function getId() {
        return variables.id;
    }

    /** Ends the session (sessionInvalidate()). */
    public void function invalidate() {
        arrayAppend(variables.actions, "invalidate");
    }

    /** New ids, same session (sessionRotate()). */
    public void function rotate() {
        arrayAppend(variables.actions, "rotate");
    }

    /** This session's idle timeout, in seconds. */
    public void function setTimeout(required numeric seconds) {
        arrayAppend(variables.actions, "timeout=" & int(arguments.seconds));
    }

    /** Tags the session with a user id (a login; the edge rotates the ids). */
    public void function setUser(required string userId) {
        variables.user = arguments.userId;
    }

    public struct function listMySessions() {
        return api("GET", "sessions");
    }

    public struct function endSession(required string sessionId) {
        return api("DELETE", "sessions/" & urlEncodedFormat(arguments.sessionId));
    }

    public struct function endOtherSessions() {
        return api("POST", "sessions/end-others");
    }

    /** The top-level keys that changed (deleted keys as null). */
    public struct function changes() {
        var out = {};
        for (var k in variables.data) {
            // compare(), not != (CFML's != ignores case: a case-only change would be lost).
            if (!structKeyExists(variables.before, k) || compare(serializeJSON(variables.before[k]), serializeJSON(variables.data[k])) != 0) {
                out[k] = variables.data[k];
            }
        }
        for (var k in variables.before) {
            if (!structKeyExists(variables.data, k)) {
                out[k] = javaCast("null", "");
            }
        }
        return out;
    }

    /** Sends the session's changes as response headers. */
    public void function emit() {
        var c = changes();
        if (!structIsEmpty(c)) {
            cfheader(name = "X-Session-Set", value = asciiJson(c));
        }
        if (arrayLen(variables.actions)) {
            cfheader(name = "X-Session-Action", value = arrayToList(variables.actions, ","));
        }
        if (len(variables.user)) {
            // Printable ASCII as it is; anything else as a JSON string with \uXXXX escapes.
            var plain = reFind("^[\x20-\x7e]+$", variables.user) && left(variables.user, 1) != '"';
            cfheader(name = "X-Session-User", value = plain ? variables.user : asciiJson(variables.user));
        }
    }

    /** JSON with every character past ASCII as a \uXXXX escape: header values are bytes, and
     * servers send anything past Latin-1 mangled. */
    private string function asciiJson(required any value) {
        var json = serializeJSON(arguments.value);
        var out = createObject("java", "java.lang.StringBuilder").init();
        for (var i = 1; i <= len(json); i++) {
            var c = asc(mid(json, i, 1)); // a UTF-16 code unit: surrogate pairs stay pairs
            if (c < 128) {
                out.append(chr(c));
            } else {
                out.append("\u" & right("000" & lCase(formatBaseN(c, 16)), 4));
            }
        }
        return out.toString();
    }

    private struct function api(required string method, required string rest) {
        var path = "/__session/origin/" & arguments.rest;
        var t = int(getTickCount() / 1000);
        var base = len(variables.edgeUrl) ? variables.edgeUrl : edgeBase();
        var u = createObject("java", "java.net.URI").init(base);
        var host = lCase(u.getHost() & (u.getPort() GT 0 ? ":" & u.getPort() : ""));
        var nonce = replace(createUUID(), "-", "", "all");
        var v2 = lCase(hmac("cfsession-origin-api-v2" & chr(10) & t & chr(10) & nonce & chr(10) & arguments.method & chr(10)
            & host & chr(10) & path & chr(10) & variables.id, trim(listFirst(variables.originKey)), "HMACSHA256", "utf-8"));
        var result = "";
        cfhttp(method = arguments.method, url = base & path, result = "result", timeout = 10) {
            cfhttpparam(type = "header", name = "X-Session-Id", value = variables.id);
            cfhttpparam(type = "header", name = "X-Session-Nonce", value = nonce);
            cfhttpparam(type = "header", name = "X-Session-Signature", value = "t=#t#,v2=#v2#");
        }
        if (left(result.statusCode, 1) != "2") {
            throw(type = "EdgeSession.OriginApi", message = "origin API: " & result.statusCode);
        }
        return deserializeJSON(result.fileContent);
    }

    /** The edge's public URL when init() got no edgeUrl: https:// and this request's own host,
     * which is the edge's when the Worker runs on the site's route (with ORIGIN_URL set to
     * another host, pass edgeUrl). Never the unsigned X-Forwarded-Host, never plain http. */
    private string function edgeBase() {
        return "https://" & cgi.http_host;
    }

    private struct function parseSignature(required string header) {
        var out = { t = "", v2 = "" };
        for (var part in listToArray(arguments.header, ",")) {
            out[trim(listFirst(part, "="))] = trim(listRest(part, "="));
        }
        return out;
    }

    private boolean function isFresh(required string t) {
        // A regex, not isValid("integer"): Unix times pass 32 bits in 2038.
        return reFind("^[0-9]{1,12}$", arguments.t) && abs(dateDiff("s", createDate(1970, 1, 1), dateConvert("local2utc", now())) - arguments.t) <= variables.MAX_SKEW_S;
    }

    private boolean function constantTimeEquals(required string a, required string b) {
        var md = createObject("java", "java.security.MessageDigest");
        return md.isEqual(charsetDecode(arguments.a, "utf-8"), charsetDecode(arguments.b, "utf-8"));
    }

    private string function headerOr(required struct headers, required string name) {
        return structKeyExists(arguments.headers, arguments.name) ? arguments.headers[arguments.name] : "";
    }

    private struct function decodeData(required string b64) {
        try {
            var padded = replace(replace(arguments.b64, "-", "+", "all"), "_", "/", "all");
            padded &= repeatString("=", (4 - len(padded) % 4) % 4);
            var parsed = deserializeJSON(charsetEncode(binaryDecode(padded, "base64"), "utf-8"));
            return isStruct(parsed) ? parsed : {};
        } catch (any e) {
            return {};
        }
    }
}
