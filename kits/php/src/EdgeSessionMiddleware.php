<?php

// A PSR-15 middleware for the kit: verifies the request and puts PHP's own session functions on
// the edge's session (EdgeSession::register() without its exit), or answers 403 itself. Needs
// the PSR-15 and PSR-17 interfaces (psr/http-server-middleware and psr/http-factory, or the
// psr extension) and a PSR-17 response factory.
//
//   $pipeline = new EdgeSessionMiddleware(getenv('CFS_ORIGIN_KEY'), new Psr17Factory());
//   $response = $pipeline->process($request, $handler);   // the session is attribute EdgeSession::class

declare(strict_types=1);

namespace CfsessionEdge;

use Psr\Http\Message\ResponseFactoryInterface;
use Psr\Http\Message\ResponseInterface;
use Psr\Http\Message\ServerRequestInterface;
use Psr\Http\Server\MiddlewareInterface;
use Psr\Http\Server\RequestHandlerInterface;

final class EdgeSessionMiddleware implements MiddlewareInterface
{
    public function __construct(
        private string $originKey,
        private ResponseFactoryInterface $responses,
        private ?string $edgeUrl = null,
        private bool $phpSessions = true,
    ) {
    }

    public function process(ServerRequestInterface $request, RequestHandlerInterface $handler): ResponseInterface
    {
        $edge = EdgeSession::fromRequest($this->originKey, $this->edgeUrl);
        if ($edge === null) {
            $response = $this->responses->createResponse(403)->withHeader('Content-Type', 'text/plain; charset=utf-8');
            $response->getBody()->write("this request did not come through the session edge\n");
            return $response;
        }
        if ($this->phpSessions) {
            $edge->withPhpSessions();
        }
        return $handler->handle($request->withAttribute(EdgeSession::class, $edge));
    }
}
