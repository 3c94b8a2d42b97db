"""The supervisor every instance process runs under, so that no process it starts outlives it.

On Lambda an execution environment is a microVM: when it is reset or shut down, every process
in it ends, daemonised or not. Locally a bootstrap (or an extension) may fork a child that
calls ``setsid()`` and leaves the process group the emulator signals; its parent exits and
the child is re-parented to PID 1, where no one will stop it. cgroups (which would contain it)
need privileges or a delegated hierarchy that a developer's machine or CI cannot be assumed to
have, so this module relies on ``PR_SET_CHILD_SUBREAPER`` instead:

- this process marks itself a *child subreaper* (prctl), then starts the program. Any
  descendant of the program that is orphaned — the daemonising double fork — is re-parented
  to this process rather than to PID 1, so every process the program ever started stays in
  this process's subtree, and is found by walking ``/proc/<pid>/task/*/children``;
- when the program exits (by itself, or killed by the emulator) this process kills the whole
  subtree with SIGKILL, reaps it, and exits with the program's own status (the same exit code,
  or the same signal), which is what the emulator reports as ``Runtime.ExitError``;
- SIGUSR1 asks for the same thing at once (the emulator's "SIGKILL" step: the program and
  every descendant end together); ``PR_SET_PDEATHSIG`` sends SIGUSR1 here if the emulator dies
  first, so even a ``kill -9`` of ``rustlambda watch`` leaves nothing running;
- SIGTERM is ignored here (the emulator sends it to the process group, where the program
  receives it directly and may shut down gracefully).

Why not make the emulator process itself the subreaper: ``rustlambda watch`` also runs cargo in
that process, and the daemons of build tools (an sccache server) would be re-parented to it
too, with nothing to tell them from a function's. One small supervisor per program keeps the
attribution exact: its subtree is that program's and nothing else's. (Cost: one ``python -I
-S`` start per process, ~15 ms and ~10 MB, paid at Init.)

Run as a script, not imported: ``python -I -S reaper.py STATUS_FD PARENT_PID PROGRAM [ARG...]``.
It writes the program's pid (or ``error <errno> <message>`` if it could not be started) and a
newline to STATUS_FD. Standard library only, and nothing that starts threads.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import sys
import time

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
#: Stop killing after this long even if something keeps forking (a fork bomb).
_KILL_BOUND = 10.0


class _KillAll(Exception):
    """Raised from the SIGUSR1 handler: end the program and everything it started, now."""


#: SIGUSR1 arrived; and whether the handler may raise (only around the blocking waitpid, so
#: that the exception never escapes from anywhere else).
_requested = False
_armed = False


def _on_kill_all(signum: int, frame: object) -> None:
    global _requested
    _requested = True
    if _armed:
        raise _KillAll


def _ignore(signum: int, frame: object) -> None:
    """A handler rather than SIG_IGN: handlers are reset to the default across exec."""


def _prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number))


def _children(pid: int) -> list[int]:
    """The children of every thread of ``pid`` (a thread's forks are listed under it)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        with (
            contextlib.suppress(OSError, ValueError),
            open(f"/proc/{pid}/task/{tid}/children") as fh,
        ):
            found += [int(child) for child in fh.read().split()]
    return found


def _parents() -> dict[int, list[int]]:
    """Every process's children from ``/proc/*/stat`` (kernels without the children files)."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with (
            contextlib.suppress(OSError, ValueError, IndexError),
            open(f"/proc/{entry}/stat") as fh,
        ):
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def _descendants(root: int) -> list[int]:
    if os.path.exists(f"/proc/{root}/task/{root}/children"):
        children = _children
    else:
        tree = _parents()
        children = lambda pid: tree.get(pid, [])  # noqa: E731
    seen: list[int] = []
    todo = children(root)
    while todo and len(seen) < 100_000:
        pid = todo.pop()
        if pid not in seen:
            seen.append(pid)
            todo += children(pid)
    return seen


def _end_everything(program: int, status: int | None) -> int | None:
    """SIGKILL every descendant until none is left; the program's wait status if reaped here."""
    me = os.getpid()
    deadline = time.monotonic() + _KILL_BOUND
    while time.monotonic() < deadline:
        for pid in _descendants(me):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        try:
            reaped, wait_status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if reaped == program:
            status = wait_status
    return status


def _exit_like(status: int | None) -> None:
    """Exit with the program's exit code, or die of the signal that killed it."""
    if status is None:
        os._exit(0)
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # the program may have dumped; not us
        with contextlib.suppress(OSError, ValueError):
            signal.signal(number, signal.SIG_DFL)
            os.kill(os.getpid(), number)
        os._exit(128 + number)
    os._exit(os.waitstatus_to_exitcode(status))


def main(argv: list[str]) -> None:
    status_fd, parent, program = int(argv[1]), int(argv[2]), argv[3:]
    signal.signal(signal.SIGTERM, _ignore)
    signal.signal(signal.SIGINT, _ignore)
    signal.signal(signal.SIGUSR1, _on_kill_all)
    try:
        _prctl(_PR_SET_CHILD_SUBREAPER, 1)
        _prctl(_PR_SET_PDEATHSIG, signal.SIGUSR1)
        if os.getppid() != parent:  # the emulator died before PDEATHSIG was armed
            raise _KillAll
        pid = os.posix_spawn(
            program[0], program, os.environ, setsigdef=(signal.SIGPIPE, signal.SIGXFSZ)
        )
    except OSError as exc:
        os.write(status_fd, f"error {exc.errno or 0} {exc.strerror or exc}\n".encode())
        os._exit(127)
    except _KillAll:
        os._exit(128 + signal.SIGKILL)
    os.write(status_fd, f"{pid}\n".encode())
    os.close(status_fd)
    _exit_like(_end_everything(pid, _wait_for(pid)))


def _wait_for(pid: int) -> int | None:
    """Reap adopted orphans until the program exits (its wait status) or SIGUSR1 (None)."""
    global _armed
    while not _requested:
        _armed = True
        try:
            if _requested:
                return None
            reaped, wait_status = os.waitpid(-1, 0)
        except (_KillAll, ChildProcessError):
            return None
        finally:
            _armed = False
        if reaped == pid:
            return wait_status
    return None


if __name__ == "__main__":
    main(sys.argv)
