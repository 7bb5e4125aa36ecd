"""The benchmarks' lean HTTP client: reads whole answers, keeps the connection, and reports a
broken one instead of inventing an answer."""

from __future__ import annotations

import asyncio

import pytest

from entrepot.simulation.lean_http import Connection, HttpError, _parse, run


def test_an_answer_is_parsed_only_once_it_is_whole_and_is_cut_from_the_buffer() -> None:
    buffer = bytearray(b"HTTP/1.1 409 Conflict\r\ncontent-length: 5\r\n\r\nab")
    assert _parse(buffer) is None
    buffer += b"cdeHTTP/1.1 201"
    assert _parse(buffer) == (409, b"HTTP/1.1 409 Conflict\r\ncontent-length: 5", b"abcde")
    assert buffer == bytearray(b"HTTP/1.1 201")  # the next answer's start stays


def test_an_answer_without_a_length_or_status_is_an_error() -> None:
    with pytest.raises(HttpError, match="Content-Length"):
        _parse(bytearray(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"))
    with pytest.raises(HttpError, match="status line"):
        _parse(bytearray(b"SSH-2.0-OpenSSH\r\n\r\n"))


def test_requests_go_over_one_kept_connection_and_a_closed_one_raises() -> None:
    seen: list[bytes] = []
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while head := await reader.readuntil(b"\r\n\r\n"):
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            body = await reader.readexactly(length)
            seen.append(head.split(b"\r\n")[0] + b" " + body)
            if body == b"bye":
                writer.close()
                return
            writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        connection = Connection("127.0.0.1", port)
        assert await connection.request("POST", "/a", {"X": "1"}, b"one") == (201, b"ok")
        assert await connection.request("POST", "/b", {}, b"two") == (201, b"ok")
        with pytest.raises(HttpError, match="connection lost"):
            await connection.request("POST", "/c", {}, b"bye")
        connection.close()
        server.close()

    run(main())
    assert seen == [b"POST /a HTTP/1.1 one", b"POST /b HTTP/1.1 two", b"POST /c HTTP/1.1 bye"]
    assert connections == 1


def test_a_server_that_never_answers_is_an_error_after_the_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # reads the request, answers nothing, until the client goes

    async def main() -> None:
        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        connection = Connection("127.0.0.1", server.sockets[0].getsockname()[1])
        with pytest.raises(HttpError, match=r"no answer within 0\.2 s"):
            await connection.request("GET", "/", {}, timeout=0.2)
        server.close()

    run(asyncio.wait_for(main(), 30))  # a client that ignores its timeout fails here instead of hanging
