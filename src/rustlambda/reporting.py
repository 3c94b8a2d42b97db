"""How the library reports progress: a Reporter the front end renders. The library never prints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import logging


def _logger() -> logging.Logger:
    """The "rustlambda" logger (logging is imported on first use: the CLI never needs it)."""
    import logging

    return logging.getLogger("rustlambda")


class Reporter(Protocol):
    def info(self, message: str) -> None: ...

    def warning(self, message: str) -> None: ...

    def command(self, argv: Sequence[str]) -> None:
        """A tool is about to run with this argv."""
        ...

    def output(self, line: str) -> None:
        """One line of a running tool's output (cargo's progress and diagnostics)."""
        ...


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
