"""How the command line shows things (rich on a terminal, plain lines on a pipe): progress,
errors, build artifacts, verification reports, deploy results and log lines. Imported only by
commands that run, never for ``--version``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import RustLambdaError
from ..layout import ArtifactKind
from .plain import PlainConsole, escape, plain_stream

if TYPE_CHECKING:
    from rich.console import Console

    from ..builder import BuildResult
    from ..deployer import Deployment, DeployResult
    from ..deployer.pool import Progress
    from ..emulator import LogRecord
    from ..verify import VerifyReport


def stderr(color: str | None = None) -> Console:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True, **_color(color))


def stdout(color: str | None = None) -> Console:
    from rich.console import Console

    return Console(soft_wrap=True, **_color(color))


def stream_console(color: str | None = None, *, stderr: bool) -> Console | PlainConsole:
    """`stderr` or `stdout`, as a `PlainConsole` where rich would write plain text (a pipe):
    the same text, without importing rich for it."""
    stream = sys.stderr if stderr else sys.stdout
    if plain_stream(stream, color):
        return PlainConsole(stderr=stderr, soft_wrap=True, **_color(color))
    from rich.console import Console

    return Console(stderr=stderr, soft_wrap=True, **_color(color))


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
    """Renders library events. With ``verbose``, every line cargo prints; else, with
    ``cargo_lines`` (``build``), cargo's warnings and errors and (unless ``quiet``) its
    "Finished" line as cargo printed them (its other status lines are what
    `rustlambda.cli.status` shows), and nothing of cargo without. With ``cargo_messages``,
    cargo's JSON messages (``--message-format json``) go to stdout as cargo prints them, and
    `saw_cargo_messages` says whether any did."""

    def __init__(
        self,
        console: Console | PlainConsole,
        *,
        verbose: bool,
        quiet: bool,
        cargo_messages: bool = False,
        cargo_lines: bool = False,
    ) -> None:
        self.console = console
        self.verbose = verbose
        self.quiet = quiet
        self.cargo_messages = cargo_messages
        self.cargo_lines = cargo_lines
        self.saw_cargo_messages = False
        #: Whether any of cargo's diagnostics (a line not a status line) was printed.
        self.printed_diagnostics = False

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
        elif self.cargo_lines:
            from ..progress import status_verb

            verb = status_verb(line)
            if verb is None and (line.strip() or self.printed_diagnostics):
                self.printed_diagnostics = True
                self.console.print(line, markup=False, highlight=False)
            elif verb == "Finished" and not self.quiet:
                self.console.print(line, markup=False, highlight=False)


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


def print_error(exc: RustLambdaError, console: Console | PlainConsole | None = None) -> None:
    """``error: <message>`` and ``fix: <fix>``, after the tool output the error carries."""
    console = console or stream_console(stderr=True)
    if exc.details:
        console.print(exc.details, markup=False, highlight=False)
    console.print(f"[bold red]error[/]: {escape(exc.message)}", highlight=False)
    if exc.fix:
        console.print(f"[bold]fix[/]: {escape(exc.fix)}", highlight=False)


def build_result(
    out: Console | PlainConsole, result: BuildResult, err: Console | PlainConsole | None = None
) -> None:
    """The artifacts and what verification found (`rustlambda.cli.tables`)."""
    from . import tables

    tables.build_result(out, result, err)


def deploy_result(result: DeployResult, width: int | None = None) -> None:
    """Per function, in the workspace's order: its status, then what changed (or, for a dry
    run, the whole configuration it would have and what would change; for a failure, why);
    with several functions, a tally last. ``width``: wrap a dry run's lines to it (between
    words, paths after a ``/``); None: one line each."""
    for d in result.deployments:
        summary = f"{d.name} ({d.kind.value}, {d.arch.value}): {d.status}"
        click.echo(summary + (f"  {d.arn}" if d.arn else ""))
        if d.failure is not None:
            click.echo(f"  error: {d.failure.message}")
            continue
        if result.dry_run:
            _dry_run(d, width)
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


#: A dry run's labels, padded to this.
_LABEL = 14


def _dry_run(d: Deployment, width: int | None) -> None:
    """The configuration, one ``label  value`` line each (values wrapped under themselves),
    then what the deploy would do."""
    import textwrap

    from .tables import shown, wrap_path

    indent = " " * (2 + _LABEL)
    room = max((width or 0) - len(indent), 20)
    paths = ("zip", "zipped from")
    for label, value in d.configuration:
        if label in paths:
            value = shown(Path(value))
        if width is None:
            lines = [value]
        elif label in paths:
            lines = wrap_path(value, room).splitlines()
        else:
            wrap = textwrap.TextWrapper(room, break_long_words=False, break_on_hyphens=False)
            lines = wrap.wrap(value) or [""]
        click.echo(f"  {label:<{_LABEL}}{lines[0]}")
        for line in lines[1:]:
            click.echo(indent + line)
    live = d.status != "would create" and d.kind is ArtifactKind.FUNCTION
    click.echo("  against the live function, it would:" if live else "  it would:")
    for action in d.actions:
        if width is None:
            click.echo(f"  - {action}")
            continue
        wrap = textwrap.TextWrapper(
            width, initial_indent="  - ", subsequent_indent="    ", break_on_hyphens=False
        )
        for line in wrap.wrap(action):
            click.echo(line)


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
    """``verify``'s report (`rustlambda.cli.tables`)."""
    from . import tables

    tables.verification(console, report)


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
