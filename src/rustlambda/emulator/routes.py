"""The Runtime API (2018-06-01) and Extensions API (2020-01-01) of one instance: the request
handlers and the state they share (the waiting ``next``, the invocation in flight, the
registered extensions, an Init error).

The lifecycle (instance.py) drives this state: it sets the phase, hands an invocation to the
waiting runtime (`SandboxApi.dispatch`) and broadcasts INVOKE/SHUTDOWN to extensions; the
handlers settle invocations with the runtime's answers and tell the lifecycle about every
change through ``notify``.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from . import protocol
from .invocation import Invocation
from .runtime_api import ApiRequest, ApiResponse

_RESPONSE = re.compile(
    re.escape(protocol.RUNTIME_PREFIX) + r"/invocation/(?P<id>[^/]+)/(?P<kind>response|error)"
)
_JSON = {"Content-Type": "application/json"}

#: ``log(source, text, invocation)``: a platform line for the instance's log.
LogLine = Callable[[str, str, "Invocation | None"], None]


@dataclass
class Extension:
    """A registered extension (external: one of the instance's extension processes)."""

    id: str
    name: str
    events: frozenset[str]
    external: bool
    queue: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    waiting: bool = False

    @property
    def idle(self) -> bool:
        return self.waiting and self.queue.empty()


class SandboxApi:
    """What the runtime and the extensions of one instance see of Lambda."""

    def __init__(
        self,
        function_name: str,
        arn: str,
        external_names: tuple[str, ...],
        *,
        log: LogLine,
        notify: Callable[[], None],
    ) -> None:
        self.function_name = function_name
        self.arn = arn
        #: File names of the instance's extension executables (those may register as external).
        self.external_names = external_names
        self._log = log
        self._notify = notify
        #: "created" | "extensions-init" | "runtime-init" | "ready", set by the lifecycle.
        self.phase = "created"
        #: Set by the lifecycle on Shutdown: ``next`` is never answered from then on.
        self.stopping = False
        self.current: Invocation | None = None
        self.init_error: tuple[str, bytes] | None = None
        self.extensions: dict[str, Extension] = {}
        self._next_waiter: asyncio.Future[Invocation] | None = None

    # ----------------------------------------------------------------- for the lifecycle
    @property
    def runtime_waiting(self) -> bool:
        """The runtime is in ``invocation/next``."""
        return self._next_waiter is not None

    @property
    def extensions_idle(self) -> bool:
        """Every registered extension is in ``event/next`` with nothing queued."""
        return all(e.idle for e in self.extensions.values())

    @property
    def external_registered(self) -> int:
        return len({e.name for e in self.extensions.values() if e.external})

    @property
    def has_external(self) -> bool:
        return any(e.external for e in self.extensions.values())

    def dispatch(self, inv: Invocation) -> None:
        """Answer the waiting ``next`` with ``inv`` (the caller checked `runtime_waiting`)."""
        waiter, self._next_waiter = self._next_waiter, None
        assert waiter is not None
        self.current = inv
        waiter.set_result(inv)

    def broadcast(self, event_type: str, event: dict[str, object]) -> None:
        """Queue an INVOKE or SHUTDOWN event for the extensions subscribed to it."""
        raw = json.dumps(event).encode()
        for ext in self.extensions.values():
            # Internal extensions cannot subscribe to SHUTDOWN.
            if event_type in ext.events and not (event_type == "SHUTDOWN" and not ext.external):
                ext.queue.put_nowait(raw)

    # ----------------------------------------------------------------- routing
    async def handle(self, request: ApiRequest) -> ApiResponse:
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
        return _error(404, "InvalidRequest", f"no such endpoint: {method} {path}")

    # ----------------------------------------------------------------- Runtime API
    async def _runtime_next(self, request: ApiRequest) -> ApiResponse:
        await request.read()
        if self.stopping:
            await asyncio.Event().wait()  # Lambda never answers during shutdown
        if self._next_waiter is not None:
            return _error(400, "InvalidStateTransition", "a next request is already waiting")
        inv = self.current
        if inv is not None and not inv.result.done():
            message = "the runtime asked for the next event without answering the current one"
            self._log("platform", message, inv)
            inv.settle("error", protocol.error_body("Runtime.Unknown", message), "Runtime.Unknown")
        waiter: asyncio.Future[Invocation] = asyncio.get_running_loop().create_future()
        self._next_waiter = waiter
        self._notify()
        try:
            inv = await waiter
        except asyncio.CancelledError:
            if self._next_waiter is waiter:
                self._next_waiter = None
                self._notify()
            raise
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
        return ApiResponse(200, inv.payload, headers)

    def _answerable(self, request_id: str) -> Invocation | None:
        inv = self.current
        if inv is None or inv.request_id != request_id or inv.result.done():
            return None
        return inv

    async def _runtime_response(self, request_id: str, request: ApiRequest) -> ApiResponse:
        inv = self._answerable(request_id)
        if inv is None:
            await request.read()
            return _error(400, "InvalidRequestID", f"no invocation {request_id} awaits a response")
        mode = (request.header("lambda-runtime-function-response-mode") or "").lower()
        if mode == "streaming":
            return await self._stream_response(inv, request)
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
        if inv.chunk_sink is not None and body:
            inv.chunk_sink.put_nowait(body)
        inv.settle("success", body)
        return ApiResponse.json(202, {"status": "OK"})

    async def _stream_response(self, inv: Invocation, request: ApiRequest) -> ApiResponse:
        parts: list[bytes] = []
        size = 0
        try:
            async for chunk in request.iter_chunks():
                size += len(chunk)
                if size <= protocol.STREAMING_RESPONSE_LIMIT:
                    parts.append(chunk)
                    if inv.chunk_sink is not None:
                        inv.chunk_sink.put_nowait(chunk)
        except ConnectionError:
            inv.settle(
                "error",
                protocol.error_body("Runtime.TruncatedResponse", "the response stream broke off"),
                "Runtime.TruncatedResponse",
            )
            raise
        error_type = request.trailers.get("lambda-runtime-function-error-type")
        if error_type:
            raw = request.trailers.get("lambda-runtime-function-error-body", "")
            body = protocol.decode_error_body(raw) if raw else protocol.error_body(error_type, "")
            inv.settle("error", body, error_type)
        elif size > protocol.STREAMING_RESPONSE_LIMIT:
            message = (
                "Response payload size exceeded maximum allowed payload size "
                f"({protocol.STREAMING_RESPONSE_LIMIT} bytes)."
            )
            inv.settle(
                "error",
                protocol.error_body("Function.ResponseSizeTooLarge", message),
                "Function.ResponseSizeTooLarge",
            )
        else:
            inv.settle("success", b"".join(parts))
        return ApiResponse.json(202, {"status": "OK"})

    async def _runtime_error(self, request_id: str, request: ApiRequest) -> ApiResponse:
        body = await request.read()
        inv = self._answerable(request_id)
        if inv is None:
            return _error(400, "InvalidRequestID", f"no invocation {request_id} awaits a response")
        error_type, body = error_report(request, body)
        inv.settle("error", body, error_type)
        return ApiResponse.json(202, {"status": "OK"})

    async def _runtime_init_error(self, request: ApiRequest) -> ApiResponse:
        body = await request.read()
        if self.phase != "runtime-init":
            return _error(403, "InvalidStateTransition", "init/error is only allowed during Init")
        self.init_error = error_report(request, body)
        # The pool logs the INIT_REPORT line once Init has failed (for every kind of failure).
        self._notify()
        return ApiResponse.json(202, {"status": "OK"})

    # ----------------------------------------------------------------- Extensions API
    async def _register(self, request: ApiRequest) -> ApiResponse:
        raw = await request.read()
        name = request.header("lambda-extension-name") or ""
        if not name:
            return _error(400, "InvalidRequest", "the Lambda-Extension-Name header is missing")
        if self.phase not in ("extensions-init", "runtime-init"):
            return _error(403, "InvalidStateTransition", "extensions register during Init only")
        if len(self.extensions) >= protocol.MAX_EXTENSIONS:
            return _error(400, "TooManyExtensions", "at most 10 extensions may register")
        try:
            events = json.loads(raw or b"{}").get("events", [])
            if not isinstance(events, list) or any(e not in ("INVOKE", "SHUTDOWN") for e in events):
                raise ValueError(events)
        except (ValueError, AttributeError):
            return _error(400, "InvalidRequest", "events must be a list of INVOKE and SHUTDOWN")
        external = self.phase == "extensions-init" and name in self.external_names
        ext = Extension(str(uuid.uuid4()), name, frozenset(events), external)
        self.extensions[ext.id] = ext
        self._notify()
        body = {
            "functionName": self.function_name,
            "functionVersion": "$LATEST",
            "handler": "bootstrap",
        }
        return ApiResponse.json(200, body, {"Lambda-Extension-Identifier": ext.id})

    def _extension(self, request: ApiRequest) -> Extension | None:
        return self.extensions.get(request.header("lambda-extension-identifier") or "")

    async def _extension_next(self, request: ApiRequest) -> ApiResponse:
        await request.read()
        ext = self._extension(request)
        if ext is None:
            return _unknown_extension()
        ext.waiting = True
        self._notify()
        try:
            event = await ext.queue.get()
        finally:
            ext.waiting = False
            self._notify()
        return ApiResponse(
            200, event, {**_JSON, "Lambda-Extension-Event-Identifier": str(uuid.uuid4())}
        )

    async def _extension_error(self, request: ApiRequest, kind: str) -> ApiResponse:
        body = await request.read()
        ext = self._extension(request)
        if ext is None:
            return _unknown_extension()
        error_type = request.header("lambda-extension-function-error-type") or "Extension.Unknown"
        self._log("platform", f"extension {ext.name} reported {kind} error {error_type}", None)
        if kind == "init" and self.phase != "ready":
            self.init_error = (error_type, body or protocol.error_body(error_type, ""))
            self._notify()
        return ApiResponse.json(202, {"status": "OK"})


def error_report(request: ApiRequest, body: bytes) -> tuple[str, bytes]:
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


def _error(status: int, error_type: str, message: str) -> ApiResponse:
    return ApiResponse.json(status, {"errorMessage": message, "errorType": error_type})


def _unknown_extension() -> ApiResponse:
    return _error(403, "Extension.InvalidExtensionIdentifier", "unknown extension identifier")


def _not_allowed() -> ApiResponse:
    return _error(405, "InvalidRequest", "method not allowed")
