"""The emulator's HTTP/1.1 server: an asyncio protocol over httptools (llhttp).

One server for every listener the emulator has: each instance's Runtime and Extensions API
(``$AWS_LAMBDA_RUNTIME_API``) and the Invoke API with its function-URL front. Why not aiohttp:
response streaming reports errors in HTTP *trailers*, which aiohttp's parser drops and llhttp
hands over; and the per-request cost of aiohttp's machinery (request objects, routing,
middlewares, a task per request and its access logger) was most of the emulator's CPU time per
invoke (BENCHMARKS.md, W5).

What it does: keep-alive and pipelining (answers in order), ``Expect: 100-continue``, request
bodies read whole or piece by piece as they arrive (with their trailers), buffered and chunked
streamed responses with flow control, and malformed requests answered (400, or 431 over 64 KiB
of request line and headers) and reported in one line through ``on_error`` — never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import cast

import httptools

from .http_messages import Headers, Request, Response, StreamResponse

__all__ = ["Request", "Response", "StreamResponse", "serve"]

#: The request line and headers together (llhttp itself sets no limit). Lambda's own headers
#: are small; a larger head is a broken client.
_HEAD_LIMIT = 64 * 1024
#: Bodies up to this size are sent in one write with the head (one segment, one syscall).
_COALESCE = 64 * 1024

Handler = Callable[[Request], Awaitable[Response | StreamResponse]]
#: Told about each request answered with an error of the server's own (malformed HTTP, a
#: failing handler): one line, no traceback.
ErrorReport = Callable[[str], None]


def _ignore_error(message: str) -> None:
    pass


class _HeadTooLarge(Exception):
    pass


_REASONS = {status.value: status.phrase for status in HTTPStatus}


def _reason(status: int) -> str:
    return _REASONS.get(status, "Unknown")


def _head(status: int, headers: Headers, framing: str, keep_alive: bool) -> bytes:
    lines = [f"HTTP/1.1 {status} {_reason(status)}"]
    items = headers.items() if isinstance(headers, Mapping) else headers
    lines += [f"{name}: {value}" for name, value in items]
    lines.append(framing)
    if not keep_alive:
        lines.append("Connection: close")
    # Header values are Latin-1 on the wire; anything else would not be a valid header.
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace")


class _Connection(asyncio.Protocol):
    def __init__(self, server: _Server) -> None:
        self._server = server
        self._transport: asyncio.Transport | None = None
        self._remote = ""
        self._parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._head_size = 0
        self._headers: list[tuple[str, str]] = []
        self._request: Request | None = None
        self._tasks: dict[asyncio.Task[None], Request] = {}
        self._last: asyncio.Task[None] | None = None
        self._paused = False
        self._drained: asyncio.Future[None] | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)
        peer = self._transport.get_extra_info("peername")
        self._remote = str(peer[0]) if isinstance(peer, tuple) and peer else ""

    def data_received(self, data: bytes) -> None:
        if self._transport is None or self._transport.is_closing():
            return  # already answered an error: the rest of the bytes mean nothing
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(400, "protocol upgrades are not supported")
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, _HeadTooLarge):
                self._refuse(431, f"request line and headers over {_HEAD_LIMIT} bytes")
            else:
                detail = exc.__context__ or exc  # a callback's own error says more
                self._refuse(400, f"malformed HTTP request: {detail}")

    def _refuse(self, status: int, message: str) -> None:
        self._server.on_error(f"answered {status} to a malformed request ({message})")
        if self._request is not None:
            self._request._abort()
        response = Response.json(status, {"errorMessage": message, "errorType": "InvalidRequest"})
        self._write(response, keep_alive=False)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._request is not None:
            self._request._abort()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        for task, request in list(self._tasks.items()):
            if request.cancel_on_disconnect:
                task.cancel()

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    async def _drain(self) -> None:
        if self._paused and self._transport is not None:
            self._drained = asyncio.get_running_loop().create_future()
            await self._drained

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._url = b""
        self._head_size = 0
        self._headers = []
        self._request = None

    def _count(self, size: int) -> None:
        self._head_size += size
        if self._head_size > _HEAD_LIMIT:
            raise _HeadTooLarge

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        pair = (name.decode("latin-1"), value.decode("latin-1"))
        if self._request is None:
            self._headers.append(pair)
        else:
            self._request.trailers[pair[0].lower()] = pair[1]

    def on_headers_complete(self) -> None:
        self._head_size = 0  # trailers, if any, get a budget of their own
        url = httptools.parse_url(self._url)
        headers: dict[str, str] = {}
        for name, value in self._headers:
            key = name.lower()
            if key in headers:
                headers[key] += ("; " if key == "cookie" else ", ") + value
            else:
                headers[key] = value
        request = Request(
            self._parser.get_method().decode("latin-1"),
            url.path.decode("latin-1"),
            headers,
            query=(url.query or b"").decode("latin-1"),
            header_list=self._headers,
            remote=self._remote,
        )
        request.cancel_on_disconnect = self._server.cancel_on_disconnect
        self._request = request
        if headers.get("expect", "").lower() == "100-continue" and self._transport is not None:
            self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        keep_alive = self._parser.should_keep_alive()
        task = asyncio.get_running_loop().create_task(self._serve(request, keep_alive, self._last))
        self._tasks[task] = request
        task.add_done_callback(self._forget)
        self._last = task

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)

    def on_body(self, body: bytes) -> None:
        if self._request is not None:
            self._request._feed(body)

    def on_message_complete(self) -> None:
        if self._request is not None:
            self._request._finish()
            self._request = None

    # answering
    async def _serve(
        self, request: Request, keep_alive: bool, previous: asyncio.Task[None] | None
    ) -> None:
        try:
            response = await self._server.handler(request)
        except ConnectionError:
            return
        except Exception as exc:  # a bug in a handler: the client still gets an answer
            message = f"{type(exc).__name__}: {exc}"
            response = Response.json(
                500, {"errorMessage": message, "errorType": "ServiceException"}
            )
            self._server.on_error(f"answered 500 to {request.method} {request.path}: {message}")
            keep_alive = False
        if previous is not None and not previous.done():  # answer pipelined requests in order
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await previous
        if isinstance(response, StreamResponse):
            await self._stream(response, keep_alive)
        else:
            self._write(response, keep_alive=keep_alive)

    def _write(self, response: Response, *, keep_alive: bool) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        body = response.body
        parts = body if isinstance(body, list) else [body]
        size = sum(len(part) for part in parts)
        head = _head(response.status, response.headers, f"Content-Length: {size}", keep_alive)
        if size <= _COALESCE:
            transport.write(head + b"".join(parts))
        else:  # no copy of a large body just to prepend the head
            transport.write(head)
            transport.writelines(parts)
        if not keep_alive:
            transport.close()

    async def _stream(self, response: StreamResponse, keep_alive: bool) -> None:
        chunks = response.chunks
        try:
            transport = self._transport
            if transport is None or transport.is_closing():
                return
            head = _head(
                response.status, response.headers, "Transfer-Encoding: chunked", keep_alive
            )
            transport.write(head)
            async for chunk in chunks:
                if not chunk:
                    continue
                transport = self._transport
                if transport is None or transport.is_closing():
                    return
                transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                await self._drain()
            transport = self._transport
            if transport is None or transport.is_closing():
                return
            transport.write(b"0\r\n\r\n")
            if not keep_alive:
                transport.close()
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()


@dataclass
class _Server:
    handler: Handler
    on_error: ErrorReport
    #: Cancel a connection's handlers when it closes (the Runtime API: a dead process's
    #: ``next`` must stop waiting). The Invoke API lets an invocation finish instead.
    cancel_on_disconnect: bool


async def serve(
    handler: Handler,
    host: str | list[str] = "127.0.0.1",
    port: int = 0,
    *,
    on_error: ErrorReport = _ignore_error,
    cancel_on_disconnect: bool = True,
    reuse_address: bool | None = None,
) -> asyncio.Server:
    """Start a listener; ``server.sockets`` has the addresses and port chosen."""
    loop = asyncio.get_running_loop()
    server = _Server(handler, on_error, cancel_on_disconnect)
    return await loop.create_server(
        lambda: _Connection(server), host, port, reuse_address=reuse_address
    )
