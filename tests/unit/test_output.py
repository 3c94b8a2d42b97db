"""What a person reads: a build's stages on a terminal (a live line) and on a pipe (a plain
line per stage, progress throttled), the artifact and verify tables at 80 columns, and
``deploy --dry-run``'s configuration. Rendered into fixed-width rich consoles (``record=True``)
and captured stdout; nothing is run."""

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
from rustlambda.deployer import artifacts, function, preview
from rustlambda.deployer.result import Deployment, DeployResult
from rustlambda.deployer.settings import DeployOptions, function_chain, resolve_function
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


# --------------------------------------------------------------------------- deploy --dry-run


def settings(**overrides: Any) -> Any:
    return resolve_function(
        function_chain(DeployOptions(**overrides), Path.cwd(), None, None),
        binary="hello",
        base_env={},
        build_include=(),
        build_extension=False,
        build_internal=False,
    )


def package(tmp_path: Path) -> artifacts.DeployPackage:
    zipped = tmp_path / "bootstrap.zip"
    zipped.write_bytes(b"PK")
    return artifacts.DeployPackage(
        binary="hello",
        kind=ArtifactKind.FUNCTION,
        source=zipped,
        zip_path=zipped,
        size=216_428,
        sha256="d3" * 32,
        arch=Arch.ARM64,
        max_glibc=(2, 34),
        verification=None,  # type: ignore[arg-type]
    )


LIVE = {
    "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:hello",
    "Runtime": "provided.al2023",
    "MemorySize": 128,
    "Timeout": 3,
    "Role": "arn:aws:iam::123456789012:role/rustlambda-hello",
    "Environment": {"Variables": {"SECRET": "hunter2", "OLD": "x"}},
    "Layers": [{"Arn": "arn:aws:lambda:us-east-1:123456789012:layer:ext:1"}],
    "CodeSha256": "bm90IHRoaXMgemlw",
    "Architectures": ["x86_64"],
}


def planned(tmp_path: Path, current: dict[str, Any] | None, **asked: Any) -> Deployment:
    s = settings(**asked)
    pkg = package(tmp_path)
    plan = function.FunctionPlan(
        settings=s,
        package=pkg,
        current=current,
        role=None,
        role_name="rustlambda-hello",
        config=function.desired_config(s, None, current),
        live_tags={"team": "core"} if current else {},
    )
    if current is not None:
        plan.config_changes = function.config_changes(current, plan.config)
        plan.code_update = True
        plan.tags_to_set = {k: v for k, v in s.tags.items() if plan.live_tags.get(k) != v}
    return Deployment(
        name="hello",
        kind=ArtifactKind.FUNCTION,
        arch=pkg.arch,
        zip_path=str(pkg.zip_path),
        size=pkg.size,
        sha256=pkg.sha256,
        status="would create" if current is None else "would update",
        actions=tuple(plan.actions()),
        configuration=preview.function_configuration(plan),
    )


def test_a_dry_run_create_shows_the_whole_configuration(tmp_path: Path) -> None:
    d = planned(tmp_path, None, env={"SECRET": "hunter2", "LEVEL": "debug"}, tags={"team": "a"})
    config = dict(d.configuration)
    assert config == {
        "architecture": "arm64",
        "runtime": "provided.al2023",
        "memory": "128 MB (Lambda's default)",
        "timeout": "3 s (Lambda's default)",
        "role": "rustlambda-hello (created, with AWSLambdaBasicExecutionRole)",
        "environment": "LEVEL=***, SECRET=***",
        "layers": "none",
        "tags": "team=a",
        "zip": str(tmp_path / "bootstrap.zip"),
        "zip size": "216,428 bytes",
        "sha256": "d3" * 32,
    }


def test_a_dry_run_update_says_what_is_kept_and_what_would_change(tmp_path: Path) -> None:
    d = planned(tmp_path, LIVE, memory=256, env={"SECRET": "other", "NEW": "1"}, tags={"t": "1"})
    config = dict(d.configuration)
    assert config["memory"] == "256 MB"
    assert config["timeout"] == "3 s (as it is)"
    assert config["role"] == "arn:aws:iam::123456789012:role/rustlambda-hello (as it is)"
    assert config["environment"] == "NEW=***, SECRET=***"
    assert config["layers"] == "arn:aws:lambda:us-east-1:123456789012:layer:ext:1 (as it is)"
    assert config["tags"] == "t=1, team=core"
    assert "update MemorySize: 128 → 256" in d.actions
    env = "update Environment: add NEW; change SECRET; remove OLD (values not shown)"
    assert env in d.actions
    assert any(a.startswith("update code (CodeSha256 bm90IHRoaXMgemlw → ") for a in d.actions)
    assert not any("hunter2" in a or "other" in a for a in (*d.actions, *config.values()))


def test_the_dry_run_text_fits_80_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = planned(tmp_path, LIVE, env={f"VARIABLE_{n}": "v" for n in range(12)})
    render.deploy_result(DeployResult((d,), dry_run=True), WIDTH)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "hello (function, arm64): would update"
    assert_fits(lines)
    assert lines[1] == "  architecture  arm64"
    assert any(line == "  sha256        " + "d3" * 32 for line in lines)
    assert "  against the live function, it would:" in lines
    text = "\n".join(lines)
    assert all(f"VARIABLE_{n}=***" in text for n in range(12))  # wrapped between names
