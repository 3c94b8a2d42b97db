"""README.md tells users what the code does: its tables are checked against the code."""

from __future__ import annotations

import re
from pathlib import Path

from rustlambda.errors import error_classes
from rustlambda.settings import docs

README = Path(__file__).resolve().parents[2] / "README.md"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_exit_code_table_lists_exactly_the_error_classes() -> None:
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", _section("Exit codes"), flags=re.MULTILINE)
    documented = [int(code) for code, _ in rows]
    assert documented == sorted(documented), "keep the table in exit-code order"
    assert documented[0] == 0  # success has no error class
    assert documented[1:] == [cls.exit_code for cls in error_classes()]


def test_settings_tables_are_the_settings_table() -> None:
    """README lists exactly the table's metadata keys (regenerate: python -m
    rustlambda.settings.docs README.md)."""
    found = docs.tables(README.read_text(encoding="utf-8"))
    assert set(found) == {s.value for s in docs.SECTIONS} | {"precedence"}
    for name, table in found.items():
        assert table == docs.generated(name), name
    for section in docs.SECTIONS:
        for row in docs.metadata_rows(section):
            assert all(f"`{key}" in found[section.value] for key in row.keys)


def test_the_precedence_is_the_levels_order() -> None:
    """README's precedence list is generated from `Level`: the resolver orders by it."""
    from rustlambda.settings.model import LEVEL_NAMES, Level

    text = docs.tables(README.read_text(encoding="utf-8"))["precedence"]
    positions = [text.index(LEVEL_NAMES[level]) for level in Level]
    assert positions == sorted(positions)
