"""Starting a bootstrap or extension the way this host can run it, and measuring it.

An executable for the host's architecture runs directly; one for the other Lambda architecture
runs under qemu-user (``qemu-aarch64 -L /usr/aarch64-linux-gnu``), so an arm64 build is exercised
as built rather than rebuilt for the host. Each one runs under its own supervisor (reaper.py),
which ends every process it started when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..elf import read_elf
from ..errors import ArtifactError, EmulatorError
from ..targets import Arch, host_arch
from ..util.cmd import which

#: Where Debian/Ubuntu cross packages put each architecture's loader and libc.
_SYSROOTS = {Arch.ARM64: "/usr/aarch64-linux-gnu", Arch.X86_64: "/usr/x86_64-linux-gnu"}
#: Where a multiarch install puts another architecture's loader and libc (see _sysroot).
_HOST_ROOT = "/"
_LIBC_PACKAGES = {Arch.ARM64: "libc6-arm64-cross", Arch.X86_64: "libc6-amd64-cross"}


@dataclass(frozen=True)
class Launch:
    """How to start one executable here."""

    argv: tuple[str, ...]
    #: The executable's Lambda architecture (None for a script).
    arch: Arch | None
    #: Runs under qemu-user (its memory figures include qemu's own).
    emulated: bool


def plan_launch(executable: Path, *, environ: Mapping[str, str]) -> Launch:
    """The argv that runs ``executable`` on this host; a clear error when it cannot run."""
    path = executable.resolve()
    if not path.is_file():
        raise EmulatorError(
            f"{executable} does not exist",
            "build the function first (rustlambda build), or check the path",
        )
    if not os.access(path, os.X_OK):
        raise EmulatorError(
            f"{executable} is not executable (Lambda would fail with Runtime.InvalidEntrypoint)",
            f"chmod +x {executable}, or rebuild it with rustlambda build",
        )
    with path.open("rb") as fh:
        head = fh.read(4)
    if head[:2] == b"#!":
        return Launch((str(path),), None, emulated=False)
    try:
        info = read_elf(path)
    except ArtifactError as exc:
        raise EmulatorError(
            f"{executable} is neither an ELF executable nor a script: {exc.message}",
            "point the emulator at a bootstrap built by rustlambda build",
        ) from exc
    if info.arch is None:
        raise EmulatorError(
            f"{executable} is a {info.machine} executable; Lambda runs x86_64 or arm64 only",
            "build it with --x86-64 or --arm64",
        )
    host = host_arch()
    if info.arch is host:
        return Launch((str(path),), info.arch, emulated=False)

    qemu_name = f"qemu-{info.arch.rust_arch}"
    qemu = which(qemu_name, environ)
    host_name = host.value if host else platform.machine()
    if qemu is None:
        raise EmulatorError(
            f"{executable.name} is an {info.arch.value} binary and this machine is "
            f"{host_name}: running it needs {qemu_name}, which is not on PATH",
            "install qemu-user (Debian/Ubuntu: apt-get install qemu-user; Fedora: dnf install "
            f"qemu-user), or build for this machine with --{host_name.replace('_', '-')}",
        )
    argv: list[str] = [qemu]
    if info.interpreter is not None:
        prefix = _sysroot(info.arch, info.interpreter, environ)
        if prefix is None:
            raise EmulatorError(
                f"{qemu_name} needs the {info.arch.value} dynamic loader {info.interpreter} "
                f"to run {executable.name}, and no sysroot has it",
                f"apt-get install {_LIBC_PACKAGES[info.arch]} (it provides "
                f"{_SYSROOTS[info.arch]}), or set QEMU_LD_PREFIX to an {info.arch.value} sysroot",
            )
        argv += ["-L", prefix]
    return Launch((*argv, str(path)), info.arch, emulated=True)


def _sysroot(arch: Arch, interpreter: str, environ: Mapping[str, str]) -> str | None:
    # "/" first when the architecture's own libc is installed there (Debian multiarch, e.g.
    # libc6:arm64): the loader then reads the host's /etc/ld.so.cache, which lists those
    # libraries, and a cross sysroot's ld.so paired with another build's libc.so.6 breaks
    # (tokio programs spin forever in malloc).
    candidates = [environ.get("QEMU_LD_PREFIX", ""), _HOST_ROOT, _SYSROOTS[arch]]
    for prefix in candidates:
        if prefix and Path(prefix, interpreter.lstrip("/")).exists():
            return prefix
    return None


class PeakMemory:
    """A process's peak resident set size (VmHWM), read from one open /proc status file.

    Re-reading an open procfs file from offset 0 gives fresh values, which keeps a
    measurement per invocation to one read() syscall.
    """

    def __init__(self, pid: int) -> None:
        self._fd: int | None
        try:
            self._fd = os.open(f"/proc/{pid}/status", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self._fd = None

    def kib(self) -> int | None:
        """The peak so far, or None once the process is gone."""
        if self._fd is None:
            return None
        try:
            data = os.pread(self._fd, 4096, 0)
        except OSError:
            return None
        start = data.find(b"VmHWM:")
        if start < 0:
            return None
        end = data.find(b"kB", start)
        try:
            return int(data[start + 6 : end])
        except ValueError:
            return None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def signal_group(pid: int, sig: signal.Signals) -> None:
    """Signal a process's whole group (each instance process leads its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


#: The supervisor script (see reaper.py), run by path in an isolated interpreter.
_REAPER = Path(__file__).with_name("reaper.py")
#: How long the supervisor may take to start the program and report its pid.
_SPAWN_TIMEOUT = 30.0


@dataclass
class Supervised:
    """A program running under its supervisor (which the asyncio process object is)."""

    supervisor: asyncio.subprocess.Process
    #: The program's own pid (for memory measurements).
    pid: int

    def terminate_group(self) -> None:
        """SIGTERM to the program's process group (the supervisor ignores it)."""
        signal_group(self.supervisor.pid, signal.SIGTERM)

    def kill_all(self) -> None:
        """End the program and every process it started (the supervisor does it, then exits)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.supervisor.pid, signal.SIGUSR1)

    def kill_group(self) -> None:
        """Last resort when the supervisor itself does not exit: SIGKILL the process group."""
        signal_group(self.supervisor.pid, signal.SIGKILL)


async def spawn_supervised(
    launch: Launch, *, env: Mapping[str, str], cwd: Path, limit: int
) -> Supervised:
    """Start ``launch`` under a supervisor in a new session, stdout and stderr in one pipe.

    Raises OSError when the program cannot be started (as exec would).
    """
    if not sys.executable:
        raise OSError("no Python interpreter to run the process supervisor with")
    read_fd, write_fd = os.pipe()
    try:
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-I",
                "-S",
                str(_REAPER),
                str(write_fd),
                str(os.getpid()),
                *launch.argv,
                env=dict(env),
                cwd=cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                limit=limit,
                pass_fds=(write_fd,),
            )
        finally:
            os.close(write_fd)
        status = await _read_status(read_fd)
    finally:
        os.close(read_fd)
    if status.startswith("error "):
        await proc.wait()
        _, number, message = (status.rstrip("\n") + "  ").split(" ", 2)
        raise OSError(int(number or 0), message.strip())
    try:
        return Supervised(proc, int(status))
    except ValueError:
        await proc.wait()
        raise OSError(f"the process supervisor failed (exit {proc.returncode})") from None


async def _read_status(fd: int) -> str:
    """The supervisor's one status line (empty if it exits without writing one)."""
    loop = asyncio.get_running_loop()
    os.set_blocking(fd, False)
    done: asyncio.Future[bytes] = loop.create_future()
    data = bytearray()

    def readable() -> None:
        try:
            chunk = os.read(fd, 256)
        except BlockingIOError:
            return
        data.extend(chunk)
        if (not chunk or b"\n" in data) and not done.done():
            done.set_result(bytes(data))

    loop.add_reader(fd, readable)
    try:
        return (await asyncio.wait_for(done, _SPAWN_TIMEOUT)).decode(errors="replace")
    finally:
        loop.remove_reader(fd)
