<?php
// A PSR-15 application (PSR-7 messages from Nyholm, the PSR interfaces from Debian's psr
// extension) whose one middleware is the kit's EdgeSessionMiddleware: a request that did not
// come through the edge gets the middleware's 403 response (no exit, the handler never runs);
// the handler uses PHP's own session functions on the edge's session.
require '/usr/share/php/Nyholm/Psr7/autoload.php';
require getenv('CFS_KIT_AUTOLOAD'); // Composer's autoloader for kits/php (composer dump-autoload)

use CfsessionEdge\EdgeSession;
use CfsessionEdge\EdgeSessionMiddleware;
use Nyholm\Psr7\Factory\Psr17Factory;
use Psr\Http\Message\ResponseInterface;
use Psr\Http\Message\ServerRequestInterface;
use Psr\Http\Server\RequestHandlerInterface;

$factory = new Psr17Factory();
$request = $factory->createServerRequest($_SERVER['REQUEST_METHOD'], $_SERVER['REQUEST_URI'], $_SERVER);

$handler = new class ($factory) implements RequestHandlerInterface {
    public function __construct(private Psr17Factory $factory)
    {
    }

    public function handle(ServerRequestInterface $request): ResponseInterface
    {
        session_start();
        $_SESSION['count'] = ($_SESSION['count'] ?? 0) + 1;
        $edge = $request->getAttribute(EdgeSession::class);
        return $this->factory->createResponse(200)->withHeader('Content-Type', 'text/plain')
            ->withBody($this->factory->createStream("count {$_SESSION['count']} in {$edge->id}"));
    }
};

$response = (new EdgeSessionMiddleware(getenv('CFS_ORIGIN_KEY'), $factory))->process($request, $handler);
http_response_code($response->getStatusCode());
foreach ($response->getHeaders() as $name => $values) {
    foreach ($values as $value) {
        header("$name: $value", false);
    }
}
echo $response->getBody();
