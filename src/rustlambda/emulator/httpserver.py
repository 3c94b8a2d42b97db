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
from collections.abc import Awaitable, Callable, Coroutine, Generator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, cast

import httptools

from .http_messages import Headers, Request, Response, StreamResponse

__all__ = ["Request", "Response", "StreamResponse", "serve"]

#: The request line and headers together (llhttp itself sets no limit). Lambda's own headers
#: are small; a larger head is a broken client.
_HEAD_LIMIT = 64 * 1024
#: Bodies up to this size are sent in one write with the head (one segment, one syscall).
_COALESCE = 64 * 1024
#: What one read from a socket may bring in (libuv's own default read size).
_READ_SIZE = 256 * 1024

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
    items = headers.items() if isinstance(headers, Mapping) else headers
    text = "".join([f"{name}: {value}\r\n" for name, value in items])
    end = "\r\n\r\n" if keep_alive else "\r\nConnection: close\r\n\r\n"
    # Header values are Latin-1 on the wire; anything else would not be a valid header.
    return f"HTTP/1.1 {status} {_reason(status)}\r\n{text}{framing}{end}".encode(
        "latin-1", errors="replace"
    )


class _Connection(asyncio.BufferedProtocol):
    """One client connection. A BufferedProtocol: the loop reads into the server's one read
    buffer and the parser reads from there, which saves a copy of every byte received (a
    ``data_received`` gets a new bytes object per read: 5 MiB more to copy per 5 MiB body)."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        self._transport: asyncio.Transport | None = None
        self._peer: str | None = None
        self._parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._head_size = 0
        self._headers: list[tuple[str, str]] = []
        self._request: Request | None = None
        self._tasks: dict[asyncio.Task[None], Request] = {}
        self._last: asyncio.Task[None] | None = None
        self._paused = False
        self._drained: asyncio.Future[None] | None = None
        #: Requests whose head was parsed in the current read: their handlers start after it.
        self._starting: list[tuple[Request, bool]] = []

    # asyncio.BufferedProtocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)

    @property
    def remote(self) -> str:
        """The client's IP address, asked for the first time a request needs it (most never
        do: one syscall and a conversion less per connection)."""
        if self._peer is None:
            transport = self._transport
            peer = transport.get_extra_info("peername") if transport is not None else None
            self._peer = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        return self._peer

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._server.read_view

    def buffer_updated(self, nbytes: int) -> None:
        # The parser copies out what it keeps before feed_data returns: the buffer is free
        # for the next read of any connection.
        self.data_received(self._server.read_view[:nbytes])

    def data_received(self, data: bytes | memoryview) -> None:
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
        if self._starting:
            starting, self._starting = self._starting, []
            for request, keep_alive in starting:
                self._start(request, keep_alive)

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
            self._drained = self._server.loop.create_future()
            await self._drained

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._url = b""
        self._head_size = 0
        self._headers = []
        self._request = None

    def on_url(self, url: bytes) -> None:
        self._head_size += len(url)
        if self._head_size > _HEAD_LIMIT:
            raise _HeadTooLarge
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_size += len(name) + len(value) + 4
        if self._head_size > _HEAD_LIMIT:
            raise _HeadTooLarge
        if self._request is None:
            self._headers.append((name.decode("latin-1"), value.decode("latin-1")))
        else:
            self._request.trailers[name.decode("latin-1").lower()] = value.decode("latin-1")

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
            peer=self,
        )
        request.cancel_on_disconnect = self._server.cancel_on_disconnect
        self._request = request
        if headers.get("expect", "").lower() == "100-continue" and self._transport is not None:
            self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        # Started once the read is parsed (the body that came with it is then there).
        self._starting.append((request, self._parser.should_keep_alive()))

    def _start(self, request: Request, keep_alive: bool) -> None:
        """Run the handler at once, up to its first wait: most Runtime API requests (a
        ``response``, a ``next`` with an event queued) are answered without a task, a loop
        turn and their allocations; one that waits goes on in a task from where it stopped."""
        coro = self._serve(request, keep_alive, self._last)
        try:
            awaited = coro.send(None)
        except StopIteration:
            self._last = None  # answered: it waited for no earlier request either
            return
        except asyncio.CancelledError:
            self._last = None
            return
        task = self._server.loop.create_task(_resume(coro, awaited))
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
        size = sum([len(part) for part in body]) if isinstance(body, list) else len(body)
        head = _head(response.status, response.headers, f"Content-Length: {size}", keep_alive)
        if size > _COALESCE:  # no copy of a large body just to prepend the head
            transport.write(head)
            transport.writelines(body if isinstance(body, list) else [body])
        elif isinstance(body, list):
            transport.write(b"".join([head, *body]))
        else:
            transport.write(head + body)
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
    loop: asyncio.AbstractEventLoop
    #: Every connection's reads land here: one event loop thread parses one read at a time.
    read_view: memoryview = field(default_factory=lambda: memoryview(bytearray(_READ_SIZE)))


class _Resume:
    """Awaiting it goes on with a coroutine that was started by hand (``_Connection._start``)
    and stopped at ``awaited``: what ``await`` would have done had a task started it. (Python
    3.12's eager tasks do the same; this works on 3.11 too.)"""

    __slots__ = ("_awaited", "_coro")

    def __init__(self, coro: Coroutine[Any, Any, None], awaited: Any) -> None:
        self._coro = coro
        self._awaited = awaited

    def __await__(self) -> Generator[Any, Any, None]:
        coro, awaited = self._coro, self._awaited
        del self._coro, self._awaited
        while True:
            try:
                sent = yield awaited
            except BaseException as exc:  # a cancellation, passed on to where it waits
                try:
                    awaited = coro.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    awaited = coro.send(sent)
                except StopIteration:
                    return


async def _resume(coro: Coroutine[Any, Any, None], awaited: Any) -> None:
    await _Resume(coro, awaited)


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
    server = _Server(handler, on_error, cancel_on_disconnect, loop)
    return await loop.create_server(
        lambda: _Connection(server), host, port, reuse_address=reuse_address
    )
