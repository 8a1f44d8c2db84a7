<?php
// cfsession-edge origin kit for PHP: one file, no extensions beyond PHP's defaults.
//
//   require __DIR__ . '/EdgeSession.php';
//   $edge = EdgeSession::start(getenv('CFS_ORIGIN_KEY'));   // 403 + exit when not through the edge
//   $edge->set('count', ($edge->get('count') ?? 0) + 1);
//
// The request's signature (X-Session-Signature: HMAC-SHA256 with the origin key, at most 300 s
// old) is checked in constant time. Changed keys go back in X-Session-Set just before PHP
// sends its headers (header_register_callback), only when something changed. See README.md.

final class EdgeSession
{
    public const MAX_SKEW_S = 300;

    private array $before;
    private array $data;
    private array $actions = [];
    private ?string $user = null;

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
        if (!self::verifyRequest($originKey)) {
            http_response_code(403);
            header('Content-Type: text/plain; charset=utf-8');
            echo "this request did not come through the session edge\n";
            exit;
        }
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
        return $originKey !== '' && self::fresh($sig['t'] ?? '')
            && hash_equals(hash_hmac('sha256', $canonical, $originKey), strtolower($sig['v2'] ?? ''));
    }

    /** True when a lifecycle hook call (its X-Session-Signature header and raw body) was signed by the edge. */
    public static function verifyHook(string $originKey, string $signatureHeader, string $body): bool
    {
        $sig = self::parseSignature($signatureHeader);
        $t = $sig['t'] ?? '';
        return $originKey !== '' && self::fresh($t)
            && hash_equals(hash_hmac('sha256', "cfsession-hook-v1\n$t\n$body", $originKey), strtolower($sig['v2'] ?? ''));
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
        $changes = $this->changes();
        if ($changes) {
            header('X-Session-Set: ' . json_encode((object) $changes, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE));
        }
        if ($this->actions) {
            header('X-Session-Action: ' . implode(',', $this->actions));
        }
        if ($this->user !== null) {
            header('X-Session-User: ' . $this->user);
        }
    }

    private function api(string $method, string $rest): array
    {
        $path = '/__session/origin/' . $rest;
        $t = time();
        $v2 = hash_hmac('sha256', "cfsession-origin-api-v1\n$t\n$method\n$path\n{$this->id}", $this->originKey);
        $base = $this->edgeUrl ?? (($_SERVER['HTTP_X_FORWARDED_PROTO'] ?? 'https') . '://'
            . ($_SERVER['HTTP_X_FORWARDED_HOST'] ?? $_SERVER['HTTP_HOST'] ?? ''));
        $context = stream_context_create(['http' => ['method' => $method, 'ignore_errors' => true, 'timeout' => 10,
            'header' => "X-Session-Id: {$this->id}\r\nX-Session-Signature: t=$t,v2=$v2\r\n"]]);
        $body = @file_get_contents(rtrim($base, '/') . $path, false, $context);
        $status = 0;
        foreach ($http_response_header ?? [] as $line) {
            if (preg_match('#^HTTP/\S+ (\d{3})#', $line, $m)) {
                $status = (int) $m[1];
            }
        }
        $json = json_decode((string) $body, true);
        if ($status < 200 || $status > 299 || !is_array($json)) {
            throw new RuntimeException('origin API: ' . ($json['error'] ?? "status $status"));
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
