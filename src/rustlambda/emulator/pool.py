"""A function's instances: up to ``concurrency`` of them, each serving one invocation at a time.

An invocation takes an idle instance, or starts one (a cold start) while under the limit, or
waits for one to free up. A crashed or timed-out instance is discarded; the next invocation
starts a fresh one. ``replace()`` retires the instances of an older build.
"""

from __future__ import annotations

import asyncio
import collections
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
        self._idle: list[Instance] = []
        self._instances: set[Instance] = set()
        self._waiters: collections.deque[asyncio.Future[Instance]] = collections.deque()
        self._numbers = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        #: Instances on their way out; stop() waits for them so no process outlives the pool.
        self._retired: set[Instance] = set()
        self.spec = spec
        self._launches = self._plan(spec)

    def _plan(self, spec: FunctionSpec) -> tuple[Launch, tuple[tuple[str, Launch], ...]]:
        environ = self.settings.environ or {}
        runtime = plan_launch(spec.bootstrap, environ=environ)
        extensions = tuple((p.name, plan_launch(p, environ=environ)) for p in spec.extensions)
        return runtime, extensions

    def replace(self, spec: FunctionSpec) -> None:
        """Serve ``spec`` from now on: idle instances stop now, busy ones when they finish."""
        launches = self._plan(spec)  # raises before anything changes
        self.spec, self._launches = spec, launches
        for instance in self._idle:
            self._retire(instance)
        self._idle.clear()

    def _new_instance(self) -> Instance:
        self._numbers += 1
        runtime, extensions = self._launches
        instance = Instance(
            self.spec, self._numbers, self.settings, runtime, extensions, self._on_log
        )
        self._instances.add(instance)
        return instance

    async def _acquire(self) -> Instance:
        while self._idle:
            instance = self._idle.pop()
            if instance.ready and instance.spec == self.spec:
                return instance
            self._retire(instance)
        if len(self._instances) < self.settings.concurrency:
            return self._new_instance()
        waiter: asyncio.Future[Instance] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        return await waiter

    def _release(self, instance: Instance) -> None:
        """Hand a ready instance on, or drop a dead or outdated one (freeing its slot)."""
        if instance.dead or not instance.ready or instance.spec != self.spec:
            self._retire(instance)
            while self._waiters and len(self._instances) < self.settings.concurrency:
                waiter = self._waiters.popleft()
                if not waiter.done():
                    waiter.set_result(self._new_instance())
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(instance)
                return
        self._idle.append(instance)

    def _retire(self, instance: Instance) -> None:
        self._instances.discard(instance)
        self._retired.add(instance)
        if not instance.stopping:
            self._background(instance.stop("SPINDOWN"))

    def _background(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def invoke(self, inv: Invocation, *, wait_report: bool = True) -> Outcome:
        instance = await self._acquire()
        if not instance.started:
            try:
                await instance.start()
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
        if inv.chunk_sink is not None:
            inv.chunk_sink.put_nowait(None)
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
        instances = list(self._instances | self._retired)
        self._instances.clear()
        self._idle.clear()
        # Instances already stopping (retired, crashed, timed out) are waited for, not cut short.
        await asyncio.gather(*(i.stop("SPINDOWN") for i in instances), return_exceptions=True)
        self._retired.clear()
        for task in list(self._tasks):
            task.cancel()
