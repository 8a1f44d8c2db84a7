<?php

declare(strict_types=1);

namespace CfsessionEdge;

use SessionHandlerInterface;
use SessionIdInterface;

/**
 * PHP's session save handler on the edge's session (installed by EdgeSession::register()).
 * read() gives PHP the data the edge signed; PHP's writes happen after the response headers
 * are gone, so EdgeSession sends the changes from $_SESSION just before the headers instead.
 * session_regenerate_id() asks for a new id (create_sid): the edge rotates the real ones;
 * session_destroy() ends the session at the edge.
 */
final class EdgeSessionHandler implements SessionHandlerInterface, SessionIdInterface
{
    public bool $regenerated = false;
    public bool $destroyed = false;
    /** The data of the last write(), if PHP wrote before the headers went out. */
    public ?array $written = null;

    public function __construct(private array $data)
    {
    }

    public function open(string $path, string $name): bool
    {
        return true;
    }

    public function close(): bool
    {
        return true;
    }

    public function read(string $id): string|false
    {
        return serialize($this->data);
    }

    public function write(string $id, string $data): bool
    {
        $value = @unserialize($data); // what PHP serialized from $_SESSION in this very request
        $this->written = is_array($value) ? $value : [];
        return true;
    }

    public function destroy(string $id): bool
    {
        $this->destroyed = true;
        return true;
    }

    public function gc(int $max_lifetime): int|false
    {
        return 0;
    }

    public function create_sid(): string
    {
        $this->regenerated = true;
        return bin2hex(random_bytes(16)); // PHP's placeholder; the edge mints the real ids
    }
}
