"""What a person reads: a build's stages on a terminal (a live line) and on a pipe (a plain
line per stage, progress throttled), the artifact and verify tables at 80 columns. Rendered into
fixed-width rich consoles (``record=True``); nothing is run. (``deploy --dry-run``'s text:
test_dry_run.py.)"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from rustlambda.builder.result import Artifact, BuildResult
from rustlambda.cli import render, tables
from rustlambda.cli.status import BuildStatus
from rustlambda.layout import ArtifactKind
from rustlambda.package import ZipResult
from rustlambda.progress import BuildProgress, ProgressReporter, Stage
from rustlambda.reporting import report_stage
from rustlambda.targets import Arch, Runtime, Target
from rustlambda.verify import ArtifactReport, Finding, VerifyReport
from rustlambda.verify.report import Linkage

WIDTH = 80
ANSI = re.compile(r"\x1b\[")
LONG = "a-function-with-a-rather-long-name-indeed"


def terminal(width: int = WIDTH) -> Console:
    return Console(width=width, force_terminal=True, record=True, file=io.StringIO())


def lines_of(console: Console) -> list[str]:
    return console.export_text().splitlines()


def assert_fits(lines: list[str], width: int = WIDTH) -> None:
    too_wide = [line for line in lines if len(line) > width]
    assert not too_wide, too_wide


def assert_whole(lines: list[str], *paths: str) -> None:
    """No mid-word wrap: each piece of each path (between separators) is on one line."""
    for path in paths:
        for piece in re.split(r"[/:]", path):
            assert any(piece in line for line in lines), (piece, lines)


# --------------------------------------------------------------------------- artifacts


def artifact(name: str, kind: ArtifactKind = ArtifactKind.FUNCTION) -> Artifact:
    where = Path.cwd() / "target" / "lambda" / name
    path = where / "bootstrap"
    packed = ZipResult(where / "bootstrap.zip", 1_234_567, 2_345_678, "ab" * 32, ("bootstrap",))
    target = Target.for_arch(Arch.ARM64)
    return Artifact(name, kind, name, target, Arch.ARM64, path, 2_345_678, "cd" * 32, zip=packed)


def report_for(a: Artifact, *findings: Finding) -> ArtifactReport:
    assert a.zip is not None
    ok = Finding("layout", "ok", "fine")
    return ArtifactReport(
        path=a.zip.path,
        member="bootstrap",
        kind=a.kind,
        arch=a.arch,
        expected_arch=a.arch,
        linkage=Linkage.DYNAMIC,
        interpreter="/lib/ld-linux-aarch64.so.1",
        max_glibc=(2, 34),
        needed=("libc.so.6", "libssl.so.3"),
        size=2_345_678,
        sha256="ef" * 32,
        findings=(ok, *findings),
    )


SIZE_WARNING = Finding(
    "size", "warning", "the zip is close to Lambda's 50 MB direct-upload limit", fix="use S3"
)


def built(*names: str, verified: bool = True) -> BuildResult:
    arts = tuple(
        artifact(n, ArtifactKind.EXTENSION if n.endswith("-ext") else ArtifactKind.FUNCTION)
        for n in names
    )
    reports = tuple(report_for(a, *([SIZE_WARNING] if i == 0 else [])) for i, a in enumerate(arts))
    report = VerifyReport(reports, Runtime.AL2023) if verified else None
    return BuildResult(arts, Path.cwd() / "target" / "lambda", ("cargo",), (), report)


def test_the_artifact_table_fits_80_columns_and_says_what_verification_found() -> None:
    console = terminal()
    result = built("hello", LONG, "probe-ext")
    tables.build_result(console, result)
    lines = lines_of(console)
    assert_fits(lines)
    # relative to the working directory, broken only after a "/"
    assert_whole(lines, *(f"target/lambda/{n}/bootstrap.zip" for n in ("hello", LONG)))
    assert not any(str(Path.cwd()) in line for line in lines)
    assert any("ok, 1 warning" in line for line in lines)  # hello's row
    assert lines[-1] == ("verified 3 artifacts for provided.al2023: all would start, 1 warning")


def test_a_table_too_wide_for_any_path_column_stacks_each_path_under_its_row() -> None:
    console = terminal(width=50)
    tables.build_result(console, built(LONG))
    lines = lines_of(console)
    assert_fits(lines, 50)
    assert_whole(lines, f"target/lambda/{LONG}/bootstrap.zip")
    assert "verified 1 artifact for provided.al2023: all" in " ".join(lines)


def test_without_verification_the_table_says_so() -> None:
    console = terminal()
    tables.build_result(console, built("hello", verified=False))
    assert lines_of(console)[-1] == "1 artifact built; not verified (turned off)"


def test_on_a_pipe_artifacts_stay_tab_separated_and_the_finding_goes_to_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = Console(file=io.StringIO(), force_terminal=False)
    err = Console(file=io.StringIO(), force_terminal=False, width=200)
    result = built("hello")
    tables.build_result(out, result, err)
    zipped = result.artifacts[0].zip
    assert zipped is not None
    assert capsys.readouterr().out == f"hello\tarm64\t{zipped.size}\t{zipped.path}\n"
    assert err.file.getvalue() == (  # type: ignore[attr-defined]
        "info: verified 1 artifact for provided.al2023: all would start, 1 warning\n"
    )


def test_the_verify_table_fits_80_columns() -> None:
    console = terminal()
    result = built("hello", LONG)
    assert result.verification is not None
    failing = Finding(
        "libraries",
        "error",
        "needs libssl.so.3, which provided.al2023 does not have",
        lambda_error="Runtime.ExitError: error while loading shared libraries: libssl.so.3",
        fix="build with the vendored feature of openssl, or use rustls",
    )
    reports = (*result.verification.artifacts, report_for(artifact("broken"), failing))
    tables.verification(console, VerifyReport(reports, Runtime.AL2023))
    lines = lines_of(console)
    assert_fits(lines)
    assert_whole(lines, f"target/lambda/{LONG}/bootstrap.zip:bootstrap")
    assert any("needs libssl.so.3" in line for line in lines)  # beyond the C library
    assert not any("libc.so.6" in line for line in lines)
    assert any(line.startswith("fail target/lambda/broken/") for line in lines)
    assert lines[-1] == "verified 3 artifacts for provided.al2023: 1 would not start, 1 warning"


# --------------------------------------------------------------------------- build progress


class Silent:
    def info(self, message: str) -> None:
        pass

    def warning(self, message: str) -> None:
        pass

    def command(self, argv: Any) -> None:
        pass

    def output(self, line: str) -> None:
        pass


#: cargo on a pipe with its bar on (CARGO_TERM_PROGRESS_WHEN=always), no colours.
CARGO = [
    "   Compiling shared v0.1.0 (/ws/crates/shared)",
    "    Building [                             ] 0/2: shared",
    "   Compiling hello v0.1.0 (/ws/functions/hello)",
    "    Building [==============>              ] 1/2: hello(bin)",
    "warning: unused variable: `x`",
    " --> functions/hello/src/main.rs:4:9",
    "",
    "    Finished `release` profile [optimized] target(s) in 3.20s",
]


def a_build(console: Console, *, live: bool) -> BuildStatus:
    """The CLI's pieces for one build (cli/build.py), fed what the builder and cargo say."""
    shown = BuildStatus(console, live=live, quiet=False, diagnostics=False)
    reporter = render.ConsoleReporter(console, verbose=False, quiet=False, cargo_lines=True)
    follower = ProgressReporter(reporter, shown)
    report_stage(follower, Stage.RESOLVING, "the workspace")
    report_stage(follower, Stage.COMPILING, "hello for arm64")
    for line in CARGO:
        follower.output(line)
    report_stage(follower, Stage.PACKAGING, "1 zip")
    report_stage(follower, Stage.VERIFYING, "1 artifact for provided.al2023")
    shown(follower.finish(ok=True))
    return shown


def test_on_a_pipe_one_plain_line_per_stage_and_cargos_warnings_and_finished() -> None:
    out = io.StringIO()
    a_build(Console(file=out, force_terminal=False, width=200), live=False)
    text = out.getvalue()
    assert not ANSI.search(text)
    got = [re.sub(r", \d+ s$", "", line) for line in text.splitlines()]
    assert got[:-1] == [
        "info: building: resolving the workspace",
        "info: building: compiling hello for arm64",  # said once, not again per crate
        "info: building: linking hello [1/2]",
        "warning: unused variable: `x`",
        " --> functions/hello/src/main.rs:4:9",
        "",
        "    Finished `release` profile [optimized] target(s) in 3.20s",
        "info: building: packaging 1 zip",
        "info: building: verifying 1 artifact for provided.al2023",
    ]
    assert re.fullmatch(r"info: built hello for arm64 in \d+\.\d s", got[-1])


def test_on_a_pipe_a_long_compile_says_where_it_is_every_few_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = io.StringIO()
    shown = BuildStatus(Console(file=out, force_terminal=False, width=200), live=False, quiet=False)
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])  # the status module's clock
    started = clock[0]
    shown(BuildProgress(started, Stage.COMPILING, targets="hello for arm64"))
    for second in range(1, 61):  # a minute of crates, one a second
        clock[0] = started + second
        shown(BuildProgress(started, Stage.COMPILING, crate=f"c{second}", done=second, total=99))
    lines = out.getvalue().splitlines()
    assert lines[0] == "info: building: compiling hello for arm64, 0 s"
    assert 10 <= len(lines) <= 13  # every 5 s, never silent for a minute, never every crate
    assert lines[1] == "info: building: compiling c5 [5/99], 5 s"


def test_the_live_line_fits_the_terminal_and_keeps_finished_and_warnings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    console = terminal()
    started: list[Any] = []

    class FakeStatus:  # rich's live status, started and stopped (drawn by a thread otherwise)
        def __init__(self, line: Any) -> None:
            started.append(line)

        def start(self) -> None:
            pass

        def stop(self) -> None:
            pass

    monkeypatch.setattr(console, "status", FakeStatus)
    shown = a_build(console, live=True)
    lines = lines_of(console)
    assert "    Finished `release` profile [optimized] target(s) in 3.20s" in lines
    assert "warning: unused variable: `x`" in lines
    assert re.fullmatch(r"info: built hello for arm64 in \d+\.\d s", lines[-1])
    assert started == [shown]
    shown.progress = BuildProgress(
        time.monotonic() - 12,
        Stage.COMPILING,
        crate="aws-lc-sys v0.29.0",
        done=37,
        total=120,
        targets=", ".join(f"function-{n}" for n in range(9)) + " for arm64, x86_64",
    )
    live = shown.__rich__()
    assert live.plain.startswith("building compiling aws-lc-sys v0.29.0 [37/120] · function-0")
    assert len(live.plain) <= WIDTH - 3 and live.plain.endswith("…")
