"""W3: scaling with the number of functions: cold and no-op builds, zip packaging."""

from __future__ import annotations

import shutil
import tempfile
from functools import partial
from pathlib import Path

from ..core import BenchError, Cmd, Context, Stat, alternate, fmt_value, log, ratio, timed
from ..report import Comparison, Section, Table
from ..workspaces import function_names, std_workspace

TOOLS = ("rustlambda", "cargo-lambda")


def build_cmd(ctx: Context, tool: str, ws: Path, target_dir: Path, *extra: str) -> Cmd:
    t = ctx.tools
    make = t.rl if tool == "rustlambda" else t.cl
    return make("build", "--release", *extra, cwd=ws, CARGO_TARGET_DIR=str(target_dir))


def check_outputs(target_dir: Path, names: list[str], zipped: bool) -> None:
    for name in names:
        path = target_dir / "lambda" / name / ("bootstrap.zip" if zipped else "bootstrap")
        if not path.is_file():
            raise BenchError(f"expected {path} after the build")


class ColdRuns:
    """Cold builds in a fresh target dir each; the last one per tool is kept (warm state)."""

    def __init__(self, ctx: Context, ws: Path, names: list[str], label: str) -> None:
        self.ctx, self.ws, self.names, self.label = ctx, ws, names, label
        self.kept: dict[str, Path] = {}

    def measure(self, tool: str, *extra: str) -> float:
        target = Path(tempfile.mkdtemp(prefix=f"{self.label}-{tool}-", dir=self.ctx.scratch))
        seconds = timed(build_cmd(self.ctx, tool, self.ws, target, *extra).with_timeout(3600))
        check_outputs(target, self.names, zipped=False)
        previous = self.kept.pop(tool, None)
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)
        self.kept[tool] = target
        return seconds


def warm_workspace(ctx: Context, count: int) -> tuple[Path, dict[str, Path]]:
    """A generated workspace with ``count`` functions and a warm target dir per tool (built
    here unless W3 left one)."""
    key = f"std-{count}"
    if key in ctx.shared:
        ws, dirs = ctx.shared[key]
        return Path(ws), dict(dirs)
    ws = std_workspace(ctx.workdir(f"std-{count}") / "ws", count)
    cold = ColdRuns(ctx, ws, function_names(count), f"std{count}")
    for tool in TOOLS:
        log(f"warming {tool} on the {count}-function workspace")
        cold.measure(tool)
    ctx.shared[key] = (ws, dict(cold.kept))
    return ws, dict(cold.kept)


def run_workload(ctx: Context) -> Section:
    section = Section(
        "3",
        "Scaling with the number of functions",
        "Generated workspaces of N trivial std-only functions (one shared runtime crate, "
        "`bench/rust/runtime`, like the fixtures' std-workspace), x86_64, release. "
        "Cold: a fresh `CARGO_TARGET_DIR`. No-op: the same command again, nothing changed. "
        "Zip: the no-op with `--output-format zip`, i.e. compile check + copy + packaging of "
        "every function; *zip cost* is the zip no-op minus the binary no-op.",
    )
    sizes = (1, ctx.std_functions) if ctx.quick else (1, ctx.std_functions, 50)
    cold_runs = {1: ctx.cold_runs, ctx.std_functions: 1 if ctx.quick else 2, 50: 1}
    table = Table(
        [
            "functions",
            "tool",
            "cold build",
            "no-op build",
            "no-op + zip",
            "zip cost (Δ medians)",
        ],
        title="Build and packaging time vs function count",
    )
    noop: dict[tuple[int, str], Stat] = {}
    zipped: dict[tuple[int, str], Stat] = {}
    for count in sizes:
        names = function_names(count)
        ws = std_workspace(ctx.workdir(f"std-{count}") / "ws", count)
        cold = ColdRuns(ctx, ws, names, f"std{count}")
        cold_stats = alternate(
            [(tool, partial(cold.measure, tool)) for tool in TOOLS],
            cold_runs[count],
            f"W3 cold n={count}",
        )
        dirs = cold.kept
        for tool in TOOLS:  # one untimed no-op each: settle anything the cold build left
            timed(build_cmd(ctx, tool, ws, dirs[tool]))
        noop_stats = alternate(
            [(t, partial(timed, build_cmd(ctx, t, ws, dirs[t]))) for t in TOOLS],
            ctx.fast_runs,
            f"W3 no-op n={count}",
        )
        zip_stats = alternate(
            [
                (t, partial(timed, build_cmd(ctx, t, ws, dirs[t], "--output-format", "zip")))
                for t in TOOLS
            ],
            ctx.fast_runs,
            f"W3 zip n={count}",
        )
        for tool in TOOLS:
            check_outputs(dirs[tool], names, zipped=True)
            noop[count, tool], zipped[count, tool] = noop_stats[tool], zip_stats[tool]
            delta = zip_stats[tool].median - noop_stats[tool].median
            table.add(
                count,
                tool,
                cold_stats[tool].fmt(),
                noop_stats[tool].fmt(),
                zip_stats[tool].fmt(),
                fmt_value(delta),
            )
        for measure, stats in (
            ("cold build", cold_stats),
            ("no-op build", noop_stats),
            ("no-op + zip", zip_stats),
        ):
            ours, theirs = stats["rustlambda"], stats["cargo-lambda"]
            section.comparisons.append(
                Comparison(
                    f"{count} function(s): {measure}",
                    ours.fmt(),
                    theirs.fmt(),
                    ratio(ours.median, theirs.median),
                )
            )
        section.raw[str(count)] = {
            "cold": {k: v.to_dict() for k, v in cold_stats.items()},
            "noop": {k: v.to_dict() for k, v in noop_stats.items()},
            "zip": {k: v.to_dict() for k, v in zip_stats.items()},
        }
        if count == ctx.std_functions:
            ctx.shared[f"std-{count}"] = (ws, dict(dirs))  # warm state for W1 and W4
        else:
            for path in dirs.values():
                shutil.rmtree(path, ignore_errors=True)
    section.tables.append(table)
    first, last = sizes[0], sizes[-1]
    growth = Table(
        ["tool", f"no-op: added per function ({first}→{last})", "zip no-op: added per function"],
        title="Growth",
    )
    for tool in TOOLS:
        per_noop = (noop[last, tool].median - noop[first, tool].median) / (last - first)
        per_zip = (zipped[last, tool].median - zipped[first, tool].median) / (last - first)
        growth.add(tool, fmt_value(per_noop), fmt_value(per_zip))
        if tool == "rustlambda":
            section.comparisons.append(
                Comparison(
                    f"no-op: time added per function ({first}→{last})",
                    fmt_value(per_noop),
                    "—",
                    None,
                    "≤ 1 ms",
                    per_noop <= 0.001,
                )
            )
    section.tables.append(growth)
    section.notes.append(
        "Cold builds are cargo's and rustc's work (thin LTO, one codegen unit, a zig link per "
        "binary) and grow the same way for both tools; with one cold run at the largest size "
        "the cold ratio there is indicative only."
    )
    return section
