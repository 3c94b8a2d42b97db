"""Integration tests: real cargo builds of tests/fixtures, every bootstrap executed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest
from moto.server import ThreadedMotoServer
from mypy_boto3_lambda import LambdaClient

from rustlambda.toolchain import std_installed
from rustlambda.util.cmd import SubprocessRunner

HERE = Path(__file__).parent
FIXTURES = HERE.parent / "fixtures"
REPO = HERE.parent.parent
BOTH_STDS = ("x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu")
REAL_CRATES = FIXTURES / "real-crates"
#: The binaries of real-crates' default members (tls is built on its own, see its README).
REAL_CRATES_BINS = ("typed", "http", "http-stream", "stream", "sdk", "concurrent", "native", "ext")
#: Set to a directory to keep the real-crates target dirs between test sessions (local runs);
#: CI leaves it unset, so every session builds cold in its own temporary directory.
TARGET_BASE_VAR = "RUSTLAMBDA_TEST_TARGET_BASE"


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
def build_env(rustc_both: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUSTFLAGS", "CARGO_LAMBDA"))}
    env["RUSTC"] = rustc_both
    # rustlambda's per-user cache (cargo metadata, one file per manifest path): the session's
    # own, not ~/.cache/rustlambda, which would keep a file for every temporary workspace
    env["RUSTLAMBDA_CACHE_DIR"] = str(tmp_path_factory.mktemp("rustlambda-user-cache"))
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


@dataclass
class Moto:
    """moto's server on 127.0.0.1 (one per test module): every AWS service at one URL."""

    url: str
    recording: Path

    def post(self, path: str) -> str:
        request = urllib.request.Request(self.url + path, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            return str(response.read().decode())

    def reset(self) -> None:
        self.post("/moto-api/reset")

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Moto]:
    recording = tmp_path_factory.mktemp("moto") / "recording.jsonl"
    # moto reads these settings from the environment of its (this) process, at request time
    saved = {
        k: os.environ.get(k) for k in ("MOTO_IAM_LOAD_MANAGED_POLICIES", "MOTO_RECORDER_FILEPATH")
    }
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    os.environ["MOTO_RECORDER_FILEPATH"] = str(recording)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield Moto(f"http://{host}:{port}", recording)
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def aws(moto: Moto, tmp_path: Path, build_env: dict[str, str]) -> dict[str, str]:
    """A clean endpoint and the environment a user would deploy with."""
    moto.reset()
    env = {k: v for k, v in build_env.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        AWS_ENDPOINT_URL=moto.url,
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


@dataclass(frozen=True)
class RealCratesBuild:
    """tests/fixtures/real-crates built once for x86_64 and arm64 by one `rustlambda build`."""

    compiler: str  # "zig" | "cargo"
    target_dir: Path
    result: dict[str, Any]  # `rustlambda build --json`
    seconds: float  # wall time of that build

    def bootstrap(self, arch: str, name: str) -> Path:
        return self.target_dir / "lambda" / arch / name / "bootstrap"


def real_crates_target_dir(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    base = os.environ.get(TARGET_BASE_VAR)
    if base:
        path = Path(base) / name
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp(name)


def build_real_crates(compiler: str, target_dir: Path, env: dict[str, str]) -> RealCratesBuild:
    """One CLI build of every default member for both architectures (debug: see the README)."""
    start = time.monotonic()
    done = run_cli(
        "build",
        "--arm64",
        "--x86-64",
        "--compiler",
        compiler,
        "--target-dir",
        str(target_dir),
        "--locked",
        "--json",
        "--manifest-path",
        str(REAL_CRATES / "Cargo.toml"),
        cwd=REAL_CRATES,
        env=env,
        timeout=3600,
    )
    seconds = time.monotonic() - start
    assert done.returncode == 0, done.stderr[-6000:]
    return RealCratesBuild(compiler, target_dir, json.loads(done.stdout), seconds)


@pytest.fixture(scope="session")
def real_crates_zig(
    tmp_path_factory: pytest.TempPathFactory, build_env: dict[str, str]
) -> RealCratesBuild:
    return build_real_crates(
        "zig", real_crates_target_dir(tmp_path_factory, "real-crates-zig"), build_env
    )


@pytest.fixture(scope="session")
def real_crates_cargo(
    tmp_path_factory: pytest.TempPathFactory, build_env: dict[str, str]
) -> RealCratesBuild:
    return build_real_crates(
        "cargo", real_crates_target_dir(tmp_path_factory, "real-crates-cargo"), build_env
    )
