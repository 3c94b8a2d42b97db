"""README's tables of metadata keys, generated from the settings table.

README.md holds each table between ``<!-- settings:<section> -->`` and
``<!-- /settings:<section> -->`` (and the precedence between ``<!-- settings:precedence -->``
markers); a unit test checks they are what `table_markdown` / `precedence_markdown` give, and
``python -m rustlambda.settings.docs README.md`` rewrites them after a row changed.
"""

from __future__ import annotations

import enum
import re
import sys
from pathlib import Path

from ..options import CompilerSettings
from .model import LEVEL_NAMES, AnySetting, Level, Section
from .table import rows

SECTIONS = (Section.LAMBDA, Section.BUILD, Section.WATCH, Section.DEPLOY)
_MARKER = re.compile(r"(<!-- settings:(\w+) -->\n)(.*?)(<!-- /settings:\2 -->)", re.DOTALL)


def metadata_rows(section: Section) -> list[AnySetting]:
    """The rows of a section that have metadata keys."""
    return [row for row in rows(section) if row.keys]


def table_markdown(section: Section) -> str:
    lines = [
        "| key | type | default | flag | env var | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for row in metadata_rows(section):
        keys = [f"`{k} = true`" if k in row.key_converters else f"`{k}`" for k in row.keys]
        key = keys[0] + (" (also " + ", ".join(keys[1:]) + ")" if len(keys) > 1 else "")
        flags = ", ".join(
            f"`{decl}`" for flag in row.flags if not flag.argument for decl in flag.decls
        )
        if any(flag.argument for flag in row.flags):
            flags = ", ".join(filter(None, [f"`{row.name.upper()}` argument", flags]))
        env = f"`{row.env_var}`" if row.env_var else ""
        cells = [key, row.convert.describe, _default(row.default), flags, env, row.help]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def _default(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, CompilerSettings):
        return value.kind.value
    if isinstance(value, enum.Enum):
        return str(value.value)
    if value in (None, (), {}):
        return ""
    return str(value)


def precedence_markdown() -> str:
    """The sources of a setting, highest precedence first: `Level`'s order."""
    lines = [f"{index}. {LEVEL_NAMES[level]}" for index, level in enumerate(Level, 1)]
    return "\n".join(lines) + "\n"


def _generated(name: str) -> str:
    return precedence_markdown() if name == "precedence" else table_markdown(Section(name))


def rewrite(text: str) -> str:
    """``text`` (README.md) with every marked table regenerated."""

    def replace(match: re.Match[str]) -> str:
        return match[1] + _generated(match[2]) + match[4]

    return _MARKER.sub(replace, text)


def tables(text: str) -> dict[str, str]:
    """The marked tables as they are in ``text``, by marker name."""
    return {m[2]: m[3] for m in _MARKER.finditer(text)}


def generated(name: str) -> str:
    """What the marker ``name`` should hold."""
    return _generated(name)


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    readme = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    readme.write_text(rewrite(readme.read_text(encoding="utf-8")), encoding="utf-8")
