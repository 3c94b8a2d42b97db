"""A build's progress as ``rustlambda build`` and ``watch`` show it: the stage (`Stage`), the
crate cargo is compiling, how many of the build's units are done, and — for a build that
fails — cargo's diagnostics exactly as cargo printed them (colours included).

`ProgressReporter` sits between the builder and the caller's `Reporter`: it takes the builder's
stage events and reads cargo's output lines (its ``Compiling``/``Finished`` status lines and,
when the progress bar is on, ``Building [==>  ] 37/120: tokio``), hands a `BuildProgress` to a
callback on every change, and keeps every other line (warnings, errors, notes) for the failure
report. When only the Lambda binaries' own units are left (``hello(bin)``), the stage is
`Stage.LINKING`. cargo's progress bar only shows on a terminal; `progress_env` turns it on for
a pipe too, for the counts. `status_verb` tells a renderer which lines are cargo's status lines.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .errors import RustLambdaError
from .reporting import Reporter, Stage, StageReporter

if TYPE_CHECKING:
    from .builder import BuildResult
    from .options import BuildOptions

#: cargo's colour and erase-line sequences (``--color=always``).
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: The progress bar: ``Building [=====>     ] 37/120: tokio, serde(build)`` (without
#: ``Building`` under ``cargo --quiet``).
_BAR = re.compile(r"(?:Building )?\[[=> ]*\] (\d+)/(\d+)(?::\s*(.*?))?\s*$")
#: cargo's status lines: a right-aligned verb, then what it is about.
_STATUS = re.compile(
    r"(Compiling|Checking|Documenting|Fresh|Finished|Locking|Adding|Updating|Downloading|"
    r"Downloaded|Blocking|Packaging|Running|Dirty|Removing|Unpacking)\s+(.*)$"
)
#: cargo prints status lines with the verb right-aligned in 12 columns.
_STATUS_INDENT = 12


@dataclass(frozen=True)
class BuildProgress:
    """Where a build is. ``elapsed`` is computed when read, so a live line shows it ticking."""

    started: float  # time.monotonic() at the build's start
    stage: Stage = Stage.STARTING
    #: The unit cargo started compiling last ("tokio v1.40.0"), or the bar's current units.
    crate: str | None = None
    #: From cargo's progress bar: units done and in all (None before the bar shows).
    done: int | None = None
    total: int | None = None
    #: Compiling lines seen so far (a count when the bar is off).
    compiled: int = 0
    #: A failed build: cargo's warnings and errors, as printed (with colour when cargo had it).
    diagnostics: tuple[str, ...] = ()
    #: A finished build: how long it took (``elapsed`` keeps ticking).
    seconds: float | None = None
    #: What cargo waits for before compiling ("waiting for file lock on build directory").
    note: str | None = None
    #: What the builder said the current stage is about ("2 zips"), and what the build makes
    #: ("hello, echo for arm64": said when compiling starts).
    detail: str | None = None
    targets: str | None = None

    @property
    def elapsed(self) -> float:
        return self.seconds if self.seconds is not None else time.monotonic() - self.started

    def describe(self) -> str:
        """One line: ``compiling tokio v1.40.0 [37/120]``, ``linking hello [119/120]``,
        ``packaging 2 zips``, ``compiling hello for arm64 (waiting for file lock on ...)``."""
        if self.stage not in (Stage.COMPILING, Stage.LINKING):
            text = f"{self.stage} {self.detail}" if self.detail else str(self.stage)
            return f"{text} ({self.note})" if self.note else text
        text = str(self.stage)
        if self.crate:
            crate = self.crate
            if self.stage is Stage.LINKING:
                crate = ", ".join(unit.removesuffix("(bin)") for unit in _units(crate))
            text += f" {crate}"
        elif self.targets:
            text += f" {self.targets}"
        if self.done is not None and self.total:
            text += f" [{self.done}/{self.total}]"
        elif self.compiled:
            text += f" [crate {self.compiled}]"
        # cargo waits (for a lock) before its first crate: say so, not just the seconds ticking
        return f"{text} ({self.note})" if self.note else text


def plain(line: str) -> str:
    """``line`` without cargo's colour codes."""
    return _ANSI.sub("", line) if "\x1b" in line else line


def progress_env(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with cargo's progress bar on even on a pipe (its counts are the progress),
    unless the user chose otherwise."""
    env = dict(environ)
    if "CARGO_TERM_PROGRESS_WHEN" not in env:
        env["CARGO_TERM_PROGRESS_WHEN"] = "always"
        env.setdefault("CARGO_TERM_PROGRESS_WIDTH", "100")  # required with "always" on a pipe
    return env


@dataclass
class ProgressReporter:
    """A `Reporter` for one build: follows cargo's output and passes everything on to
    ``inner`` — except the progress bar's lines, which only say what ``on_progress`` is told."""

    inner: Reporter
    on_progress: Callable[[BuildProgress], None] | None = None
    progress: BuildProgress = field(default_factory=lambda: BuildProgress(time.monotonic()))
    #: cargo's lines that are neither status nor progress: warnings, errors and their notes.
    diagnostics: list[str] = field(default_factory=list)

    def info(self, message: str) -> None:
        self.inner.info(message)

    def warning(self, message: str) -> None:
        self.inner.warning(message)

    def command(self, argv: Sequence[str]) -> None:
        self.inner.command(argv)

    def stage(self, stage: Stage, detail: str) -> None:
        """The builder's own stages (resolving, compiling, packaging, verifying)."""
        targets = detail if stage is Stage.COMPILING else self.progress.targets
        if stage is not Stage.COMPILING or self.progress.stage is not Stage.COMPILING:
            self._update(stage=stage, detail=detail or None, targets=targets, crate=None)
        else:
            self._update(detail=detail or None, targets=targets)
        if isinstance(self.inner, StageReporter):
            self.inner.stage(stage, detail)

    def output(self, line: str) -> None:
        text = plain(line).strip()
        bar = _BAR.match(text)
        if bar is not None:
            current = bar[3] or self.progress.crate
            if bar[3]:
                linking = all(unit.endswith("(bin)") for unit in _units(bar[3]))
            else:  # a redraw without the units: as it was
                linking = self.progress.stage is Stage.LINKING
            stage = Stage.LINKING if linking else Stage.COMPILING
            self._update(stage=stage, done=int(bar[1]), total=int(bar[2]), crate=current)
            return  # redrawn many times a second: the status line shows it instead
        self.inner.output(line)
        verb = status_verb(line)
        if verb is None:
            if text or self.diagnostics:
                self.diagnostics.append(line)
            return
        rest = text[len(verb) :].strip()
        if verb in ("Compiling", "Checking"):
            # linking stays linking: the bar's next redraw says which units are running
            linking = self.progress.stage is Stage.LINKING
            self._update(
                stage=Stage.LINKING if linking else Stage.COMPILING,
                crate=_crate(rest),
                compiled=self.progress.compiled + 1,
                note=None,
            )
        elif verb == "Finished":  # the builder's PACKAGING follows, saying what it packs
            self._update(crate=None, note=None, done=self.progress.total)
        elif verb == "Blocking":
            self._update(note=rest)

    def finish(self, ok: bool) -> BuildProgress:
        """The build ended: the final state (DONE, or FAILED with the diagnostics)."""
        final = replace(
            self.progress,
            stage=Stage.DONE if ok else Stage.FAILED,
            detail=None,
            seconds=time.monotonic() - self.progress.started,
            diagnostics=() if ok else tuple(_trim(self.diagnostics)),
        )
        self.progress = final
        return final

    def _update(self, **changes: object) -> None:
        updated = replace(self.progress, **changes)  # type: ignore[arg-type]
        if updated != self.progress:
            self.progress = updated
            if self.on_progress is not None:
                self.on_progress(updated)


@dataclass
class BuildSession:
    """Builds one after the other (watch's first build and rebuilds), each followed by
    ``on_progress`` on the event loop's thread."""

    #: Plans and runs one build, reporting to the given reporter (called in a thread).
    run: Callable[[BuildOptions, Reporter], BuildResult]
    reporter: Reporter
    on_progress: Callable[[BuildProgress], None] | None = None

    async def build(self, options: BuildOptions, *, first: bool) -> BuildResult:
        """Run one build in a thread. A failure ends with the FAILED progress: a rebuild's
        carries cargo's diagnostics; the first build's go into the error instead (it ends
        ``watch``, and the error is what is shown)."""
        import asyncio  # only watch's builds: build imports this module too

        loop = asyncio.get_running_loop()

        def threadsafe(progress: BuildProgress) -> None:
            if self.on_progress is not None:
                loop.call_soon_threadsafe(self.on_progress, progress)

        follower = ProgressReporter(self.reporter, threadsafe)
        threadsafe(follower.progress)
        try:
            result = await asyncio.to_thread(self.run, options, follower)
        except RustLambdaError as exc:
            final = follower.finish(ok=False)
            if first:
                if final.diagnostics:  # all of them, as cargo printed them
                    exc.details = "\n".join(final.diagnostics)
                final = replace(final, diagnostics=())
            self._tell(final)
            raise
        self._tell(follower.finish(ok=True))
        return result

    def _tell(self, progress: BuildProgress) -> None:
        if self.on_progress is not None:
            self.on_progress(progress)


def status_verb(line: str) -> str | None:
    """The verb of one of cargo's status lines (``Compiling``, ``Finished``...), None for
    anything else (a warning, an error and its notes, a blank line)."""
    stripped = plain(line)
    # right-aligned in 12 columns: a diagnostic line that happens to start with one of those
    # words is not indented so
    indent = len(stripped) - len(stripped.lstrip(" "))
    if not 0 < indent < _STATUS_INDENT:
        return None
    status = _STATUS.match(stripped.strip())
    return status[1] if status is not None else None


def _units(bar_units: str) -> list[str]:
    """The bar's ``hello(bin), echo(bin)``, one unit each."""
    return [unit.strip() for unit in bar_units.split(",") if unit.strip()]


def _crate(rest: str) -> str:
    """``tokio v1.40.0`` of ``tokio v1.40.0`` / ``hello v0.1.0 (/ws/functions/hello)``."""
    return rest.split(" (", 1)[0].strip()


def _trim(lines: list[str]) -> list[str]:
    """Without the blank lines at the end."""
    end = len(lines)
    while end and not plain(lines[end - 1]).strip():
        end -= 1
    return lines[:end]


__all__ = [
    "BuildProgress",
    "BuildSession",
    "ProgressReporter",
    "Stage",
    "plain",
    "progress_env",
    "status_verb",
]
