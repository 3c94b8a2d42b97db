"""The CDK constructs' plain logic, without aws-cdk-lib (importing it starts node): props and
their coercion, extra build args, build options, the Docker script, lazy build planning, the
workspace lookup, the metadata cache, the verification cache and the wheel for Docker."""

from __future__ import annotations

import hashlib
import json
import zipfile
from base64 import urlsafe_b64encode
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from rustlambda.builder.result import Artifact
from rustlambda.cdk import wheel
from rustlambda.cdk.args import build_options, docker_build_flags, split_build_args
from rustlambda.cdk.docker import (
    WHEEL_DIR,
    DockerBuild,
    cargo_cache_mounts,
    default_build_args,
    docker_script,
)
from rustlambda.cdk.options import BundlingOptions, LogLevel, PackageManagerType, coerce_bundling
from rustlambda.cdk.planner import BuildKey, BuildPlanner
from rustlambda.cdk.project import (
    MetadataRunner,
    Projects,
    choose_binary,
    find_workspace_with_binary,
)
from rustlambda.cdk.reporter import CdkReporter
from rustlambda.cdk.verified import CACHE_NAME, verify_cached
from rustlambda.errors import (
    ArtifactError,
    CompileError,
    ConfigError,
    UnknownBinaryError,
    UnknownCompilerError,
    VerifyError,
)
from rustlambda.layout import ArtifactKind
from rustlambda.options import Compiler
from rustlambda.targets import Arch, Runtime, Target
from rustlambda.util.cmd import Completed

from .fakes import REAL_ELF, write_workspace

WHAT = "RustFunction 'F'"


# ------------------------------------------------------------------------------ props
def test_a_dict_becomes_bundling_options_in_either_spelling() -> None:
    options = coerce_bundling(
        {"extra_build_args": ["--locked"], "packageManagerType": 1, "logLevel": "silent"}, WHAT
    )
    assert options == BundlingOptions(
        extra_build_args=["--locked"],
        package_manager_type=PackageManagerType.CROSS,
        log_level=LogLevel.SILENT,
    )
    assert coerce_bundling(None, WHAT) == BundlingOptions()


def test_an_unknown_dict_key_is_a_type_error_with_the_closest_option() -> None:
    with pytest.raises(TypeError, match=r"'extra_build_arg'.*did you mean 'extra_build_args'"):
        coerce_bundling({"extra_build_arg": []}, WHAT)


def test_cdk_bundling_options_is_one_clear_type_error() -> None:
    lookalike = type("BundlingOptions", (), {"__module__": "aws_cdk"})()
    with pytest.raises(TypeError) as info:
        coerce_bundling(lookalike, WHAT)
    assert "aws_cdk.BundlingOptions" in str(info.value)
    assert "from rustlambda.cdk import BundlingOptions" in str(info.value)
    with pytest.raises(TypeError, match=r"not builtins\.str"):
        coerce_bundling("--release", WHAT)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"extra_build_args": "--all-features"}, "must be a list"),
        ({"features": "a,b"}, "must be a list"),
        ({"environment": {"A": 1}}, "strings to strings"),
        ({"package_manager_type": 7}, "not a PackageManagerType"),
        ({"log_level": "loud"}, "not a LogLevel"),
    ],
)
def test_bundling_options_refuse_values_of_the_wrong_shape(
    kwargs: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(TypeError, match=fragment):
        BundlingOptions(**kwargs)


def test_package_manager_types_keep_the_seeds_values() -> None:
    assert [(t.name, t.value, t.compiler) for t in PackageManagerType] == [
        ("CARGO_ZIGBUILD", 0, "zig"),
        ("CROSS", 1, "cross"),
        ("CARGO", 2, "cargo"),
    ]


# ------------------------------------------------------------------------------ build args
def test_rustlambda_flags_before_dashdash_cargo_flags_after_in_order() -> None:
    split = split_build_args(
        [
            "--all-features",
            "--config",
            "profile.release.debug=1",
            "--locked",
            "-Zbuild-std",
            "--profile",
            "lambda",
            "--timings",
            "-j2",
            "--lockfile-path",
            "other.lock",
            "--",
            "--bin-never-parsed",
        ],
        WHAT,
    )
    # cargo's --config, -Z and --timings are rows of rustlambda's settings table (it hands them
    # to cargo); what rustlambda does not know goes to cargo after --, in order
    assert split.rustlambda == (
        "--all-features",
        "--config",
        "profile.release.debug=1",
        "--locked",
        "-Zbuild-std",
        "--profile",
        "lambda",
        "--timings",
        "-j2",
    )
    assert split.cargo == ("--lockfile-path", "other.lock", "--bin-never-parsed")
    assert split.argv()[-4:] == ["--", "--lockfile-path", "other.lock", "--bin-never-parsed"]


@pytest.mark.parametrize(
    ("flag", "prop"),
    [
        ("--bin", "binary_name="),
        ("--target=aarch64-unknown-linux-gnu", "architecture="),
        ("--manifest-path", "entry="),
        ("-p", "entry= or binary_name="),
        ("--include", "after_bundling"),
    ],
)
def test_flags_the_construct_sets_are_refused_with_the_prop(flag: str, prop: str) -> None:
    with pytest.raises(ConfigError) as info:
        split_build_args([flag, "x"], WHAT)
    assert "may not contain" in info.value.message and prop in info.value.fix


def test_build_options_pass_cargo_flags_through_and_merge_the_props(tmp_path: Path) -> None:
    bundling = BundlingOptions(
        extra_build_args=[
            "--features",
            "a",
            "--config",
            "k=v",
            "--no-verify",
            "--lockfile-path",
            "x",
        ],
        features=["b"],
        package_manager_type=PackageManagerType.CARGO,
        environment={"HELLO": "world"},
    )
    target = Target.for_arch(Arch.ARM64)
    options = build_options(bundling, tmp_path, target, Runtime.AL2, WHAT, environ={"PATH": "/x"})
    assert (options.config, options.cargo_args) == (("k=v",), ("--lockfile-path", "x"))
    assert options.features == ("a", "b")
    assert options.compiler is not None and options.compiler.kind is Compiler.CARGO
    assert (options.release, options.profile, options.verify) == (True, None, False)
    assert options.environ == {"PATH": "/x", "HELLO": "world"}
    assert (options.targets, options.runtime, options.workspace) == ((target,), Runtime.AL2, True)
    assert options.manifest_path == tmp_path / "Cargo.toml"


def test_a_profile_replaces_release_and_compilers_must_agree(tmp_path: Path) -> None:
    target = Target.for_arch(Arch.X86_64)
    profiled = build_options(
        BundlingOptions(extra_build_args=["--profile", "lambda"]),
        tmp_path,
        target,
        Runtime.AL2023,
        WHAT,
    )
    assert (profiled.release, profiled.profile, profiled.verify) == (None, "lambda", None)
    with pytest.raises(ConfigError, match="disagree"):
        build_options(
            BundlingOptions(compiler="zig", package_manager_type=PackageManagerType.CROSS),
            tmp_path,
            target,
            Runtime.AL2023,
            WHAT,
        )
    with pytest.raises(ConfigError, match=r"--compiler in bundling\.extra_build_args disagrees"):
        build_options(
            BundlingOptions(extra_build_args=["--compiler", "cargo"], compiler="zig"),
            tmp_path,
            target,
            Runtime.AL2023,
            WHAT,
        )
    with pytest.raises(UnknownCompilerError, match=r"'gcc' \(in RustFunction 'F'"):
        build_options(
            BundlingOptions(extra_build_args=["--compiler", "gcc"]),
            tmp_path,
            target,
            Runtime.AL2023,
            WHAT,
        )


# ------------------------------------------------------------------------------ docker
class Hooks:
    def before_bundling(self, input_dir: str, output_dir: str) -> list[str]:
        return [f"echo before {input_dir} {output_dir}"]

    def after_bundling(self, input_dir: str, output_dir: str) -> list[str]:
        return [f"echo after {input_dir} {output_dir}"]


def test_docker_script_builds_one_binary_with_the_props_between_the_hooks() -> None:
    bundling = BundlingOptions(
        extra_build_args=["--locked", "--config", "k=v"],
        features=["a", "b"],
        package_manager_type=PackageManagerType.CROSS,
        log_level=LogLevel.VERBOSE,
        command_hooks=Hooks(),
    )
    build = DockerBuild(
        "hello", "extensions/hello", Target.for_arch(Arch.ARM64), Runtime.AL2, "rust", WHAT
    )
    steps = docker_script(build, bundling, own_image=True).split(" && ")
    assert steps[0] == "echo before /asset-input/rust /asset-output"
    assert steps[-1] == "echo after /asset-input/rust /asset-output"
    assert steps[1] == (
        "rustlambda build --bin hello --manifest-path /asset-input/rust/Cargo.toml "
        "--target aarch64-unknown-linux-gnu --runtime provided.al2 "
        "--lambda-dir /tmp/rustlambda-lambda --target-dir /tmp/rustlambda-target --release "
        "--compiler cross --features a,b -v --locked --config k=v"
    )
    assert steps[2:5] == [
        "mkdir -p /asset-output/extensions",
        "cp /tmp/rustlambda-lambda/hello/bootstrap /asset-output/extensions/hello",
        "chmod 755 /asset-output/extensions/hello",
    ]
    assert not any("pip install" in step for step in steps)  # the default image has it


def test_another_image_installs_this_rustlambda_from_the_mounted_wheel() -> None:
    build = DockerBuild(
        "hello", "bootstrap", Target.for_arch(Arch.X86_64), Runtime.AL2023, "", WHAT
    )
    script = docker_script(build, BundlingOptions(profile="lambda"), own_image=False)
    assert f"pip install --quiet {WHEEL_DIR}/rustlambda-" in script
    assert "pip install --quiet rustlambda==" not in script  # never from the index
    assert "--profile lambda" in script and "--release" not in script
    assert "--manifest-path /asset-input/Cargo.toml" in script


def test_default_image_build_args_take_the_users_over_ours() -> None:
    args = default_build_args({"IMAGE": "my/rust:1"})
    assert args["IMAGE"] == "my/rust:1"
    assert args["RUSTLAMBDA_SPEC"] == f"{WHEEL_DIR}/{wheel.wheel_name()}"
    assert default_build_args({"RUSTLAMBDA_SPEC": "rustlambda==0.1.0"})["RUSTLAMBDA_SPEC"] == (
        "rustlambda==0.1.0"
    )
    mounts = cargo_cache_mounts({"CARGO_HOME": "/c"})
    assert mounts == [
        ("/c/registry", "/usr/local/cargo/registry"),
        ("/c/git", "/usr/local/cargo/git"),
    ]
    assert docker_build_flags(BundlingOptions(log_level=LogLevel.SILENT), WHAT) == [
        "--release",
        "-q",
    ]


# ------------------------------------------------------------------------------ planner
KEY = BuildKey(Path("/ws"), Target.for_arch(Arch.X86_64), Runtime.AL2023, "fp")


class Builds:
    """A build that records what it was asked for and yields a name per binary."""

    def __init__(self, fail: bool = False) -> None:
        self.asked: list[tuple[str, ...]] = []
        self.fail = fail

    def __call__(self, names: Sequence[str]) -> Mapping[str, str]:
        self.asked.append(tuple(names))
        if self.fail:
            raise CompileError("cargo failed", "fix it")
        return {name: f"built:{name}:{len(self.asked)}" for name in names}


def test_one_build_makes_exactly_what_the_app_wants() -> None:
    planner: BuildPlanner[str] = BuildPlanner()
    for name in ("f03", "f01", "f07"):
        planner.want(KEY, name)
    builds = Builds()
    got = [planner.artifact(KEY, name, builds) for name in ("f03", "f01", "f07")]
    assert builds.asked == [("f03", "f01", "f07")]  # one run, only the wanted three
    assert got == ["built:f03:1", "built:f01:1", "built:f07:1"]


def test_a_binary_wanted_after_the_build_gets_a_build_of_its_own() -> None:
    planner: BuildPlanner[str] = BuildPlanner()
    planner.want(KEY, "f01")
    builds = Builds()
    planner.artifact(KEY, "f01", builds)
    assert planner.artifact(KEY, "f02", builds) == "built:f02:2"
    assert builds.asked == [("f01",), ("f02",)]
    other = BuildKey(Path("/ws"), Target.for_arch(Arch.ARM64), Runtime.AL2023, "fp")
    planner.artifact(other, "f01", builds)
    assert planner.all_runs() == {KEY: [("f01",), ("f02",)], other: [("f01",)]}


def test_a_hook_makes_the_next_asset_build_again_what_is_not_delivered() -> None:
    planner: BuildPlanner[str] = BuildPlanner()
    for name in ("a", "b", "c"):
        planner.want(KEY, name)
    builds = Builds()
    planner.artifact(KEY, "a", builds)
    planner.stale(KEY)  # b's before_bundling hook ran
    assert planner.artifact(KEY, "b", builds) == "built:b:2"
    assert planner.artifact(KEY, "c", builds) == "built:c:2"
    assert builds.asked == [("a", "b", "c"), ("b", "c")]


def test_a_failed_build_fails_every_asset_of_it_once() -> None:
    planner: BuildPlanner[str] = BuildPlanner()
    planner.want(KEY, "a")
    planner.want(KEY, "b")
    builds = Builds(fail=True)
    with pytest.raises(CompileError):
        planner.artifact(KEY, "a", builds)
    with pytest.raises(CompileError):
        planner.artifact(KEY, "b", builds)
    assert builds.asked == [("a", "b")]


def test_a_build_without_the_binary_says_what_it_made() -> None:
    planner: BuildPlanner[str] = BuildPlanner()
    with pytest.raises(ArtifactError, match="made nothing, not x"):
        planner.artifact(KEY, "x", lambda names: {})


# ------------------------------------------------------------------------------ project
class MetadataByManifest:
    """Answers ``cargo metadata --manifest-path M`` from a table; counts the calls."""

    def __init__(self, answers: Mapping[Path, dict[str, Any]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, ...]] = []

    def run(
        self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None
    ) -> Completed:
        self.calls.append(tuple(argv))
        manifest = Path(argv[argv.index("--manifest-path") + 1])
        return Completed(tuple(argv), 0, json.dumps(self.answers[manifest]), "")

    def stream(self, *args: Any, **kwargs: Any) -> int:
        raise AssertionError("no builds here")


ENV = {"CARGO": "/fake/cargo", "RUSTC": "/fake/rustc", "PATH": ""}


def nested(tmp_path: Path) -> tuple[Path, MetadataByManifest]:
    """outer/ (a workspace with my_lambda_1 and my_lambda_2) holding inner/ (one with tool)."""
    outer = tmp_path / "outer"
    outer.mkdir()
    outer_meta = write_workspace(
        outer, {"my_lambda_1": ["my_lambda_1"], "my_lambda_2": ["my_lambda_2"]}
    )
    inner = outer / "infra" / "inner"
    inner.mkdir(parents=True)
    inner_meta = write_workspace(inner, {"tool": ["tool"]})
    answers = {outer / "Cargo.toml": outer_meta, inner / "Cargo.toml": inner_meta}
    for name in ("my_lambda_1", "my_lambda_2"):
        answers[outer / name / "Cargo.toml"] = outer_meta
    answers[inner / "tool" / "Cargo.toml"] = inner_meta
    return outer, MetadataByManifest(answers)


def test_no_entry_finds_the_nearest_workspace_that_has_the_binary(tmp_path: Path) -> None:
    outer, cargo = nested(tmp_path)
    projects = Projects(MetadataRunner(cargo))
    start = outer / "infra" / "inner" / "app"
    start.mkdir()
    found = find_workspace_with_binary(start, "my_lambda_1", projects, ENV, WHAT)
    assert found == outer / "Cargo.toml"  # inner/ was passed: it has no my_lambda_1
    found = find_workspace_with_binary(start, "tool", projects, ENV, WHAT)
    assert found == outer / "infra" / "inner" / "Cargo.toml"
    assert len(cargo.calls) == 2  # each workspace read once


def test_no_workspace_with_the_binary_says_what_was_found(tmp_path: Path) -> None:
    outer, cargo = nested(tmp_path)
    with pytest.raises(UnknownBinaryError) as info:
        find_workspace_with_binary(
            outer / "infra" / "inner", "nope", Projects(MetadataRunner(cargo)), ENV, WHAT
        )
    message = info.value.message
    assert message.startswith(f"{WHAT}: no entry given, and no Cargo workspace at or above")
    assert (
        f"found: {outer / 'infra' / 'inner'} (tool); {outer} (my_lambda_1, my_lambda_2)" in message
    )
    assert "binary_name= one of the binaries found" in info.value.fix


def test_two_packages_with_the_binary_are_named(tmp_path: Path) -> None:
    meta = write_workspace(tmp_path, {"a": ["handler"], "b": ["handler"]})
    cargo = MetadataByManifest({tmp_path / "Cargo.toml": meta})
    with pytest.raises(UnknownBinaryError) as info:
        find_workspace_with_binary(tmp_path, "handler", Projects(MetadataRunner(cargo)), ENV, WHAT)
    assert "several binaries named handler: in packages a (" in info.value.message
    assert "entry=: the Cargo.toml of the package to build" in info.value.fix


def test_choose_binary_lists_the_binaries(tmp_path: Path) -> None:
    outer, cargo = nested(tmp_path)
    workspace = Projects(MetadataRunner(cargo)).workspace(outer / "Cargo.toml", ENV)
    assert workspace is not None
    with pytest.raises(UnknownBinaryError) as info:
        choose_binary(workspace, outer / "Cargo.toml", None, WHAT)
    assert info.value.fix == "pass binary_name= one of: my_lambda_1, my_lambda_2"
    with pytest.raises(UnknownBinaryError, match="no binary named x in"):
        choose_binary(workspace, outer / "Cargo.toml", "x", WHAT)
    member = outer / "my_lambda_2" / "Cargo.toml"
    assert choose_binary(workspace, member, None, WHAT) == "my_lambda_2"


def test_cargo_metadata_runs_once_per_workspace_for_the_app_and_its_build(tmp_path: Path) -> None:
    outer, cargo = nested(tmp_path)
    runner = MetadataRunner(cargo)
    projects = Projects(runner)
    member = outer / "my_lambda_1" / "Cargo.toml"
    assert projects.workspace(member, ENV) is projects.workspace(outer / "Cargo.toml", ENV)
    # the build's own call, for the workspace's manifest, is answered from memory
    argv = ["/fake/cargo", "metadata", "--format-version", "1", "--no-deps"]
    runner.run([*argv, "--manifest-path", str(outer / "Cargo.toml")], env=ENV, cwd=outer)
    assert len(cargo.calls) == 1
    # another environment may mean another target dir: asked again
    runner.run(
        [*argv, "--manifest-path", str(outer / "Cargo.toml")], env={**ENV, "X": "1"}, cwd=outer
    )
    assert len(cargo.calls) == 2
    projects.forget()  # a before_bundling hook ran: manifests may have changed
    projects.workspace(member, ENV)
    assert len(cargo.calls) == 3


# ------------------------------------------------------------------------------ verification
class Reported:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def info(self, message: str) -> None: ...

    def warning(self, message: str) -> None:
        self.warnings.append(message)

    def command(self, argv: Sequence[str]) -> None: ...

    def output(self, line: str) -> None: ...


def artifact(path: Path, data: bytes, arch: Arch = Arch.X86_64) -> Artifact:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(0o755)
    digest = hashlib.sha256(data).hexdigest()
    target = Target.for_arch(arch)
    return Artifact(path.name, ArtifactKind.FUNCTION, "p", target, arch, path, len(data), digest)


def test_a_bootstrap_is_verified_once_until_what_decides_the_verdict_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lambda_dir = tmp_path / "lambda"
    lambda_dir.mkdir()
    boot = artifact(lambda_dir / "hello" / "bootstrap", REAL_ELF)
    reporter = Reported()
    assert verify_cached([boot], Runtime.AL2023, lambda_dir, reporter) == 1
    assert verify_cached([boot], Runtime.AL2023, lambda_dir, reporter) == 0  # unchanged
    changed = artifact(boot.path, REAL_ELF + b"\0")  # new bytes (a rebuild)
    assert verify_cached([changed], Runtime.AL2023, lambda_dir, reporter) == 1
    with pytest.raises(VerifyError):  # the runtime: /bin/true needs glibc 2.34, al2 has 2.26
        verify_cached([changed], Runtime.AL2, lambda_dir, reporter)
    with pytest.raises(VerifyError):  # never remembered: it fails again
        verify_cached([changed], Runtime.AL2, lambda_dir, reporter)
    arm = artifact(boot.path, REAL_ELF + b"\0", Arch.ARM64)  # the expected architecture
    with pytest.raises(VerifyError):
        verify_cached([arm], Runtime.AL2023, lambda_dir, reporter)
    monkeypatch.setattr("rustlambda.cdk.verified.__version__", "9.9.9")  # a newer checker
    assert verify_cached([changed], Runtime.AL2023, lambda_dir, reporter) == 1


def test_warnings_found_once_are_reported_on_every_synth(tmp_path: Path) -> None:
    boot = artifact(tmp_path / "hello" / "bootstrap", REAL_ELF)
    verify_cached([boot], Runtime.AL2023, tmp_path, Reported())
    cache = tmp_path / CACHE_NAME
    data = json.loads(cache.read_text())
    [key] = data["checked"]
    data["checked"][key] = ["over 50 MB zipped"]
    cache.write_text(json.dumps(data))
    reporter = Reported()
    assert verify_cached([boot], Runtime.AL2023, tmp_path, reporter) == 0
    assert reporter.warnings == [f"{boot.path}: over 50 MB zipped"]
    cache.write_text("not json")  # a broken cache is no cache
    assert verify_cached([boot], Runtime.AL2023, tmp_path, Reported()) == 1


# ------------------------------------------------------------------------------ wheel
def package(tmp_path: Path, text: str = "VALUE = 1\n") -> Path:
    root = tmp_path / "pkg"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text(text)
    (root / "sub" / "data.json").write_text("{}")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"junk")
    return root


DIST = {
    "METADATA": "Metadata-Version: 2.1\nName: rustlambda\nVersion: 0.1.0\nRequires-Dist: click\n"
}


def test_the_wheel_holds_the_package_and_a_valid_record(tmp_path: Path) -> None:
    root = package(tmp_path)
    built = wheel.write_wheel(tmp_path / "a" / wheel.wheel_name("0.1.0"), root, DIST, "0.1.0")
    with zipfile.ZipFile(built) as zf:
        names = zf.namelist()
        assert names == [
            "rustlambda/__init__.py",
            "rustlambda/sub/data.json",
            "rustlambda-0.1.0.dist-info/METADATA",
            "rustlambda-0.1.0.dist-info/RECORD",
        ]
        record = zf.read("rustlambda-0.1.0.dist-info/RECORD").decode().splitlines()
        for line in record[:-1]:
            name, digest, size = line.split(",")
            data = zf.read(name)
            expected = urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert (digest, int(size)) == (f"sha256={expected}", len(data))
    again = wheel.write_wheel(tmp_path / "b" / wheel.wheel_name("0.1.0"), root, DIST, "0.1.0")
    assert again.read_bytes() == built.read_bytes()  # reproducible


def test_the_cache_key_follows_the_sources_and_the_metadata(tmp_path: Path) -> None:
    root = package(tmp_path)
    first = wheel.source_digest(root, DIST)
    assert wheel.source_digest(root, DIST) == first
    (root / "__pycache__" / "y.pyc").write_bytes(b"more junk")
    assert wheel.source_digest(root, DIST) == first  # bytecode is not source
    assert (
        wheel.source_digest(root, {"METADATA": DIST["METADATA"] + "Requires-Dist: rich\n"}) != first
    )
    (root / "__init__.py").write_text("VALUE = 2\n")
    assert wheel.source_digest(root, DIST) != first


def test_bundle_dir_is_this_rustlambdas_wheel_and_dockerfile_made_once(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    directory = wheel.bundle_dir(env)
    assert directory.parent == tmp_path / "rustlambda" / "docker"
    built = directory / wheel.wheel_name()
    assert (directory / "Dockerfile").read_text() == wheel.DOCKERFILE.read_text()
    with zipfile.ZipFile(built) as zf:
        assert "rustlambda/cdk/wheel.py" in zf.namelist()
        assert zf.read("rustlambda/cdk/wheel.py") == Path(wheel.__file__).read_bytes()
        assert "Requires-Dist: click" in zf.read("rustlambda-0.1.0.dist-info/METADATA").decode()
        assert (
            "rustlambda = rustlambda.launch:main"
            in zf.read("rustlambda-0.1.0.dist-info/entry_points.txt").decode()
        )
    stamp = built.stat().st_mtime_ns
    assert wheel.bundle_dir(env) == directory and built.stat().st_mtime_ns == stamp


# ------------------------------------------------------------------------------ log level
@pytest.mark.parametrize(
    ("level", "shown"),
    [
        (LogLevel.SILENT, []),
        (LogLevel.INFO, ["rustlambda: building", "rustlambda: warning: slow"]),
        (
            LogLevel.VERBOSE,
            [
                "rustlambda: building",
                "rustlambda: warning: slow",
                "rustlambda: running cargo build",
                "   Compiling x",
            ],
        ),
    ],
)
def test_log_level_decides_what_the_synth_shows(
    level: LogLevel, shown: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    reporter = CdkReporter(level)
    reporter.info("building")
    reporter.warning("slow")
    reporter.command(["cargo", "build"])
    reporter.output("   Compiling x")
    assert capsys.readouterr().err.splitlines() == shown
