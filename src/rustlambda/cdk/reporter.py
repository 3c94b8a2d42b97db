"""What a synth shows of the constructs' builds, by `LogLevel`: on stderr, as CDK's own bundling
shows its progress (the constructs are a front, like the CLI)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .options import LogLevel


class CdkReporter:
    """What the synth shows of a build, by `LogLevel` (on stderr, as CDK's own bundling)."""

    def __init__(self, level: LogLevel) -> None:
        self.level = level

    def _write(self, text: str) -> None:
        sys.stderr.write(text + "\n")

    def info(self, message: str) -> None:
        if self.level is not LogLevel.SILENT:
            self._write(f"rustlambda: {message}")

    def warning(self, message: str) -> None:
        if self.level is not LogLevel.SILENT:
            self._write(f"rustlambda: warning: {message}")

    def command(self, argv: Sequence[str]) -> None:
        if self.level is LogLevel.VERBOSE:
            self._write(f"rustlambda: running {' '.join(argv)}")

    def output(self, line: str) -> None:
        if self.level is LogLevel.VERBOSE:
            self._write(line)
