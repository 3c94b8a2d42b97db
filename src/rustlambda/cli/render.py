"""How the command line shows things (rich on a terminal, plain lines on a pipe): progress,
errors, build artifacts, verification reports, deploy results and log lines. Imported only by
commands that run, never for ``--version``."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.markup import escape

from ..errors import RustLambdaError
from ..layout import ArtifactKind
from ..targets import version_str

if TYPE_CHECKING:
    from ..builder import BuildResult
    from ..deployer import DeployResult
    from ..deployer.pool import Progress
    from ..emulator import LogRecord
    from ..progress import BuildProgress
    from ..verify import VerifyReport


def stderr(color: str | None = None) -> Console:
    return Console(stderr=True, soft_wrap=True, **_color(color))


def stdout(color: str | None = None) -> Console:
    return Console(soft_wrap=True, **_color(color))


def _color(color: str | None) -> dict[str, Any]:
    """``--color always|never|auto`` as rich's console options (auto: rich decides)."""
    if color == "always":
        return {"force_terminal": True}
    if color == "never":
        return {"no_color": True}
    return {}


#: How a JSON message of cargo (``--message-format json``) starts.
CARGO_MESSAGE = '{"reason":'


class ConsoleReporter:
    """Renders library events: a live status line on a TTY, nothing on a pipe unless verbose.
    With ``cargo_messages``, cargo's JSON messages (``--message-format json``) go to stdout as
    cargo prints them, and `saw_cargo_messages` says whether any did."""

    def __init__(
        self, console: Console, *, verbose: bool, quiet: bool, cargo_messages: bool = False
    ) -> None:
        self.console = console
        self.verbose = verbose
        self.quiet = quiet
        self.cargo_messages = cargo_messages
        self.saw_cargo_messages = False
        self.status: Any = None

    def info(self, message: str) -> None:
        if not self.quiet:
            self.console.print(f"[bold blue]info[/]: {escape(message)}", highlight=False)

    def warning(self, message: str) -> None:
        self.console.print(f"[bold yellow]warning[/]: {escape(message)}", highlight=False)

    def command(self, argv: Sequence[str]) -> None:
        if self.verbose:
            self.console.print(f"[dim]running: {escape(' '.join(argv))}[/]", highlight=False)

    def output(self, line: str) -> None:
        if self.cargo_messages and line.startswith(CARGO_MESSAGE):
            self.saw_cargo_messages = True
            click.echo(line)
            return
        if self.verbose:
            self.console.print(line, markup=False, highlight=False)
        elif self.status is not None and line.strip():
            self.status.update(f"[bold green]building[/] {escape(line.strip()[:100])}")


class DeployReporter(ConsoleReporter):
    """A deploy's progress: with several functions, one line each as it finishes."""

    def deployed(self, progress: Progress) -> None:
        if self.quiet or progress.total < 2:
            return
        d = progress.deployment
        count = f"[{progress.finished}/{progress.total}]"
        if d.failure is not None:
            code = f" ({d.failure.code})" if d.failure.code else ""
            line = f"[bold red]failed[/] {count} {escape(d.name)}{escape(code)}"
        else:
            seconds = f" in {d.seconds:.1f} s" if d.seconds is not None else ""
            retries = sum(n for _, n in d.retries)
            waited = f", {retries} retr{'y' if retries == 1 else 'ies'}" if retries else ""
            line = f"[bold green]done[/] {count} {escape(d.name)}: {d.status}{seconds}{waited}"
        self.console.print(line, highlight=False)


def print_error(exc: RustLambdaError, console: Console | None = None) -> None:
    """``error: <message>`` and ``fix: <fix>``, after the tool output the error carries."""
    console = console or stderr()
    if exc.details:
        console.print(exc.details, markup=False, highlight=False)
    console.print(f"[bold red]error[/]: {escape(exc.message)}", highlight=False)
    if exc.fix:
        console.print(f"[bold]fix[/]: {escape(exc.fix)}", highlight=False)


def build_result(out: Console, result: BuildResult) -> None:
    """The artifacts: a table on a terminal, one tab-separated line each on a pipe."""
    if not out.is_terminal:
        for a in result.artifacts:
            size, path = (a.zip.size, a.zip.path) if a.zip else (a.size, a.path)
            click.echo(f"{a.function}\t{a.arch.value}\t{size}\t{path}", err=out.stderr)
        return
    from rich.table import Table  # only a terminal needs it

    table = Table(title=f"Lambda artifacts in {result.lambda_dir}")
    for column in ("function", "kind", "architecture", "size"):
        table.add_column(column, justify="right" if column == "size" else "left")
    table.add_column("path", overflow="fold")
    for a in result.artifacts:
        size, path = (a.zip.size, a.zip.path) if a.zip else (a.size, a.path)
        table.add_row(a.function, a.kind.value, a.arch.value, _human(size), _shown(path))
    out.print(table)


def deploy_result(result: DeployResult) -> None:
    """Per function, in the workspace's order: its status, then what changed (or, for a dry
    run, what would; for a failure, why); with several functions, a tally last."""
    for d in result.deployments:
        summary = f"{d.name} ({d.kind.value}, {d.arch.value}): {d.status}"
        click.echo(summary + (f"  {d.arn}" if d.arn else ""))
        if d.failure is not None:
            click.echo(f"  error: {d.failure.message}")
            continue
        if result.dry_run:
            for action in d.actions:
                click.echo(f"  - {action}")
            continue
        lines = [
            f"role created: {d.role_created}" if d.role_created else "",
            f"configuration updated: {', '.join(d.config_updated)}" if d.config_updated else "",
            f"code: {'uploaded' if d.code_updated else 'unchanged'} ({d.sha256[:12]})"
            if d.kind is ArtifactKind.FUNCTION
            else "",
            f"tags updated: {', '.join(d.tags_updated)}" if d.tags_updated else "",
            f"version: {d.version}" if d.version else "",
            f"alias: {d.alias}" if d.alias else "",
            f"url: {d.url}" if d.url else "",
        ]
        for line in lines:
            if line:
                click.echo(f"  {line}")
    if len(result.deployments) > 1:
        click.echo(_tally(result))


def _tally(result: DeployResult) -> str:
    """``20 functions: 18 created, 1 unchanged, 1 failed (8 at a time)``."""
    kinds = {d.kind.value for d in result.deployments}
    noun = f"{next(iter(kinds))}s" if len(kinds) == 1 else "functions and extensions"
    counts: dict[str, int] = {}
    for d in result.deployments:
        counts[d.status] = counts.get(d.status, 0) + 1
    parts = ", ".join(f"{n} {status}" for status, n in counts.items())
    return f"{len(result.deployments)} {noun}: {parts} ({result.max_parallel} at a time)"


def verification(console: Console, report: VerifyReport) -> None:
    """Each artifact's checks: a table on a terminal, tab-separated lines on a pipe; then every
    failure and warning with what Lambda would say and the fix."""
    if not console.is_terminal:
        for a in report.artifacts:
            cells = (
                a.label,
                a.arch.value if a.arch else "?",
                a.linkage.value,
                version_str(a.max_glibc) if a.max_glibc else "-",
                ",".join(a.needed) or "-",
                str(a.size),
                a.sha256 or "-",
                "ok" if a.ok else "FAIL",
            )
            click.echo("\t".join(cells))
        _findings(console, report)
        return
    from rich.table import Table

    table = Table(title=f"verified against {report.runtime.value}")
    for column in (
        "artifact",
        "arch",
        "linkage",
        "max glibc",
        "needs",
        "size",
        "sha256",
        "verdict",
    ):
        table.add_column(column, overflow="fold")
    for a in report.artifacts:
        verdict = "[green]ok[/]" if a.ok else "[bold red]FAIL[/]"
        table.add_row(
            escape(a.label),
            a.arch.value if a.arch else "?",
            a.linkage.value,
            version_str(a.max_glibc) if a.max_glibc else "-",
            escape(", ".join(a.needed)) or "-",
            _human(a.size),
            (a.sha256 or "-")[:12],
            verdict,
        )
    console.print(table)
    _findings(console, report)


def _findings(console: Console, report: VerifyReport) -> None:
    for a in report.artifacts:
        for f in (*a.failures, *a.warnings):
            level = "[bold red]fail[/]" if not f.ok else "[yellow]warning[/]"
            console.print(f"{level} {escape(a.label)}: {escape(f.message)}", highlight=False)
            if f.lambda_error:
                console.print(f"    Lambda: {escape(f.lambda_error)}", highlight=False)
            if f.fix:
                console.print(f"    fix: {escape(f.fix)}", highlight=False)


def _shown(path: Path) -> str:
    """A path relative to the working directory when it is below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


class LogPrinter:
    """Renders function, extension and platform log lines as they arrive."""

    def __init__(self, console: Console) -> None:
        self.console = console
        # Asked once: rich's is_terminal and click.echo cost more per line than the emulator
        # spends on an invoke (three lines each: START, END, REPORT).
        self._terminal = console.is_terminal
        self._stdout = sys.stdout
        self._flush_pending = False

    def _flush_soon(self) -> None:
        """Flush once per event-loop turn: an invoke's START, END and REPORT in one write."""
        import asyncio

        if self._flush_pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._stdout.flush()
            return
        self._flush_pending = True
        loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        self._stdout.flush()

    def record(self, record: LogRecord) -> None:
        who = record.function
        if record.source.startswith("extension:"):
            who = f"{record.function}/{record.source.split(':', 1)[1]}"
        if not self._terminal:  # exact text (rich would expand REPORT's tabs)
            self._stdout.write(f"[{who}] {record.text}\n")
            self._flush_soon()
            return
        style = "dim" if record.source == "platform" else "cyan"
        self.console.print(f"[{style}]\\[{escape(who)}][/] {escape(record.text)}", highlight=False)


class BuildStatus:
    """``watch``'s builds as they go: on a terminal a live status line (stage, current crate,
    counts, elapsed seconds ticking); on a pipe a plain line at most every few seconds. Then
    "built in N s", or a failed build's diagnostics in full, as cargo printed them."""

    #: On a pipe, at most one progress line per this many seconds.
    PIPE_EVERY = 5.0

    def __init__(self, console: Console, *, live: bool, quiet: bool) -> None:
        self.console = console
        self.live = live
        self.quiet = quiet
        self.progress: BuildProgress | None = None
        self._status: Any = None
        self._printed = 0.0
        self._shown: tuple[object, str | None] = (None, None)

    def __call__(self, progress: BuildProgress) -> None:
        from ..progress import Stage

        self.progress = progress
        if progress.stage in (Stage.DONE, Stage.FAILED):
            self._end(progress)
            return
        if self.quiet:
            return
        if self.live:
            if self._status is None:
                self._status = self.console.status(self)
                self._status.start()
            return
        # At once when it starts compiling or starts waiting (for cargo's lock...), else at
        # most every PIPE_EVERY seconds.
        notable = (progress.stage, progress.note) != self._shown and (
            progress.note or progress.stage is Stage.COMPILING
        )
        since = max(self._printed, progress.started)
        now = time.monotonic()
        if notable or now - since >= self.PIPE_EVERY:
            self._printed, self._shown = now, (progress.stage, progress.note)
            self.console.print(f"[bold blue]info[/]: {escape(self._line())}", highlight=False)

    def _line(self) -> str:
        progress = self.progress
        if progress is None:
            return "building"
        return f"building: {progress.describe()}, {progress.elapsed:.0f} s"

    def __rich__(self) -> str:
        """The live line, rendered a few times a second (so the seconds tick)."""
        return f"[bold green]building[/] {escape(self._line().removeprefix('building: '))}"

    def _end(self, progress: BuildProgress) -> None:
        """Then "built in N s"; a failure is said by the warning or error that follows."""
        from ..progress import Stage

        if self._status is not None:
            self._status.stop()
            self._status = None
        for line in progress.diagnostics:  # cargo's colours pass through on a terminal
            self.console.print(line, markup=False, highlight=False)
        if progress.stage is Stage.DONE and not self.quiet:
            seconds = progress.elapsed
            self.console.print(f"[bold blue]info[/]: built in {seconds:.1f} s", highlight=False)


def lambda_api_exports(console: Console, name: str, env: dict[str, str]) -> None:
    """Only-Lambda-APIs mode: the variables to export before starting ``name`` yourself, as
    shell lines to copy (AWS credentials left out: your own chain serves a process you start)."""
    import shlex

    from ..emulator.environment import CREDENTIALS

    how = f"cargo run --bin {name}"
    console.print(f"[bold]{escape(name)}[/]: export these, then start it ({escape(how)}):")
    first = ("AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_FUNCTION_NAME")
    for key in [*first, *sorted(k for k in env if k not in first)]:
        if key in env and key not in CREDENTIALS:
            console.print(f"  export {key}={shlex.quote(env[key])}", markup=False, highlight=False)
