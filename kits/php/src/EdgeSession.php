<?php

// cfsession-edge origin kit for PHP 8.1+ (Composer: cfsession-edge/origin-kit, PSR-4
// CfsessionEdge\; or require the one file kits/php/EdgeSession.php). See README.md.
//
//   EdgeSession::register(getenv('CFS_ORIGIN_KEY'));  // then session_start(), $_SESSION as usual
//   $edge = EdgeSession::start(getenv('CFS_ORIGIN_KEY'));  // or the explicit API
//   $edge->set('count', ($edge->get('count') ?? 0) + 1);
//
// The request's signature (X-Session-Signature: HMAC-SHA256 with the origin key, at most 300 s
// old) is checked in constant time (403 and exit when it fails; EdgeSessionMiddleware answers
// 403 instead, for PSR-15 applications). Changed keys go back in X-Session-Set just before PHP
// sends its headers (header_register_callback), only when something changed.

declare(strict_types=1);

namespace CfsessionEdge;

use RuntimeException;

final class EdgeSession
{
    public const MAX_SKEW_S = 300;

    private array $before;
    private array $data;
    private array $actions = [];
    private ?string $user = null;
    /** With register(): PHP's own session functions drive this session (see EdgeSessionHandler). */
    private ?EdgeSessionHandler $handler = null;

    private function __construct(private string $originKey, private ?string $edgeUrl, public readonly string $id,
        public readonly bool $isNew, public readonly ?int $hits)
    {
        $this->before = self::decode($_SERVER['HTTP_X_SESSION_DATA'] ?? 'e30');
        $this->data = $this->before;
        header_register_callback(fn () => $this->emit());
    }

    /** Verifies this request and loads its session; answers 403 and exits when it did not come through the edge. */
    public static function start(string $originKey, ?string $edgeUrl = null): self
    {
        return self::fromRequest($originKey, $edgeUrl) ?? self::refuseAndExit();
    }

    /**
     * The drop-in: after this one line, session_start(), $_SESSION, session_regenerate_id()
     * (the edge rotates the ids), session_destroy() (the edge ends the session) and
     * session_status() work as with PHP's own handler, on the edge's session. Answers 403 and
     * exits when the request did not come through the edge. Returns the session for the
     * explicit API (setUser(), listMySessions(), …).
     */
    public static function register(string $originKey, ?string $edgeUrl = null): self
    {
        return self::start($originKey, $edgeUrl)->withPhpSessions();
    }

    /** This request's session, or null when it did not come through the edge (nothing sent). */
    public static function fromRequest(string $originKey, ?string $edgeUrl = null): ?self
    {
        return self::verifyRequest($originKey) ? self::load($originKey, $edgeUrl) : null;
    }

    /** PHP's own session functions on this session (see register()). */
    public function withPhpSessions(): self
    {
        $this->handler = new EdgeSessionHandler($this->before);
        ini_set('session.use_cookies', '0');          // the edge owns the cookies
        ini_set('session.use_only_cookies', '1');
        ini_set('session.use_trans_sid', '0');
        ini_set('session.use_strict_mode', '0');
        ini_set('session.serialize_handler', 'php_serialize');
        session_set_save_handler($this->handler, true);
        session_id($this->id);
        return $this;
    }

    private static function refuseAndExit(): never
    {
        self::refuse();
        exit;
    }

    /** The 403 answer to a request that did not come through the edge. */
    public static function refuse(): void
    {
        http_response_code(403);
        header('Content-Type: text/plain; charset=utf-8');
        echo "this request did not come through the session edge\n";
    }

    private static function load(string $originKey, ?string $edgeUrl): self
    {
        $hits = $_SERVER['HTTP_X_SESSION_HITS'] ?? null;
        return new self($originKey, $edgeUrl, $_SERVER['HTTP_X_SESSION_ID'], ($_SERVER['HTTP_X_SESSION_NEW'] ?? '') === 'true',
            $hits === null ? null : (int) $hits);
    }

    /** True when this request carries a valid edge signature (docs/origin-protocol.md). */
    public static function verifyRequest(string $originKey): bool
    {
        $sig = self::parseSignature($_SERVER['HTTP_X_SESSION_SIGNATURE'] ?? '');
        [$path, $query] = array_pad(explode('?', $_SERVER['REQUEST_URI'] ?? '', 2), 2, '');
        $canonical = implode("\n", ['cfsession-v1', $sig['t'] ?? '', strtoupper($_SERVER['REQUEST_METHOD'] ?? ''),
            $path, $query, $_SERVER['HTTP_X_SESSION_ID'] ?? '', $_SERVER['HTTP_X_SESSION_NEW'] ?? '',
            $_SERVER['HTTP_X_SESSION_HITS'] ?? '', $_SERVER['HTTP_X_SESSION_DATA'] ?? '']);
        return self::fresh($sig['t'] ?? '') && self::signedByAny($originKey, $canonical, $sig['v2'] ?? '');
    }

    /** True when a lifecycle hook call (its X-Session-Signature header and raw body) was signed by the edge. */
    public static function verifyHook(string $originKey, string $signatureHeader, string $body): bool
    {
        $sig = self::parseSignature($signatureHeader);
        $t = $sig['t'] ?? '';
        return self::fresh($t) && self::signedByAny($originKey, "cfsession-hook-v1\n$t\n$body", $sig['v2'] ?? '');
    }

    /**
     * The keys in $originKey: one origin key, or during a key rotation two, comma-separated
     * ("<key>,<other key>"): signatures verify with either, origin-API calls are signed with
     * the first (docs/security.md, "Rotating the signing key").
     */
    private static function keysOf(string $originKey): array
    {
        return array_values(array_filter(array_map('trim', explode(',', $originKey)), fn ($k) => $k !== ''));
    }

    /** Whether $given is the HMAC of $text under one of the keys (each compared in constant time). */
    private static function signedByAny(string $originKey, string $text, string $given): bool
    {
        foreach (self::keysOf($originKey) as $key) {
            if (hash_equals(hash_hmac('sha256', $text, $key), strtolower($given))) {
                return true;
            }
        }
        return false;
    }

    public function get(string $key): mixed
    {
        return $this->data[$key] ?? null;
    }

    public function set(string $key, mixed $value): void
    {
        $this->data[$key] = $value;
    }

    public function delete(string $key): void
    {
        unset($this->data[$key]);
    }

    /** All session variables. */
    public function all(): array
    {
        return $this->data;
    }

    /** Ends the session (ColdFusion's sessionInvalidate()). */
    public function invalidate(): void
    {
        $this->actions[] = 'invalidate';
    }

    /** New ids, same session (sessionRotate()). */
    public function rotate(): void
    {
        $this->actions[] = 'rotate';
    }

    /** This session's idle timeout, in seconds. */
    public function setTimeout(int $seconds): void
    {
        $this->actions[] = 'timeout=' . $seconds;
    }

    /** Tags the session with a user id (a login; the edge rotates the ids). */
    public function setUser(string $userId): void
    {
        $this->user = $userId;
    }

    /** The live sessions of this session's user: ['user' => …, 'items' => [['id', 'current', 'created', …]]]. */
    public function listMySessions(): array
    {
        return $this->api('GET', 'sessions');
    }

    public function endSession(string $sessionId): array
    {
        return $this->api('DELETE', 'sessions/' . rawurlencode($sessionId));
    }

    public function endOtherSessions(): array
    {
        return $this->api('POST', 'sessions/end-others');
    }

    /** The top-level keys that changed (deleted keys as null). */
    public function changes(): array
    {
        $out = [];
        foreach ($this->data as $k => $v) {
            if (!array_key_exists($k, $this->before) || json_encode($this->before[$k]) !== json_encode($v)) {
                $out[$k] = $v;
            }
        }
        foreach ($this->before as $k => $_) {
            if (!array_key_exists($k, $this->data)) {
                $out[$k] = null;
            }
        }
        return $out;
    }

    private function emit(): void
    {
        if ($this->handler !== null) {
            $this->takeFromPhpSession($this->handler);
        }
        $changes = in_array('invalidate', $this->actions, true) ? [] : $this->changes();
        if ($changes) {
            // \uXXXX escapes (header values are bytes); invalid UTF-8 becomes U+FFFD, and a
            // value JSON cannot hold (a resource) becomes null, with a line in PHP's error log.
            $json = json_encode((object) $changes, JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE
                | JSON_PARTIAL_OUTPUT_ON_ERROR);
            if (json_last_error() !== JSON_ERROR_NONE) {
                error_log('EdgeSession: session data not fully sent: ' . json_last_error_msg());
            }
            header('X-Session-Set: ' . $json);
        }
        if ($this->actions) {
            header('X-Session-Action: ' . implode(',', array_unique($this->actions)));
        }
        if ($this->user !== null) {
            $plain = preg_match('/^[\x20-\x7e]*$/', $this->user) && !str_starts_with($this->user, '"');
            header('X-Session-User: ' . ($plain ? $this->user : json_encode($this->user, JSON_INVALID_UTF8_SUBSTITUTE)));
        }
    }

    /** What PHP's session functions did, as this session's data and actions. */
    private function takeFromPhpSession(EdgeSessionHandler $h): void
    {
        if ($h->regenerated) {
            $this->actions[] = 'rotate';            // session_regenerate_id()
        } elseif ($h->destroyed) {
            $this->actions[] = 'invalidate';        // session_destroy()
            return;
        }
        if (session_status() === PHP_SESSION_ACTIVE || $h->written !== null) {
            $this->data = session_status() === PHP_SESSION_ACTIVE ? $_SESSION : $h->written;
        }
    }

    private function api(string $method, string $rest): array
    {
        $path = '/__session/origin/' . $rest;
        $t = time();
        // The edge's public URL: edgeUrl, else https:// and this request's own Host (the edge's
        // when it runs on the site's route). Never the unsigned X-Forwarded-* headers.
        $base = $this->edgeUrl ?? ('https://' . ($_SERVER['HTTP_HOST'] ?? ''));
        $parts = parse_url($base);
        $host = strtolower(($parts['host'] ?? '') . (isset($parts['port']) ? ':' . $parts['port'] : ''));
        $nonce = rtrim(strtr(base64_encode(random_bytes(18)), '+/', '-_'), '=');
        $v2 = hash_hmac('sha256', "cfsession-origin-api-v2\n$t\n$nonce\n$method\n$host\n$path\n{$this->id}",
            self::keysOf($this->originKey)[0] ?? '');
        $context = stream_context_create(['http' => ['method' => $method, 'ignore_errors' => true, 'timeout' => 10,
            'header' => "X-Session-Id: {$this->id}\r\nX-Session-Nonce: $nonce\r\nX-Session-Signature: t=$t,v2=$v2\r\n"]]);
        $url = rtrim($base, '/') . $path;
        $body = @file_get_contents($url, false, $context);
        if ($body === false && !isset($http_response_header)) {
            $why = error_get_last()['message'] ?? 'no answer';
            throw new RuntimeException("origin API $method $url: " . preg_replace('/^.*?: /', '', $why)
                . ' (is edgeUrl the edge\'s public URL?)');
        }
        $status = 0;
        foreach ($http_response_header ?? [] as $line) {
            if (preg_match('#^HTTP/\S+ (\d{3})#', $line, $m)) {
                $status = (int) $m[1];
            }
        }
        $json = json_decode((string) $body, true);
        if ($status < 200 || $status > 299 || !is_array($json)) {
            throw new RuntimeException("origin API $method $url: $status " . ($json['error'] ?? ''));
        }
        return $json;
    }

    private static function parseSignature(string $header): array
    {
        $out = [];
        foreach (explode(',', $header) as $part) {
            [$k, $v] = array_pad(explode('=', $part, 2), 2, '');
            $out[trim($k)] = trim($v);
        }
        return $out;
    }

    private static function fresh(string $t): bool
    {
        return ctype_digit($t) && abs(time() - (int) $t) <= self::MAX_SKEW_S;
    }

    private static function decode(string $b64): array
    {
        $json = base64_decode(strtr($b64, '-_', '+/') . str_repeat('=', (4 - strlen($b64) % 4) % 4), true);
        $data = $json === false ? null : json_decode($json, true);
        return is_array($data) ? $data : [];
    }
}
