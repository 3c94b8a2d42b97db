"""How the library reports progress: a Reporter the front end renders. The library never prints.

Every reporter takes `Reporter`'s four events. A build also says which stage it is in
(`Stage`) to a reporter that takes them (`StageReporter`, e.g. `rustlambda.progress`'s);
`report_stage` is how the library says it, so a plain `Reporter` keeps working unchanged.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import logging


def _logger() -> logging.Logger:
    """The "rustlambda" logger (logging is imported on first use: the CLI never needs it)."""
    import logging

    return logging.getLogger("rustlambda")


class Stage(enum.StrEnum):
    """Where a build is, in the order a build goes through them."""

    STARTING = "starting"  # nothing said yet (watch's rebuilds start here)
    RESOLVING = "resolving"  # reading the workspace (cargo metadata), the toolchain, the std
    COMPILING = "compiling"  # cargo compiling dependencies
    LINKING = "linking"  # only the Lambda binaries themselves left: their crate and the link
    PACKAGING = "packaging"  # cargo finished: installing into the lambda dir, zipping
    VERIFYING = "verifying"  # checking every artifact against its runtime
    DONE = "done"
    FAILED = "failed"


class Reporter(Protocol):
    def info(self, message: str) -> None: ...

    def warning(self, message: str) -> None: ...

    def command(self, argv: Sequence[str]) -> None:
        """A tool is about to run with this argv."""
        ...

    def output(self, line: str) -> None:
        """One line of a running tool's output (cargo's progress and diagnostics)."""
        ...


@runtime_checkable
class StageReporter(Protocol):
    """A `Reporter` that also follows a build's stages."""

    def stage(self, stage: Stage, detail: str) -> None:
        """The build entered ``stage``; ``detail`` says what it is about ("hello, echo for
        arm64", "2 zips"), or is empty."""
        ...


def report_stage(reporter: Reporter, stage: Stage, detail: str = "") -> None:
    """Tell ``reporter`` the build entered ``stage`` (if it follows stages)."""
    if isinstance(reporter, StageReporter):
        reporter.stage(stage, detail)


class LoggingReporter:
    """The default: everything goes to the ``rustlambda`` logger (silent unless configured)."""

    def info(self, message: str) -> None:
        _logger().info(message)

    def warning(self, message: str) -> None:
        _logger().warning(message)

    def command(self, argv: Sequence[str]) -> None:
        _logger().debug("running: %s", " ".join(argv))

    def output(self, line: str) -> None:
        _logger().debug("%s", line)

    def stage(self, stage: Stage, detail: str) -> None:
        _logger().debug("%s%s", stage, f": {detail}" if detail else "")
