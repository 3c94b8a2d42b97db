"""W1: no-op release rebuild of a multi-function workspace, with where rustlambda's time goes."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import Counter
from functools import partial
from pathlib import Path

from ..core import REPO, Cmd, Context, Stat, alternate, fmt_value, log, ratio, run, timed
from ..report import Comparison, Section, Table
from .scaling import build_cmd, warm_workspace

RL, CL, CARGO = (
    "rustlambda build --release",
    "cargo lambda build --release",
    "cargo build --release",
)
_FLAG = re.compile(r"-C (opt-level|panic|lto|codegen-units|strip|target-cpu|linker)=(\S+)")

_PLAN = """
import json, os
from rustlambda import BuildOptions, plan_build
plan = plan_build(BuildOptions(release=True))
changed = {k: v for k, v in plan.env.items() if os.environ.get(k) != v}
print(json.dumps({"argv": list(plan.argv), "env": changed}))
"""

#: (folder/file, function) in rustlambda → label, for the cProfile breakdown
_STEPS = {
    ("cli/__init__.py", "main"): "after imports: the `build` command",
    ("builder/plan.py", "plan_build"): "plan_build (options, metadata, overrides)",
    ("rustlambda/project.py", "load_workspace"): "  of which `cargo metadata` (load_workspace)",
    ("rustlambda/toolchain.py", "ensure_target_std"): (
        "`rustc --print target-libdir` (ensure_target_std)"
    ),
    ("util/cmd.py", "stream"): "the cargo run (cmd.stream; cargo itself, zig's environment cached)",
    ("builder/run.py", "_install"): "copy bootstraps (_install)",
    ("builder/run.py", "_verify"): "verify artifacts (_verify: ELF parsing)",
}
_PSTATS = """
import json, pstats, sys
wanted = json.loads(sys.argv[2])
stats = pstats.Stats(sys.argv[1])
found = {}
for (path, _line, func), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():
    key = "/".join(path.rsplit("/", 2)[-2:]) + "|" + func
    if key in wanted:
        found[wanted[key]] = found.get(wanted[key], 0.0) + cumulative
print(json.dumps({"steps": found, "total": stats.total_tt}))
"""


def release_flags(ctx: Context, ws: Path, dirs: dict[str, Path]) -> dict[str, dict[str, str]]:
    """The -C flags each tool's release build gives rustc for one function (rebuilt verbosely)."""
    found: dict[str, dict[str, str]] = {}
    source = ws / "functions" / "f01" / "src" / "main.rs"
    for tool, verbose in (("rustlambda", "-vv"), ("cargo-lambda", "-v")):
        os.utime(source)
        done = run(build_cmd(ctx, tool, ws, dirs[tool], verbose))
        for line in (done.stdout + done.stderr).splitlines():
            if "--crate-name f01 " in line and "Running" in line:
                flags = dict(_FLAG.findall(line))
                flags = {k: v.strip("`'\"") for k, v in flags.items()}
                if "linker" in flags:
                    flags["linker"] = Path(flags["linker"]).name
                found[tool] = flags
    return found


def forget_last_build(env: dict[str, str]) -> None:
    """Remove rustlambda's records of finished builds (`rustlambda.noop`), so the next
    ``rustlambda build`` runs the whole build (its other caches stay)."""
    explicit = env.get("RUSTLAMBDA_CACHE_DIR")
    xdg = env.get("XDG_CACHE_HOME")
    home = Path(env.get("HOME") or Path.home())
    folder = Path(explicit) if explicit else (Path(xdg) if xdg else home / ".cache") / "rustlambda"
    for record in folder.glob("noop-*.json"):
        record.unlink(missing_ok=True)


def whole_build(cmd: Cmd) -> float:
    """``cmd`` (a rustlambda build) timed as a whole build: its record removed first."""
    forget_last_build(cmd.env)
    return timed(cmd)


def cprofile_steps(ctx: Context, ws: Path, target: Path, runs: int) -> dict[str, Stat]:
    t = ctx.tools
    prof = ctx.scratch / "w1.prof"
    wanted = json.dumps({f"{f}|{fn}": label for (f, fn), label in _STEPS.items()})
    steps: dict[str, Stat] = {}
    for _ in range(runs):
        argv = ["-m", "cProfile", "-o", str(prof), "-m", "rustlambda", "build", "--release"]
        cmd = Cmd(
            [str(t.project_python), *argv],
            ws,
            t.rl_env(CARGO_TARGET_DIR=str(target)),
            300,
        )
        wall = whole_build(cmd)
        parsed = json.loads(
            run(
                Cmd([str(t.project_python), "-c", _PSTATS, str(prof), wanted], ws, t.rl_env(), 120)
            ).stdout
        )
        steps.setdefault("whole process (wall, under cProfile)", Stat()).samples.append(wall)
        main = parsed["steps"].get(_STEPS[("cli/__init__.py", "main")], 0.0)
        steps.setdefault("interpreter start-up + imports (wall - main)", Stat()).samples.append(
            wall - main
        )
        for label in _STEPS.values():
            steps.setdefault(label, Stat()).samples.append(parsed["steps"].get(label, 0.0))
    return steps


def _label(path: str, args: list[str]) -> str:
    name = Path(path).name
    proxy = "/.cargo/bin/" in path
    rest = [a for a in args[1:] if not a.startswith("/")][:3]
    if name.startswith("python"):
        if "ziglang" in args:
            venv = Path(path).parent.parent
            where = (
                "pyenv shim"
                if "/shims/" in path
                else str(venv.relative_to(REPO))
                if venv.is_relative_to(REPO)
                else str(venv)
            )
            return f"python3 -m ziglang {args[args.index('ziglang') + 1]} ({where})"
        return f"{name} {' '.join(rest[:2])}"
    if name in ("cargo", "rustc"):
        sub = args[1] if len(args) > 1 else ""
        if sub == "--print":
            sub = "--print target-libdir"
        return f"{name} {sub}" + (" (rustup proxy)" if proxy else "")
    if name == "zig":
        return f"zig {args[1] if len(args) > 1 else ''}"
    if name.startswith("zigc"):
        return "cargo-zigbuild zig cc/c++ wrapper script"
    if name in ("bash", "readlink", "basename") or name.startswith("pyenv"):
        return "pyenv shim machinery (bash, pyenv-*, readlink)"
    return f"{name} {rest[0] if rest else ''}".strip()


_EXEC = re.compile(r'execve\("([^"]+)", \[(.*?)\]')


def exec_census(ctx: Context, cmd: Cmd) -> Counter[str]:
    """The programs a command starts (strace -f, successful execve only)."""
    out = ctx.scratch / "w1.strace"
    traced = Cmd(
        ["strace", "-f", "-z", "-qq", "-s", "256", "-e", "trace=execve", "-o", str(out)],
        cmd.cwd,
        cmd.env,
    )
    run(traced.with_args(*cmd.argv))
    counts: Counter[str] = Counter()
    for line in out.read_text(errors="replace").splitlines():
        match = _EXEC.search(line)
        if match:
            args = re.findall(r'"((?:[^"\\]|\\.)*)"', match.group(2))
            counts[_label(match.group(1), args)] += 1
    return counts


def run_workload(ctx: Context) -> Section:
    t = ctx.tools
    section = Section(
        "1",
        f"No-op release rebuild of a {ctx.std_functions}-function workspace",
        f"The generated {ctx.std_functions}-function std-only workspace (see W3), x86_64, "
        "`--release`, nothing "
        "changed since the last build. Each tool has its own warm `CARGO_TARGET_DIR` (they "
        "would rebuild each other's artifacts: different linker wrappers). Raw cargo is "
        "`cargo build --release --target x86_64-unknown-linux-gnu --workspace` (no zig, no "
        "release tuning): the floor.",
    )
    ws, dirs = warm_workspace(ctx, ctx.std_functions)
    cargo_dir = ctx.workdir(f"std-{ctx.std_functions}/target-cargo")
    cmds = {
        RL: build_cmd(ctx, "rustlambda", ws, dirs["rustlambda"]),
        CL: build_cmd(ctx, "cargo-lambda", ws, dirs["cargo-lambda"]),
        CARGO: t.cargo(
            "build",
            "--release",
            "--target",
            "x86_64-unknown-linux-gnu",
            "--workspace",
            cwd=ws,
            CARGO_TARGET_DIR=str(cargo_dir),
        ),
    }
    flags = release_flags(ctx, ws, dirs)
    stats = _noop_stats(ctx, cmds, "W1")
    ours, anchor, raw = stats[RL], stats[CL], stats[CARGO]
    section.comparisons += _comparisons(stats, "")
    ws2, dirs2 = warm_workspace(ctx, 2)
    cmds2 = {
        RL: build_cmd(ctx, "rustlambda", ws2, dirs2["rustlambda"]),
        CL: build_cmd(ctx, "cargo-lambda", ws2, dirs2["cargo-lambda"]),
        CARGO: t.cargo(
            "build",
            "--release",
            "--target",
            "x86_64-unknown-linux-gnu",
            "--workspace",
            cwd=ws2,
            CARGO_TARGET_DIR=str(ctx.workdir("std-2/target-cargo")),
        ),
    }
    stats2 = _noop_stats(ctx, cmds2, "W1 (2 functions)")
    section.comparisons += _comparisons(stats2, ", 2 functions")
    section.raw["stats_2"] = {k: v.to_dict() for k, v in stats2.items()}
    main = Table(["command", "no-op wall time: median (min to max, n)"], title="No-op rebuild")
    for name, stat in stats.items():
        main.add(f"`{name}`", stat.fmt())
    section.tables.append(main)

    if len(flags) == 2:
        keys = sorted(set(flags["rustlambda"]) | set(flags["cargo-lambda"]))
        table = Table(
            ["rustc `-C` flag (function f01)", "rustlambda", "cargo-lambda"],
            title="Release settings each tool gives rustc (from `-v` output)",
        )
        for key in keys:
            table.add(key, flags["rustlambda"].get(key, "—"), flags["cargo-lambda"].get(key, "—"))
        section.tables.append(table)
        section.raw["flags"] = flags

    log("W1: where rustlambda's no-op time goes")
    section.notes += diagnose(ctx, section, ws, dirs["rustlambda"], ours, raw, anchor)
    section.raw["stats"] = {k: v.to_dict() for k, v in stats.items()}
    return section


def _noop_stats(ctx: Context, cmds: dict[str, Cmd], label: str) -> dict[str, Stat]:
    for cmd in cmds.values():
        run(cmd.with_timeout(3600))  # the raw cargo dir may be cold
        run(cmd)
    return alternate([(k, partial(timed, c)) for k, c in cmds.items()], ctx.fast_runs, label)


def _comparisons(stats: dict[str, Stat], suffix: str) -> list[Comparison]:
    ours, anchor, raw = stats[RL], stats[CL], stats[CARGO]
    vs_cargo = ratio(ours.median, raw.median)
    vs_cl = ratio(ours.median, anchor.median)
    return [
        Comparison(
            f"no-op rebuild vs raw `cargo build`{suffix}",
            ours.fmt(),
            f"{raw.fmt()} (cargo)",
            vs_cargo,
            "≤ 4x",
            vs_cargo <= 4,
        ),
        Comparison(
            f"no-op rebuild vs `cargo lambda build`{suffix}",
            ours.fmt(),
            f"{anchor.fmt()} (cargo-lambda)",
            vs_cl,
            "≤ 0.33x (≥ 3x faster)",
            vs_cl <= 1 / 3,
        ),
    ]


def diagnose(
    ctx: Context, section: Section, ws: Path, target: Path, ours: Stat, raw: Stat, anchor: Stat
) -> list[str]:
    t = ctx.tools
    env = t.rl_env(CARGO_TARGET_DIR=str(target))
    plan = json.loads(run(Cmd([str(t.project_python), "-c", _PLAN], ws, env, 120)).stdout)
    zig_env = {k: v for k, v in plan["env"].items() if k.startswith("CARGO_ZIGBUILD_")}
    zigbuild = Cmd(plan["argv"], ws, {**env, **plan["env"]}, 300)
    unpointed = Cmd(
        plan["argv"],
        ws,
        {k: v for k, v in {**env, **plan["env"]}.items() if k not in zig_env},
        300,
    )
    base = {**t.base_env(), "CARGO_TARGET_DIR": str(target)}
    names = {
        "rl": "rustlambda (as above: the last build shown again)",
        "whole": "rustlambda, the whole build (its record of the last build removed first)",
        "no_verify": "rustlambda --no-verify, the whole build",
        "off_path": "rustlambda with its .venv/bin not on PATH, the whole build",
        "no_pyc": "rustlambda without a bytecode cache (PYTHONDONTWRITEBYTECODE=1, editable "
        "install: how this machine's shells run it), shown again",
        "zig": "cargo-zigbuild alone: rustlambda's exact command and environment",
        "unpointed": "cargo-zigbuild alone, without rustlambda's CARGO_ZIGBUILD_* variables "
        f"({', '.join(sorted(zig_env)) or 'none set'})",
    }
    variants = {
        names["rl"]: build_cmd(ctx, "rustlambda", ws, target),
        names["whole"]: build_cmd(ctx, "rustlambda", ws, target),
        names["no_verify"]: build_cmd(ctx, "rustlambda", ws, target, "--no-verify"),
        names["off_path"]: Cmd([str(t.rustlambda), "build", "--release"], ws, base, 300),
        names["no_pyc"]: Cmd(
            [str(t.rustlambda), "build", "--release"],
            ws,
            {
                **{k: v for k, v in env.items() if k != "PYTHONPYCACHEPREFIX"},
                "PYTHONDONTWRITEBYTECODE": "1",
            },
            300,
        ),
        names["zig"]: zigbuild,
        names["unpointed"]: unpointed,
    }
    for cmd in variants.values():
        run(cmd)
    whole = {names[k] for k in ("whole", "no_verify", "off_path")}
    stats = alternate(
        [(k, partial(whole_build if k in whole else timed, c)) for k, c in variants.items()],
        ctx.fast_runs,
        "W1 diag",
    )
    table = Table(
        ["variant (same warm target dir)", "no-op wall time: median (min to max, n)"],
        title="Where rustlambda's no-op time goes: variants",
    )
    for name, stat in stats.items():
        table.add(name, stat.fmt())
    section.tables.append(table)

    steps = cprofile_steps(ctx, ws, target, ctx.fast_runs)
    prof = Table(
        ["step (cProfile cumulative, medians)", "time"],
        title=f"`python -m cProfile -m rustlambda build --release` (the whole build), "
        f"{ctx.fast_runs} runs",
    )
    for label, stat in steps.items():
        prof.add(label, fmt_value(stat.median))
    section.tables.append(prof)

    census: dict[str, Counter[str]] = {}
    if shutil.which("strace"):
        census["rustlambda"] = exec_census(ctx, build_cmd(ctx, "rustlambda", ws, target))
        census["cargo-lambda"] = exec_census(ctx, variants_cl(ctx, ws))
        labels = sorted(set(census["rustlambda"]) | set(census["cargo-lambda"]))
        procs = Table(
            ["process started (strace -f, execve)", "rustlambda", "cargo-lambda"],
            title="Processes one no-op build starts",
        )
        for label in labels:
            procs.add(label, census["rustlambda"][label], census["cargo-lambda"][label])
        procs.add(
            "**total**",
            sum(census["rustlambda"].values()),
            sum(census["cargo-lambda"].values()),
        )
        section.tables.append(procs)
        section.raw["census"] = {k: dict(v) for k, v in census.items()}
    section.raw["diagnostics"] = {k: v.to_dict() for k, v in stats.items()}
    section.raw["cprofile"] = {k: v.to_dict() for k, v in steps.items()}

    median = {key: stats[name].median for key, name in names.items()}
    step = {label: stat.median for label, stat in steps.items()}
    rl_census = census.get("rustlambda", Counter())
    cl_census = census.get("cargo-lambda", Counter())
    probes = {tool: sum(v for k, v in c.items() if "ziglang" in k) for tool, c in census.items()}
    zig_own = sorted(
        (k, v)
        for k, v in rl_census.items()
        if k.startswith(("zig", "cargo-zigbuild zig", "rustc -vV"))
    )

    def at(file: str, function: str) -> str:
        return fmt_value(step[_STEPS[(file, function)]])

    notes = [
        f"Raw cargo's no-op is {fmt_value(raw.median)}: a fingerprint check. rustlambda's "
        f'{fmt_value(ours.median)} is the last build shown again (README, "The same build '
        "again, unchanged\"): Python's start-up, the stamps of the last build's inputs and "
        "outputs, and cargo run exactly as that build ran it. The whole build (its record "
        f"removed, every other cache kept) takes {fmt_value(median['whole'])} and "
        "splits into (cProfile medians, table above; cProfile adds "
        f"overhead to the Python parts) interpreter start-up and imports "
        f"{fmt_value(step['interpreter start-up + imports (wall - main)'])}, `cargo metadata` "
        f"{at('rustlambda/project.py', 'load_workspace')}, the target std check "
        f"{at('rustlambda/toolchain.py', 'ensure_target_std')}, the cargo "
        f"run {at('util/cmd.py', 'stream')}, copying the bootstraps "
        f"{at('builder/run.py', '_install')} and verifying them "
        f"{at('builder/run.py', '_verify')}.",
        f"cargo-zigbuild alone, with rustlambda's exact command line and environment, takes "
        f"{fmt_value(median['zig'])} for the no-op: {ratio(median['zig'], raw.median):.1f}x raw "
        "cargo before any Python runs. rustlambda's no-op starts "
        + (", ".join(f"{label} x{count}" for label, count in zig_own) or "none")
        + " of cargo-zigbuild's probes (cargo-zigbuild runs `zig cc -E -v` and `zig c++ -E -v` "
        "on an empty file on every invocation "
        "to collect clang's options, each through its own wrapper process) — the floor of any "
        "build that goes through cargo-zigbuild on every run, as cargo-lambda's does.",
    ]
    if probes.get("rustlambda"):
        notes.append(
            f"rustlambda's build still starts {probes['rustlambda']} `python3 -m ziglang` "
            "processes: cargo-zigbuild asks `python3 -m ziglang` for zig before it looks at "
            "`CARGO_ZIGBUILD_ZIG_PATH`."
        )
    else:
        notes.append(
            "No `python3 -m ziglang` process in rustlambda's build (it hands cargo-zigbuild its "
            f"zig through {', '.join(sorted(zig_env)) or 'the environment'}); cargo-lambda's "
            f"starts {probes.get('cargo-lambda', 0)}. Without those variables cargo-zigbuild "
            f"alone takes {fmt_value(median['unpointed'])} (it probes `python3 -m ziglang` "
            "first), and rustlambda's whole build with its `.venv/bin` off PATH takes "
            f"{fmt_value(median['off_path'])} ({fmt_value(median['whole'])} on PATH: PATH's "
            "python3 no longer matters)."
        )
    notes += [
        f"Bytecode: without a `.pyc` cache (this machine's shells set "
        "`PYTHONDONTWRITEBYTECODE=1` and the project is an editable install) the last build "
        f"shown again takes {fmt_value(median['no_pyc'])}: Python compiles every rustlambda "
        "module it imports on each start. The other figures use a bytecode cache, as an "
        "installed package has.",
        f"Verification: the whole build with `--no-verify` takes "
        f"{fmt_value(median['no_verify'])}, so checking the {ctx.std_functions} bootstraps "
        f"costs {fmt_value(max(0.0, median['whole'] - median['no_verify']))} "
        "(bytes verified before are looked up by their SHA-256, not parsed again).",
        f"Process count: rustlambda starts {sum(rl_census.values())} processes per no-op "
        f"build, cargo-lambda {sum(cl_census.values())} (table). cargo-lambda "
        f"({fmt_value(anchor.median)}) is a native binary: no interpreter start-up, but it "
        "runs the same cargo-zigbuild preparation in-process and probes `python3 -m ziglang`.",
        f"Goals: ≤ 4x raw cargo is {fmt_value(4 * raw.median)}; ≥ 3x faster than "
        f"cargo-lambda is ≤ {fmt_value(anchor.median / 3)}. cargo-zigbuild alone (what "
        f"rustlambda ran before issue 16, and what it now runs only when its recorded "
        f"environment is missing or stale) takes {fmt_value(median['zig'])}: rustlambda "
        "runs cargo directly with the environment cargo-zigbuild would give it.",
    ]
    return notes


def variants_cl(ctx: Context, ws: Path) -> Cmd:
    _, dirs = warm_workspace(ctx, ctx.std_functions)
    return build_cmd(ctx, "cargo-lambda", ws, dirs["cargo-lambda"])
