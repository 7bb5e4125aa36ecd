"""A lean HTTP/1.1 client for the benchmarks' load generators (flash sales, checkout): one keep-alive
loopback connection per simulated client, requests written as bytes, each answer read whole (status
line, headers, a Content-Length body).

The load generator shares the machine's cores with the API servers and PostgreSQL, so every
microsecond it spends per request is taken from the servers it measures. A general client (aiohttp)
spent about half a core on a rush; this one does only what the benchmark needs, on uvloop. It speaks
real HTTP over real sockets, and the caller checks every answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


class HttpError(ConnectionError):
    """The connection broke or the answer was not HTTP this client can read."""


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes, bytes]] | None = None
        self.transport: Any = None  # uvloop's TCP transport (not an asyncio.Transport subclass)
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is None or self.waiter.done():
            return
        try:
            answer = _parse(self.buffer)
        except HttpError as exc:
            self.waiter.set_exception(exc)
            return
        if answer is not None:
            self.waiter.set_result(answer)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(HttpError(f"connection lost: {exc}"))


def _parse(buffer: bytearray) -> tuple[int, bytes, bytes] | None:
    """(status, raw header block, body) once a whole answer is in the buffer (and cut from it)."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end])
    try:
        status = int(head[9:12])
    except ValueError:
        raise HttpError(f"not an HTTP status line: {head[:40]!r}") from None
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise HttpError("an answer without Content-Length")
    if len(buffer) < end + 4 + length:
        return None
    body = bytes(buffer[end + 4 : end + 4 + length])
    del buffer[: end + 4 + length]
    return status, head, body


class Connection:
    """One keep-alive connection; one request at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._protocol: _Protocol | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b"", timeout: float | None = None
    ) -> tuple[int, bytes]:
        """(status, body) of one request; raises HttpError (the connection is then dropped), also when no
        whole answer came within `timeout` seconds, if given."""
        protocol = await self._connected()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body or method in ("POST", "PUT", "PATCH"):
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        waiter = asyncio.get_running_loop().create_future()
        protocol.waiter = waiter
        assert protocol.transport is not None
        protocol.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        try:
            status, _, answer = await asyncio.wait_for(waiter, timeout)
        except HttpError:
            self.close()
            raise
        except TimeoutError:
            self.close()  # a late answer must not be read as the next request's
            raise HttpError(f"no answer within {timeout} s") from None
        finally:
            protocol.waiter = None
        return status, answer

    async def _connected(self) -> _Protocol:
        if self._protocol is None or self._protocol.closed:
            try:
                _, protocol = await asyncio.get_running_loop().create_connection(
                    _Protocol, self.host, self.port
                )
            except OSError as exc:
                raise HttpError(f"cannot connect to {self.host}:{self.port}: {exc}") from None
            self._protocol = protocol
        return self._protocol

    def close(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()
        self._protocol = None


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run the clients on uvloop: a lighter event loop leaves more of the cores to the servers."""
    return uvloop.run(main)
