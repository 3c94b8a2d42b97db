"""SIGINT and SIGTERM: rustlambda stops the tools it runs, waits for them, cleans up, and exits
with the conventional code (130 for SIGINT, 143 for SIGTERM).

Every tool runs in a process group of its own (`rustlambda.util.cmd`), so a signal sent to
rustlambda alone (``kill``, ``Popen.terminate()``, a supervisor) or to the terminal's foreground
group (Ctrl-C) reaches rustlambda only, which forwards it to the tool's whole group — cargo,
cargo-zigbuild, rustc, the linker — waits for it to end (SIGKILL after `STOP_GRACE` seconds or
a second signal) and raises `Interrupted` / `Terminated`.

    supervise(start) -> context manager (proc, Stop)   run one tool so a signal stops it
    forward(signum)          forward a signal to every running tool (for a front that handles
                             the signal itself, e.g. ``watch``'s event loop)
    raising()                for the CLI: between tools, the signals raise `Signalled` (a
                             BaseException like KeyboardInterrupt) so ``finally`` cleanups run
    deferred()               hold the signals during a short critical section
    interrupted(signum, message) -> Interrupted | Terminated
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from types import FrameType

from ..errors import Interrupted, Terminated

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Seconds a tool gets to stop after the forwarded signal before its group is killed.
STOP_GRACE = 5.0

_Proc = subprocess.Popen[str]
_Handler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None


class Signalled(BaseException):
    """SIGINT or SIGTERM arrived while rustlambda's own code ran (see `raising`)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum


def signal_name(signum: int) -> str:
    return "SIGINT (Ctrl-C)" if signum == signal.SIGINT else signal.Signals(signum).name


def interrupted(signum: int, message: str, fix: str = "run it again") -> Interrupted:
    """The error for a run stopped by ``signum``: exit 143 for SIGTERM, else 130."""
    cls = Terminated if signum == signal.SIGTERM else Interrupted
    return cls(message, fix, signum=signum)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


class Stop:
    """One running tool and the signal that stopped it, if any.

    The signal handlers run in the main thread at any point, also inside these methods, and
    `forward` may come from another thread: the state is changed under a reentrant lock, and a
    signal is delivered once (the first forwarded as is, any later one as SIGKILL).
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self.proc: _Proc | None = None
        self._delivered = False
        self._timers: list[threading.Timer] = []

    def signal(self, signum: int) -> None:
        """Forward ``signum`` to the tool's group; a second signal, or `STOP_GRACE` seconds
        without the tool ending, kills the group. Before the tool starts, it is held."""
        with _lock:
            first = self.signum is None
            if first:
                self.signum = signum
            proc = self.proc
            if proc is not None:
                self._delivered = True
        if proc is not None:
            self._kill(proc, signum if first else signal.SIGKILL, escalate=first)

    def attach(self, proc: _Proc) -> None:
        with _lock:
            self.proc = proc
            _running.add(self)
            pending = None if self._delivered else self.signum
            if pending is not None:
                self._delivered = True
        if pending is not None:  # a signal came while the tool was starting
            self._kill(proc, pending, escalate=True)

    def detach(self) -> None:
        with _lock:
            _running.discard(self)
            self.proc = None
            timers = list(self._timers)
        for timer in timers:
            timer.cancel()

    def _kill(self, proc: _Proc, signum: int, *, escalate: bool) -> None:
        with _lock:
            if self.proc is not proc:
                return  # it has ended and been waited for: its group id may be reused
            if escalate:
                timer = threading.Timer(STOP_GRACE, _killpg, (proc, signal.SIGKILL))
                timer.daemon = True
                self._timers.append(timer)
                timer.start()
        _killpg(proc, signum)


_lock = threading.RLock()  # reentrant: a signal handler may run while the main thread holds it
_running: set[Stop] = set()


def _killpg(proc: _Proc, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signum)


def forward(signum: int) -> None:
    """Forward ``signum`` to every tool running now, in any thread."""
    with _lock:
        stops = list(_running)
    for stop in stops:
        stop.signal(signum)


@contextlib.contextmanager
def supervise(start: Callable[[], _Proc]) -> Iterator[tuple[_Proc, Stop]]:
    """Start a tool (in its own process group: ``process_group=0``) so that SIGINT/SIGTERM stop
    it: in the main thread the signals are forwarded to it while it runs; in another thread
    the front calls `forward`. On leaving, the tool has ended (an exception in the block stops
    it too). The caller raises `interrupted` when ``stop.signum`` is set."""
    stop = Stop()
    previous: dict[int, _Handler] = {}
    if _main_thread():
        for signum in STOP_SIGNALS:
            previous[signum] = signal.signal(signum, lambda n, _frame: stop.signal(n))
    try:
        proc = start()
        stop.attach(proc)
        try:
            yield proc, stop
        except BaseException:
            if proc.poll() is None:  # the block failed: don't leave the tool running
                stop.signal(signal.SIGTERM)
            raise
        finally:
            proc.wait()
            stop.detach()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextlib.contextmanager
def raising() -> Iterator[None]:
    """In the main thread, SIGINT and SIGTERM raise `Signalled` inside the block."""
    if not _main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        raise Signalled(signum)

    previous = {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block ends (a few renames that must all happen or
    none): they are delivered, and handled as usual, when it is left."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
