"""One event on its way through an instance (Invocation), and a failed Init (InitFailure).

Both the lifecycle (instance.py) and the API handlers (routes.py) hold invocations: the
lifecycle hands one to the runtime and times it, the handlers settle it with the runtime's answer.
"""

from __future__ import annotations

import asyncio
import time

from . import protocol


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
        payload: bytes,
        *,
        request_id: str | None = None,
        client_context: str | None = None,
        cognito_identity: str | None = None,
        chunk_sink: asyncio.Queue[bytes | None] | None = None,
    ) -> None:
        self.request_id = request_id or protocol.new_request_id()
        self.payload = payload
        self.client_context = client_context
        self.cognito_identity = cognito_identity
        self.trace_id = protocol.new_trace_id()
        #: Receives the response bytes as they come (streamed or not), then None.
        self.chunk_sink = chunk_sink
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
        if self.chunk_sink is not None:
            self.chunk_sink.put_nowait(None)
        return True
