"""Nothing lost, no traceback (issue 13), the logic without processes: builds installed all
together or not at all, one helper for file errors, damaged zips as findings, failures that are
not compile errors said as what they are, signals forwarded to a tool's process group.
(tests/integration/test_faults.py injects the same faults into real runs.)"""

from __future__ import annotations

import errno
import os
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from rustlambda.builder import build, install
from rustlambda.cli import main
from rustlambda.diagnose import diagnose
from rustlambda.errors import (
    ArtifactError,
    CompileError,
    IncludeError,
    Interrupted,
    RustLambdaError,
    Terminated,
    ToolNotFoundError,
    UnknownBinaryError,
    UnsupportedTargetError,
    VerifyError,
)
from rustlambda.options import BuildOptions, OutputFormat
from rustlambda.package import include_entries
from rustlambda.targets import Arch, Runtime, Target
from rustlambda.util import signals
from rustlambda.util.fs import file_error
from rustlambda.util.hashing import digest_file
from rustlambda.verify import verify_path
from tests.damage import DAMAGES, damaged_zip

from .fakes import REAL_ELF, FakeRunner, write_workspace

X86 = Target.for_arch(Arch.X86_64)
#: Another real x86_64 executable: it needs GLIBC_2.35, so no Lambda runtime can start it.
NEWER_ELF = Path("/usr/bin/python3.11").read_bytes()


# ------------------------------------------------------------------ builds: all or nothing
class Workspace:
    def __init__(self, root: Path, tmp_path: Path) -> None:
        self.root = root
        self.lambda_dir = root / "target/lambda"
        metadata = write_workspace(root, {"fn": ["hello", "bye"]})
        self.binary = REAL_ELF
        self.runner = FakeRunner(metadata, libdir_root=tmp_path / "libdirs", produce=self.produce)
        self.environ = {"PATH": os.environ["PATH"], "CARGO_HOME": str(tmp_path / "cargo-home")}

    def produce(self, argv: Sequence[str]) -> None:
        out = self.root / "target/x86_64-unknown-linux-gnu/debug"
        out.mkdir(parents=True, exist_ok=True)
        for name in ("hello", "bye"):
            (out / name).write_bytes(self.binary)

    def build(self, **kw: Any) -> Any:
        kw.setdefault("environ", self.environ)
        options = BuildOptions(cwd=self.root, targets=(X86,), **kw)
        return build(options, runner=self.runner)

    def files(self) -> dict[str, bytes]:
        """Every file under the lambda dir (hidden ones too) and its bytes."""
        return {
            str(p.relative_to(self.lambda_dir)): p.read_bytes()
            for p in sorted(self.lambda_dir.rglob("*"))
            if p.is_file()
        }


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    root.mkdir()
    return Workspace(root, tmp_path)


@pytest.mark.parametrize("output", [OutputFormat.BINARY, OutputFormat.ZIP])
def test_a_build_failing_verification_installs_nothing(ws: Workspace, output: OutputFormat) -> None:
    ws.build(output_format=output)
    before = ws.files()
    assert "hello/bootstrap" in before and ("bye/bootstrap.zip" in before) is (
        output is OutputFormat.ZIP
    )
    ws.binary = NEWER_ELF  # the new build of both would not start on Lambda
    with pytest.raises(VerifyError) as info:
        ws.build(output_format=output)
    assert "nothing was installed: the previous artifacts" in info.value.message
    assert ws.files() == before  # byte for byte, and no staged file left behind


def test_a_failure_while_installing_puts_every_previous_file_back(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.build(output_format=OutputFormat.ZIP)
    before = ws.files()
    real_replace = os.replace
    renamed: list[str] = []
    failed: list[str] = []

    def failing_third(src: Any, dst: Any) -> None:
        installing = ".rustlambda-staging-" in str(src) and ".rustlambda-staging-" not in str(dst)
        if installing and len(renamed) == 2 and not failed:  # the third file put into place
            failed.append(str(dst))
            raise OSError(errno.EIO, "Input/output error", str(dst))
        real_replace(src, dst)
        if installing:
            renamed.append(str(dst))

    monkeypatch.setattr(os, "replace", failing_third)
    epoch = {**ws.environ, "SOURCE_DATE_EPOCH": "1000000000"}  # every zip's bytes change
    with pytest.raises(ArtifactError) as info:
        ws.build(output_format=OutputFormat.ZIP, environ=epoch)
    assert info.value.exit_code == 13
    assert "nothing was installed: the previous artifacts are in place" in info.value.message
    assert len(renamed) == 4  # two files were replaced, then put back (renamed from their copies)
    assert ws.files() == before


def test_a_folder_where_the_bootstrap_goes_is_named_and_nothing_is_replaced(ws: Workspace) -> None:
    ws.build()
    before = ws.files()
    (ws.lambda_dir / "bye/bootstrap").unlink()
    (ws.lambda_dir / "bye/bootstrap").mkdir()
    ws.binary = Path("/sbin/ldconfig").read_bytes()  # new bytes that verify
    with pytest.raises(ArtifactError) as info:
        ws.build()
    assert (
        info.value.message
        == f"cannot install {ws.lambda_dir / 'bye/bootstrap'}: a folder is in its place"
    )
    assert ws.files() == {k: v for k, v in before.items() if k != "bye/bootstrap"}


def test_a_lambda_dir_that_is_a_file(ws: Workspace) -> None:
    (ws.root / "out").write_text("not a folder")
    with pytest.raises(ArtifactError) as info:
        ws.build(lambda_dir=Path("out"))
    assert str(ws.root / "out") in info.value.message
    assert "a file is where a folder is needed" in info.value.fix


def test_a_staging_folder_of_a_killed_build_is_removed(ws: Workspace) -> None:
    ws.lambda_dir.mkdir(parents=True)
    dead = ws.lambda_dir / f"{install.PREFIX}999999999-abc"  # no such pid
    (dead / "hello").mkdir(parents=True)
    (dead / "hello/bootstrap").write_bytes(b"half")
    mine = ws.lambda_dir / f"{install.PREFIX}{os.getpid()}-xyz"  # a live process's: kept
    mine.mkdir()
    ws.build()
    assert not dead.exists() and mine.exists()


def test_hidden_folders_are_not_artifacts(ws: Workspace) -> None:
    ws.build()
    staged = ws.lambda_dir / f"{install.PREFIX}1-x"
    staged.mkdir()
    (staged / "bootstrap").write_bytes(b"not an executable")
    assert {a.path.parent.name for a in verify_path(ws.lambda_dir).artifacts} == {"hello", "bye"}


# -------------------------------------------------------------------- one file-error helper
@pytest.mark.parametrize(
    ("code", "reason", "fix"),
    [
        (errno.ENOSPC, "no space left on device", "is full"),
        (errno.EROFS, "read-only file system", "read-only file system"),
        (errno.EACCES, "Permission denied", "permissions"),
        (errno.ENOTDIR, "Not a directory", "a file is where a folder is needed"),
        (errno.EISDIR, "Is a directory", "is a folder where a file goes"),
    ],
)
def test_file_errors_say_what_the_errno_means(
    tmp_path: Path, code: int, reason: str, fix: str
) -> None:
    path = tmp_path / "lambda/hello/bootstrap"
    error = file_error(OSError(code, os.strerror(code), str(path)), path, "install", hint="x")
    assert error.exit_code == 13
    assert error.message == f"cannot install {path}: {reason}"
    assert fix in error.fix and error.fix.endswith("; or x")
    assert "permissions" not in error.fix or code == errno.EACCES


# --------------------------------------------------------------------- damaged zips: findings
@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_zip_is_a_finding(tmp_path: Path, damage: str) -> None:
    path = damaged_zip(tmp_path / "function.zip", REAL_ELF, damage)
    report = verify_path(path)
    assert not report.ok
    (failure,) = [f for _, f in report.failures]
    assert failure.check == "layout" and DAMAGES[damage][1] in failure.message
    assert "Could not unzip uploaded file" in (failure.lambda_error or "")
    with pytest.raises(VerifyError):
        report.raise_on_failure()


def test_an_entry_over_250_mb_by_its_header_is_never_inflated(tmp_path: Path) -> None:
    report = verify_path(damaged_zip(tmp_path / "function.zip", REAL_ELF, "huge"))
    findings = report.artifacts[0].findings
    checks = {f.check: f for f in findings}
    # inflating it would have met the real, smaller data: a "damaged" layout finding
    assert [f for f in findings if f.check == "layout"] == []
    assert checks["size"].level == "error" and "300.0 MB unzipped" in checks["size"].message
    assert checks["elf"].level == "warning" and "not unpacked" in checks["elf"].message


# ---------------------------------------------------------------- messages that point right
def test_rustup_without_a_toolchain_is_a_toolchain_problem() -> None:
    found = diagnose(
        [
            "error: rustup could not choose a version of cargo to run, because one wasn't "
            "specified explicitly, and no default is configured."
        ],
        ["x86_64-unknown-linux-gnu"],
        1,
    )
    assert found is not None and found.error is ToolNotFoundError
    assert found.fix.startswith("rustup default stable")


@pytest.mark.parametrize(
    ("lines", "reason", "fix"),
    [
        (
            [
                "error: failed to create directory `/ro/target/debug`",
                "",
                "Caused by:",
                "  Read-only file system (os error 30)",
            ],
            "cargo could not write /ro/target/debug: read-only file system",
            "--target-dir",
        ),
        (
            [
                "error: failed to write to `/full/debug/deps/x.rmeta`: No space left on device "
                "(os error 28)"
            ],
            "cargo could not write /full/debug/deps/x.rmeta: no space left on device",
            "is full",
        ),
        (
            [
                "error: failed to create directory `/ws/notes.txt/debug`",
                "Caused by:",
                "  Not a directory (os error 20)",
            ],
            "cargo could not write /ws/notes.txt/debug: a file is in the way",
            "a file is where cargo needs a folder",
        ),
    ],
)
def test_a_target_dir_that_cannot_be_written_is_not_a_compile_error(
    lines: list[str], reason: str, fix: str
) -> None:
    found = diagnose(lines, ["x86_64-unknown-linux-gnu"], 101)
    assert found is not None and found.error is ArtifactError
    assert found.message == reason and fix in found.fix


def test_a_target_dir_owned_by_another_user_is_said_so_but_not_a_build_scripts_failure() -> None:
    owned = [
        "error: failed to open: /ws/target/debug/.cargo-lock",
        "Caused by:",
        "  Permission denied (os error 13)",
    ]
    found = diagnose(owned, ["t"], 101)
    assert found is not None and found.error is ArtifactError
    assert found.message == "cargo could not write /ws/target/debug/.cargo-lock: permission denied"
    assert "chown" in found.fix
    script = ["thread 'main' panicked at build.rs:3: Permission denied (os error 13)"]
    assert diagnose(script, ["t"], 101) is None


def test_a_compiler_killed_by_a_signal_says_so() -> None:
    line = "process didn't exit successfully: `rustc ...` (signal: 9, SIGKILL: kill)"
    found = diagnose([line], ["t"], 101)
    assert found is not None and found.error is CompileError
    assert "SIGKILL" in found.message and "-j 1" in found.fix
    assert diagnose(["   Compiling x"], ["t"], -9) is not None  # cargo itself was killed


def test_include_outside_the_project_suggests_what_works(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("x")
    root = tmp_path / "project"
    root.mkdir()
    for spec in (str(outside), f"conf/secret.txt:{outside}"):
        with pytest.raises(IncludeError) as info:
            include_entries([spec], root)
        assert f"DEST:{outside}" not in info.value.fix
        assert f"cp -r {outside} {root / 'secret.txt'}" in info.value.fix
        assert info.value.fix.endswith("then --include secret.txt")
        (root / "secret.txt").write_text("x")
        assert [e.name for e in include_entries(["secret.txt"], root)] == ["secret.txt"]
        (root / "secret.txt").unlink()


def test_a_pinned_glibc_no_runtime_has_is_refused_before_building(ws: Workspace) -> None:
    with pytest.raises(UnsupportedTargetError) as info:
        build(
            BuildOptions(
                cwd=ws.root,
                environ=ws.environ,
                targets=(Target.parse("x86_64-unknown-linux-gnu.2.99"),),
            ),
            runner=ws.runner,
        )
    assert "no Lambda runtime has glibc 2.99" in info.value.message
    assert "x86_64-unknown-linux-gnu.2.34" in info.value.fix
    assert ws.runner.builds == []


def test_a_pinned_glibc_above_the_runtime_is_a_warning(ws: Workspace) -> None:
    from rustlambda.builder import plan_build

    plan = plan_build(
        BuildOptions(
            cwd=ws.root,
            environ=ws.environ,
            runtime=Runtime.AL2,
            targets=(Target.parse("x86_64-unknown-linux-gnu.2.34"),),
        ),
        runner=ws.runner,
    )
    assert any("runs on provided.al2023 only" in note for note in plan.notes)


def test_an_errors_text_carries_its_fix() -> None:
    """CDK (and any traceback) shows only the exception's text."""
    error = UnknownBinaryError("several binaries", "pass binary_name= one of: a, b")
    assert str(error) == "several binaries\nfix: pass binary_name= one of: a, b"
    assert str(RustLambdaError("no fix")) == "no fix"


# ----------------------------------------------------------------------------- signals
class FakeProc:
    pid = 4242


def test_a_signal_is_forwarded_to_the_tools_group_then_escalated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "killpg", lambda pid, sig: sent.append((pid, sig)))
    monkeypatch.setattr(signals, "STOP_GRACE", 3600.0)
    stop = signals.Stop()
    stop.signal(signal.SIGTERM)  # before the tool started: held
    assert sent == []
    stop.attach(FakeProc())  # type: ignore[arg-type]
    signals.forward(signal.SIGINT)  # a second signal: kill
    stop.detach()
    signals.forward(signal.SIGTERM)  # detached: not forwarded
    assert sent == [(4242, signal.SIGTERM), (4242, signal.SIGKILL)]
    assert stop.signum == signal.SIGTERM


def test_signals_exit_with_the_conventional_codes() -> None:
    assert isinstance(signals.interrupted(signal.SIGTERM, "x"), Terminated)
    assert signals.interrupted(signal.SIGTERM, "x").exit_code == 143
    assert type(signals.interrupted(signal.SIGINT, "x")) is Interrupted
    assert signals.interrupted(signal.SIGINT, "x").exit_code == 130


def test_sigterm_between_tools_lets_cleanups_run() -> None:
    cleaned: list[bool] = []
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(signals.Signalled), signals.raising():
        try:
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs as kill returns
        finally:
            cleaned.append(True)
    assert cleaned == [True]
    assert signal.getsignal(signal.SIGTERM) == before


def test_usage_errors_are_one_error_line_and_a_fix(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["build", "--bogus"], ["nosuchcommand"], ["invoke", "-P", "abc"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        lines = err.splitlines()
        assert [line for line in lines if line.startswith("error: ")] == [lines[-2]]
        assert lines[-1].startswith("fix: see rustlambda")


def test_functions_deployed_together_get_a_zip_each(tmp_path: Path) -> None:
    """Every function's zip is called bootstrap.zip: in one deploy's temporary folder, each
    must keep its own (one overwriting the other deployed one function's code as all)."""
    from rustlambda.deployer.artifacts import package

    from .test_deploy import plain

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    zips = []
    for name in ("one", "two"):
        source = tmp_path / name / "bootstrap"
        source.parent.mkdir()
        source.write_bytes(REAL_ELF + name.encode())  # two different executables
        settings = plain(binary_name=name)
        zips.append(
            package(source, settings, include_root=tmp_path, arch=None, environ={}, scratch=scratch)
        )
    one, two = zips
    assert one.temporary and two.temporary and one.zip_path != two.zip_path
    assert one.sha256 != two.sha256
    for pkg in zips:  # each zip on disk is still the one its digest describes
        assert digest_file(pkg.zip_path).sha256 == pkg.sha256
