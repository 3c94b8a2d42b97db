"""One execution environment: a bootstrap process, its external extensions, their API listener.

The lifecycle is Lambda's: Init (extensions register and wait, then the runtime starts and asks
for its first event), Invoke (one event at a time; extensions subscribed to INVOKE hear of it),
Shutdown (SHUTDOWN to extensions, SIGTERM, then SIGKILL after the budget).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
import signal
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import protocol
from .model import EmulatorSettings, FunctionSpec, LogRecord
from .process import Launch, PeakMemory, signal_group
from .runtime_api import ApiRequest, ApiResponse
from .runtime_api import serve as serve_api

#: Variables Lambda sets itself; a function's own env cannot override them.
RESERVED_ENV = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)
_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
_RESPONSE = re.compile(
    re.escape(protocol.RUNTIME_PREFIX) + r"/invocation/(?P<id>[^/]+)/(?P<kind>response|error)"
)
_JSON = {"Content-Type": "application/json"}


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
        if self.result.done():
            return False
        self.finished = time.monotonic()
        self.finished_wall = time.time()
        self.result.set_result((status, body, error_type))
        if self.chunk_sink is not None:
            self.chunk_sink.put_nowait(None)
        return True


@dataclass
class _Extension:
    id: str
    name: str
    events: frozenset[str]
    external: bool
    queue: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    waiting: bool = False

    @property
    def idle(self) -> bool:
        return self.waiting and self.queue.empty()


@dataclass
class _Process:
    role: str  # "runtime" | "extension"
    name: str
    proc: asyncio.subprocess.Process
    memory: PeakMemory
    pump: asyncio.Task[None] | None = None


def process_env(
    spec: FunctionSpec, settings: EmulatorSettings, api: str, log_stream: str
) -> dict[str, str]:
    """The environment of a function's processes, as Lambda sets it up."""
    environ = settings.environ or {}
    task_root = str(spec.bootstrap.resolve().parent)
    env = {k: v for k, v in spec.env.items() if k not in RESERVED_ENV}
    env.update({k: environ[k] for k in _CREDENTIALS if environ.get(k)})
    env.update(
        {
            "AWS_LAMBDA_RUNTIME_API": api,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": settings.region,
            "AWS_DEFAULT_REGION": settings.region,
            "_HANDLER": "bootstrap",
            "LAMBDA_TASK_ROOT": task_root,
            "LAMBDA_RUNTIME_DIR": "/var/runtime",
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
            "LD_LIBRARY_PATH": f"{task_root}:{task_root}/lib:/lib64:/usr/lib64:/opt/lib",
        }
    )
    return env


class Instance:
    """An execution environment. Create, ``start()`` (Init), then ``run()`` one event at a time."""

    def __init__(
        self,
        spec: FunctionSpec,
        number: int,
        settings: EmulatorSettings,
        runtime_launch: Launch,
        extension_launches: tuple[tuple[str, Launch], ...],
        on_log: Callable[[LogRecord], None],
    ) -> None:
        self.spec = spec
        self.number = number
        self.settings = settings
        self._runtime_launch = runtime_launch
        self._extension_launches = extension_launches
        self._on_log = on_log
        self.api = ""
        self.arn = protocol.function_arn(spec.name, settings.region, settings.account_id)
        self.init_duration_ms: float | None = None
        self.started = False
        self.dead = False
        self.stopping = False
        self.current: Invocation | None = None
        self._phase = "created"  # extensions-init | runtime-init | ready
        self._server: asyncio.Server | None = None
        self._processes: list[_Process] = []
        self._extensions: dict[str, _Extension] = {}
        self._next_waiter: asyncio.Future[Invocation] | None = None
        self._init_error: tuple[str, bytes] | None = None
        self._failure: tuple[str, bytes] | None = None
        self._changed = asyncio.Event()
        self._stopped = asyncio.Event()
        self._peak_kib = 0
        self._tasks: set[asyncio.Task[None]] = set()

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """The Init phase; raises InitFailure when it fails (the instance is then stopped)."""
        self.started = True
        t0 = time.monotonic()
        deadline = t0 + self.settings.init_timeout
        self._server = await serve_api(self._handle)
        port = self._server.sockets[0].getsockname()[1]
        self.api = f"127.0.0.1:{port}"
        env = process_env(self.spec, self.settings, self.api, protocol.log_stream_name())
        try:
            self._phase = "extensions-init"
            for name, launch in self._extension_launches:
                await self._spawn("extension", name, launch, env)
            if not await self._wait_for(self._extensions_ready, deadline):
                self._raise_init("Extension.InitTimeout", "extensions did not finish Init in time")
            self._check_init_failure()
            self._phase = "runtime-init"
            await self._spawn("runtime", "bootstrap", self._runtime_launch, env)
            if not await self._wait_for(self._runtime_ready, deadline):
                self._raise_init(
                    "Sandbox.Timedout",
                    f"Init phase timed out after {self.settings.init_timeout:.2f} seconds",
                )
            self._check_init_failure()
        except InitFailure:
            await self.stop("FAILURE")
            raise
        except OSError as exc:
            await self.stop("FAILURE")
            raise InitFailure(
                "Runtime.InvalidEntrypoint",
                protocol.error_body("Runtime.InvalidEntrypoint", str(exc)),
            ) from exc
        self._phase = "ready"
        self.init_duration_ms = (time.monotonic() - t0) * 1000

    def _raise_init(self, error_type: str, message: str) -> None:
        raise InitFailure(error_type, protocol.error_body(error_type, message))

    def _check_init_failure(self) -> None:
        if self._init_error is not None:
            raise InitFailure(*self._init_error)
        if self._failure is not None:
            raise InitFailure(*self._failure)

    def _extensions_ready(self) -> bool:
        if self._init_error or self._failure:
            return True
        external = {e.name for e in self._extensions.values() if e.external}
        if len(external) < len(self._extension_launches):
            return False
        return all(e.idle for e in self._extensions.values())

    def _runtime_ready(self) -> bool:
        if self._init_error or self._failure:
            return True
        return self.ready

    @property
    def ready(self) -> bool:
        """Waiting for an event: the runtime is in ``next``, every extension in ``event/next``."""
        return (
            not self.dead
            and self._next_waiter is not None
            and all(e.idle for e in self._extensions.values())
        )

    async def wait_ready(self, timeout: float) -> bool:
        return (
            await self._wait_for(lambda: self.ready or self.dead, time.monotonic() + timeout)
            and self.ready
        )

    async def run(self, inv: Invocation, timeout: float) -> tuple[str, bytes, str | None]:
        """Hand ``inv`` to the runtime; its result, or a timeout (the instance is then killed)."""
        assert self.ready and self._next_waiter is not None
        self.current = inv
        inv.started = time.monotonic()
        inv.started_wall = time.time()
        inv.deadline_ms = int((inv.started_wall + timeout) * 1000)
        self._log("platform", f"START RequestId: {inv.request_id} Version: $LATEST", inv)
        self._measure()  # a process that crashes mid-invocation can't be measured afterwards
        waiter, self._next_waiter = self._next_waiter, None
        waiter.set_result(inv)
        event = {
            "eventType": "INVOKE",
            "deadlineMs": inv.deadline_ms,
            "requestId": inv.request_id,
            "invokedFunctionArn": self.arn,
            "tracing": {"type": "X-Amzn-Trace-Id", "value": inv.trace_id},
        }
        self._broadcast("INVOKE", event)
        try:
            return await asyncio.wait_for(asyncio.shield(inv.result), timeout)
        except TimeoutError:
            self._measure()
            message = protocol.timeout_message(inv.request_id, timeout)
            self._log("platform", message, inv)
            inv.settle(
                "timeout", protocol.error_body("Sandbox.Timedout", message), "Sandbox.Timedout"
            )
            self._spawn_task(self.stop("TIMEOUT"))
            return inv.result.result()

    async def finish(self, inv: Invocation, timeout: float) -> protocol.Report:
        """Wait for the end of the Invoke phase (runtime and extensions back in ``next``)."""
        status, _, error_type = inv.result.result()
        if status in ("success", "error"):
            remaining = max(0.0, inv.deadline_ms / 1000 - time.time()) + 1.0
            await self.wait_ready(min(remaining, timeout))
        end = time.monotonic() if status != "timeout" else inv.finished
        self._measure()
        self._log("platform", f"END RequestId: {inv.request_id}", inv)
        report = protocol.Report(
            request_id=inv.request_id,
            function=self.spec.name,
            duration_ms=(max(end, inv.finished) - inv.started) * 1000,
            memory_size=self.spec.memory_size,
            max_memory_used_mb=max(1, math.ceil(self._peak_kib / 1024)),
            init_duration_ms=self.init_duration_ms,
            status=status,
            error_type=error_type,
        )
        self.init_duration_ms = None  # only the first invocation is a cold start
        self._log("platform", report.line, inv)
        if self.current is inv:
            self.current = None
        return report

    async def stop(self, reason: str = "SPINDOWN") -> None:
        """Shutdown: SHUTDOWN to extensions and SIGTERM to the runtime, SIGKILL after the budget."""
        if self.stopping:
            await self._stopped.wait()
            return
        self.stopping = True
        self.dead = True
        self._notify()
        alive = [p for p in self._processes if p.proc.returncode is None]
        has_extensions = any(e.external for e in self._extensions.values())
        budget = protocol.SHUTDOWN_BUDGET if has_extensions else 0.5
        deadline_ms = int((time.time() + budget) * 1000)
        self._broadcast(
            "SHUTDOWN",
            {"eventType": "SHUTDOWN", "shutdownReason": reason, "deadlineMs": deadline_ms},
        )
        for p in alive:
            if p.role == "runtime":
                signal_group(p.proc.pid, signal.SIGTERM)
        if alive:
            waits = [asyncio.ensure_future(p.proc.wait()) for p in alive]
            _, pending = await asyncio.wait(waits, timeout=budget)
            for p in alive:
                signal_group(p.proc.pid, signal.SIGKILL)
            if pending:
                await asyncio.wait(pending, timeout=5)
        for p in self._processes:
            if p.pump is not None:
                with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(asyncio.shield(p.pump), 1.0)
                p.pump.cancel()
        if self._server is not None:
            self._server.close()
        if self.current is not None:
            self.current.settle(
                "crash",
                protocol.error_body("Runtime.ExitError", "the instance was shut down"),
                "Runtime.ExitError",
            )
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        self._stopped.set()

    # ----------------------------------------------------------------- processes
    async def _spawn(self, role: str, name: str, launch: Launch, env: Mapping[str, str]) -> None:
        cwd = self.spec.bootstrap.resolve().parent
        proc = await asyncio.create_subprocess_exec(
            *launch.argv,
            env=dict(env),
            cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            limit=1 << 20,
        )
        entry = _Process(role, name, proc, PeakMemory(proc.pid))
        self._processes.append(entry)
        entry.pump = asyncio.ensure_future(self._pump(entry))
        self._spawn_task(self._watch(entry))

    async def _pump(self, entry: _Process) -> None:
        stream = entry.proc.stdout
        assert stream is not None
        source = "function" if entry.role == "runtime" else f"extension:{entry.name}"
        while True:
            try:
                line = await stream.readline()
            except ValueError:  # a line over the limit: pass it on in pieces
                line = await stream.read(1 << 20)
            if not line:
                return
            self._log(source, line.decode(errors="replace").rstrip("\r\n"), self.current)

    async def _watch(self, entry: _Process) -> None:
        code = await entry.proc.wait()
        entry.memory.close()
        if entry.pump is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(entry.pump), 1.0)
        if self.stopping:
            return
        inv = self.current
        rid = inv.request_id if inv is not None else "(init)"
        if entry.role == "runtime":
            error_type, message = "Runtime.ExitError", protocol.exit_message(rid, code)
        else:
            error_type = "Extension.Crash"
            message = f"RequestId: {rid} Error: extension {entry.name} exited: exit status {code}"
        self._log("platform", message, inv)
        body = protocol.error_body(error_type, message)
        self._failure = (error_type, body)
        self.dead = True
        if inv is not None:
            inv.settle("crash", body, error_type)
        self._notify()
        self._spawn_task(self.stop("FAILURE"))

    def _measure(self) -> None:
        total = 0
        for p in self._processes:
            if p.proc.returncode is None:
                total += p.memory.kib() or 0
        self._peak_kib = max(self._peak_kib, total)

    # ----------------------------------------------------------------- helpers
    def _spawn_task(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_for(self, condition: Callable[[], bool], deadline: float) -> bool:
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                return condition()
        return True

    def _log(self, source: str, text: str, inv: Invocation | None = None) -> None:
        if inv is not None:
            inv.logs.append(text)
        self._on_log(
            LogRecord(
                self.spec.name,
                self.number,
                source,
                text,
                request_id=inv.request_id if inv is not None else None,
            )
        )

    def _broadcast(self, event_type: str, event: dict[str, object]) -> None:
        raw = json.dumps(event).encode()
        for ext in self._extensions.values():
            if event_type in ext.events and not (event_type == "SHUTDOWN" and not ext.external):
                ext.queue.put_nowait(raw)

    # ----------------------------------------------------------------- the API
    async def _handle(self, request: ApiRequest) -> ApiResponse:
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
        error_type, body = _error_report(request, body)
        inv.settle("error", body, error_type)
        return ApiResponse.json(202, {"status": "OK"})

    async def _runtime_init_error(self, request: ApiRequest) -> ApiResponse:
        body = await request.read()
        if self._phase != "runtime-init":
            return _error(403, "InvalidStateTransition", "init/error is only allowed during Init")
        error_type, body = _error_report(request, body)
        self._init_error = (error_type, body)
        # The pool logs the INIT_REPORT line once Init has failed (for every kind of failure).
        self._notify()
        return ApiResponse.json(202, {"status": "OK"})

    async def _register(self, request: ApiRequest) -> ApiResponse:
        raw = await request.read()
        name = request.header("lambda-extension-name") or ""
        if not name:
            return _error(400, "InvalidRequest", "the Lambda-Extension-Name header is missing")
        if self._phase not in ("extensions-init", "runtime-init"):
            return _error(403, "InvalidStateTransition", "extensions register during Init only")
        if len(self._extensions) >= protocol.MAX_EXTENSIONS:
            return _error(400, "TooManyExtensions", "at most 10 extensions may register")
        try:
            events = json.loads(raw or b"{}").get("events", [])
            if not isinstance(events, list) or any(e not in ("INVOKE", "SHUTDOWN") for e in events):
                raise ValueError(events)
        except (ValueError, AttributeError):
            return _error(400, "InvalidRequest", "events must be a list of INVOKE and SHUTDOWN")
        external = self._phase == "extensions-init" and any(
            n == name for n, _ in self._extension_launches
        )
        ext = _Extension(str(uuid.uuid4()), name, frozenset(events), external)
        self._extensions[ext.id] = ext
        self._notify()
        body = {
            "functionName": self.spec.name,
            "functionVersion": "$LATEST",
            "handler": "bootstrap",
        }
        return ApiResponse.json(200, body, {"Lambda-Extension-Identifier": ext.id})

    def _extension(self, request: ApiRequest) -> _Extension | None:
        return self._extensions.get(request.header("lambda-extension-identifier") or "")

    async def _extension_next(self, request: ApiRequest) -> ApiResponse:
        await request.read()
        ext = self._extension(request)
        if ext is None:
            return _error(
                403, "Extension.InvalidExtensionIdentifier", "unknown extension identifier"
            )
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
            return _error(
                403, "Extension.InvalidExtensionIdentifier", "unknown extension identifier"
            )
        error_type = request.header("lambda-extension-function-error-type") or "Extension.Unknown"
        self._log("platform", f"extension {ext.name} reported {kind} error {error_type}")
        if kind == "init" and self._phase != "ready":
            self._init_error = (error_type, body or protocol.error_body(error_type, ""))
            self._notify()
        return ApiResponse.json(202, {"status": "OK"})


def _error_report(request: ApiRequest, body: bytes) -> tuple[str, bytes]:
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
