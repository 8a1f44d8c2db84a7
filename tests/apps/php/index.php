<?php
// A plain PHP application using PHP's own sessions (the `files` handler, PHPSESSID, default
// settings: use_strict_mode=0, so PHP adopts an unknown id it is sent), as the guard-mode tests
// put it behind the edge. Every request is appended to $APP_DIR/seen.log (its Cookie header),
// every session the kill page ends to $APP_DIR/destroyed.log.
$dir = getenv('APP_DIR');
ini_set('session.save_path', $dir . '/sessions');
file_put_contents("$dir/seen.log", ($_SERVER['HTTP_COOKIE'] ?? '') . "\n", FILE_APPEND | LOCK_EX);
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);

function edge_signed(string $body): bool {
    $sig = [];
    foreach (explode(',', $_SERVER['HTTP_X_SESSION_SIGNATURE'] ?? '') as $part) {
        [$k, $v] = array_pad(explode('=', $part, 2), 2, '');
        $sig[$k] = $v;
    }
    if (!isset($sig['t'], $sig['v2']) || abs(time() - (int) $sig['t']) > 300) return false;
    $expected = hash_hmac('sha256', "cfsession-hook-v1\n{$sig['t']}\n$body", getenv('EDGE_ORIGIN_KEY'));
    return hash_equals($expected, $sig['v2']);
}

/** `$_COOKIE` as [name, value] pairs; an array (`name[k]=v`) as its name and its JSON. */
function cookie_pairs(): array {
    $out = [];
    foreach ($_COOKIE as $k => $v) {
        $out[] = [(string) $k, is_array($v) ? json_encode($v, JSON_INVALID_UTF8_SUBSTITUTE) : (string) $v];
    }
    return $out;
}

switch ($path) {
    case '/echo': // the differential tests: what PHP read, and whose session it attached
        ini_set('display_errors', '0');
        header('Content-Type: application/json');
        if (isset($_GET['as'])) {
            session_start();
            $_SESSION['owner'] = $_GET['as'];
            exit(json_encode(['readers' => ['php' => cookie_pairs()], 'owner' => $_GET['as']], JSON_INVALID_UTF8_SUBSTITUTE));
        }
        session_start(['read_and_close' => true]);
        exit(json_encode(['readers' => ['php' => cookie_pairs()], 'owner' => (string) ($_SESSION['owner'] ?? '')], JSON_INVALID_UTF8_SUBSTITUTE));
    case '/kill-session': // ORIGIN_KILL_URL: the request carries the ended session's cookies
        if ($_SERVER['REQUEST_METHOD'] !== 'POST' || !edge_signed(file_get_contents('php://input'))) {
            http_response_code(401);
            exit('unsigned');
        }
        session_start();
        $id = session_id();
        session_destroy();
        file_put_contents("$dir/destroyed.log", "$id\n", FILE_APPEND | LOCK_EX);
        exit("destroyed $id");
    case '/rotate':
        session_start();
        session_regenerate_id(true);
        $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1;
        exit(session_id() . ' ' . $_SESSION['n']);
    default:
        session_start();
        $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1;
        exit(session_id() . ' ' . $_SESSION['n']);
}
