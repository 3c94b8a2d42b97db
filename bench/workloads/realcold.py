"""W2r and W8: cold release builds of `tests/fixtures/real-crates` (lambda_runtime, lambda_http,
lambda-extension, aws-sdk-rust with aws-lc-sys...), per architecture, each in a fresh
`CARGO_TARGET_DIR`.

- W2r: rustlambda vs `cargo lambda build` (issue 14's W2 on the real-crate workspace).
- W8: rustlambda with a warm shared compile cache (`--cache sccache`) vs without (issue 18),
  both architectures in one command: a first cached build fills an empty sccache directory,
  then another checkout of the workspace (another path, a fresh target dir: another CI
  machine) builds with it.

Each build takes minutes on 2 cores, so each runs once (the tables say n).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core import BenchError, Context, fmt_bytes, fmt_value, log, ratio, run
from ..report import Comparison, Section, Table
from ..workspaces import copy_fixture

ARCHES = ("x86_64", "arm64")
ARCH_FLAG = {"x86_64": "--x86-64", "arm64": "--arm64"}
#: A bootstrap every default build of real-crates leaves (the SDK function: aws-lc-sys inside).
PROBE_BIN = "sdk"
TIMEOUT = 5400.0


@dataclass(frozen=True)
class Run:
    seconds: float
    result: dict[str, Any] | None  # rustlambda's --json


def _fresh(ctx: Context, prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix, dir=ctx.scratch))


def _checkout(ctx: Context, name: str) -> Path:
    return copy_fixture("real-crates", ctx.workdir(name))


def _build(ctx: Context, tool: str, arch: str, ws: Path, **env: str) -> Run:
    """One cold build in a fresh target dir (removed afterwards); ``arch`` ``both``: x86_64
    and arm64 in one rustlambda command."""
    target = _fresh(ctx, f"real-{tool}-{arch}-")
    t = ctx.tools
    env = {"CARGO_TARGET_DIR": str(target), **env}
    flags = tuple(ARCH_FLAG.values()) if arch == "both" else (ARCH_FLAG[arch],)
    if tool == "cargo-lambda":
        cmd = t.cl("build", "--release", *flags, cwd=ws, timeout=TIMEOUT, **env)
    else:
        extra = ("--cache", "sccache") if tool == "rustlambda+cache" else ()
        cmd = t.rl("build", "--release", *flags, "--json", *extra, cwd=ws, timeout=TIMEOUT, **env)
    start = time.perf_counter()
    done = run(cmd)
    seconds = time.perf_counter() - start
    try:
        probes = [f"{a}/{PROBE_BIN}" for a in ARCHES] if arch == "both" else [PROBE_BIN]
        if not all((target / "lambda" / p / "bootstrap").is_file() for p in probes):
            raise BenchError(f"{tool} left no {PROBE_BIN} bootstrap in {target}")
        result = json.loads(done.stdout) if tool != "cargo-lambda" else None
    finally:
        shutil.rmtree(target, ignore_errors=True)
    log(f"real-crates {arch} {tool}: {fmt_value(seconds)}")
    return Run(seconds, result)


def _uncached(ctx: Context, arch: str) -> Run:
    """rustlambda's uncached cold build of ``arch``, measured once for both workloads."""
    runs: dict[str, Run] = ctx.shared.setdefault("real-uncached", {})
    if arch not in runs:
        runs[arch] = _build(ctx, "rustlambda", arch, _checkout(ctx, "real-a"))
    return runs[arch]


def run_w2r(ctx: Context) -> Section:
    section = Section(
        "2r",
        "Cold release build of the real-crate workspace",
        "`tests/fixtures/real-crates` from crates.io (its committed Cargo.lock): the default "
        "members — lambda_runtime, lambda_http and streaming functions, a lambda-extension, an "
        "aws-sdk-rust function (aws-lc-sys: C and assembly) and a C-using function. A fresh "
        "`CARGO_TARGET_DIR` per build, one build per tool and architecture (minutes each). Both "
        "tools at their defaults (zig through cargo-zigbuild; rustlambda pins glibc 2.34).",
    )
    table = Table(["architecture", "rustlambda", "cargo-lambda"], title="Cold builds (n=1)")
    for arch in ARCHES:
        ours = _uncached(ctx, arch).seconds
        theirs = _build(ctx, "cargo-lambda", arch, _checkout(ctx, "real-a")).seconds
        value = ratio(ours, theirs)
        section.comparisons.append(
            Comparison(
                f"cold build of the real-crate workspace, {arch}",
                f"{fmt_value(ours)} (n=1)",
                f"{fmt_value(theirs)} (n=1)",
                value,
                "≤ 1.05x",
                value <= 1.05,
            )
        )
        table.add(arch, fmt_value(ours), fmt_value(theirs))
        section.raw[arch] = {"rustlambda": ours, "cargo-lambda": theirs}
    section.tables.append(table)
    return section


def _size(directory: Path) -> int:
    return sum(
        (Path(root) / name).stat().st_size
        for root, _, files in os.walk(directory)
        for name in files
    )


def _hits(result: dict[str, Any] | None) -> str:
    stats = (result or {}).get("cache")
    if not stats:
        return "—"
    rate = stats["hit_rate"]
    shown = "—" if rate is None else f"{rate:.0%}"
    return f"{shown} ({stats['hits']} hits, {stats['misses']} misses)"


def run_w8(ctx: Context) -> Section:
    section = Section(
        "8",
        "Cold build with a warm shared compile cache (--cache sccache)",
        "`tests/fixtures/real-crates`, release, x86_64 and arm64 in one rustlambda command. "
        "*Uncached*: a cold build. *Fill*: a cold build with `--cache sccache` and an empty "
        "sccache directory, both architectures in one command (the same selection as the warm "
        "build: sccache's Rust keys include cargo's `CARGO_*` environment and rustc's "
        "arguments, which depend in part on the selected targets; see README). *Warm*: another "
        "checkout of the workspace at another path, a fresh "
        "target dir, `--cache sccache` with the filled directory — what a CI machine gets from a "
        "shared bucket, without the network transfer (sccache's local disk backend; S3 adds the "
        "download of the entries). Binaries, build scripts and proc-macros are never cached "
        "(sccache's Rust caveats): they compile on every cold build.",
    )
    table = Table(
        ["build (x86_64 + arm64)", "wall time (n=1)", "hit rate", "cache size after"],
        title="Cold builds with and without the cache",
    )
    uncached = _build(ctx, "rustlambda", "both", _checkout(ctx, "real-a"))
    cache_dir = _fresh(ctx, "sccache-")
    fill = _build(
        ctx, "rustlambda+cache", "both", _checkout(ctx, "real-a"), SCCACHE_DIR=str(cache_dir)
    )
    size = _size(cache_dir)
    warm = _build(
        ctx, "rustlambda+cache", "both", _checkout(ctx, "real-b"), SCCACHE_DIR=str(cache_dir)
    )
    shutil.rmtree(cache_dir, ignore_errors=True)
    value = ratio(warm.seconds, uncached.seconds)
    section.comparisons.append(
        Comparison(
            "cold build x86_64 + arm64 with a warm cache vs uncached",
            f"{fmt_value(warm.seconds)} (n=1)",
            f"{fmt_value(uncached.seconds)} (n=1) (uncached)",
            value,
            "≤ 0.35x",
            value <= 0.35,
        )
    )
    table.add("uncached", fmt_value(uncached.seconds), "—", "—")
    table.add("fill (empty cache)", fmt_value(fill.seconds), _hits(fill.result), fmt_bytes(size))
    table.add("warm cache, another checkout", fmt_value(warm.seconds), _hits(warm.result), "")
    section.raw["both"] = {
        "uncached": uncached.seconds,
        "fill": fill.seconds,
        "warm": warm.seconds,
        "cache_bytes": size,
        "fill_cache": (fill.result or {}).get("cache"),
        "warm_cache": (warm.result or {}).get("cache"),
    }
    section.tables.append(table)
    return section
