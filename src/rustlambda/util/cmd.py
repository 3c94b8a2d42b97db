"""The one way rustlambda runs external tools: argv lists, an explicit env, no shell.

Building an argv is kept apart from running it (see ``compilers``); the runner is injectable so
unit tests can record commands without starting processes.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..errors import ToolNotFoundError
from . import signals


@dataclass(frozen=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


class CommandRunner(Protocol):
    def run(
        self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None
    ) -> Completed:
        """Run to completion, capturing stdout and stderr."""
        ...

    def stream(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | None = None,
        on_line: Callable[[str], None],
    ) -> int:
        """Run to completion, handing each line of stdout+stderr to ``on_line``; return the code."""
        ...


class SubprocessRunner:
    """The real runner. Each tool runs in its own process group; SIGINT/SIGTERM stop it (and
    everything it started) before `Interrupted` / `Terminated` is raised (see `signals`)."""

    def run(
        self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None
    ) -> Completed:
        def start() -> subprocess.Popen[str]:
            return _popen(argv, env, cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        with signals.supervise(start) as (proc, stop):
            stdout, stderr = proc.communicate()
        _raise_if_stopped(argv, stop)
        return Completed(tuple(argv), proc.returncode, stdout, stderr)

    def stream(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | None = None,
        on_line: Callable[[str], None],
    ) -> int:
        def start() -> subprocess.Popen[str]:
            return _popen(argv, env, cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

        with signals.supervise(start) as (proc, stop):
            assert proc.stdout is not None
            with proc.stdout:
                for line in proc.stdout:
                    on_line(line.rstrip("\n"))
        _raise_if_stopped(argv, stop)
        return proc.returncode


def _popen(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path | None, *, stdout: int, stderr: int
) -> subprocess.Popen[str]:
    try:
        return subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdout=stdout,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            bufsize=1 if stderr == subprocess.STDOUT else -1,
            process_group=0,  # a group of its own: signals reach it only through us
        )
    except FileNotFoundError as exc:
        raise _not_found(argv[0]) from exc


def _raise_if_stopped(argv: Sequence[str], stop: signals.Stop) -> None:
    if stop.signum is not None:
        tool = " ".join([Path(argv[0]).name, *argv[1:2]])
        raise signals.interrupted(
            stop.signum,
            f"stopped by {signals.signal_name(stop.signum)} while `{tool}` ran; it was "
            "stopped too, and has ended",
        )


def _not_found(program: str) -> ToolNotFoundError:
    return ToolNotFoundError(
        f"{program} was not found", f"install {Path(program).name} or fix PATH"
    )


def which(program: str, env: Mapping[str, str]) -> str | None:
    """``shutil.which`` against the PATH of ``env`` (not the process's)."""
    return shutil.which(program, path=env.get("PATH"))
