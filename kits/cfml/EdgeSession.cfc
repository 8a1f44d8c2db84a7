/**
 * cfsession-edge origin kit for CFML, the explicit API (EdgeApplication.cfc, the drop-in, puts
 * the `session` scope on it). Executed on Lucee 7 by the test suite (tests/kits.rs,
 * tests/lucee_edge.rs); written for Adobe ColdFusion 2021+ too, which cannot be installed there.
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
    /** Classes of simple values, by name: "plain" travels as itself, "date" as a date (the rest is looked at more slowly). */
    variables.SIMPLE_CLASSES = {
        "java.lang.String" = "plain", "java.lang.Double" = "plain", "java.lang.Long" = "plain", "java.lang.Integer" = "plain",
        "java.lang.Boolean" = "plain", "java.math.BigDecimal" = "plain", "java.math.BigInteger" = "plain", "java.lang.Float" = "plain",
        "lucee.runtime.type.dt.DateTimeImpl" = "date", "java.util.Date" = "date", "coldfusion.runtime.OleDateTime" = "date"
    };

    /**
     * `prefix`: this object sees and writes only the keys that start with it, without it
     * ("shop:" keeps one application's keys apart from another's in a shared session).
     */
    public EdgeSession function init(required string originKey, string edgeUrl = "", string prefix = "") {
        variables.originKey = arguments.originKey;
        variables.edgeUrl = arguments.edgeUrl;
        variables.prefix = arguments.prefix;
        variables.everything = {};
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
        variables.everything = decodeData(structKeyExists(h, "X-Session-Data") ? h["X-Session-Data"] : "e30");
        variables.before = ownKeys(variables.everything);
        variables.data = duplicate(variables.before);
        return true;
    }

    /** Whether the edge started this session with this request. */
    public boolean function isNew() {
        return variables.isNew;
    }

    /** This object's keys of a session's raw data (JSON values), without the prefix, values decoded. */
    public struct function ownKeys(required struct raw) {
        var out = {};
        var n = len(variables.prefix);
        for (var k in arguments.raw) {
            if (n == 0 || (len(k) >= n && compare(left(k, n), variables.prefix) == 0)) {
                var v = arguments.raw[k] ?: javaCast("null", "");
                // decodeValue changes structs and arrays in place: the raw data stays as it came.
                out[mid(k, n + 1, len(k))] = isNull(v) || isSimpleValue(v) ? v : decodeValue(duplicate(v));
            }
        }
        return out;
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

    /** The session's keys (without the prefix). */
    public array function keys() {
        return structKeyArray(variables.data);
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

    /**
     * The top-level keys that changed, prefixed and encoded (deleted keys as null). Throws
     * EdgeSession.UnsupportedValue, naming the key, for a value that cannot travel, and
     * EdgeSession.DataLimit when the session would pass `dataLimit` bytes of JSON: nothing of
     * the request's changes is sent then.
     */
    public struct function changes(numeric dataLimit = 0) {
        var out = {};
        for (var k in variables.data) {
            var encoded = encodeValue(variables.data[k] ?: javaCast("null", ""), k);
            // compare(), not != (CFML's != ignores case: a case-only change would be lost).
            if (!structKeyExists(variables.before, k) || compare(serializeJSON(encodeValue(variables.before[k] ?: javaCast("null", ""), k)), serializeJSON(encoded)) != 0) {
                out[variables.prefix & k] = encoded;
            }
        }
        for (var k in variables.before) {
            if (!structKeyExists(variables.data, k)) {
                out[variables.prefix & k] = javaCast("null", "");
            }
        }
        if (arguments.dataLimit > 0 && !structIsEmpty(out)) {
            checkSize(out, arguments.dataLimit);
        }
        return out;
    }

    /** Throws EdgeSession.DataLimit when the session's data with `changed` applied passes `limit` bytes. */
    private void function checkSize(required struct changed, required numeric limit) {
        var merged = structCopy(variables.everything);
        for (var k in arguments.changed) {
            if (isNull(arguments.changed[k])) {
                structDelete(merged, k);
            } else {
                merged[k] = arguments.changed[k];
            }
        }
        var size = utf8Length(serializeJSON(merged));
        if (size <= arguments.limit) {
            return;
        }
        var sizes = [];
        for (var k in merged) {
            arrayAppend(sizes, { key = k, bytes = utf8Length(serializeJSON(merged[k])) });
        }
        arraySort(sizes, function(a, b) { return b.bytes - a.bytes; });
        var largest = [];
        for (var i = 1; i <= min(3, arrayLen(sizes)); i++) {
            arrayAppend(largest, sizes[i].key & " (" & sizes[i].bytes & " bytes)");
        }
        throw(type = "EdgeSession.DataLimit", message = "session data would be " & size & " bytes of JSON, over the edge's limit of "
            & arguments.limit & " (SESSION_DATA_LIMIT); nothing of this request's session changes was saved",
            detail = "largest keys: " & arrayToList(largest, ", "));
    }

    private numeric function utf8Length(required string s) {
        return arrayLen(charsetDecode(arguments.s, "utf-8"));
    }

    /**
     * A value as it travels: structs, arrays, strings, numbers and booleans as JSON; dates as
     * {"$cfml":"date","value":"<ISO 8601 UTC, ms>"}; queries as
     * {"$cfml":"query","columns":[…],"types":[…],"rows":[[…]]}; binary as
     * {"$cfml":"binary","base64":"…"}. Anything else (a component instance, a function, a Java
     * object) throws EdgeSession.UnsupportedValue naming `path`.
     */
    public any function encodeValue(any value, required string path) {
        if (isNull(arguments.value)) {
            return javaCast("null", "");
        }
        var v = arguments.value;
        if (isSimpleValue(v)) {
            // By class: CFML's own tests for a date or a Java object also accept strings.
            var kind = variables.SIMPLE_CLASSES[v.getClass().getName()] ?: "";
            if (kind == "") {
                kind = isInstanceOf(v, "java.util.Date") ? "date"
                    : isInstanceOf(v, "java.lang.String") || isInstanceOf(v, "java.lang.Number") || isInstanceOf(v, "java.lang.Boolean") ? "plain" : "";
            }
            if (kind == "plain") {
                return v;
            }
            if (kind == "date") {
                return { "$cfml" = "date", "value" = createObject("java", "java.time.Instant").ofEpochMilli(v.getTime()).toString() };
            }
            unsupported(arguments.path, "a Java object (" & v.getClass().getName() & ")");
        }
        if (isStruct(v) && !isObject(v)) {
            var out = {};
            for (var k in v) {
                out[k] = encodeValue(v[k] ?: javaCast("null", ""), arguments.path & "." & k);
            }
            return out;
        }
        if (isArray(v)) {
            var arr = [];
            for (var i = 1; i <= arrayLen(v); i++) {
                arrayAppend(arr, arrayIsDefined(v, i) ? encodeValue(v[i], arguments.path & "[" & i & "]") : javaCast("null", ""));
            }
            return arr;
        }
        if (isQuery(v)) {
            return encodeQuery(v, arguments.path);
        }
        if (isBinary(v)) {
            return { "$cfml" = "binary", "base64" = binaryEncode(v, "base64") };
        }
        if (isCustomFunction(v) || isClosure(v)) {
            unsupported(arguments.path, "a function");
        }
        unsupported(arguments.path, isObject(v) ? "a component instance (" & getMetadata(v).name & ")" : "a Java object (" & v.getClass().getName() & ")");
    }

    private struct function encodeQuery(required query q, required string path) {
        var columns = [];
        var types = [];
        for (var col in getMetadata(arguments.q)) {
            arrayAppend(columns, col.name);
            arrayAppend(types, lCase(col.typeName ?: "varchar"));
        }
        var rows = [];
        for (var r = 1; r <= arguments.q.recordCount; r++) {
            var row = [];
            for (var c in columns) {
                arrayAppend(row, encodeValue(arguments.q[c][r], arguments.path & "." & c & "[" & r & "]"));
            }
            arrayAppend(rows, row);
        }
        return { "$cfml" = "query", "columns" = columns, "types" = types, "rows" = rows };
    }

    private void function unsupported(required string path, required string what) {
        throw(type = "EdgeSession.UnsupportedValue", message = "session." & arguments.path & " holds " & arguments.what
            & ", which cannot be kept in the edge's session; nothing of this request's session changes was saved",
            detail = "Keep strings, numbers, booleans, dates, structs, arrays, queries or binary in the session (docs: kits/cfml/README.md, Values).");
    }

    /** The inverse of encodeValue (dates as java.util.Date, which CFML treats as a date); changes `value` in place. */
    public any function decodeValue(any value) {
        if (isNull(arguments.value)) {
            return javaCast("null", "");
        }
        var v = arguments.value;
        if (isStruct(v)) {
            if (structKeyExists(v, "$cfml") && isSimpleValue(v["$cfml"])) {
                switch (v["$cfml"]) {
                    case "date":
                        return createObject("java", "java.util.Date").init(
                            javaCast("long", createObject("java", "java.time.Instant").parse(v.value).toEpochMilli()));
                    case "query":
                        return decodeQuery(v);
                    case "binary":
                        return binaryDecode(v.base64, "base64");
                }
            }
            for (var k in v) {
                if (!isNull(v[k]) && !isSimpleValue(v[k])) {
                    v[k] = decodeValue(v[k]);
                }
            }
            return v;
        }
        if (isArray(v)) {
            for (var i = 1; i <= arrayLen(v); i++) {
                if (arrayIsDefined(v, i) && !isSimpleValue(v[i])) {
                    v[i] = decodeValue(v[i]);
                }
            }
        }
        return v;
    }

    private query function decodeQuery(required struct v) {
        var q = "";
        try {
            q = queryNew(arrayToList(arguments.v.columns), arrayToList(arguments.v.types));
        } catch (any e) {
            q = queryNew(arrayToList(arguments.v.columns)); // a type this engine's queryNew does not know
        }
        for (var row in arguments.v.rows) {
            var r = queryAddRow(q);
            for (var i = 1; i <= arrayLen(arguments.v.columns); i++) {
                if (arrayIsDefined(row, i)) {
                    querySetCell(q, arguments.v.columns[i], decodeValue(row[i]), r);
                }
            }
        }
        return q;
    }

    /** Sends the session's changes as response headers. */
    public void function emit(numeric dataLimit = 0) {
        var c = changes(arguments.dataLimit);
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
        if (!reFind("[^\x00-\x7f]", json)) {
            return json;
        }
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
