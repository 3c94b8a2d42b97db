"""One event on its way through an instance (Invocation), and a failed Init (InitFailure).

Both the lifecycle (instance.py) and the API handlers (routes.py) hold invocations: the
lifecycle hands one to the runtime and times it, the handlers settle it with the runtime's answer.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator

from . import protocol
from .http_messages import Body, Changes


class ResponseStream:
    """The runtime's answer as it arrives, for a caller that relays it while it comes (a
    streaming invoke, the function-URL front): a start with the content type, the chunks, an end.
    """

    def __init__(self) -> None:
        #: The function's Content-Type, once the runtime started answering.
        self.content_type: str | None = None
        #: The runtime answers in streaming mode (``Lambda-Runtime-Function-Response-Mode``).
        self.streaming = False
        self.begun = False
        self.ended = False
        self._chunks: collections.deque[bytes] = collections.deque()
        self._changes = Changes()

    def begin(self, content_type: str | None, *, streaming: bool) -> None:
        self.content_type, self.streaming, self.begun = content_type, streaming, True
        self._changes.notify()

    def push(self, chunk: bytes) -> None:
        if chunk:
            self._chunks.append(chunk)
            self._changes.notify()

    def end(self) -> None:
        self.ended = True
        self._changes.notify()

    async def wait_begun(self) -> bool:
        """True once the runtime started answering; False if it ended without (a failure)."""
        while not (self.begun or self.ended):
            await self._changes.wait()
        return self.begun

    async def chunks(self) -> AsyncIterator[bytes]:
        """The chunks as they arrive, until the end."""
        while True:
            while self._chunks:
                yield self._chunks.popleft()
            if self.ended:
                return
            await self._changes.wait()


class InitFailure(Exception):
    """The Init phase failed: what the waiting caller gets back."""

    def __init__(self, error_type: str, body: bytes) -> None:
        super().__init__(error_type)
        self.error_type = error_type
        self.body = body


class Invocation:
    """One event travelling through an instance."""

    def __init__(
        self,
        payload: Body,
        *,
        request_id: str | None = None,
        client_context: str | None = None,
        cognito_identity: str | None = None,
        stream: ResponseStream | None = None,
    ) -> None:
        self.request_id = request_id or protocol.new_request_id()
        self.payload = payload
        self.client_context = client_context
        self.cognito_identity = cognito_identity
        self.trace_id = protocol.new_trace_id()
        #: Receives the response as it comes (streamed or not), for a caller relaying it.
        self.stream = stream
        #: The function's Content-Type for its answer, and whether it streamed it.
        self.content_type: str | None = None
        self.streamed = False
        self.result: asyncio.Future[tuple[str, bytes, str | None]] = (
            asyncio.get_running_loop().create_future()
        )
        self.logs: list[str] = []
        self.deadline_ms = 0
        self.started = 0.0  # monotonic, when the runtime got the event
        self.finished = 0.0
        self.started_wall = 0.0
        self.finished_wall = 0.0

    def settle(self, status: str, body: bytes, error_type: str | None = None) -> bool:
        """Record the outcome once; later calls (a second answer, a late crash) are ignored."""
        if self.result.done():
            return False
        self.finished = time.monotonic()
        self.finished_wall = time.time()
        self.result.set_result((status, body, error_type))
        if self.stream is not None:
            self.stream.end()
        return True
