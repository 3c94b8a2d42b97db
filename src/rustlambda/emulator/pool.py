"""A function's instances: up to ``concurrency`` of them, each serving one invocation at a time.

An invocation takes an idle instance, or starts one (a cold start) while under the limit, or
waits for one to free up. A crashed or timed-out instance is discarded; the next invocation
starts a fresh one. ``replace()`` retires the instances of an older build.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from . import protocol
from .instance import Instance
from .invocation import InitFailure, Invocation
from .model import EmulatorSettings, FunctionSpec, LogRecord, Outcome
from .process import Launch, plan_launch

T = TypeVar("T")


class FunctionPool:
    def __init__(
        self,
        spec: FunctionSpec,
        settings: EmulatorSettings,
        on_log: Callable[[LogRecord], None],
        on_report: Callable[[protocol.Report], None],
    ) -> None:
        self.settings = settings
        self._on_log = on_log
        self._on_report = on_report
        #: Live instances and how many invocations each is serving.
        self._busy: dict[Instance, int] = {}
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._numbers = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        #: Instances on their way out; stop() waits for them so no process outlives the pool.
        self._retired: set[Instance] = set()
        #: Only-Lambda-APIs mode: where the user's runtime finds this function's Runtime API.
        self.user_runtime_api: str | None = None
        self.spec = spec
        self._launches = self._plan(spec)

    def _plan(self, spec: FunctionSpec) -> tuple[Launch | None, tuple[tuple[str, Launch], ...]]:
        if self.settings.only_lambda_apis:
            return None, ()  # the user starts the runtime (and its extensions) themselves
        environ = self.settings.environ or {}
        runtime = plan_launch(spec.bootstrap, environ=environ)
        extensions = tuple((p.name, plan_launch(p, environ=environ)) for p in spec.extensions)
        return runtime, extensions

    def replace(self, spec: FunctionSpec) -> None:
        """Serve ``spec`` from now on: idle instances stop now, busy ones when they finish."""
        launches = self._plan(spec)  # raises before anything changes
        self.spec, self._launches = spec, launches
        for instance, busy in list(self._busy.items()):
            if busy == 0:
                self._retire(instance)
        self._wake()

    def _new_instance(self) -> Instance:
        self._numbers += 1
        runtime, extensions = self._launches
        instance = Instance(
            self.spec,
            self._numbers,
            self.settings,
            runtime,
            extensions,
            self._on_log,
            api=self.user_runtime_api,
        )
        self._busy[instance] = 0
        return instance

    def lambda_apis_instance(self) -> Instance:
        """Only-Lambda-APIs mode: the instance whose Runtime API the user's runtime talks to
        (started now if there is none: its Init waits for that runtime)."""
        for instance in self._busy:
            if self._usable(instance):
                return instance
        instance = self._new_instance()
        self._background(self._start_quietly(instance))
        return instance

    async def _start_quietly(self, instance: Instance) -> None:
        with contextlib.suppress(InitFailure):  # an invocation waiting for it reports it
            await instance.ensure_started()

    def _usable(self, instance: Instance) -> bool:
        return not instance.dead and instance.spec == self.spec

    def _take(self) -> Instance | None:
        """An instance that can take one more invocation now (counted as busy), if any."""
        for instance, busy in list(self._busy.items()):
            stuck = instance.started and instance.capacity == 1 and not instance.ready
            if busy == 0 and (stuck or not self._usable(instance)):
                self._retire(instance)  # crashed, outdated or wedged while idle
                continue
            if busy >= instance.capacity or not self._usable(instance):
                continue
            # Not started yet: its Init is awaited by whoever takes it (with max concurrency,
            # several invocations may wait for the same Init).
            if not instance.started or instance.ready:
                self._busy[instance] = busy + 1
                return instance
        if len(self._busy) < self.settings.concurrency:
            instance = self._new_instance()
            self._busy[instance] = 1
            return instance
        return None

    async def _acquire(self) -> Instance:
        while (instance := self._take()) is None:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                self._wake()  # pass the turn on
                raise
        return instance

    def _release(self, instance: Instance) -> None:
        """One invocation less on ``instance``; drop it if it is dead, outdated or stuck."""
        busy = self._busy.get(instance)
        if busy is not None:
            self._busy[instance] = busy - 1
            last = busy == 1
            if instance.dead or (last and not (self._usable(instance) and instance.ready)):
                self._retire(instance)
        self._wake()

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _retire(self, instance: Instance) -> None:
        self._busy.pop(instance, None)
        self._retired.add(instance)
        if not instance.stopping:
            self._background(instance.stop(protocol.SPINDOWN))

    def _background(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def invoke(self, inv: Invocation, *, wait_report: bool = True) -> Outcome:
        instance = await self._acquire()
        try:
            if not instance.ready:
                await instance.ensure_started()
                # With max concurrency another event may hold the runtime's last ``next``.
                if not instance.ready and not await instance.wait_ready(self.spec.timeout):
                    raise InitFailure(*instance.failure)
        except InitFailure as failure:
            self._release(instance)
            return self._init_failed(inv, instance, failure)
        status, body, error_type = await instance.run(inv, self.spec.timeout)
        completion = self._background(self._complete(instance, inv))
        report = await completion if wait_report else None
        return Outcome(
            request_id=inv.request_id,
            function=self.spec.name,
            status=status,
            body=body,
            error_type=error_type,
            report=report,
            instance=instance.number,
            started=inv.started_wall,
            finished=inv.finished_wall,
            logs=tuple(inv.logs),
            content_type=inv.content_type,
        )

    async def _complete(self, instance: Instance, inv: Invocation) -> protocol.Report:
        try:
            report = await instance.finish(inv, self.spec.timeout)
        finally:
            self._release(instance)
        self._on_report(report)
        return report

    def _init_failed(self, inv: Invocation, instance: Instance, failure: InitFailure) -> Outcome:
        text = f"INIT_REPORT Status: error\tErrorType: {failure.error_type}"
        self._on_log(LogRecord(self.spec.name, instance.number, "platform", text))
        if inv.stream is not None:
            inv.stream.end()
        return Outcome(
            request_id=inv.request_id,
            function=self.spec.name,
            status="crash" if failure.error_type == "Runtime.ExitError" else "error",
            body=failure.body,
            error_type=failure.error_type,
            instance=instance.number,
            logs=(text,),
        )

    async def stop(self) -> None:
        """Shut every instance down (SHUTDOWN to extensions, SIGTERM, SIGKILL)."""
        for waiter in self._waiters:
            waiter.cancel()
        self._waiters.clear()
        instances = list(self._busy) + list(self._retired)
        self._busy.clear()
        # Instances already stopping (retired, crashed, timed out) are waited for, not cut short.
        await asyncio.gather(
            *(i.stop(protocol.SPINDOWN) for i in instances), return_exceptions=True
        )
        self._retired.clear()
        for task in list(self._tasks):
            task.cancel()
