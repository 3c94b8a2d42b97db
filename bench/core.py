"""Shared machinery: the tools under test, bounded subprocesses, timing, statistics."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"

#: Environment variables that would change what cargo or the tools build: never inherited.
_SCRUBBED_PREFIXES = ("RUSTFLAGS", "CARGO_LAMBDA_", "CARGO_ZIGBUILD_", "CARGO_PROFILE_")
_SCRUBBED = {
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
    "SOURCE_DATE_EPOCH",
    "CDK_OUTDIR",
    "JSII_NODE",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONPYCACHEPREFIX",
}


class BenchError(RuntimeError):
    """A benchmark step failed; the message says which and shows the tool's output."""


def log(message: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    print(f"[bench {stamp}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- subprocesses
@dataclass(frozen=True)
class Cmd:
    argv: Sequence[str]
    cwd: Path
    env: Mapping[str, str]
    timeout: float = 900.0

    def with_env(self, **extra: str) -> Cmd:
        return Cmd(self.argv, self.cwd, {**self.env, **extra}, self.timeout)

    def with_timeout(self, timeout: float) -> Cmd:
        return Cmd(self.argv, self.cwd, self.env, timeout)

    def with_args(self, *args: str) -> Cmd:
        return Cmd([*self.argv, *args], self.cwd, self.env, self.timeout)

    def text(self) -> str:
        return " ".join(self.argv)


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run(cmd: Cmd, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run to completion (bounded by ``cmd.timeout``), output captured."""
    try:
        done = subprocess.run(
            list(cmd.argv),
            cwd=cmd.cwd,
            env=dict(cmd.env),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=cmd.timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"timed out after {cmd.timeout:.0f} s: {cmd.text()}") from exc
    if check and done.returncode != 0:
        raise BenchError(
            f"exit code {done.returncode}: {cmd.text()} (in {cmd.cwd})\n"
            + _tail(done.stdout + "\n" + done.stderr)
        )
    return done


def timed(cmd: Cmd) -> float:
    """Wall time of one successful run, in seconds."""
    start = time.perf_counter()
    run(cmd)
    return time.perf_counter() - start


def output(cmd: Cmd) -> str:
    return run(cmd).stdout.strip()


_SERVERS: list[subprocess.Popen[bytes]] = []


def start_server(cmd: Cmd, log_path: Path) -> subprocess.Popen[bytes]:
    """A long-running process in its own process group (so stop() reaches its children)."""
    with log_path.open("wb") as sink:
        proc = subprocess.Popen(
            list(cmd.argv),
            cwd=cmd.cwd,
            env=dict(cmd.env),
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    _SERVERS.append(proc)
    return proc


def _proc_stat(pid: int) -> list[str] | None:
    """/proc/PID/stat fields after the command name (state, ppid, pgrp, ...), or None."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def descendants(root: int) -> list[tuple[int, str]]:
    """(pid, start time) of every live descendant of ``root`` (the start time guards against
    killing a recycled pid later)."""
    children: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _proc_stat(int(entry.name))
        if fields is None:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        starts[int(entry.name)] = fields[19]
    found: list[tuple[int, str]] = []
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found.append((pid, starts[pid]))
        todo += children.get(pid, [])
    return found


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by ``root`` and its live descendants."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in [root, *(pid for pid, _ in descendants(root))]:
        fields = _proc_stat(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def stop(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM the process group, SIGKILL it after ``grace`` seconds, then SIGKILL whatever
    descendant escaped the group (e.g. function instances in their own session). Always reaps."""
    if proc in _SERVERS:
        _SERVERS.remove(proc)
    tree = descendants(proc.pid)
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    for pid, start in tree:
        fields = _proc_stat(pid)
        if fields is not None and fields[19] == start:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def stop_all() -> None:
    for proc in list(_SERVERS):
        stop(proc, grace=3.0)


atexit.register(stop_all)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------------- statistics
@dataclass
class Stat:
    """Samples of one measure. ``unit`` "s" are seconds; anything else is shown as is."""

    samples: list[float] = field(default_factory=list)
    unit: str = "s"

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def high(self) -> float:
        return max(self.samples)

    def fmt(self, spread: bool = True) -> str:
        if not self.samples:
            return "n/a"
        value = fmt_value(self.median, self.unit)
        if not spread or len(self.samples) == 1:
            return value + (" (n=1)" if spread else "")
        low, high = fmt_value(self.low, self.unit), fmt_value(self.high, self.unit)
        return f"{value} ({low} to {high}, n={len(self.samples)})"

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "samples": self.samples}


def fmt_value(value: float, unit: str = "s") -> str:
    if unit == "s":
        if value < 1:
            return f"{value * 1000:.0f} ms"
        return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"
    if unit == "ms":
        return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"
    if unit == "B":
        return fmt_bytes(value)
    if unit == "/s":
        return f"{value:.0f}/s"
    return f"{value:.3g} {unit}".strip()


def fmt_bytes(value: float) -> str:
    return f"{value:,.0f} B" if value < 10_000 else f"{value / 1024:,.1f} KiB"


def ratio(ours: float, theirs: float) -> float:
    return ours / theirs if theirs else float("inf")


Case = tuple[str, Callable[[], float]]


def alternate(cases: Sequence[Case], runs: int, label: str = "") -> dict[str, Stat]:
    """Run the cases in turn (A B C A B C ...) ``runs`` times; each returns its own duration."""
    results = {name: Stat() for name, _ in cases}
    for index in range(runs):
        for name, measure in cases:
            value = measure()
            results[name].samples.append(value)
            log(f"{label} run {index + 1}/{runs}: {name}: {fmt_value(value)}")
    return results


# ---------------------------------------------------------------------------- tools and context
@dataclass(frozen=True)
class Tools:
    """Where everything lives. rustlambda comes from the project's .venv, the anchors from the
    bench's own virtualenv."""

    project_venv: Path
    bench_venv: Path
    rustc: str | None  # a rustc with the x86_64 and aarch64 std (RUSTC for every build)
    #: Where every Python the bench starts keeps its bytecode (PYTHONPYCACHEPREFIX): cached
    #: .pyc as after a normal install, without writing __pycache__ into the source tree.
    pycache: Path

    @property
    def project_python(self) -> Path:
        return self.project_venv / "bin" / "python"

    @property
    def rustlambda(self) -> Path:
        return self.project_venv / "bin" / "rustlambda"

    @property
    def bench_python(self) -> Path:
        return self.bench_venv / "bin" / "python"

    def base_env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in _SCRUBBED and not key.startswith(_SCRUBBED_PREFIXES)
        }
        if self.rustc:
            env["RUSTC"] = self.rustc
        env["CARGO_TERM_COLOR"] = "never"
        env["PYTHONPYCACHEPREFIX"] = str(self.pycache)
        return env

    def _with_bin(self, venv: Path, extra: Mapping[str, str]) -> dict[str, str]:
        env = self.base_env()
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env.update(extra)
        return env

    def rl_env(self, **extra: str) -> dict[str, str]:
        """rustlambda's environment: its virtualenv first on PATH, as when it is activated."""
        return self._with_bin(self.project_venv, extra)

    def cl_env(self, **extra: str) -> dict[str, str]:
        """cargo-lambda's: the bench virtualenv first on PATH (``cargo lambda`` finds it there)."""
        return self._with_bin(self.bench_venv, extra)

    def cargo_env(self, **extra: str) -> dict[str, str]:
        env = self.base_env()
        env.update(extra)
        return env

    def rl(self, *args: str, cwd: Path, timeout: float = 900.0, **env: str) -> Cmd:
        return Cmd([str(self.rustlambda), *args], cwd, self.rl_env(**env), timeout)

    def cl(self, *args: str, cwd: Path, timeout: float = 900.0, **env: str) -> Cmd:
        return Cmd(["cargo", "lambda", *args], cwd, self.cl_env(**env), timeout)

    def cargo(self, *args: str, cwd: Path, timeout: float = 900.0, **env: str) -> Cmd:
        return Cmd(["cargo", *args], cwd, self.cargo_env(**env), timeout)


@dataclass
class Context:
    quick: bool
    scratch: Path
    tools: Tools
    #: Things one workload leaves for another (e.g. W2's last cold target dirs for W4).
    shared: dict[str, Any] = field(default_factory=dict)

    @property
    def fast_runs(self) -> int:
        """Runs of a sub-second measure."""
        return 5 if self.quick else 7

    @property
    def cold_runs(self) -> int:
        return 1 if self.quick else 3

    @property
    def std_functions(self) -> int:
        """Functions of the multi-function workspace (W1, W4, W6)."""
        return 5 if self.quick else 10

    def workdir(self, name: str) -> Path:
        path = self.scratch / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    @contextlib.contextmanager
    def fresh_dir(self, prefix: str) -> Iterator[Path]:
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=self.scratch))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)
