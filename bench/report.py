"""Results model and the markdown report (printed, and written to BENCHMARKS.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    title: str = ""

    def add(self, *cells: object) -> None:
        self.rows.append([str(cell) for cell in cells])

    def markdown(self) -> str:
        lines = []
        if self.title:
            lines += [f"**{self.title}**", ""]
        lines.append("| " + " | ".join(self.headers) + " |")
        lines.append("|" + "|".join("---" for _ in self.headers) + "|")
        lines += [
            "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in self.rows
        ]
        return "\n".join(lines)


@dataclass
class Comparison:
    """One line of the summary: rustlambda against its anchor, with the goal if there is one."""

    measure: str
    ours: str
    anchor: str
    #: rustlambda / anchor (times: below 1 is faster; throughput: above 1 is better)
    ratio: float | None
    goal: str = "—"
    met: bool | None = None  # None: no goal, information only

    @property
    def verdict(self) -> str:
        if self.met is None:
            return "info"
        return "**met**" if self.met else "**not met**"


@dataclass
class Section:
    key: str
    title: str
    intro: str = ""
    tables: list[Table] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    #: Findings, measured causes and caveats (markdown bullet items).
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    raw: dict[str, Any] = field(default_factory=dict)

    def markdown(self) -> str:
        parts = [f"## {self.key}. {self.title}", ""]
        if self.intro:
            parts += [self.intro, ""]
        if self.error:
            parts += ["**This workload failed:**", "", "```", self.error.strip(), "```", ""]
        if self.comparisons:
            parts += [_comparison_table(self.comparisons, with_workload=None), ""]
        for table in self.tables:
            parts += [table.markdown(), ""]
        if self.notes:
            parts += [f"- {note}" for note in self.notes] + [""]
        parts.append(f"_Workload time: {self.seconds / 60:.1f} min._")
        parts.append("")
        return "\n".join(parts)


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}x"


def _comparison_table(comparisons: Sequence[Comparison], with_workload: str | None) -> str:
    headers = ["Measure", "rustlambda", "anchor", "ratio rl/anchor", "Goal", "Result"]
    table = Table(headers)
    for c in comparisons:
        table.add(c.measure, c.ours, c.anchor, fmt_ratio(c.ratio), c.goal, c.verdict)
    return table.markdown()


def summary(sections: Sequence[Section]) -> str:
    table = Table(["#", "Measure", "rustlambda", "anchor", "ratio rl/anchor", "Goal", "Result"])
    for section in sections:
        if section.error and not section.comparisons:
            table.add(section.key, f"{section.title}: failed (see below)", "", "", "", "", "")
        for c in section.comparisons:
            table.add(
                section.key, c.measure, c.ours, c.anchor, fmt_ratio(c.ratio), c.goal, c.verdict
            )
    return table.markdown()


def document(header: str, sections: Sequence[Section], footer: str = "") -> str:
    parts = [header.rstrip(), "", "## Summary", "", summary(sections), ""]
    parts += [section.markdown() for section in sections]
    if footer:
        parts += [footer.rstrip(), ""]
    return "\n".join(parts)
