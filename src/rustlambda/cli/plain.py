"""Output to a pipe without importing rich (~20 ms of a no-op ``build``'s start-up).

`PlainConsole` stands in for rich's `Console` where rich would not treat the stream as a
terminal (`plain_stream`): there rich writes a line's text with its markup tags removed, and
`PlainConsole` writes exactly that for the lines this CLI prints (``[bold blue]info[/]: ...``,
cargo's lines). Anything it does not know to be plain — tabs and control characters (rich
expands and strips them), what could be an emoji code (``:name:``), markup other than a few
style tags, escaped brackets, anything but one string — goes to a real rich `Console`, made
then, with the same options: the text is rich's in every case. `escape` is rich's escape,
importing rich only for text that needs escaping.
"""

from __future__ import annotations

import builtins
import os
import re
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.console import Console

#: The style tags `PlainConsole` removes itself (the ones this CLI's own lines use).
_STYLES = frozenset(
    ("bold", "dim", "bold blue", "bold yellow", "bold red", "bold green", "green", "yellow")
)
#: A tag as rich's markup finds one (its RE_TAGS, backslashes left out: see `_strip`).
_TAG = re.compile(r"\[([a-z#/@][^[]*?)]")
#: What rich may read as an emoji code (its pattern needs ``:``, non-space, ``:``).
_EMOJI = re.compile(r":\S*:")
#: Characters rich's text handling changes (tabs expanded, some control codes stripped).
_SPECIAL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def plain_stream(stream: TextIO, color: str | None) -> bool:
    """Whether rich's `Console` would write ``stream`` as a plain file (not a terminal): no
    ``--color always``, none of the variables that make rich treat a stream as a terminal (or
    a notebook), and not a TTY. In doubt, False (rich decides)."""
    if color == "always" or hasattr(builtins, "get_ipython"):
        return False
    if "FORCE_COLOR" in os.environ or "TTY_COMPATIBLE" in os.environ:
        return False
    if getattr(sys.stdin, "__module__", "").startswith("idlelib"):
        return False
    try:
        return not stream.isatty()
    except (AttributeError, ValueError):
        return False


def escape(text: str) -> str:
    """rich's `rich.markup.escape` (rich is imported only when ``text`` has a bracket or ends
    with a backslash: otherwise escaping leaves it as it is)."""
    if "[" not in text and not text.endswith("\\"):
        return text
    from rich.markup import escape as rich_escape

    return rich_escape(text)


class PlainConsole:
    """The part of rich's `Console` the CLI uses on a pipe (see the module docstring).
    ``options``: the keyword arguments a rich `Console` for this stream is made with."""

    is_terminal = False

    def __init__(self, *, stderr: bool = False, **options: Any) -> None:
        self.stderr = stderr
        self._options = options
        self._rich: Console | None = None

    @property
    def file(self) -> TextIO:
        return sys.stderr if self.stderr else sys.stdout

    def rich(self) -> Console:
        """The rich `Console` this one stands in for (made on first use)."""
        if self._rich is None:
            from rich.console import Console

            self._rich = Console(stderr=self.stderr, **self._options)
        return self._rich

    def print(
        self, *objects: Any, markup: bool | None = None, highlight: bool | None = None, **rest: Any
    ) -> None:
        text = objects[0] if len(objects) == 1 else None
        plain = None
        if isinstance(text, str) and not rest:
            plain = _strip(text) if markup is not False else _plain(text)
        if plain is None:
            self.rich().print(*objects, markup=markup, highlight=highlight, **rest)
            return
        file = self.file
        file.write(plain + "\n")
        file.flush()

    def __getattr__(self, name: str) -> Any:
        """Everything else (``width``, ``print_json``...) is the rich console's."""
        return getattr(self.rich(), name)


def as_rich(console: Console | PlainConsole) -> Console:
    """The rich console itself (for tables, live lines: what only a terminal shows)."""
    return console.rich() if isinstance(console, PlainConsole) else console


def _plain(text: str) -> str | None:
    """``text`` if rich prints it unchanged without markup, else None."""
    if _SPECIAL.search(text) or _EMOJI.search(text):
        return None
    return text


def _strip(text: str) -> str | None:
    """``text`` without its style tags if rich prints it so, else None (rich decides)."""
    if _plain(text) is None:
        return None
    out: list[str] = []
    stack: list[str] = []
    position = 0
    for match in _TAG.finditer(text):
        start, end = match.span()
        tag = match.group(1)
        if start and text[start - 1] == "\\":
            return None  # an escaped bracket (or a backslash before a tag): rich's rules
        if tag == "/":
            if not stack:
                return None  # rich's MarkupError, from rich
            stack.pop()
        elif tag in _STYLES:
            stack.append(tag)
        else:
            return None
        out.append(text[position:start])
        position = end
    out.append(text[position:])
    return "".join(out)
