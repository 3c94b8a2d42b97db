"""The messages of the emulator's HTTP server (httpserver.py): a request whose body may still be
arriving, a buffered response, a streamed one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

#: Never buffer more than this from one request, whatever it claims.
HARD_LIMIT = 64 * 1024 * 1024

Headers = Mapping[str, str] | Iterable[tuple[str, str]]


class Peer(Protocol):
    """Where a request came from (the server's connection), asked only when needed."""

    @property
    def remote(self) -> str: ...


class Changes:
    """One waiter woken when something it watches changes (a body's arrival, a stream's chunks):
    ``wait`` until the next ``notify`` after it began."""

    __slots__ = ("_waiter",)

    def __init__(self) -> None:
        self._waiter: asyncio.Future[None] | None = None

    def notify(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None


class Request:
    """One request; its body may still be arriving while a handler runs."""

    __slots__ = (
        "_changes",
        "_chunks",
        "_peer",
        "_remote",
        "aborted",
        "cancel_on_disconnect",
        "complete",
        "header_list",
        "headers",
        "method",
        "path",
        "query",
        "size",
        "trailers",
    )

    def __init__(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        *,
        query: str = "",
        header_list: list[tuple[str, str]] | None = None,
        remote: str = "",
        peer: Peer | None = None,
    ) -> None:
        self.method = method
        #: The path as sent (percent-encoding kept) and the query string without ``?``.
        self.path = path
        self.query = query
        #: Header names in lower case; a repeated header's values joined with ", ".
        self.headers = headers
        #: Every header line in order, names as sent.
        self.header_list = header_list if header_list is not None else list(headers.items())
        #: Trailer fields of a chunked body, names in lower case (after the body is complete).
        self.trailers: dict[str, str] = {}
        self._remote = remote
        self._peer = peer
        self.size = 0
        self.complete = False
        self.aborted = False
        #: Cancel the handler if the client goes away (a handler may change it).
        self.cancel_on_disconnect = False
        self._chunks: list[bytes] = []
        self._changes = Changes()

    @property
    def remote(self) -> str:
        """The client's address (IP), when known."""
        return self._peer.remote if self._peer is not None else self._remote

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def _feed(self, data: bytes) -> None:
        self.size += len(data)
        if self.size <= HARD_LIMIT:  # past it only the size is kept, for the 413
            self._chunks.append(data)
        self._changes.notify()

    def _finish(self) -> None:
        self.complete = True
        self._changes.notify()

    def _abort(self) -> None:
        self.aborted = True
        self._changes.notify()

    async def read(self) -> bytes:
        """The whole body (once the request is complete)."""
        while not (self.complete or self.aborted):
            await self._changes.wait()
        if self.aborted:
            raise ConnectionError("the client went away before sending the whole request")
        chunks = self._chunks
        if len(chunks) == 1:
            return chunks[0]
        body = b"".join(chunks)
        self._chunks = [body]
        return body

    async def read_parts(self) -> list[bytes]:
        """The whole body as the pieces it came in (no copy to join them)."""
        while not (self.complete or self.aborted):
            await self._changes.wait()
        if self.aborted:
            raise ConnectionError("the client went away before sending the whole request")
        return self._chunks

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
            await self._changes.wait()


#: A body: bytes, or the pieces of one, written one after the other without being joined.
Body = bytes | list[bytes]


@dataclass(slots=True)
class Response:
    status: int
    body: Body = b""
    headers: Headers = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, value: object, headers: Mapping[str, str] | None = None) -> Response:
        return cls(
            status,
            json.dumps(value).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )


@dataclass(slots=True)
class StreamResponse:
    """A response sent with ``Transfer-Encoding: chunked``, each chunk as it comes."""

    status: int
    headers: Headers
    chunks: AsyncIterator[bytes]
