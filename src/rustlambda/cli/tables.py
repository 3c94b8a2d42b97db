"""Tables that fit the terminal: a build's artifacts and ``verify``'s report.

Every column but one keeps its cells on one line; the path column gets the width that is left
and its paths break after a ``/`` or ``:``, never inside a name (a path shows relative to the
working directory when it is below it). A build's table ends with what verification found.
On a pipe both stay tab-separated lines, one per artifact (scripts read them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..targets import version_str
from ..util.fs import human_size
from .plain import PlainConsole, as_rich, escape

if TYPE_CHECKING:
    from rich.console import Console, JustifyMethod
    from rich.table import Table

    from ..builder import BuildResult
    from ..verify import ArtifactReport, VerifyReport

#: A path column narrower than this folds its names rather than squeezing the others.
MIN_PATH_WIDTH = 16
#: Where a path may break: after a separator.
_PIECES = re.compile(r"[^/:]*[/:]|[^/:]+$")


def shown(path: Path) -> str:
    """A path relative to the working directory when it is below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def wrap_path(path: str, width: int) -> str:
    """``path`` in lines of at most ``width``, broken after ``/`` or ``:`` only (a single
    name longer than ``width`` stays whole: the table folds it as a last resort)."""
    lines: list[str] = []
    line = ""
    for piece in _PIECES.findall(path):
        if line and len(line) + len(piece) > width:
            lines.append(line)
            line = ""
        line += piece
    return "\n".join([*lines, line])


def fit_table(
    console: Console,
    columns: Sequence[tuple[str, JustifyMethod]],
    rows: Sequence[Sequence[str]],
    *,
    path_column: int,
    title: str | None = None,
) -> None:
    """Print ``rows`` (rich markup; the path column plain text) at most as wide as
    ``console``: a table whose path column takes what the others leave, or, when even a
    narrow path column leaves too little, each row on a line with its path below."""
    from rich.measure import Measurement  # only a terminal needs tables

    unlimited = console.options.update_width(10 * console.width)  # else clamped to the width
    paths = [row[path_column] for row in rows]
    width = max([len(columns[path_column][0]), *(len(p) for p in paths)])
    table = _table(columns, rows, path_column, width, title)
    needed = Measurement.get(console, unlimited, table).maximum
    if needed > console.width:
        width = width - (needed - console.width)
        if width < MIN_PATH_WIDTH:
            _stacked(console, rows, path_column, title)
            return
        table = _table(columns, rows, path_column, width, title)
    console.print(table)


def _stacked(
    console: Console, rows: Sequence[Sequence[str]], path_column: int, title: str | None
) -> None:
    """Each row on one line (wrapped between cells), its path below it, indented."""
    if title:
        console.print(escape(title), highlight=False, soft_wrap=False)
    for row in rows:
        cells = [cell for index, cell in enumerate(row) if index != path_column]
        console.print("  ".join(cells), highlight=False, soft_wrap=False)
        for line in wrap_path(row[path_column], max(console.width - 4, 8)).splitlines():
            console.print(f"    {escape(line)}", highlight=False, soft_wrap=False)


def _table(
    columns: Sequence[tuple[str, JustifyMethod]],
    rows: Sequence[Sequence[str]],
    path_column: int,
    path_width: int,
    title: str | None,
) -> Table:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0)
    )
    for index, (header, justify) in enumerate(columns):
        if index == path_column:
            table.add_column(header, width=path_width, no_wrap=True, overflow="fold")
        else:
            table.add_column(header, justify=justify, no_wrap=True)
    for row in rows:
        cells: list[str | Text] = list(row)
        cells[path_column] = Text(wrap_path(row[path_column], path_width))
        table.add_row(*cells)
    return table


def build_result(
    out: Console | PlainConsole, result: BuildResult, err: Console | PlainConsole | None = None
) -> None:
    """The artifacts: a table on a terminal ending with what verification found; on a pipe
    one tab-separated line each (and what verification found on ``err``)."""
    if not out.is_terminal:
        for a in result.artifacts:
            size, path = (a.zip.size, a.zip.path) if a.zip else (a.size, a.path)
            click.echo(f"{a.function}\t{a.arch.value}\t{size}\t{path}", err=out.stderr)
        if err is not None and result.artifacts:
            err.print(f"[bold blue]info[/]: {escape(verified(result))}", highlight=False)
        return
    verdicts = _verdicts(result)
    extensions = any(a.kind.value == "extension" for a in result.artifacts)
    columns: list[tuple[str, JustifyMethod]] = [("function", "left")]
    columns += [("kind", "left")] if extensions else []
    columns += [("arch", "left"), ("size", "right"), ("checks", "left"), ("path", "left")]
    rows = []
    for a in result.artifacts:
        size, path = (a.zip.size, a.zip.path) if a.zip else (a.size, a.path)
        kind = [a.kind.value] if extensions else []
        verdict = verdicts.get(path, "[dim]-[/]")
        rows.append(
            [escape(a.function), *kind, a.arch.value, human_size(size), verdict, shown(path)]
        )
    if rows:
        fit_table(as_rich(out), columns, rows, path_column=len(columns) - 1)
    out.print(escape(verified(result)), highlight=False)


def verified(result: BuildResult) -> str:
    """What verification found, in one line."""
    report = result.verification
    if report is None:
        n = len(result.artifacts)
        return f"{n} artifact{'' if n == 1 else 's'} built; not verified (turned off)"
    return found(report)


def found(report: VerifyReport) -> str:
    """``verified 3 artifacts for provided.al2023: all would start, 1 warning (above)``."""
    n = len(report.artifacts)
    warned = sum(len(a.warnings) for a in report.artifacts)
    failed = sum(1 for a in report.artifacts if not a.ok)
    what = "all would start" if not failed else f"{failed} would not start"
    if warned:
        what += f", {warned} warning{'' if warned == 1 else 's'}"
    return f"verified {n} artifact{'' if n == 1 else 's'} for {report.runtime.value}: {what}"


def _verdicts(result: BuildResult) -> dict[Path, str]:
    """Each checked file's cell: ``ok``, ``ok, 1 warning`` or ``FAIL``."""
    if result.verification is None:
        return {}
    cells: dict[Path, str] = {}
    for a in result.verification.artifacts:
        cell = "[green]ok[/]" if a.ok else "[bold red]FAIL[/]"
        if a.warnings:
            n = len(a.warnings)
            cell += f", [yellow]{n} warning{'' if n == 1 else 's'}[/]"
        cells[a.path] = cell
    return cells


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
    columns: list[tuple[str, JustifyMethod]] = [
        ("arch", "left"),
        ("linkage", "left"),
        ("glibc", "left"),
        ("size", "right"),
        ("sha256", "left"),
        ("verdict", "left"),
        ("artifact", "left"),
    ]
    rows = [
        [
            a.arch.value if a.arch else "?",
            a.linkage.value,
            version_str(a.max_glibc) if a.max_glibc else "-",
            human_size(a.size),
            (a.sha256 or "-")[:8],
            "[green]ok[/]" if a.ok else "[bold red]FAIL[/]",
            _label(a),
        ]
        for a in report.artifacts
    ]
    if rows:
        title = f"verified against {report.runtime.value}"
        fit_table(console, columns, rows, path_column=len(columns) - 1, title=title)
    _libraries(console, report)
    _findings(console, report)
    console.print(escape(found(report)), highlight=False, soft_wrap=False)


def _label(a: ArtifactReport) -> str:
    return f"{shown(a.path)}:{a.member}" if a.member else shown(a.path)


def _libraries(console: Console, report: VerifyReport) -> None:
    """The shared libraries an executable needs beyond the C library and libgcc_s every
    Lambda runtime has (a list too long for a column; all of them are in ``--json``)."""
    from ..verify.elf_checks import PROVIDED_LIBRARIES

    for a in report.artifacts:
        extra = [lib for lib in a.needed if lib not in PROVIDED_LIBRARIES]
        if extra:
            text = f"[dim]{escape(_label(a))} needs[/] {escape(', '.join(extra))}"
            console.print(text, highlight=False, soft_wrap=False)


def _findings(console: Console, report: VerifyReport) -> None:
    """Every failure and warning; on a terminal wrapped at its width between words (a pipe
    gets each as one line)."""
    terminal = console.is_terminal
    for a in report.artifacts:
        label = _label(a) if terminal else a.label
        for f in (*a.failures, *a.warnings):
            level = "[bold red]fail[/]" if not f.ok else "[yellow]warning[/]"
            lines = [f"{level} {escape(label)}: {escape(f.message)}"]
            if f.lambda_error:
                lines.append(f"    Lambda: {escape(f.lambda_error)}")
            if f.fix:
                lines.append(f"    fix: {escape(f.fix)}")
            for line in lines:
                console.print(line, highlight=False, soft_wrap=not terminal)
