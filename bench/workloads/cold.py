"""W2: cold release builds of the real-crates fixture (tokio, serde_json, ring from Debian)."""

from __future__ import annotations

import shutil
import tempfile
from functools import partial
from pathlib import Path

from ..core import BenchError, Context, alternate, ratio, timed
from ..report import Comparison, Section, Table
from ..workspaces import copy_fixture

TOOLS = ("rustlambda", "cargo-lambda")
ARCH_FLAG = {"x86_64": "--x86-64", "arm64": "--arm64"}


class Cold:
    def __init__(self, ctx: Context, ws: Path) -> None:
        self.ctx, self.ws = ctx, ws
        #: the last cold target dir of each (case, tool), kept for W4
        self.kept: dict[str, Path] = {}

    def _fresh(self, key: str) -> Path:
        previous = self.kept.pop(key, None)
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)
        path = Path(tempfile.mkdtemp(prefix=f"w2-{key}-", dir=self.ctx.scratch))
        self.kept[key] = path
        return path

    def one_arch(self, tool: str, arch: str) -> float:
        target = self._fresh(f"{arch}-{tool}")
        t = self.ctx.tools
        make = t.rl if tool == "rustlambda" else t.cl
        cmd = make("build", "--release", ARCH_FLAG[arch], cwd=self.ws, timeout=3600)
        seconds = timed(cmd.with_env(CARGO_TARGET_DIR=str(target)))
        _expect(target / "lambda" / "digest" / "bootstrap")
        return seconds

    def both_arches(self, tool: str) -> float:
        target = self._fresh(f"both-{tool}")
        t = self.ctx.tools
        env = {"CARGO_TARGET_DIR": str(target)}
        if tool == "rustlambda":
            cmd = t.rl("build", "--release", "--arm64", "--x86-64", cwd=self.ws, timeout=3600)
            seconds = timed(cmd.with_env(**env))
        else:  # two commands, one lambda dir per architecture (as rustlambda lays them out)
            seconds = 0.0
            for arch in ("x86_64", "arm64"):
                cmd = t.cl(
                    "build",
                    "--release",
                    ARCH_FLAG[arch],
                    "--lambda-dir",
                    str(target / "lambda" / arch),
                    cwd=self.ws,
                    timeout=3600,
                )
                seconds += timed(cmd.with_env(**env))
        for arch in ("x86_64", "arm64"):
            _expect(target / "lambda" / arch / "digest" / "bootstrap")
        return seconds


def _expect(path: Path) -> None:
    if not path.is_file():
        raise BenchError(f"expected {path} after the build")


def run_workload(ctx: Context) -> Section:
    section = Section(
        "2",
        "Cold release build of the real-crates fixture",
        "`tests/fixtures/crates-workspace` (tokio, serde_json and ring — C and assembly inside — "
        "resolved offline from Debian's `librust-*-dev` through the fixture's "
        "`.cargo/config.toml`), a fresh `CARGO_TARGET_DIR` for every run. **Equivalent "
        "optimizations: both tools at their defaults**, which give rustc the same release "
        "settings (strip=symbols, lto=thin, codegen-units=1, panic=abort, target-cpu=haswell / "
        "neoverse-n1 — W1 shows the `-C` flags of both from their `-v` output). Both link "
        "through cargo-zigbuild; rustlambda pins glibc 2.34 (provided.al2023), cargo-lambda "
        "uses zig's default glibc.",
    )
    ws = copy_fixture("crates-workspace", ctx.workdir("w2"))
    cold = Cold(ctx, ws)
    table = Table(["build", "tool", "cold wall time: median (min to max, n)"], title="Cold builds")
    for arch in ("x86_64", "arm64"):
        stats = alternate(
            [(tool, partial(cold.one_arch, tool, arch)) for tool in TOOLS],
            ctx.cold_runs,
            f"W2 {arch}",
        )
        ours, theirs = stats["rustlambda"], stats["cargo-lambda"]
        value = ratio(ours.median, theirs.median)
        section.comparisons.append(
            Comparison(
                f"cold build, {arch}", ours.fmt(), theirs.fmt(), value, "≤ 1.05x", value <= 1.05
            )
        )
        for tool in TOOLS:
            table.add(arch, tool, stats[tool].fmt())
        section.raw[arch] = {k: v.to_dict() for k, v in stats.items()}
    if ctx.quick:
        section.notes.append("Quick mode: the x86_64 + arm64 comparison runs in full mode only.")
        return finish(ctx, section, cold, ws, table)
    stats = alternate(
        [(tool, partial(cold.both_arches, tool)) for tool in TOOLS],
        ctx.cold_runs,
        "W2 both",
    )
    ours, theirs = stats["rustlambda"], stats["cargo-lambda"]
    value = ratio(ours.median, theirs.median)
    section.comparisons.append(
        Comparison(
            "cold build, x86_64 + arm64 (one rustlambda command vs two cargo-lambda commands)",
            ours.fmt(),
            theirs.fmt(),
            value,
            "≤ 1.05x",
            value <= 1.05,
        )
    )
    table.add("x86_64 + arm64", "rustlambda (`--arm64 --x86-64`, one cargo run)", ours.fmt())
    table.add("x86_64 + arm64", "cargo-lambda (`--x86-64`, then `--arm64`)", theirs.fmt())
    section.raw["both"] = {k: v.to_dict() for k, v in stats.items()}
    return finish(ctx, section, cold, ws, table)


def finish(ctx: Context, section: Section, cold: Cold, ws: Path, table: Table) -> Section:
    section.tables.append(table)
    ctx.shared["crates"] = (ws, {tool: cold.kept[f"x86_64-{tool}"] for tool in TOOLS})
    for key, path in cold.kept.items():
        if not key.startswith("x86_64-"):
            shutil.rmtree(path, ignore_errors=True)
    return section
