"""W4: artifact sizes and zip reproducibility, rustlambda vs cargo-lambda on the same code."""

from __future__ import annotations

import hashlib
import os
import statistics
import time
import zipfile
import zlib
from pathlib import Path

from ..core import Context, fmt_bytes, log, ratio, run
from ..report import Comparison, Section, Table
from .cold import Cold
from .scaling import build_cmd, warm_workspace

TOOLS = ("rustlambda", "cargo-lambda")
#: cargo-lambda stores file times in its zips at the zip format's 2 s resolution: wait longer
#: than that between two builds that should give the same bytes.
ZIP_TIME_RESOLUTION = 2.2


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def zip_facts(path: Path, bootstrap: Path) -> dict[str, str]:
    """What the zip stores for its bootstrap, and which zlib level gives the same stream size."""
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    entry = next(i for i in infos if i.filename.rstrip("/").endswith("bootstrap"))
    data = bootstrap.read_bytes()
    sizes = {level: deflate_cost(data, level, runs=1)[0] for level in range(1, 10)}
    nearest = min(sizes, key=lambda level: abs(sizes[level] - entry.compress_size))
    exact = sizes[nearest] == entry.compress_size
    return {
        "entries": ", ".join(i.filename for i in infos),
        "method": {zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_STORED: "stored"}.get(
            entry.compress_type, str(entry.compress_type)
        ),
        "compressed bootstrap": f"{entry.compress_size:,} B",
        "zlib level giving that size": f"{nearest} (exact)"
        if exact
        else f"none exactly (nearest: {nearest}, {sizes[nearest]:,} B; another deflate "
        "implementation)",
        "timestamp": "{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}".format(*entry.date_time),
        "mode": oct(entry.external_attr >> 16),
        "extra fields": str(len(entry.extra)),
    }


def deflate_cost(data: bytes, level: int, runs: int = 5) -> tuple[int, float]:
    """(compressed size, median seconds) of raw deflate at ``level`` (what zipfile does)."""
    times = []
    size = 0
    for _ in range(runs):
        start = time.perf_counter()
        packer = zlib.compressobj(level, zlib.DEFLATED, -15)
        size = len(packer.compress(data) + packer.flush())
        times.append(time.perf_counter() - start)
    return size, statistics.median(times)


def _state(target: Path, function: str) -> tuple[str, str]:
    base = target / "lambda" / function
    return sha256(base / "bootstrap"), sha256(base / "bootstrap.zip")


def run_workload(ctx: Context) -> Section:
    section = Section(
        "4",
        "Artifacts: sizes and zip reproducibility",
        "Release x86_64 builds with `--output-format zip` by both tools, each in its own warm "
        "target dir: function `f01` of the generated std-only workspace and `digest` of the "
        "real-crates fixture (tokio, serde_json, ring).",
    )
    std_ws, std_dirs = warm_workspace(ctx, ctx.std_functions)
    if "crates" in ctx.shared:
        crates_ws, crates_dirs = ctx.shared["crates"]
    else:  # W2 did not run: one cold build per tool
        from ..workspaces import copy_fixture

        crates_ws = copy_fixture("crates-workspace", ctx.workdir("w4"))
        cold = Cold(ctx, crates_ws)
        for tool in TOOLS:
            log(f"W4: building the crates fixture with {tool}")
            cold.one_arch(tool, "x86_64")
        crates_dirs = {tool: cold.kept[f"x86_64-{tool}"] for tool in TOOLS}

    sizes = Table(
        ["function", "artifact", "rustlambda", "cargo-lambda", "ratio rl/cl"],
        title="Sizes (bytes)",
    )
    facts: dict[str, dict[str, str]] = {}
    for label, ws, dirs, function in (
        ("f01 (std only)", std_ws, std_dirs, "f01"),
        ("digest (tokio, serde_json, ring)", crates_ws, crates_dirs, "digest"),
    ):
        found: dict[str, tuple[int, int]] = {}
        for tool in TOOLS:
            run(build_cmd(ctx, tool, ws, dirs[tool], "--output-format", "zip"))
            base = dirs[tool] / "lambda" / function
            found[tool] = (
                (base / "bootstrap").stat().st_size,
                (base / "bootstrap.zip").stat().st_size,
            )
            facts.setdefault(tool, zip_facts(base / "bootstrap.zip", base / "bootstrap"))
        for index, kind in enumerate(("bootstrap", "bootstrap.zip")):
            ours, theirs = found["rustlambda"][index], found["cargo-lambda"][index]
            sizes.add(label, kind, f"{ours:,}", f"{theirs:,}", f"{ratio(ours, theirs):.3f}x")
            section.comparisons.append(
                Comparison(
                    f"{kind} size, {function}",
                    fmt_bytes(ours),
                    fmt_bytes(theirs),
                    ratio(ours, theirs),
                )
            )
        section.raw[function] = found
    section.tables.append(sizes)

    # Reproducibility: the same function rebuilt after a touch must give the same zip bytes.
    repro = Table(
        [
            "tool",
            "change before the rebuild",
            "bootstrap bytes identical",
            "zip bytes identical",
        ],
        title="Zip reproducibility (function f01, `--output-format zip` rebuilt after a touch)",
    )
    source = std_ws / "functions" / "f01" / "src" / "main.rs"
    verdicts: dict[str, bool] = {}
    for tool in TOOLS:
        target = std_dirs[tool]
        zip_build = build_cmd(ctx, tool, std_ws, target, "--output-format", "zip")
        run(zip_build)
        for change, path in (
            ("touch the source (cargo recompiles and relinks)", source),
            ("touch target/lambda/f01/bootstrap only", target / "lambda" / "f01" / "bootstrap"),
        ):
            before = _state(target, "f01")
            time.sleep(ZIP_TIME_RESOLUTION)
            os.utime(path)
            run(zip_build)
            after = _state(target, "f01")
            same_bin, same_zip = before[0] == after[0], before[1] == after[1]
            repro.add(tool, change, "yes" if same_bin else "no", "yes" if same_zip else "**no**")
            verdicts[tool] = verdicts.get(tool, True) and same_zip and same_bin
    section.tables.append(repro)
    section.comparisons.append(
        Comparison(
            "zip re-built after a touch: identical bytes",
            "yes" if verdicts["rustlambda"] else "no",
            "yes" if verdicts["cargo-lambda"] else "no",
            None,
        )
    )

    entry = Table(
        ["zip entry `bootstrap`", "rustlambda", "cargo-lambda"], title="What is in the zips"
    )
    for key in facts["rustlambda"]:
        entry.add(key, facts["rustlambda"][key], facts["cargo-lambda"].get(key, "?"))
    section.tables.append(entry)

    levels = Table(
        ["bootstrap", "deflate level", "compressed size", "deflate time (median of 5)"],
        title="Deflate level: size vs time (zlib, in this process)",
    )
    for function, dirs in (("f01", std_dirs), ("digest", crates_dirs)):
        data = (dirs["rustlambda"] / "lambda" / function / "bootstrap").read_bytes()
        for level in (6, 9):
            size, seconds = deflate_cost(data, level)
            levels.add(function, level, f"{size:,}", f"{seconds * 1000:.1f} ms")
    section.tables.append(levels)
    spread = max(
        abs(1 - ratio(ours, theirs))
        for found in (section.raw["f01"], section.raw["digest"])
        for ours, theirs in zip(found["rustlambda"], found["cargo-lambda"], strict=True)
    )
    section.notes += [
        f"Sizes are within {spread:.1%} "
        "of each other: the same rustc flags; the bootstraps differ by the link (rustlambda "
        "pins glibc 2.34, cargo-lambda links against zig's default glibc, and each uses its "
        "own cargo-zigbuild version); the zips also by deflate level and stored metadata.",
        "rustlambda writes every zip entry with a fixed timestamp (1980-01-01, or "
        "`SOURCE_DATE_EPOCH`) and normalised mode, so the same binary always gives the same "
        "zip; cargo-lambda stores the binary's file time, so a relink that produces the very "
        "same binary still changes the zip (and its hash for CDK, Terraform or `deploy`).",
        "Zip cost: the deflate levels each tool's zips correspond to are in the table "
        "'What is in the zips' (rustlambda: "
        f"{facts['rustlambda'].get('zlib level giving that size', '?')}; cargo-lambda: "
        f"{facts['cargo-lambda'].get('zlib level giving that size', '?')}); the table above "
        "gives the time and size of levels 6 and 9 on the same bytes.",
    ]
    return section
