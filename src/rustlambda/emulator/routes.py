"""The Runtime API (2018-06-01) of one instance, and the routing of its listener: the request
handlers and the state they share with the Extensions API (extensions_api.py) — the waiting
``next`` requests, the invocations in flight, the registered extensions, an Init error.

The lifecycle (instance.py) drives this state: it sets the phase, hands an invocation to the
waiting runtime (`SandboxApi.dispatch`) and broadcasts INVOKE/SHUTDOWN to extensions; the
handlers settle invocations with the runtime's answers and tell the lifecycle about every
change through ``notify``.
"""

from __future__ import annotations

import asyncio
import collections
import json
import re
from collections.abc import Callable

from . import protocol, streaming
from .extensions_api import ACCEPTED, Extension, ExtensionsApi, LogLine
from .extensions_api import error as _error
from .httpserver import Request, Response
from .invocation import Invocation
from .telemetry import LOGS_PATH, TELEMETRY_PATH, TelemetryHub

_RESPONSE = re.compile(
    re.escape(protocol.RUNTIME_PREFIX) + r"/invocation/(?P<id>[^/]+)/(?P<kind>response|error)"
)


class SandboxApi(ExtensionsApi):
    """What the runtime and the extensions of one instance see of Lambda."""

    def __init__(
        self,
        function_name: str,
        arn: str,
        account_id: str,
        external_names: tuple[str, ...],
        *,
        log: LogLine,
        notify: Callable[[], None],
        telemetry: TelemetryHub,
        max_concurrency: int = 1,
    ) -> None:
        self.function_name = function_name
        self.arn = arn
        self.account_id = account_id
        #: File names of the instance's extension executables (those may register as external).
        self.external_names = external_names
        self._log = log
        self._notify = notify
        #: "created" | "extensions-init" | "runtime-init" | "ready", set by the lifecycle.
        self.phase = "created"
        #: Set by the lifecycle on Shutdown: ``next`` is never answered from then on.
        self.stopping = False
        #: Invocations the runtime may answer, by request id (several with max concurrency).
        self.active: dict[str, Invocation] = {}
        self.init_error: tuple[str, bytes] | None = None
        self.extensions: dict[str, Extension] = {}
        self.max_concurrency = max_concurrency
        self.telemetry = telemetry
        #: ``next`` requests waiting for an event (up to max_concurrency of them), and events
        #: dispatched while none was waiting.
        self._next_waiters: collections.deque[asyncio.Future[Invocation]] = collections.deque()
        self._queued: collections.deque[Invocation] = collections.deque()

    # ----------------------------------------------------------------- for the lifecycle
    @property
    def runtime_waiting(self) -> bool:
        """The runtime is in ``invocation/next``."""
        return bool(self._next_waiters)

    @property
    def current(self) -> Invocation | None:
        """The one invocation in flight (None when there are none, or several)."""
        if len(self.active) != 1:
            return None
        return next(iter(self.active.values()))

    def dispatch(self, inv: Invocation) -> None:
        """Answer a waiting ``next`` with ``inv``, or queue it for the next ``next``."""
        self.active[inv.request_id] = inv
        while self._next_waiters:
            waiter = self._next_waiters.popleft()
            if not waiter.done():
                waiter.set_result(inv)
                return
        self._queued.append(inv)

    def done(self, inv: Invocation) -> None:
        """The lifecycle is through with ``inv`` (reported): it is no longer in flight."""
        if self.active.get(inv.request_id) is inv:
            del self.active[inv.request_id]

    async def handle(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path == protocol.RUNTIME_PREFIX + "/invocation/next":
            return await self._runtime_next(request) if method == "GET" else _not_allowed()
        match = _RESPONSE.fullmatch(path)
        if match:
            if method != "POST":
                return _not_allowed()
            if match["kind"] == "response":
                return await self._runtime_response(match["id"], request)
            return await self._runtime_error(match["id"], request)
        if path == protocol.RUNTIME_PREFIX + "/init/error":
            return await self._runtime_init_error(request) if method == "POST" else _not_allowed()
        if path == protocol.EXTENSION_PREFIX + "/register":
            return await self._register(request) if method == "POST" else _not_allowed()
        if path == protocol.EXTENSION_PREFIX + "/event/next":
            return await self._extension_next(request) if method == "GET" else _not_allowed()
        if path in (
            protocol.EXTENSION_PREFIX + "/init/error",
            protocol.EXTENSION_PREFIX + "/exit/error",
        ):
            return await self._extension_error(request, path.rsplit("/", 2)[-2])
        if path.rstrip("/") in (TELEMETRY_PATH, LOGS_PATH):
            api = "telemetry" if path.startswith(TELEMETRY_PATH) else "logs"
            return await self._subscribe(request, api) if method == "PUT" else _not_allowed()
        return _error(404, "InvalidRequest", f"no such endpoint: {method} {path}")

    # ----------------------------------------------------------------- Runtime API
    async def _runtime_next(self, request: Request) -> Response:
        await request.read()
        if self.stopping:
            await asyncio.Event().wait()  # Lambda never answers during shutdown
        if len(self._next_waiters) >= self.max_concurrency:
            return _error(400, "InvalidStateTransition", "a next request is already waiting")
        if self.max_concurrency == 1:
            inv = self.current
            if inv is not None and not inv.result.done():
                message = "the runtime asked for the next event without answering the current one"
                self._log("platform", message, inv)
                body = protocol.error_body("Runtime.Unknown", message)
                inv.settle("error", body, "Runtime.Unknown")
        if self._queued:
            inv = self._queued.popleft()
        else:
            inv = await self._wait_for_event()
        headers = {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": inv.request_id,
            "Lambda-Runtime-Deadline-Ms": str(inv.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": self.arn,
            "Lambda-Runtime-Trace-Id": inv.trace_id,
        }
        if inv.client_context is not None:
            headers["Lambda-Runtime-Client-Context"] = inv.client_context
        if inv.cognito_identity is not None:
            headers["Lambda-Runtime-Cognito-Identity"] = inv.cognito_identity
        return Response(200, inv.payload, headers)

    async def _wait_for_event(self) -> Invocation:
        waiter: asyncio.Future[Invocation] = asyncio.get_running_loop().create_future()
        self._next_waiters.append(waiter)
        self._notify()
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter in self._next_waiters:
                self._next_waiters.remove(waiter)
                self._notify()
            raise
        finally:
            if waiter in self._next_waiters:  # answered and removed by dispatch already
                self._next_waiters.remove(waiter)

    def _answerable(self, request_id: str) -> Invocation | None:
        inv = self.active.get(request_id)
        if inv is None or inv.result.done():
            return None
        return inv

    async def _runtime_response(self, request_id: str, request: Request) -> Response:
        inv = self._answerable(request_id)
        if inv is None:
            await request.read()
            return _error(400, "InvalidRequestID", f"no invocation {request_id} awaits a response")
        mode = (request.header("lambda-runtime-function-response-mode") or "").lower()
        inv.content_type = request.header("content-type")
        inv.streamed = mode == "streaming"
        if inv.stream is not None:
            inv.stream.begin(inv.content_type, streaming=inv.streamed)
        if inv.streamed:
            await streaming.receive(inv, request)
            return ACCEPTED
        body = await request.read()
        if request.size > protocol.RESPONSE_LIMIT:
            message = (
                "Response payload size exceeded maximum allowed payload size "
                f"({protocol.RESPONSE_LIMIT} bytes)."
            )
            self._log("platform", message, inv)
            inv.settle(
                "error",
                protocol.error_body("Function.ResponseSizeTooLarge", message),
                "Function.ResponseSizeTooLarge",
            )
            return _error(
                413,
                "RequestEntityTooLarge",
                f"Exceeded maximum allowed payload size ({protocol.RESPONSE_LIMIT} bytes).",
            )
        if inv.stream is not None:
            inv.stream.push(body)
        inv.settle("success", body)
        return ACCEPTED

    async def _runtime_error(self, request_id: str, request: Request) -> Response:
        body = await request.read()
        inv = self._answerable(request_id)
        if inv is None:
            return _error(400, "InvalidRequestID", f"no invocation {request_id} awaits a response")
        error_type, body = error_report(request, body)
        inv.settle("error", body, error_type)
        return ACCEPTED

    async def _runtime_init_error(self, request: Request) -> Response:
        body = await request.read()
        if self.phase != "runtime-init":
            return _error(403, "InvalidStateTransition", "init/error is only allowed during Init")
        self.init_error = error_report(request, body)
        # The pool logs the INIT_REPORT line once Init has failed (for every kind of failure).
        self._notify()
        return ACCEPTED


def error_report(request: Request, body: bytes) -> tuple[str, bytes]:
    """The error type and JSON body of an /error or /init/error post."""
    error_type = request.header("lambda-runtime-function-error-type")
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        error_type = error_type or str(parsed.get("errorType") or "Runtime.Unknown")
        return error_type, body
    error_type = error_type or "Runtime.Unknown"
    return error_type, protocol.error_body(error_type, body.decode(errors="replace"))


def _not_allowed() -> Response:
    return _error(405, "InvalidRequest", "method not allowed")
