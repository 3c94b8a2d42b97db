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
    """The real runner."""

    def run(
        self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None
    ) -> Completed:
        try:
            proc = subprocess.run(
                list(argv),
                env=dict(env),
                cwd=cwd,
                capture_output=True,
                text=True,
                errors="replace",
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except FileNotFoundError as exc:
            raise _not_found(argv[0]) from exc
        return Completed(tuple(argv), proc.returncode, proc.stdout, proc.stderr)

    def stream(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | None = None,
        on_line: Callable[[str], None],
    ) -> int:
        try:
            proc = subprocess.Popen(
                list(argv),
                env=dict(env),
                cwd=cwd,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
                bufsize=1,
            )
        except FileNotFoundError as exc:
            raise _not_found(argv[0]) from exc
        assert proc.stdout is not None
        with proc:
            for line in proc.stdout:
                on_line(line.rstrip("\n"))
        return proc.returncode


def _not_found(program: str) -> ToolNotFoundError:
    return ToolNotFoundError(
        f"{program} was not found", f"install {Path(program).name} or fix PATH"
    )


def which(program: str, env: Mapping[str, str]) -> str | None:
    """``shutil.which`` against the PATH of ``env`` (not the process's)."""
    return shutil.which(program, path=env.get("PATH"))
