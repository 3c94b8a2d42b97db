"""What ``watch`` shows while it builds: cargo's output read into progress (stage, crate,
counts), a failed build's diagnostics kept whole, and how the CLI renders both. Editor
temporary files that must not trigger a rebuild. Nothing is run: cargo's output here is what
cargo 1.9x prints (captured), fed line by line."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from rich.console import Console
from watchfiles import Change

from rustlambda.builder import BuildResult
from rustlambda.cli import render
from rustlambda.cli.status import BuildStatus
from rustlambda.errors import CompileError
from rustlambda.options import BuildOptions
from rustlambda.progress import (
    BuildProgress,
    BuildSession,
    ProgressReporter,
    Stage,
    plain,
    progress_env,
)
from rustlambda.reporting import Reporter
from rustlambda.sources import SourceFilter, is_editor_temp_file

ESC = "\x1b"
#: `cargo build` with CARGO_TERM_PROGRESS_WHEN=always on a pipe, colours on (as watch runs it
#: on a terminal); universal newlines turn each \r-separated redraw into a line.
COLOURED = [
    f"{ESC}[1m{ESC}[92m     Locking{ESC}[0m 2 packages to latest compatible versions",
    f"{ESC}[1m{ESC}[92m   Compiling{ESC}[0m ryu v1.0.23",
    f"{ESC}[1m{ESC}[96m    Building{ESC}[0m [                             ] 0/3: ryu     ",
    f"{ESC}[K{ESC}[1m{ESC}[92m   Compiling{ESC}[0m itoa v1.0.19",
    f"{ESC}[1m{ESC}[96m    Building{ESC}[0m [========>                    ] 1/3: itoa    ",
    f"{ESC}[K{ESC}[1m{ESC}[92m   Compiling{ESC}[0m demo v0.1.0 (/ws/functions/demo)",
    f"{ESC}[1m{ESC}[96m    Building{ESC}[0m [==================>          ] 2/3: demo(bin) ",
    f"{ESC}[1m{ESC}[91merror[E0308]{ESC}[0m{ESC}[1m: mismatched types{ESC}[0m",
    f" {ESC}[1m{ESC}[94m--> {ESC}[0mfunctions/demo/src/main.rs:4:23",
    f"  {ESC}[1m{ESC}[94m|{ESC}[0m",
    f'{ESC}[1m{ESC}[94m4{ESC}[0m {ESC}[1m{ESC}[94m|{ESC}[0m fn x() -> u32 {{ "s" }}',
    "",
    f'{ESC}[1m{ESC}[91merror{ESC}[0m: could not compile `demo` (bin "demo") due to 1 error',
    "",
]


class Quiet:
    """A Reporter that keeps what it is given."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        pass

    def warning(self, message: str) -> None:
        pass

    def command(self, argv: Sequence[str]) -> None:
        pass

    def output(self, line: str) -> None:
        self.lines.append(line)


def follow(lines: list[str]) -> tuple[ProgressReporter, list[BuildProgress], Quiet]:
    seen: list[BuildProgress] = []
    inner = Quiet()
    follower = ProgressReporter(inner, seen.append)
    for line in lines:
        follower.output(line)
    return follower, seen, inner


def test_progress_follows_cargo_status_lines_and_its_progress_bar() -> None:
    _, seen, inner = follow(COLOURED)
    compiling = [p for p in seen if p.stage is Stage.COMPILING]
    assert [p.crate for p in compiling][:2] == ["ryu v1.0.23", "ryu"]
    assert compiling[-1].describe() == "compiling demo v0.1.0 [1/3]"
    # only the Lambda binary's own unit left: linking (its crate and the link)
    last = seen[-1]
    assert last.stage is Stage.LINKING
    assert (last.done, last.total, last.crate) == (2, 3, "demo(bin)")
    assert last.compiled == 3
    assert last.describe() == "linking demo [2/3]"
    # the bar's redraws are not passed on (a verbose console would print each of them)
    assert not any("Building" in plain(line) for line in inner.lines)
    assert any("Compiling" in plain(line) for line in inner.lines)


def test_a_failed_build_keeps_every_diagnostic_line_as_cargo_printed_it() -> None:
    follower, _, _ = follow(COLOURED)
    final = follower.finish(ok=False)
    assert final.stage is Stage.FAILED and final.seconds is not None
    assert final.diagnostics[0].startswith(f"{ESC}[1m{ESC}[91merror[E0308]")  # colours kept
    assert [plain(line) for line in final.diagnostics] == [
        "error[E0308]: mismatched types",
        " --> functions/demo/src/main.rs:4:23",
        "  |",
        '4 | fn x() -> u32 { "s" }',
        "",
        'error: could not compile `demo` (bin "demo") due to 1 error',
    ]  # no status line, no progress bar, no trailing blank line


def test_the_bar_without_its_label_under_cargo_quiet_is_read_not_passed_on() -> None:
    _, seen, inner = follow(["[=============>               ] 1/2: hello(bin)     "])
    assert (seen[-1].stage, seen[-1].done, seen[-1].total) == (Stage.LINKING, 1, 2)
    assert inner.lines == []


def test_without_the_bar_progress_counts_compiling_lines() -> None:
    lines = [
        "    Blocking waiting for file lock on build directory",
        "   Compiling serde v1.0.210",
        "   Compiling tokio v1.40.0",
        "warning: unused variable: `x`",
        "    Finished `dev` profile [unoptimized] target(s) in 3.2s",
    ]
    follower, seen, _ = follow(lines)
    assert seen[0].describe() == "starting (waiting for file lock on build directory)"
    assert seen[2].describe() == "compiling tokio v1.40.0 [crate 2]"
    assert seen[-1].describe() == "compiling [crate 2]"  # finished: the builder says what next
    assert follower.diagnostics == ["warning: unused variable: `x`"]


def test_a_wait_for_cargo_s_lock_after_compiling_was_announced_is_said() -> None:
    follower, seen, _ = follow([])
    follower.stage(Stage.COMPILING, "hello for arm64")
    follower.output("    Blocking waiting for file lock on build directory")
    assert (
        seen[-1].describe()
        == "compiling hello for arm64 (waiting for file lock on build directory)"
    )
    follower.output("   Compiling serde v1.0.210")
    assert seen[-1].describe() == "compiling serde v1.0.210 [crate 1]"


def test_progress_env_turns_the_bar_on_unless_the_user_chose() -> None:
    env = progress_env({"PATH": "/bin"})
    assert env["CARGO_TERM_PROGRESS_WHEN"] == "always" and env["CARGO_TERM_PROGRESS_WIDTH"]
    mine = {"CARGO_TERM_PROGRESS_WHEN": "never"}
    assert progress_env(mine) == mine


# --------------------------------------------------------------------------- BuildSession


def _fake_build(lines: list[str], fail: bool) -> object:
    def run(options: BuildOptions, reporter: Reporter) -> BuildResult:
        for line in lines:
            reporter.output(line)
        if fail:
            raise CompileError("cargo failed (exit code 101)", "fix it", details="last lines")
        return BuildResult((), Path("/ws/target/lambda"), ("cargo", "build"))

    return run


@pytest.mark.parametrize("first", [True, False])
def test_a_failed_build_ends_with_its_diagnostics(first: bool) -> None:
    seen: list[BuildProgress] = []

    async def main() -> None:
        session = BuildSession(_fake_build(COLOURED, fail=True), Quiet(), seen.append)  # type: ignore[arg-type]
        with pytest.raises(CompileError) as info:
            await session.build(BuildOptions(), first=first)
        # a first build's diagnostics travel in the error (watch ends with it), in full
        if first:
            assert plain(info.value.details).startswith("error[E0308]: mismatched types")
        else:
            assert info.value.details == "last lines"

    asyncio.run(main())
    assert seen[0].stage is Stage.STARTING
    final = seen[-1]
    assert final.stage is Stage.FAILED
    assert bool(final.diagnostics) is not first
    assert any(p.stage is Stage.COMPILING for p in seen)  # relayed from the build's thread


def test_a_successful_build_ends_done() -> None:
    seen: list[BuildProgress] = []

    async def main() -> BuildResult:
        session = BuildSession(_fake_build(COLOURED[:3], fail=False), Quiet(), seen.append)  # type: ignore[arg-type]
        return await session.build(BuildOptions(), first=True)

    assert asyncio.run(main()).command == ("cargo", "build")
    assert seen[-1].stage is Stage.DONE and not seen[-1].diagnostics


# --------------------------------------------------------------------------- rendering


def console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=200, soft_wrap=True), out


def test_on_a_pipe_a_progress_line_at_most_every_few_seconds() -> None:
    err, out = console(False)
    status = BuildStatus(err, live=False, quiet=False)
    started = time.monotonic()
    status(BuildProgress(started, Stage.STARTING))  # said by watch's own "rebuilding" line
    status(BuildProgress(started, Stage.STARTING, note="waiting for file lock on x"))
    for crate in ("a v1", "b v1", "c v1"):
        status(BuildProgress(started, Stage.COMPILING, crate=crate, done=1, total=9))
    status(BuildProgress(started, Stage.PACKAGING, detail="2 zips"))
    assert out.getvalue().splitlines() == [  # a new stage or wait at once, then quiet
        "info: building: starting (waiting for file lock on x), 0 s",
        "info: building: compiling a v1 [1/9], 0 s",
        "info: building: packaging 2 zips, 0 s",
    ]
    status._printed -= BuildStatus.PIPE_EVERY  # five seconds later
    status(BuildProgress(started - 5, Stage.VERIFYING, detail="2 artifacts"))
    status(BuildProgress(started - 5, Stage.VERIFYING, detail="2 artifacts"))  # said already
    assert out.getvalue().splitlines()[-1] == "info: building: verifying 2 artifacts, 5 s"
    status._printed -= BuildStatus.PIPE_EVERY  # five seconds later
    status(BuildProgress(started - 5, Stage.COMPILING, crate="d v1", done=7, total=9))
    assert out.getvalue().splitlines()[-1] == "info: building: compiling d v1 [7/9], 5 s"
    status(BuildProgress(started - 61.25, Stage.DONE, seconds=61.25))
    assert out.getvalue().splitlines()[-1] == "info: built in 61.2 s"


def test_a_failed_rebuild_prints_the_diagnostics_whole() -> None:
    err, out = console(True)
    status = BuildStatus(err, live=True, quiet=False)
    status(BuildProgress(time.monotonic(), Stage.COMPILING, crate="demo v0.1.0"))
    assert status._status is not None  # the live line runs while building
    diagnostics = tuple(COLOURED[7:13])
    status(BuildProgress(time.monotonic(), Stage.FAILED, seconds=1.0, diagnostics=diagnostics))
    assert status._status is None
    text = out.getvalue()
    assert f"{ESC}[1m{ESC}[91merror[E0308]" in text  # cargo's own colours
    assert "could not compile `demo`" in text and "built in" not in text


def test_the_live_line_ticks() -> None:
    status = BuildStatus(console(True)[0], live=True, quiet=False)
    status.progress = BuildProgress(time.monotonic() - 5, Stage.COMPILING, crate="tokio v1")
    assert status.__rich__().plain == "building compiling tokio v1 · 5 s"


def test_lambda_api_exports_are_shell_lines_without_credentials() -> None:
    err, out = console(False)
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": "api",
        "AWS_LAMBDA_RUNTIME_API": "http://127.0.0.1:9000/.rt/api",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "GREETING": "hello world",
    }
    render.lambda_api_exports(err, "api", env)
    assert out.getvalue().splitlines() == [
        "api: export these, then start it (cargo run --bin api):",
        "  export AWS_LAMBDA_RUNTIME_API=http://127.0.0.1:9000/.rt/api",
        "  export AWS_LAMBDA_FUNCTION_NAME=api",
        "  export AWS_LAMBDA_FUNCTION_VERSION='$LATEST'",
        "  export GREETING='hello world'",
    ]


# --------------------------------------------------------------------------- editor files


@pytest.mark.parametrize(
    "name",
    [
        "sedAb12Cd",  # sed -i
        "sed0Xy9zQ",
        ".main.rs.swp",  # vim
        ".main.rs.swo",
        ".main.rs.swx",
        "4913",  # vim's write test
        "5036",
        "main.rs~",
        "#main.rs#",  # emacs
        ".#main.rs",
        "main.rs___jb_tmp___",  # JetBrains
        "main.rs___jb_old___",
        "main.rs.tmp",  # atomic saves
        "main.rs.tmp.4312",
        ".goutputstream-Q1W2E3",
        "main.rs.kate-swp",
        "main.rs.crswap",
    ],
)
def test_editor_temporary_files_do_not_trigger_a_rebuild(name: str, tmp_path: Path) -> None:
    assert is_editor_temp_file(name)
    flt = SourceFilter(tmp_path, [tmp_path / "target"])
    assert flt(Change.added, str(tmp_path / "src" / name)) is False


@pytest.mark.parametrize(
    "name",
    ["main.rs", "sed.rs", "sedimentary", "4914", "2024", "build.rs", "tmp.rs", "Cargo.toml"],
)
def test_real_sources_still_do(name: str, tmp_path: Path) -> None:
    assert not is_editor_temp_file(name)
    assert SourceFilter(tmp_path, [])(Change.modified, str(tmp_path / "src" / name)) is True
