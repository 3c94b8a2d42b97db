"""The HTTP server a runtime and its extensions talk to (``$AWS_LAMBDA_RUNTIME_API``).

Each instance gets its own listener on 127.0.0.1, so every request is known to come from that
instance's processes. The server is an asyncio protocol over httptools (llhttp) rather than
aiohttp because response streaming reports errors in HTTP *trailers*, which aiohttp's parser
drops; llhttp hands them over, and it keeps the per-request overhead low.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus

import httptools

#: Never buffer more than this from one request, whatever it claims.
_HARD_LIMIT = 64 * 1024 * 1024
#: The request line and headers together (llhttp itself sets no limit; aiohttp's is 8 KiB a
#: line). Lambda's own headers are small; a larger head is a broken client.
_HEAD_LIMIT = 64 * 1024


class ApiRequest:
    """One request; its body may still be arriving while a handler runs."""

    def __init__(self, method: str, path: str, headers: dict[str, str]) -> None:
        self.method = method
        self.path = path
        #: Header names in lower case.
        self.headers = headers
        #: Trailer fields of a chunked body, names in lower case (after the body is complete).
        self.trailers: dict[str, str] = {}
        self.size = 0
        self._chunks: list[bytes] = []
        self._changed = asyncio.Event()
        self.complete = False
        self.aborted = False

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def _feed(self, data: bytes) -> None:
        self.size += len(data)
        if self.size <= _HARD_LIMIT:  # past it only the size is kept, for the 413
            self._chunks.append(data)
        self._changed.set()

    def _finish(self) -> None:
        self.complete = True
        self._changed.set()

    def _abort(self) -> None:
        self.aborted = True
        self._changed.set()

    async def read(self) -> bytes:
        """The whole body (once the request is complete)."""
        while not (self.complete or self.aborted):
            self._changed.clear()
            await self._changed.wait()
        if self.aborted:
            raise ConnectionError("the client went away before sending the whole request")
        return b"".join(self._chunks)

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        """The body piece by piece as it arrives."""
        index = 0
        while True:
            while index < len(self._chunks):
                yield self._chunks[index]
                index += 1
            if self.complete:
                return
            if self.aborted:
                raise ConnectionError("the client went away in the middle of the body")
            self._changed.clear()
            await self._changed.wait()


@dataclass
class ApiResponse:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, status: int, value: object, headers: Mapping[str, str] | None = None
    ) -> ApiResponse:
        return cls(
            status,
            json.dumps(value).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )


Handler = Callable[[ApiRequest], Awaitable[ApiResponse]]
#: Told about each request answered with an error of the server's own (malformed HTTP, a
#: failing handler): one line, no traceback.
ErrorReport = Callable[[str], None]


class _HeadTooLarge(Exception):
    pass


def _problem(status: int, error_type: str, message: str) -> ApiResponse:
    return ApiResponse.json(status, {"errorMessage": message, "errorType": error_type})


class _Connection(asyncio.Protocol):
    def __init__(self, handler: Handler, on_error: ErrorReport) -> None:
        self._handler = handler
        self._on_error = on_error
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._head_size = 0
        self._headers: dict[str, str] = {}
        self._request: ApiRequest | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._last: asyncio.Task[None] | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        if self._transport is None or self._transport.is_closing():
            return  # already answered an error: the rest of the bytes mean nothing
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, _HeadTooLarge):
                response = _problem(
                    431,
                    "InvalidRequest",
                    f"request line and headers over {_HEAD_LIMIT} bytes",
                )
            else:
                detail = exc.__context__ or exc  # a callback's own error says more
                response = _problem(400, "InvalidRequest", f"malformed HTTP request: {detail}")
            self._on_error(f"answered {response.status} to {_describe(response)}")
            if self._request is not None:
                self._request._abort()
            self._write(response, keep_alive=False)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._request is not None:
            self._request._abort()
        for task in self._tasks:
            task.cancel()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._url = b""
        self._head_size = 0
        self._headers = {}
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
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        if self._request is None:
            self._headers[key] = text
        else:
            self._request.trailers[key] = text

    def on_headers_complete(self) -> None:
        self._head_size = 0  # trailers, if any, get a budget of their own
        url = httptools.parse_url(self._url)
        request = ApiRequest(
            self._parser.get_method().decode("latin-1"),
            url.path.decode("latin-1"),
            self._headers,
        )
        self._request = request
        keep_alive = self._parser.should_keep_alive()
        task = asyncio.get_running_loop().create_task(self._serve(request, keep_alive, self._last))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._last = task

    def on_body(self, body: bytes) -> None:
        if self._request is not None:
            self._request._feed(body)

    def on_message_complete(self) -> None:
        if self._request is not None:
            self._request._finish()
            self._request = None

    async def _serve(
        self, request: ApiRequest, keep_alive: bool, previous: asyncio.Task[None] | None
    ) -> None:
        try:
            response = await self._handler(request)
        except ConnectionError:
            return
        except Exception as exc:  # a bug in a handler: the client still gets an answer
            response = _problem(500, "ServiceException", f"{type(exc).__name__}: {exc}")
            self._on_error(
                f"answered 500 to {request.method} {request.path}: {type(exc).__name__}: {exc}"
            )
            keep_alive = False
        if previous is not None:  # answer pipelined requests in order
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await previous
        self._write(response, keep_alive=keep_alive)

    def _write(self, response: ApiResponse, *, keep_alive: bool) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = "Unknown"
        head = [f"HTTP/1.1 {response.status} {reason}"]
        head += [f"{name}: {value}" for name, value in response.headers.items()]
        head.append(f"Content-Length: {len(response.body)}")
        if not keep_alive:
            head.append("Connection: close")
        transport.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body)
        if not keep_alive:
            transport.close()


def _describe(response: ApiResponse) -> str:
    try:
        message = json.loads(response.body)["errorMessage"]
    except (ValueError, KeyError, TypeError):
        message = ""
    return f"a malformed request ({message})" if message else "a malformed request"


def _ignore_error(message: str) -> None:
    pass


async def serve(
    handler: Handler,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    on_error: ErrorReport = _ignore_error,
) -> asyncio.Server:
    """Start a Runtime/Extensions API listener; ``server.sockets[0]`` has the port chosen."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: _Connection(handler, on_error), host, port)
