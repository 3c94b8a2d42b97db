"""Integration tests: real cargo builds of tests/fixtures, every bootstrap executed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import boto3
import botocore.config
import pytest
from mypy_boto3_lambda import LambdaClient

from rustlambda.toolchain import std_installed
from rustlambda.util.cmd import SubprocessRunner

HERE = Path(__file__).parent
FIXTURES = HERE.parent / "fixtures"
REPO = HERE.parent.parent
BOTH_STDS = ("x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


class Recorder:
    """A Reporter that keeps everything, for assertions."""

    def __init__(self) -> None:
        self.infos: list[str] = []
        self.warnings: list[str] = []
        self.commands: list[tuple[str, ...]] = []
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.infos.append(message)

    def warning(self, message: str) -> None:
        self.warnings.append(message)

    def command(self, argv: Sequence[str]) -> None:
        self.commands.append(tuple(argv))

    def output(self, line: str) -> None:
        self.lines.append(line)


@pytest.fixture(scope="session")
def rustc_both() -> str:
    """A rustc with the x86_64 and aarch64 std (Debian's rustc-web here; rustup's elsewhere)."""
    env = dict(os.environ)
    runner = SubprocessRunner()
    candidates = [os.environ.get("RUSTC"), shutil.which("rustc"), "/usr/bin/rustc"]
    for rustc in dict.fromkeys(c for c in candidates if c):
        if all(std_installed(rustc, triple, env, runner) for triple in BOTH_STDS):
            return rustc
    pytest.fail("no rustc with both the x86_64 and aarch64 std: run scripts/setup.sh")


@pytest.fixture(scope="session")
def build_env(rustc_both: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUSTFLAGS", "CARGO_LAMBDA"))}
    env["RUSTC"] = rustc_both
    env.pop("CARGO_ENCODED_RUSTFLAGS", None)
    return env


def copy_fixture(name: str, dest: Path) -> Path:
    source = REPO / "examples" / name if (REPO / "examples" / name).is_dir() else FIXTURES / name
    target = dest / name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("target"))
    return target


def run_cli(
    *argv: str, cwd: Path, env: dict[str, str], umask: int = 0o022, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """``rustlambda ARGV`` as a user runs it: a new process, its exit code and output."""
    return subprocess.run(
        [sys.executable, "-m", "rustlambda", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        umask=umask,
    )


def lambda_client(url: str) -> LambdaClient:
    """A real boto3 Lambda client for an emulator at ``url`` (one attempt, no retries)."""
    return boto3.client(
        "lambda",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=botocore.config.Config(retries={"max_attempts": 1}, read_timeout=60),
    )


# --------------------------------------------------------------------------- real crates
#: The real-crates fixture's binaries the emulator tests run (functions, and the extension).
REAL_CRATES_FUNCTIONS = ("http", "http-stream", "stream", "sdk", "concurrent")
REAL_CRATES_EXTENSION = "ext"


@dataclass(frozen=True)
class RealCrates:
    """tests/fixtures/real-crates built once per session for both architectures."""

    #: (arch, binary) → bootstrap; arch is "x86_64" or "arm64".
    functions: Mapping[tuple[str, str], Path]
    #: arch → the lambda-extension binary.
    extensions: Mapping[str, Path]


@pytest.fixture(scope="session")
def real_crates(tmp_path_factory: pytest.TempPathFactory, build_env: dict[str, str]) -> RealCrates:
    """One build per architecture and session, in a target dir kept next to pytest's temporary
    directories (so a second session on the same machine reuses the compiled crates), or in
    ``$RUSTLAMBDA_TEST_REAL_CRATES_CACHE`` (a CI cache)."""
    import rustlambda
    from rustlambda import Arch, BuildOptions, Target

    configured = os.environ.get("RUSTLAMBDA_TEST_REAL_CRATES_CACHE")
    cache = (
        Path(configured)
        if configured
        else tmp_path_factory.getbasetemp().parent / "real-crates-cache"
    )
    workspace = cache / "real-crates"
    # Same place every session, file times kept: cargo sees an unchanged workspace.
    shutil.copytree(
        FIXTURES / "real-crates",
        workspace,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("target"),
    )
    targets = (Target.for_arch(Arch.X86_64), Target.for_arch(Arch.ARM64))

    def build(bins: tuple[str, ...], *, extension: bool) -> rustlambda.BuildResult:
        options = BuildOptions(
            cwd=workspace,
            targets=targets,
            bins=bins,
            extension=extension,
            environ=build_env,
            target_dir=cache / "target",
        )
        return rustlambda.build(options)

    functions = build(REAL_CRATES_FUNCTIONS, extension=False)
    extension = build((REAL_CRATES_EXTENSION,), extension=True)
    built = {(str(a.arch), a.function): a.path for a in functions.artifacts}
    expected = {(arch, fn) for arch in ("x86_64", "arm64") for fn in REAL_CRATES_FUNCTIONS}
    assert set(built) == expected, sorted(built)
    return RealCrates(built, {str(a.arch): a.path for a in extension.artifacts})
