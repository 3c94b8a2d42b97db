"""W7: start-up. ``rustlambda --version`` wall time, ``cargo lambda --version`` as reference."""

from __future__ import annotations

import re
from functools import partial

from ..core import Cmd, Context, alternate, fmt_value, ratio, run, timed
from ..report import Comparison, Section, Table

IMPORT_PACKAGE = "python -c 'import rustlambda'"
NO_PYC = "rustlambda --version, without a bytecode cache (PYTHONDONTWRITEBYTECODE=1)"
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def import_profile(ctx: Context, statement: str) -> list[tuple[str, float, int]]:
    """(module, cumulative ms, depth) from ``python -X importtime``, in the project's .venv."""
    t = ctx.tools
    cmd = Cmd(
        [str(t.project_python), "-X", "importtime", "-c", statement],
        ctx.scratch,
        t.rl_env(),
        120,
    )
    found = []
    for line in run(cmd).stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            depth = len(match.group(3)) // 2
            found.append((match.group(4), int(match.group(2)) / 1000, depth))
    return found


def run_workload(ctx: Context) -> Section:
    t = ctx.tools
    section = Section(
        "7",
        "Start-up: `rustlambda --version`",
        "Wall time of a process that only prints its version (Python start-up plus imports for "
        "rustlambda, a native binary behind the rustup `cargo` proxy for cargo-lambda). "
        "Reference rows show where rustlambda's time goes.",
    )
    runs = 10 if ctx.quick else 20
    cwd = ctx.scratch
    py = str(t.project_python)
    # as this machine's shells run it: no bytecode written, the installed packages' own .pyc
    no_pyc = {k: v for k, v in t.rl_env().items() if k != "PYTHONPYCACHEPREFIX"}
    no_pyc["PYTHONDONTWRITEBYTECODE"] = "1"
    cases = {
        "rustlambda --version": t.rl("--version", cwd=cwd, timeout=60),
        NO_PYC: Cmd([str(t.rustlambda), "--version"], cwd, no_pyc, 60),
        "cargo lambda --version": t.cl("--version", cwd=cwd, timeout=60),
        "cargo-lambda --version (no cargo proxy)": Cmd(
            [str(t.bench_venv / "bin" / "cargo-lambda"), "lambda", "--version"],
            cwd,
            t.cl_env(),
            60,
        ),
        "python -c pass (project .venv)": Cmd([py, "-c", "pass"], cwd, t.rl_env(), 60),
        IMPORT_PACKAGE: Cmd([py, "-c", "import rustlambda"], cwd, t.rl_env(), 60),
        "python -c 'import rustlambda.cli'": Cmd(
            [py, "-c", "import rustlambda.cli"], cwd, t.rl_env(), 60
        ),
        "python -c 'import click, rich.console'": Cmd(
            [py, "-c", "import click, rich.console"], cwd, t.rl_env(), 60
        ),
        "python -c 'import click'": Cmd([py, "-c", "import click"], cwd, t.rl_env(), 60),
    }
    for cmd in cases.values():  # warm the page cache and .pyc files
        run(cmd)
    stats = alternate([(name, partial(timed, cmd)) for name, cmd in cases.items()], runs, "W7")
    ours, theirs = stats["rustlambda --version"], stats["cargo lambda --version"]
    section.comparisons.append(
        Comparison(
            "`--version` wall time",
            ours.fmt(),
            f"{theirs.fmt()} (`cargo lambda --version`)",
            ratio(ours.median, theirs.median),
            "— (reference)",
            None,
        )
    )
    table = Table(["command", "wall time: median (min to max, n)"], title="Start-up")
    for name, stat in stats.items():
        table.add(f"`{name}`", stat.fmt())
    section.tables.append(table)

    profile = import_profile(ctx, "import rustlambda.cli")
    shallow = [(m, ms) for m, ms, depth in profile if depth <= 1 and ms >= 2.0]
    shallow.sort(key=lambda item: -item[1])
    imports = Table(
        ["module (top-level imports of `rustlambda.cli`)", "cumulative import time"],
        title="`python -X importtime -c 'import rustlambda.cli'` (one run, >= 2 ms)",
    )
    for module, ms in shallow[:12]:
        imports.add(f"`{module}`", f"{ms:.1f} ms")
    section.tables.append(imports)
    python_alone = stats["python -c pass (project .venv)"].median
    package = stats[IMPORT_PACKAGE].median - python_alone
    cli = stats["python -c 'import rustlambda.cli'"].median - python_alone
    third = stats["python -c 'import click, rich.console'"].median - python_alone
    rich = third - (stats["python -c 'import click'"].median - python_alone)
    heavy = [m for m, ms, depth in profile if depth <= 1 and ms >= 2.0 and m != "rustlambda.cli"]
    eager = [m for m in heavy if m.startswith("rustlambda.") and m != "rustlambda"]
    section.notes.append(
        f"Python itself starts in {fmt_value(python_alone)}; `rustlambda --version` takes "
        f"{ours.fmt(spread=False)}, `cargo lambda --version` {theirs.fmt(spread=False)} (of which "
        f"the rustup `cargo` proxy and cargo: "
        f"{fmt_value(theirs.median - stats['cargo-lambda --version (no cargo proxy)'].median)})."
    )
    section.notes.append(
        f"Over bare Python, `import rustlambda` costs {fmt_value(package)} and "
        f"`import rustlambda.cli` {fmt_value(cli)}; click and rich.console take "
        f"{fmt_value(third)} by themselves. "
        + (
            "The package's names are imported lazily: the CLI's start-up is its libraries and "
            "the CLI module itself."
            if not eager
            else "The package imports its modules eagerly: "
            + ", ".join(f"`{m}`" for m in eager[:5])
            + " (import profile above)."
        )
        + (
            f" rich alone is {fmt_value(rich)} of it and `--version` does not use it: importing "
            "rich only where output is rendered would take that off every command that prints "
            "little."
            if any(m.startswith("rich") for m, _, _ in profile)
            else f" rich ({fmt_value(rich)}) is imported only by the commands that render "
            "output, not by the CLI's start-up."
        )
    )
    section.notes.append(
        f"Without a bytecode cache for rustlambda (this machine's shells set "
        "`PYTHONDONTWRITEBYTECODE=1` and the project is an editable install, so no `.pyc` "
        "exists under `src/`; the dependencies keep the ones pip wrote) Python compiles "
        f"rustlambda's modules on every start: `--version` takes "
        f"{stats[NO_PYC].fmt(spread=False)} instead of {ours.fmt(spread=False)} (a no-op "
        "build, which imports many more modules: W1's variants). Every other figure in this "
        "report uses a bytecode cache."
    )
    section.raw = {name: stat.to_dict() for name, stat in stats.items()}
    return section
