"""`rustlambda.cli.plain`: on a pipe, `PlainConsole` writes exactly what rich's `Console` would,
writing plain lines itself and handing everything else to rich; `escape` is rich's."""

from __future__ import annotations

import io
import sys

import pytest
from rich.console import Console
from rich.markup import escape as rich_escape

from rustlambda.cli.plain import PlainConsole, escape, plain_stream

#: Lines the CLI prints (its own markup, escaped user text) and lines that only rich can render
#: the same: tabs, control characters, emoji codes, escaped brackets, unknown tags, closing tags.
LINES = [
    "",
    "plain text",
    "[bold blue]info[/]: verified 10 artifacts for provided.al2023: all would start",
    "[bold yellow]warning[/]: something [/ok",
    "[bold red]error[/]: no package 'nosuch' [dim]in[/] the workspace",
    "[bold]fix[/]: see rustlambda build --help",
    "[green]ok[/], [yellow]1 warning[/]",
    "    Finished `release` profile [optimized] target(s) in 0.01s",
    "  --> src/main.rs:3:9",
    "path /tmp/a:thumbs_up:/b",
    "tab\tseparated\tline",
    "carriage\rreturn and \x07 bell",
    "\x1b[1m\x1b[92m   Compiling\x1b[0m foo",
    "an escaped \\[bold] tag and a backslash at the end \\",
    "[italic]unknown style[/italic]",
    "[bold]a closing tag with its name[/bold]",
    "[/] closes nothing",
    "[link=https://example.com]a link[/link]",
    "[@click]meta[/]",
    "[1/10] not a tag, [Foo] neither",
    "line one\nline two",
    "unicode: naïve café — ✓",
    "two: colons: apart",
    "[bold blue]info[/]: [bold]nested [dim]tags[/] here[/]",
]


def _rich(text: str, markup: bool) -> str:
    buffer = io.StringIO()
    Console(file=buffer, soft_wrap=True).print(text, markup=markup, highlight=False)
    return buffer.getvalue()


def _plain(text: str, markup: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[str, bool]:
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    console = PlainConsole(stderr=True, soft_wrap=True)
    console.print(text, markup=markup, highlight=False)
    return buffer.getvalue(), console._rich is not None


@pytest.fixture(autouse=True)
def _no_forced_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("markup", [True, False])
@pytest.mark.parametrize("text", LINES)
def test_plain_console_writes_what_rich_writes(
    text: str, markup: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        expected = _rich(text, markup)
    except Exception as exc:  # rich's MarkupError: PlainConsole hands the line to rich
        with pytest.raises(type(exc)):
            _plain(text, markup, monkeypatch)
        return
    assert _plain(text, markup, monkeypatch)[0] == expected


@pytest.mark.parametrize(
    "text",
    [
        "[bold blue]info[/]: built 10 binaries for x86_64 in 0.1 s",
        "[bold blue]info[/]: building: compiling 10 binaries for x86_64, 0 s",
        "[bold red]error[/]: cargo failed (exit code 101) building hello",
    ],
)
def test_the_cli_s_own_lines_need_no_rich(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    written, used_rich = _plain(text, True, monkeypatch)
    assert written == _rich(text, True)
    assert not used_rich


@pytest.mark.parametrize("text", ["tab\there", "a :smile: b", "\\[bold]", "[italic]x[/]"])
def test_anything_else_is_rich_s(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _plain(text, True, monkeypatch)[1]


@pytest.mark.parametrize(
    "text", ["", "no brackets", "[bold] x [/]", "a \\[b]", "ends with \\", "ends with \\\\", "[1]"]
)
def test_escape_is_rich_s(text: str) -> None:
    assert escape(text) == rich_escape(text)


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_plain_only_where_rich_would_not_see_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    assert plain_stream(_Stream(False), None)
    assert plain_stream(_Stream(False), "never")
    assert not plain_stream(_Stream(True), None)
    assert not plain_stream(_Stream(False), "always")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert not plain_stream(_Stream(False), None)
    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    assert not plain_stream(_Stream(False), None)
