"""Deploying several functions at once: a bounded pool of threads, one function per task, and
what the tasks share.

A deploy is mostly waiting on AWS (requests, then Lambda's own state changes), so threads that
share one set of boto3 clients (thread-safe; see `rustlambda.deployer.aws`) overlap that waiting.
The pool reports each task as it finishes, in completion order, on the calling thread; results
come back in the tasks' order. A task that fails as planned returns its failure as its result,
and the others go on; a task may ask that no further task be started (`run_all`'s ``stop``).
A signal stops the pool (`Halt`, `Halted`): no task starts, the running ones stop at their next
AWS call, and the caller says what each got to.

`Once` makes one thread do what several tasks need done once (the IAM role they share) while
the others wait for its result.
"""

from __future__ import annotations

import contextlib
import queue
import signal
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from ..util import signals
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


#: Seconds between the calling thread's checks for a signal while it waits for the pool.
_WAKE = 0.25


def _never(_: object) -> bool:
    return False


class Halt:
    """A signal's request that a deploy stop: the pool starts no further task, and a running
    task stops at its next AWS call (`check`, called by `rustlambda.deployer.retry`)."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def request(self, signum: int) -> None:
        if self.signum is None:
            self.signum = signum

    def check(self) -> None:
        """Raise `Signalled` in the task's thread once a signal asked to stop."""
        if self.signum is not None:
            raise signals.Signalled(self.signum)


class Halted(Exception):
    """A signal stopped the pool: the results of the tasks that finished (None for the
    others), and the tasks still running (their requests in flight) when it stopped waiting."""

    def __init__(self, signum: int, results: list[Any], running: frozenset[int]) -> None:
        super().__init__(signals.signal_name(signum))
        self.signum = signum
        self.results = results
        self.running = running


def run_all(
    tasks: Sequence[Callable[[], T]],
    *,
    parallel: int,
    finished: Callable[[int, T], None],
    stop: Callable[[T], bool] = _never,
    halt: Halt | None = None,
) -> list[T | None]:
    """Run ``tasks`` with at most ``parallel`` at a time; each result in the tasks' order
    (None: never started). ``finished(index, result)`` is called on this thread as each task
    ends. Once a result ``stop`` says yes to has come, no further task starts (those running
    finish).

    A task that raises is a defect, not a planned failure: no further task starts, those
    running finish, then its exception is raised.

    SIGINT/SIGTERM (`Signalled` on this thread) start no further task and ask the running ones
    to stop at their next AWS call (``halt``); they get `STOP_GRACE` seconds to do so (a second
    signal ends the wait), then `Halted` is raised. The workers are daemon threads: one still
    waiting on AWS does not keep rustlambda from exiting.
    """
    results: list[T | None] = [None] * len(tasks)
    if not tasks:
        return results
    pool = _Pool(tasks, stop)
    crashed: BaseException | None = None
    try:
        pool.start(max(1, min(parallel, len(tasks))))
        while pool.busy():
            try:
                # woken up now and then: a signal that came just before the wait began would
                # otherwise be handled only when the next task ends
                index, result, error = pool.next_report(timeout=_WAKE)
            except queue.Empty:
                continue
            if error is not None:
                crashed = crashed or error
            elif result is not None:
                results[index] = result.value
                finished(index, result.value)
    except signals.Signalled as exc:
        pool.stopping.set()
        if halt is not None:
            halt.request(exc.signum)
        pool.grace(signals.STOP_GRACE, results, finished)
        raise Halted(exc.signum, list(results), pool.still_running()) from exc
    except BaseException:  # KeyboardInterrupt outside the CLI, a defect in `finished`...
        pool.stopping.set()  # no further task starts; the running ones end on their own
        if halt is not None:
            halt.request(signal.SIGINT)
        raise
    if crashed is not None:
        raise crashed
    return results


@dataclass(frozen=True)
class _Result(Generic[T]):
    value: T


_Report = tuple[int, "_Result[T] | None", "BaseException | None"]


class _Pool(Generic[T]):
    """The workers of one `run_all`: they take the next task until none is left or the pool
    is stopping, and report each task on a queue read by the calling thread."""

    def __init__(self, tasks: Sequence[Callable[[], T]], stop: Callable[[T], bool]) -> None:
        self.tasks, self.stop = tasks, stop
        self.stopping = threading.Event()
        self.reports: queue.Queue[_Report[T]] = queue.Queue()
        self.running: set[int] = set()  # started and not yet reported
        self._next = 0
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []

    def start(self, workers: int) -> None:
        for n in range(workers):
            thread = threading.Thread(target=self._work, name=f"rustlambda-deploy-{n}", daemon=True)
            self._workers.append(thread)
            thread.start()

    def still_running(self) -> frozenset[int]:
        with self._lock:
            return frozenset(self.running)

    def busy(self) -> bool:
        with self._lock:
            return bool(self.running) or (
                self._next < len(self.tasks) and not self.stopping.is_set()
            )

    def next_report(self, timeout: float | None = None) -> _Report[T]:
        report = self.reports.get(timeout=timeout)
        with self._lock:
            self.running.discard(report[0])
        return report

    def _take(self) -> int | None:
        # decided in the worker, before it starts the task: no window for one more to start
        with self._lock:
            if self.stopping.is_set() or self._next >= len(self.tasks):
                return None
            index, self._next = self._next, self._next + 1
            self.running.add(index)
            return index

    def _work(self) -> None:
        while (index := self._take()) is not None:
            try:
                value = self.tasks[index]()
            except BaseException as exc:  # a defect: reported, raised on the calling thread
                self.stopping.set()
                self.reports.put((index, None, exc))
                continue
            if self.stop(value):
                self.stopping.set()
            self.reports.put((index, _Result(value), None))

    def grace(
        self, seconds: float, results: list[T | None], finished: Callable[[int, T], None]
    ) -> None:
        """Collect what the running tasks report within ``seconds`` (a signal ends it)."""
        deadline = time.monotonic() + seconds
        with contextlib.suppress(signals.Signalled):
            while self.running and (left := deadline - time.monotonic()) > 0:
                try:
                    index, result, _error = self.next_report(timeout=left)
                except queue.Empty:
                    return
                if result is not None:
                    results[index] = result.value
                    finished(index, result.value)


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
