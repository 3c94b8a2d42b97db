"""A build as it goes (``build`` and ``watch``), from `rustlambda.progress`'s `BuildProgress`.

On a terminal: one live line (stage, current crate, counts, what is built, elapsed seconds
ticking), cut to the terminal's width; the lines printed above it stay. On a pipe (a CI log):
one plain line as each stage starts, and while one stage goes on a progress line at most every
`BuildStatus.PIPE_EVERY` seconds, so a long compile never looks hung. Then "built ... in N s",
or a failed build's diagnostics in full, as cargo printed them.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..progress import BuildProgress
from ..reporting import Stage
from .plain import PlainConsole, as_rich, escape

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text


class BuildStatus:
    """Renders each `BuildProgress` it is called with (see the module docstring).
    ``diagnostics``: print a failed build's diagnostics at its end (watch's rebuilds; ``build``
    shows cargo's lines as they come instead)."""

    #: On a pipe, at most one progress line per this many seconds.
    PIPE_EVERY = 5.0

    def __init__(
        self, console: Console | PlainConsole, *, live: bool, quiet: bool, diagnostics: bool = True
    ) -> None:
        self.console = console
        self.live = live
        self.quiet = quiet
        self.diagnostics = diagnostics
        self.progress: BuildProgress | None = None
        self._status: Any = None
        self._printed = 0.0
        #: The stages (and waits) a line was printed for, in this build.
        self._said: set[tuple[Stage, str | None]] = set()

    def __call__(self, progress: BuildProgress) -> None:
        if progress.stage in (Stage.DONE, Stage.FAILED):
            self._end(progress)  # the live line's last frame stays the last stage's
            self.progress = progress
            return
        self.progress = progress
        if self.quiet:
            return
        if self.live:
            if self._status is None:
                self._status = as_rich(self.console).status(self)
                self._status.start()
            return
        # At once when a stage starts (or cargo starts waiting for its lock...), once each; else
        # at most every PIPE_EVERY seconds. STARTING is said by watch's own "rebuilding" line.
        key = (progress.stage, progress.note)
        notable = key not in self._said and (progress.stage is not Stage.STARTING or progress.note)
        since = max(self._printed, progress.started)
        now = time.monotonic()
        if notable or now - since >= self.PIPE_EVERY:
            self._printed = now
            self._said.add(key)
            self.console.print(f"[bold blue]info[/]: {escape(self._line())}", highlight=False)

    def _line(self) -> str:
        progress = self.progress
        if progress is None:
            return "building"
        return f"building: {progress.describe()}, {progress.elapsed:.0f} s"

    def __rich__(self) -> Text:
        """The live line, rendered a few times a second (so the seconds tick); cut to fit."""
        from rich.text import Text  # the live line: a terminal's

        line = Text.from_markup("[bold green]building[/] ")
        progress = self.progress
        if progress is None:
            return line
        line.append(progress.describe())
        if progress.targets and (progress.crate or progress.stage is not Stage.COMPILING):
            line.append(f" · {progress.targets}", style="dim")
        line.append(f" · {progress.elapsed:.0f} s")
        line.no_wrap, line.overflow = True, "ellipsis"
        # the spinner and its space come before the line
        line.truncate(max(self.console.width - 3, 10), overflow="ellipsis")
        return line

    def close(self) -> None:
        """Stop the live line (its last frame is erased); nothing is drawn after this."""
        if self._status is not None:
            self._status.stop()
            self._status = None

    def _end(self, progress: BuildProgress) -> None:
        """Then "built ... in N s"; a failure is said by the warning or error that follows."""
        self.close()
        self._said.clear()
        if self.diagnostics:
            for line in progress.diagnostics:  # cargo's colours pass through on a terminal
                self.console.print(line, markup=False, highlight=False)
        if progress.stage is Stage.DONE and not self.quiet:
            what = f" {progress.targets}" if progress.targets else ""
            seconds = progress.elapsed
            message = f"[bold blue]info[/]: built{escape(what)} in {seconds:.1f} s"
            self.console.print(message, highlight=False)
