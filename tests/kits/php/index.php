<?php
// The kits' test site on php-fpm behind nginx, using kits/php/EdgeSession.php (every path
// reaches this file; nginx passes CFS_ORIGIN_KEY and the ended-hooks log path).
require __DIR__ . '/../../../kits/php/EdgeSession.php';

$key = getenv('CFS_ORIGIN_KEY') ?: ($_SERVER['CFS_ORIGIN_KEY'] ?? '');
$log = getenv('CFS_ENDED_LOG') ?: '/tmp/cfs-ended.log';
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);

if ($path === '/hooks/end') {
    $body = file_get_contents('php://input');
    if (!EdgeSession::verifyHook($key, $_SERVER['HTTP_X_SESSION_SIGNATURE'] ?? '', $body)) {
        http_response_code(401);
        echo "bad hook signature";
        exit;
    }
    file_put_contents($log, json_decode($body, true)['cfid'] . "\n", FILE_APPEND | LOCK_EX);
    http_response_code(204);
    exit;
}

// The edge's public URL, from the site's configuration (the test writes it once the edge runs).
$edgeUrl = trim((string) @file_get_contents(getenv('CFS_EDGE_URL_FILE') ?: '/dev/null')) ?: null;
$edge = EdgeSession::start($key, $edgeUrl);
header('Content-Type: text/plain; charset=utf-8');
switch ($path) {
    case '/count':
        $edge->set('count', ($edge->get('count') ?? 0) + 1);
        echo $edge->get('count');
        break;
    case '/store':
        $edge->set($_GET['key'] ?? 'value', $_GET['value'] ?? '');
        echo 'stored';
        break;
    case '/show':
        header('Content-Type: application/json');
        echo json_encode(['id' => $edge->id, 'session' => (object) $edge->all()]);
        break;
    case '/login':
        $edge->setUser($_GET['user'] ?? '');
        echo 'logged in';
        break;
    case '/logout':
        $edge->invalidate();
        echo 'logged out';
        break;
    case '/sessions':
        header('Content-Type: application/json');
        echo json_encode($edge->listMySessions());
        break;
    case '/end-others':
        header('Content-Type: application/json');
        echo json_encode($edge->endOtherSessions());
        break;
    case '/ended':
        header('Content-Type: application/json');
        echo json_encode(array_values(array_filter(explode("\n", @file_get_contents($log) ?: ''))));
        break;
    default:
        http_response_code(404);
        echo 'no such page';
}
