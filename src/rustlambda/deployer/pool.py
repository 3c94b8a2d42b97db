"""Deploying several functions at once: a bounded pool of threads, one function per task, and
what the tasks share.

A deploy is mostly waiting on AWS (requests, then Lambda's own state changes), so threads that
share one set of boto3 clients (thread-safe; see `rustlambda.deployer.aws`) overlap that waiting.
The pool reports each task as it finishes, in completion order, on the calling thread; results
come back in the tasks' order. A task that fails as planned returns its failure as its result,
and the others go on; a task may ask that no further task be started (`run_all`'s ``stop``).

`Once` makes one thread do what several tasks need done once (the IAM role they share) while
the others wait for its result.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar, runtime_checkable

from .result import Deployment

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass(frozen=True)
class Progress:
    """One function done (or failed), as the pool finishes it."""

    deployment: Deployment
    finished: int  # functions finished so far, this one included
    total: int

    @property
    def line(self) -> str:
        """``[3/20] api: created (1.2 s)``, or the failure."""
        d = self.deployment
        text = f"[{self.finished}/{self.total}] {d.name}: {d.status}"
        if d.failure is not None:
            return f"{text}: {d.failure.message}"
        return text + (f" ({d.seconds:.1f} s)" if d.seconds is not None else "")


@runtime_checkable
class ProgressReporter(Protocol):
    """A `rustlambda.reporting.Reporter` that also renders each function as it finishes
    (others get the same news as an ``info`` line)."""

    def deployed(self, progress: Progress) -> None: ...


def _never(_: object) -> bool:
    return False


def run_all(
    tasks: Sequence[Callable[[], T]],
    *,
    parallel: int,
    finished: Callable[[int, T], None],
    stop: Callable[[T], bool] = _never,
) -> list[T | None]:
    """Run ``tasks`` with at most ``parallel`` at a time; each result in the tasks' order
    (None: never started). ``finished(index, result)`` is called on this thread as each task
    ends. Once a result ``stop`` says yes to has come, no further task starts (those running
    finish).

    A task that raises is a defect, not a planned failure: no further task starts, those
    running finish, then its exception is raised. So is an interrupt (Ctrl-C) of the wait.
    """
    results: list[T | None] = [None] * len(tasks)
    if not tasks:
        return results
    stopping = threading.Event()

    def guarded(task: Callable[[], T]) -> T | _NotStarted:
        # decided in the worker, before it starts the task: no window for one more to start
        if stopping.is_set():
            return _SKIPPED
        try:
            result = task()
        except BaseException:
            stopping.set()
            raise
        if stop(result):
            stopping.set()
        return result

    crashed: BaseException | None = None
    workers = max(1, min(parallel, len(tasks)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rustlambda-deploy") as pool:
        futures = {pool.submit(guarded, task): index for index, task in enumerate(tasks)}
        try:
            for future in as_completed(futures):
                error = future.exception()
                if error is not None:
                    crashed = crashed or error
                    continue
                result = future.result()
                if not isinstance(result, _NotStarted):
                    results[futures[future]] = result
                    finished(futures[future], result)
        except BaseException:
            stopping.set()  # then the pool's exit waits for the running ones
            raise
    if crashed is not None:
        raise crashed
    return results


class _NotStarted:
    """What a task the pool did not start returns."""


_SKIPPED = _NotStarted()


class Once(Generic[K, V]):
    """Per key, the first caller makes the value and the callers meanwhile wait for it instead
    of making it again. A failure is not kept: the next caller tries again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[K, threading.Lock] = {}
        self._made: dict[K, V] = {}

    def get(self, key: K, make: Callable[[], V]) -> tuple[V, bool]:
        """The value for ``key``, and whether this call made it."""
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key in self._made:
                return self._made[key], False
            value = make()
            self._made[key] = value
            return value, True
