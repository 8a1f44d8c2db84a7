<?php

// cfsession-edge origin kit for PHP, as one file to require (without Composer): loads the
// classes of src/ and names them without their namespace, as earlier versions did.
//
//   require __DIR__ . '/EdgeSession.php';
//   EdgeSession::register(getenv('CFS_ORIGIN_KEY'));   // then session_start(), $_SESSION as usual

require_once __DIR__ . '/src/EdgeSessionHandler.php';
require_once __DIR__ . '/src/EdgeSession.php';

class_alias(\CfsessionEdge\EdgeSession::class, 'EdgeSession');
class_alias(\CfsessionEdge\EdgeSessionHandler::class, 'EdgeSessionHandler');
if (interface_exists(\Psr\Http\Server\MiddlewareInterface::class)) {
    require_once __DIR__ . '/src/EdgeSessionMiddleware.php';
    class_alias(\CfsessionEdge\EdgeSessionMiddleware::class, 'EdgeSessionMiddleware');
}
