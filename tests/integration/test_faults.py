"""Faults injected into real runs of the CLI (issue 13): nothing lost, no traceback.

One real release build of tests/fixtures/std-workspace (hello and echo, x86_64) is made once
for the module; every test builds into its own lambda dir from the same target dir, so cargo
finds nothing to do. Faults: a build that fails verification or a zip over the limit after a
good one, deploys from read-only folders, damaged zips, tmpfs mounts that are full or
read-only, signals to a running build and a running deploy, rustup without a toolchain, and
the messages those used to get wrong. Each test failed on main before issue 13's fixes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rustlambda.util import signals
from tests.damage import DAMAGES, damaged_zip, write_zip

from .conftest import Moto, copy_fixture, run_cli
from .faults import (
    HoldingProxy,
    Running,
    assert_one_error,
    kill_mentioning,
    processes_mentioning,
    read_only_view,
    snapshot,
    tmpfs,
)

RELEASE = ("build", "--release", "--x86-64", "--bin", "hello", "--bin", "echo")


@dataclass(frozen=True)
class Built:
    ws: Path
    lambda_dir: Path  # the good release build, binaries only

    @property
    def bootstrap(self) -> Path:
        return self.lambda_dir / "hello/bootstrap"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, build_env: dict[str, str]) -> Built:
    ws = copy_fixture("std-workspace", tmp_path_factory.mktemp("faults"))
    done = run_cli(*RELEASE, cwd=ws, env=build_env)
    assert done.returncode == 0, done.stderr
    return Built(ws, ws / "target/lambda")


def build(built: Built, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=built.ws, env=env)


# --------------------------------------------------------------------- 1. atomic artifacts
def test_a_build_failing_verification_leaves_the_previous_artifacts_untouched(
    built: Built, build_env: dict[str, str], tmp_path: Path
) -> None:
    lambda_dir = tmp_path / "lambda"
    good = build(built, build_env, *RELEASE, "-o", "zip", "--lambda-dir", str(lambda_dir))
    assert good.returncode == 0, good.stderr
    before = snapshot(lambda_dir)
    assert set(before) == {
        "hello/bootstrap",
        "hello/bootstrap.zip",
        "echo/bootstrap",
        "echo/bootstrap.zip",
    }
    # the reproduction: a debug build pinned to glibc 2.34, checked against al2 (2.26)
    bad = build(
        built,
        build_env,
        *("build", "--runtime", "provided.al2", "--target", "x86_64-unknown-linux-gnu.2.34"),
        *("--bin", "hello", "--bin", "echo", "-o", "zip", "--lambda-dir", str(lambda_dir)),
    )
    assert bad.returncode == 15, bad.stderr
    assert snapshot(lambda_dir) == before  # byte for byte; no staged file left
    assert_one_error(bad.stderr, "GLIBC_2.34", "nothing was installed")


def test_a_zip_over_the_limit_replaces_nothing(
    built: Built, build_env: dict[str, str], tmp_path: Path
) -> None:
    lambda_dir = tmp_path / "lambda"
    good = build(built, build_env, *RELEASE, "-o", "zip", "--lambda-dir", str(lambda_dir))
    assert good.returncode == 0, good.stderr
    before = snapshot(lambda_dir)
    big = built.ws / "big.bin"
    manifest = built.ws / "functions/hello/Cargo.toml"
    original = manifest.read_text()
    try:
        with big.open("wb") as fh:  # sparse: 251 MiB of zeros, over the 250 MB unzipped limit
            fh.truncate(251 * 1024 * 1024)
        manifest.write_text(original + '\n[package.metadata.lambda.build]\ninclude = ["big.bin"]\n')
        # echo's zip changes too (its timestamps), and passes: it must not be installed alone
        env = {**build_env, "SOURCE_DATE_EPOCH": "1700000000"}
        bad = build(built, env, *RELEASE, "-o", "zip", "--lambda-dir", str(lambda_dir))
    finally:
        manifest.write_text(original)
        big.unlink(missing_ok=True)
    assert bad.returncode == 15, bad.stderr
    assert snapshot(lambda_dir) == before
    assert_one_error(bad.stderr, "over Lambda's 250.0 MB unzipped limit", "nothing was installed")


# ------------------------------------------------------------- 2. deploy writes nothing there
def test_deploy_from_a_read_only_folder_writes_nothing_next_to_the_binary(
    built: Built, moto: Moto, aws: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "artifact"
    source.mkdir()
    shutil.copy2(built.bootstrap, source / "bootstrap")
    with read_only_view(source, tmp_path / "ro") as ro:
        binary = str(ro / "bootstrap")
        dry = run_cli(
            "deploy", "hello", "--binary-path", binary, "--dry-run", cwd=built.ws, env=aws
        )
        assert dry.returncode == 0, dry.stderr
        real = run_cli("deploy", "hello", "--binary-path", binary, "--json", cwd=built.ws, env=aws)
        assert real.returncode == 0, real.stderr
        (deployed,) = json.loads(real.stdout)["deployments"]
        assert deployed["status"] == "created" and deployed["zip_path"] is None
    # writable, and the deploy fails (no credentials): still nothing written
    no_credentials = {k: v for k, v in aws.items() if not k.startswith("AWS_SECRET")}
    failed = run_cli(
        "deploy",
        "hello",
        "--binary-path",
        str(source / "bootstrap"),
        cwd=built.ws,
        env=no_credentials,
    )
    assert failed.returncode == 22, failed.stderr
    assert sorted(p.name for p in source.iterdir()) == ["bootstrap"]


def test_deploy_of_a_lambda_dir_build_reads_it_only(
    built: Built, moto: Moto, aws: dict[str, str], tmp_path: Path
) -> None:
    with read_only_view(built.lambda_dir, tmp_path / "ro") as ro:
        before = snapshot(ro)
        done = run_cli("deploy", "echo", "--lambda-dir", str(ro), "--json", cwd=built.ws, env=aws)
        assert done.returncode == 0, done.stderr
        assert snapshot(ro) == before
    # the build's own zip, when it is what deploy would write, is deployed as it is
    zipped = tmp_path / "zipped"
    good = build(built, aws, *RELEASE, "-o", "zip", "--lambda-dir", str(zipped))
    assert good.returncode == 0, good.stderr
    again = run_cli("deploy", "echo", "--lambda-dir", str(zipped), "--json", cwd=built.ws, env=aws)
    assert again.returncode == 0, again.stderr
    (deployed,) = json.loads(again.stdout)["deployments"]
    assert deployed["zip_path"] == str(zipped / "echo/bootstrap.zip")
    assert deployed["status"] == "unchanged"  # the same bytes as the first deploy's zip


# --------------------------------------------------------------------------- 3. corrupt zips
@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_zip_is_one_clear_error(
    built: Built, build_env: dict[str, str], tmp_path: Path, damage: str
) -> None:
    path = damaged_zip(tmp_path / "function.zip", built.bootstrap.read_bytes(), damage)
    verify = run_cli("verify", str(path), cwd=tmp_path, env=build_env)
    assert verify.returncode == 15, verify.stderr
    assert_one_error(verify.stderr, DAMAGES[damage][1])
    deploy = run_cli(
        "deploy", "hello", "--binary-path", str(path), "--dry-run", cwd=built.ws, env=build_env
    )
    assert deploy.returncode == 15, deploy.stderr  # refused before any AWS call
    assert_one_error(deploy.stderr, DAMAGES[damage][1])


def test_verify_never_inflates_an_entry_over_250_mb(
    build_env: dict[str, str], tmp_path: Path
) -> None:
    with tmpfs(tmp_path / "tmp", "1m") as small_tmp:  # inflating would spill into TMPDIR
        path = tmp_path / "huge.zip"
        write_zip(path, bytes(260 * 1024 * 1024))  # 260 MB of zeros: 260 KB zipped
        done = run_cli(
            "verify", str(path), cwd=tmp_path, env={**build_env, "TMPDIR": str(small_tmp)}
        )
        assert done.returncode == 15, done.stderr
        assert_one_error(done.stderr, "260.0 MB unzipped", "over Lambda's 250.0 MB unzipped limit")
        assert snapshot(small_tmp) == {}


# ---------------------------------------------------------- 4. OS errors installing a bootstrap
@pytest.mark.parametrize("fault", ["read-only", "a file", "a folder in its place", "disk full"])
def test_os_errors_installing_a_bootstrap_name_the_path(
    built: Built, build_env: dict[str, str], tmp_path: Path, fault: str
) -> None:
    with fault_place(fault, tmp_path) as (lambda_dir, fragments):
        done = build(built, build_env, *RELEASE, "--lambda-dir", str(lambda_dir))
        assert done.returncode == 13, done.stderr
        assert_one_error(done.stderr, str(lambda_dir), *fragments)
        if fault == "disk full":
            assert snapshot(lambda_dir) == {}  # the staged copies were removed


@contextlib.contextmanager
def fault_place(fault: str, tmp_path: Path) -> Iterator[tuple[Path, tuple[str, ...]]]:
    if fault == "read-only":
        with tmpfs(tmp_path / "ro", read_only=True) as ro:
            yield ro / "lambda", ("read-only file system",)
    elif fault == "a file":
        (tmp_path / "out").write_text("a file, not a folder")
        yield tmp_path / "out", ("a file is where a folder is needed",)
    elif fault == "a folder in its place":
        (tmp_path / "lambda/hello/bootstrap").mkdir(parents=True)
        yield tmp_path / "lambda", ("a folder is in its place",)
    else:
        with tmpfs(tmp_path / "full", "256k") as full:  # the bootstrap is ~430 KB
            yield full, ("no space left on device", "is full")


# ------------------------------------------------------------------------------- 7. signals
@pytest.fixture(scope="module")
def slow_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """std-workspace whose hello has a build script that sleeps: a build that is surely still
    running when the signal comes, however fast the machine."""
    ws = copy_fixture("std-workspace", tmp_path_factory.mktemp("slow"))
    (ws / "functions/hello/build.rs").write_text(
        "fn main() {\n    std::thread::sleep(std::time::Duration::from_secs(300));\n}\n"
    )
    return ws


def _building(ws: Path, tmp_path: Path, env: dict[str, str], *, session: bool) -> Running:
    """A build in progress: cargo runs hello's build script (compiled by rustc first)."""
    target = tmp_path / "fresh-target"
    argv = ["build", "-v", "--x86-64", "--bin", "hello", "--target-dir", str(target)]
    running = Running([*argv, "--lambda-dir", str(tmp_path / "lambda")], ws, env, session=session)
    running.wait_for(
        lambda: any("build-script-build" in p for p in processes_mentioning(str(target))),
        "hello's build script running",
    )
    return running


@pytest.mark.parametrize(
    ("signum", "code", "how"),
    [
        (signal.SIGTERM, 143, "to rustlambda alone, as Popen.terminate() or a supervisor"),
        (signal.SIGINT, 130, "to its process group, as Ctrl-C in a terminal"),
    ],
)
def test_a_signal_stops_the_build_and_every_tool_it_started(
    slow_ws: Path, build_env: dict[str, str], tmp_path: Path, signum: int, code: int, how: str
) -> None:
    try:
        running = _building(slow_ws, tmp_path, build_env, session=signum == signal.SIGINT)
        assert any("cargo" in p for p in processes_mentioning(str(tmp_path / "fresh-target")))
        if signum == signal.SIGINT:
            os.killpg(running.proc.pid, signum)
        else:
            running.proc.send_signal(signum)
        returncode, stderr = running.finish()
        left = processes_mentioning(str(tmp_path / "fresh-target"))  # right as rustlambda ended
    finally:
        kill_mentioning(str(tmp_path / "fresh-target"))
    assert returncode == code, stderr
    assert left == [], left  # cargo, cargo-zigbuild, the build script: ended before rustlambda
    error = assert_one_error(stderr, signal.Signals(signum).name, "nothing was installed")
    assert "fix the errors cargo reports" not in error  # not a compile error
    assert snapshot(tmp_path / "lambda") == {}


def test_sigterm_to_watch_mid_build_stops_the_build_and_exits_143(
    slow_ws: Path, build_env: dict[str, str], tmp_path: Path
) -> None:
    """watch builds in a worker thread: its event loop's handler forwards the signal to the
    build's tools (cargo, the build script), which end before watch does."""
    target = tmp_path / "watch-target"
    argv = ["watch", "--bin", "hello", "-P", "0", "--ignore-changes", "--target-dir", str(target)]
    running = Running(argv, slow_ws, build_env, session=False)
    try:
        running.wait_for(
            lambda: any("build-script-build" in p for p in processes_mentioning(str(target))),
            "hello's build script running under watch",
        )
        started = time.monotonic()
        running.proc.send_signal(signal.SIGTERM)
        returncode, stderr = running.finish()
        took = time.monotonic() - started
        left = processes_mentioning(str(target))  # right as watch ended
    finally:
        kill_mentioning(str(target))
    assert returncode == 143, stderr
    assert left == [], left
    assert took < signals.STOP_GRACE + 10, took  # not the build script's 300 s
    assert "Traceback" not in stderr and "Event loop is closed" not in stderr, stderr


def test_a_signal_mid_deploy_says_what_was_already_done(
    built: Built, moto: Moto, aws: dict[str, str]
) -> None:
    def create_function(method: str, path: str) -> bool:
        return method == "POST" and path.rstrip("/") == "/2015-03-31/functions"

    with HoldingProxy(moto.url, create_function) as proxy:
        env = {**aws, "AWS_ENDPOINT_URL": proxy.url}
        running = Running(
            ["deploy", "hello", "--lambda-dir", str(built.lambda_dir)], built.ws, env, session=False
        )
        running.wait_for(proxy.held.is_set, "the CreateFunction call")
        running.proc.send_signal(signal.SIGTERM)
        returncode, stderr = running.finish()
    assert returncode == 143, stderr
    role = moto.client("iam").get_role(RoleName="rustlambda-hello")["Role"]["Arn"]
    assert_one_error(
        stderr,
        "stopped by SIGTERM while deploying hello",
        f"already done for hello: created IAM role {role}",
        "fix: run the deploy again",
    )


# ------------------------------------------------------------- 9. messages that point right
def test_a_read_only_target_dir_is_not_a_compile_error(
    built: Built, build_env: dict[str, str], tmp_path: Path
) -> None:
    with tmpfs(tmp_path / "ro", read_only=True) as ro:
        done = build(built, build_env, "build", "--x86-64", "--target-dir", str(ro / "target"))
    assert done.returncode == 13, done.stderr
    error = assert_one_error(
        done.stderr, "cargo could not write", "read-only file system", tool_output=True
    )
    assert "--target-dir DIR" in error
    assert "fix the errors cargo reports" not in error


def test_rustup_without_a_default_toolchain_is_a_toolchain_problem(
    built: Built, tmp_path: Path
) -> None:
    proxies = Path.home() / ".cargo/bin"
    assert (proxies / "cargo").exists(), "rustup's proxies are preinstalled on this machine"
    env = {k: v for k, v in os.environ.items() if k not in ("CARGO", "RUSTC", "RUSTUP_TOOLCHAIN")}
    env["PATH"] = f"{proxies}{os.pathsep}{env['PATH']}"
    env["RUSTUP_HOME"] = str(tmp_path / "empty-rustup-home")  # rustup with nothing installed
    done = build(built, env, "build", "--x86-64")
    assert done.returncode == 9, done.stderr
    assert_one_error(done.stderr, "rustup has no default toolchain", "fix: rustup default stable")


def test_include_outside_the_project_suggests_a_fix_that_works(
    built: Built, build_env: dict[str, str], tmp_path: Path
) -> None:
    lambda_dir = tmp_path / "lambda"
    args = (*RELEASE, "-o", "zip", "--lambda-dir", str(lambda_dir))
    outside = tmp_path / "settings.json"
    outside.write_text("{}")
    refused = build(built, build_env, *args, "--include", str(outside))
    assert refused.returncode == 14, refused.stderr
    fix = assert_one_error(refused.stderr, f"cp -r {outside}").split("\n")[1]
    assert f"DEST:{outside}" not in fix
    shutil.copy(outside, built.ws / "settings.json")  # what the fix says
    try:
        done = build(built, build_env, *args, "--include", "settings.json")
    finally:
        (built.ws / "settings.json").unlink()
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(lambda_dir / "hello/bootstrap.zip") as zf:
        assert sorted(zf.namelist()) == ["bootstrap", "settings.json"]


def test_a_full_tmpdir_says_the_disk_is_full(
    built: Built, build_env: dict[str, str], tmp_path: Path
) -> None:
    with tmpfs(tmp_path / "tmp", "64k") as small_tmp:
        env = {**build_env, "TMPDIR": str(small_tmp)}
        path = tmp_path / "big.zip"
        write_zip(path, bytes(70 * 1024 * 1024))  # verify spills members over 64 MB to TMPDIR
        verify = run_cli("verify", str(path), cwd=tmp_path, env=env)
        assert verify.returncode == 13, verify.stderr
        error = assert_one_error(verify.stderr, "no space left on device", "TMPDIR")
        assert "permissions" not in error
        deploy = run_cli(
            "deploy",
            "hello",
            "--binary-path",
            str(built.bootstrap),
            "--dry-run",
            cwd=built.ws,
            env=env,
        )  # deploy zips into TMPDIR
        assert deploy.returncode == 13, deploy.stderr
        assert_one_error(deploy.stderr, "no space left on device", "TMPDIR")


def test_a_cdk_construct_error_shows_its_fix(
    built: Built, build_env: dict[str, str], tmp_path: Path
) -> None:
    """A CDK app's synth shows the exception's text only: it must carry the fix."""
    app = tmp_path / "app.py"
    app.write_text(
        "import sys\nimport aws_cdk as cdk\nfrom rustlambda.cdk import RustFunction\n"
        "app = cdk.App(outdir=sys.argv[2])\n"
        "RustFunction(cdk.Stack(app, 'S'), 'F', entry=sys.argv[1])\n"
    )
    done = subprocess.run(
        [sys.executable, str(app), str(built.ws), str(tmp_path / "out")],
        env=build_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode != 0
    assert "has several binaries and no binary_name says which" in done.stderr
    assert "fix: pass binary_name= one of: echo, hello, probe-ext" in done.stderr


def test_a_glibc_no_lambda_runtime_has_is_refused_before_compiling(
    built: Built, build_env: dict[str, str]
) -> None:
    done = build(built, build_env, "build", "-v", "--target", "x86_64-unknown-linux-gnu.2.99")
    assert done.returncode == 7, done.stderr
    assert_one_error(
        done.stderr, "no Lambda runtime has glibc 2.99", "x86_64-unknown-linux-gnu.2.34"
    )
    assert "Compiling" not in done.stderr and "running:" not in done.stderr
