<?php
require __DIR__ . '/../../../kits/php/EdgeSession.php'; EdgeSession::register(getenv('CFS_ORIGIN_KEY')); // the one line for the edge

// Below: an ordinary PHP application written against PHP's own sessions ($_SESSION,
// session_start(), session_regenerate_id(true) at login, session_destroy() at logout),
// unchanged for the edge.
header('Content-Type: text/plain; charset=utf-8');
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);

switch ($path) {
    case '/login':
        session_start();
        session_regenerate_id(true);           // a new id at login (fixation)
        $_SESSION['user'] = $_GET['user'] ?? 'nobody';
        echo 'welcome ', $_SESSION['user'];
        break;
    case '/logout':
        session_start();
        $_SESSION = [];
        session_destroy();
        echo 'bye';
        break;
    case '/status':
        $before = session_status();
        session_start();
        echo $before === PHP_SESSION_NONE ? 'none' : 'other', ' ', session_status() === PHP_SESSION_ACTIVE ? 'active' : 'other';
        break;
    case '/store':
        session_start();
        $_SESSION['value'] = $_GET['value'] ?? '';
        echo 'stored';
        break;
    case '/store-odd':
        session_start();
        $_SESSION['bytes'] = "caf\xe9";          // Latin-1, not UTF-8
        $_SESSION['object'] = (object) ['a' => 1];
        echo 'stored';
        break;
    case '/show':
        session_start();
        header('Content-Type: application/json');
        echo json_encode(['id' => session_id(), 'session' => (object) $_SESSION]);
        break;
    default:
        session_start();
        $_SESSION['count'] = ($_SESSION['count'] ?? 0) + 1;
        echo ($_SESSION['user'] ?? 'guest'), ' ', $_SESSION['count'];
}
