"""One execution environment's lifecycle: its processes (the bootstrap and its external
extensions), their API listener, and the phases Lambda runs them through.

The phases are Lambda's: Init (extensions register and wait, then the runtime starts and asks
for its first event), Invoke (one event at a time; extensions subscribed to INVOKE hear of it),
Shutdown (SHUTDOWN to extensions, SIGTERM, then SIGKILL after the budget). What the processes
send to the Runtime and Extensions APIs is handled in routes.py.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from ..errors import RustLambdaError
from . import protocol
from . import telemetry_events as records
from .environment import process_env
from .httpserver import serve as serve_api
from .invocation import InitFailure, Invocation
from .model import EmulatorSettings, FunctionSpec, LogRecord
from .process import Launch
from .processes import InstanceProcess, ProcessSet
from .routes import SandboxApi
from .telemetry import TelemetryHub


class Instance:
    """An execution environment. Create, ``start()`` (Init), then ``run()`` its events: one at
    a time, or up to the function's ``max_concurrency`` at once (Lambda Managed Instances)."""

    def __init__(
        self,
        spec: FunctionSpec,
        number: int,
        settings: EmulatorSettings,
        runtime_launch: Launch | None,
        extension_launches: tuple[tuple[str, Launch], ...],
        on_log: Callable[[LogRecord], None],
        *,
        api: str | None = None,
    ) -> None:
        """``runtime_launch`` None: the user starts the runtime (only-Lambda-APIs mode), and
        ``api`` is where its Runtime API is served (the Invoke API's ``/.rt/<function>``)."""
        self.spec = spec
        self.number = number
        self.settings = settings
        self._runtime_launch = runtime_launch
        self._extension_launches = extension_launches
        self._on_log = on_log
        #: ``host:port`` of the instance's Runtime/Extensions API (AWS_LAMBDA_RUNTIME_API).
        self.api = api or ""
        self.arn = protocol.function_arn(spec.name, settings.region, settings.account_id)
        self.capacity = max(1, spec.max_concurrency)
        self.telemetry = TelemetryHub(self._telemetry_problem)
        self.routes = SandboxApi(
            spec.name,
            self.arn,
            settings.account_id,
            tuple(name for name, _ in extension_launches),
            log=self._log,
            notify=self._notify,
            telemetry=self.telemetry,
            max_concurrency=self.capacity,
        )
        self.init_duration_ms: float | None = None
        self.started = False
        self.dead = False
        self.stopping = False
        self._start_task: asyncio.Task[None] | None = None
        self._server: asyncio.Server | None = None
        self._processes = ProcessSet(
            spec.bootstrap.resolve().parent, on_line=self._on_line, on_exit=self._on_exit
        )
        self._failure: tuple[str, bytes] | None = None
        self._change: asyncio.Future[None] | None = None
        self._stopped = asyncio.Event()
        self._peak_kib = 0
        self._tasks: set[asyncio.Task[None]] = set()

    # ----------------------------------------------------------------- lifecycle
    async def ensure_started(self) -> None:
        """Init once, however many invocations wait for it; raises InitFailure if it failed."""
        if self._start_task is None:
            self._start_task = asyncio.ensure_future(self.start())
        await asyncio.shield(self._start_task)

    async def start(self) -> None:
        """The Init phase; raises InitFailure when it fails (the instance is then stopped)."""
        self.started = True
        t0 = time.monotonic()
        user_runtime = self._runtime_launch is None
        # A runtime the user starts (under a debugger) may take as long as it takes.
        deadline = math.inf if user_runtime else t0 + self.settings.init_timeout
        if not self.api:
            self._server = await serve_api(self.routes.handle, on_error=self._api_error)
            port = self._server.sockets[0].getsockname()[1]
            self.api = f"127.0.0.1:{port}"
        credentials = await self._credentials()
        log_stream = protocol.log_stream_name()
        env = process_env(self.spec, self.settings, self.api, log_stream, credentials)
        self.telemetry.emit("platform.initStart", records.init_start())
        try:
            self.routes.phase = "extensions-init"
            for name, launch in self._extension_launches:
                await self._processes.spawn("extension", name, launch, env)
            if not await self._wait_for(self._extensions_ready, deadline):
                self._raise_init("Extension.InitTimeout", "extensions did not finish Init in time")
            self._check_init_failure()
            self.routes.phase = "runtime-init"
            if self._runtime_launch is not None:
                await self._processes.spawn("runtime", "bootstrap", self._runtime_launch, env)
            if not await self._wait_for(self._runtime_ready, deadline):
                self._raise_init(
                    "Sandbox.Timedout",
                    f"Init phase timed out after {self.settings.init_timeout:.2f} seconds",
                )
            self._check_init_failure()
        except InitFailure as failure:
            self._init_telemetry("error", t0, failure.error_type)
            await self.stop(protocol.FAILURE)
            raise
        except OSError as exc:
            self._init_telemetry("error", t0, "Runtime.InvalidEntrypoint")
            await self.stop(protocol.FAILURE)
            raise InitFailure(
                "Runtime.InvalidEntrypoint",
                protocol.error_body("Runtime.InvalidEntrypoint", str(exc)),
            ) from exc
        self.routes.phase = "ready"
        self.init_duration_ms = (time.monotonic() - t0) * 1000
        self._init_telemetry("success", t0, None)
        self._measure()

    async def _credentials(self) -> Mapping[str, str] | None:
        source = self.settings.credentials
        if source is None:
            return None
        try:  # may ask a web service (SSO, IMDS): not on the event loop
            return await asyncio.to_thread(source)
        except RustLambdaError as exc:
            self._log("platform", f"{exc.message}; the function gets no AWS credentials", None)
            return {}

    def _init_telemetry(self, status: str, t0: float, error_type: str | None) -> None:
        hub = self.telemetry
        hub.emit("platform.initRuntimeDone", records.init_done(status, error_type))
        duration = (time.monotonic() - t0) * 1000
        hub.emit("platform.initReport", records.init_report(status, duration, error_type))
        hub.end_of_init()

    def _raise_init(self, error_type: str, message: str) -> None:
        raise InitFailure(error_type, protocol.error_body(error_type, message))

    def _check_init_failure(self) -> None:
        if self.routes.init_error is not None:
            raise InitFailure(*self.routes.init_error)
        if self._failure is not None or self.stopping:
            raise InitFailure(*self.failure)

    def _extensions_ready(self) -> bool:
        if self.routes.init_error or self._failure or self.stopping:
            return True
        if self.routes.external_registered < len(self._extension_launches):
            return False
        return self.routes.extensions_idle

    def _runtime_ready(self) -> bool:
        if self.routes.init_error or self._failure or self.stopping:
            return True
        return not self.dead and self.routes.runtime_waiting and self.routes.extensions_idle

    @property
    def ready(self) -> bool:
        """Can take an event now: one at a time, the runtime is in ``next`` and every extension
        in ``event/next``; with max concurrency, Init is done and a slot is free (an event
        waits for the runtime's next ``next``)."""
        if self.dead:
            return False
        if self.capacity == 1:
            return self.routes.runtime_waiting and self.routes.extensions_idle
        return self.routes.phase == "ready" and len(self.routes.active) < self.capacity

    @property
    def failure(self) -> tuple[str, bytes]:
        """Why the instance cannot take an event (its crash, or that it stopped)."""
        if self._failure is not None:
            return self._failure
        message = "the execution environment stopped before it could take the event"
        return "Runtime.ExitError", protocol.error_body("Runtime.ExitError", message)

    @property
    def current(self) -> Invocation | None:
        """The invocation the runtime is working on (None when none, or several)."""
        return self.routes.current

    async def wait_ready(self, timeout: float) -> bool:
        return (
            await self._wait_for(lambda: self.ready or self.dead, time.monotonic() + timeout)
            and self.ready
        )

    async def run(self, inv: Invocation, timeout: float) -> tuple[str, bytes, str | None]:
        """Hand ``inv`` to the runtime; its result, or a timeout (the instance is then killed)."""
        assert self.ready
        inv.started = time.monotonic()
        inv.started_wall = time.time()
        inv.deadline_ms = int((inv.started_wall + timeout) * 1000)
        self.routes.dispatch(inv)  # first: the runtime has the event while START is logged
        self._log("platform", f"START RequestId: {inv.request_id} Version: $LATEST", inv)
        if self.telemetry.active:
            self.telemetry.emit("platform.start", records.start(inv.request_id, inv.trace_id))
        if self.routes.extensions:
            event = {
                "eventType": "INVOKE",
                "deadlineMs": inv.deadline_ms,
                "requestId": inv.request_id,
                "invokedFunctionArn": self.arn,
                "tracing": {"type": "X-Amzn-Trace-Id", "value": inv.trace_id},
            }
            self.routes.broadcast("INVOKE", event)
        expiry = asyncio.get_running_loop().call_later(timeout, self._time_out, inv, timeout)
        try:
            return await inv.result
        finally:
            expiry.cancel()

    def _time_out(self, inv: Invocation, timeout: float) -> None:
        if inv.result.done():
            return
        self._measure()
        message = protocol.timeout_message(inv.request_id, timeout)
        self._log("platform", message, inv)
        inv.settle("timeout", protocol.error_body("Sandbox.Timedout", message), "Sandbox.Timedout")
        self._spawn_task(self.stop(protocol.TIMEOUT))

    async def finish(self, inv: Invocation, timeout: float) -> protocol.Report:
        """Wait for the end of the Invoke phase (runtime and extensions back in ``next``)."""
        status, _, error_type = inv.result.result()
        if status in ("success", "error") and self.capacity == 1 and not self.ready:
            remaining = max(0.0, inv.deadline_ms / 1000 - time.time()) + 1.0
            await self.wait_ready(min(remaining, timeout))
        end = time.monotonic() if status != "timeout" else inv.finished
        # Peak memory (VmHWM) only grows: measuring at each END (and at Init, and on a timeout)
        # sees every peak a START would, at one /proc read per process and invoke.
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
        if self.telemetry.active:
            for event_type, record, when in records.invocation_end(inv, report):
                self.telemetry.emit(event_type, record, when)
        self._log("platform", report.line, inv)
        self.routes.done(inv)
        return report

    async def stop(self, reason: str = protocol.SPINDOWN) -> None:
        """Shutdown: SHUTDOWN to extensions and SIGTERM to the runtime, SIGKILL after the budget."""
        if self.stopping:
            await self._stopped.wait()
            return
        self.stopping = True
        self.routes.stopping = True
        self.dead = True
        self._notify()
        alive = self._processes.alive()
        budget = protocol.SHUTDOWN_BUDGET if self.routes.has_external else 0.5
        deadline_ms = int((time.time() + budget) * 1000)
        if self.telemetry.subscriptions:  # what is buffered reaches the extensions first
            await self.telemetry.flush_all(timeout=budget / 2)
        self.routes.broadcast(
            "SHUTDOWN",
            {"eventType": "SHUTDOWN", "shutdownReason": reason, "deadlineMs": deadline_ms},
        )
        for p in alive:
            if p.role == "runtime":
                p.process.terminate_group()
        await self._processes.end(alive, budget)
        self.telemetry.close()
        if self._server is not None:
            self._server.close()
        for inv in list(self.routes.active.values()):
            inv.settle(
                "crash",
                protocol.error_body("Runtime.ExitError", "the instance was shut down"),
                "Runtime.ExitError",
            )
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        self._stopped.set()

    # ----------------------------------------------------------------- processes
    def _on_line(self, source: str, text: str) -> None:
        self._log(source, text, self.current)

    def _on_exit(self, entry: InstanceProcess, code: int) -> None:
        """A process ended: unless shutting down, the instance fails (Lambda resets it)."""
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
        for active in list(self.routes.active.values()):
            active.settle("crash", body, error_type)
        self._notify()
        self._spawn_task(self.stop(protocol.FAILURE))

    def _measure(self) -> None:
        self._peak_kib = max(self._peak_kib, self._processes.memory_kib())

    # ----------------------------------------------------------------- helpers
    def _spawn_task(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _notify(self) -> None:
        change, self._change = self._change, None
        if change is not None and not change.done():
            change.set_result(None)

    async def _wait_for(self, condition: Callable[[], bool], deadline: float) -> bool:
        """Wait until ``condition()`` holds (True) or ``deadline`` passes (False)."""
        loop = asyncio.get_running_loop()
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self._change is None:
                self._change = loop.create_future()
            change = self._change
            expiry = loop.call_later(remaining, _resolve, change) if remaining < math.inf else None
            try:
                await change
            finally:
                if expiry is not None:
                    expiry.cancel()
        return True

    def _api_error(self, message: str) -> None:
        self._log("platform", f"Runtime API: {message}", self.current)

    def _telemetry_problem(self, message: str) -> None:
        self._log("platform", message, None)

    def _log(self, source: str, text: str, inv: Invocation | None = None) -> None:
        if source != "platform" and self.telemetry.active:
            kind = "function" if source == "function" else "extension"
            self.telemetry.emit(kind, text)
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


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
