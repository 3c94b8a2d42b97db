"""The cargo command each compiler gets, the output layout, and selection."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from rustlambda.builder import build, plan_build
from rustlambda.compilers.cargo import c_compiler_env
from rustlambda.errors import ConfigError, ToolNotFoundError
from rustlambda.options import BuildOptions, Compiler, CompilerSettings
from rustlambda.targets import Arch, Runtime, Target

from .fakes import FakeRunner, produce_binaries, write_workspace

X86 = Target.for_arch(Arch.X86_64)
ARM = Target.for_arch(Arch.ARM64)


def fake_tool(bin_dir: Path, name: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text("#!/bin/sh\nexit 99\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


Project = tuple[Path, FakeRunner, dict[str, str]]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "ws"
    root.mkdir()
    metadata = write_workspace(
        root,
        {"shared": [], "api": ["api"], "jobs": ["worker", "cron"]},
        examples={"api": ["demo"]},
    )
    runner = FakeRunner(
        metadata, libdir_root=tmp_path / "libdirs", produce=produce_binaries(root / "target")
    )
    environ = {
        "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "CARGO_HOME": str(tmp_path / "cargo-home"),
    }
    return root, runner, environ


def options(root: Path, environ: dict[str, str], **kw: object) -> BuildOptions:
    # /bin/true stands in for every binary: verification is integration tests' business
    return BuildOptions(cwd=root, environ=environ, verify=False, **kw)  # type: ignore[arg-type]


def flag_values(argv: tuple[str, ...], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_zig_both_architectures_in_one_command_pinned_to_the_runtime(project: Project) -> None:
    root, runner, environ = project
    plan = plan_build(
        options(root, environ, release=True, targets=(ARM, X86), runtime=Runtime.AL2), runner=runner
    )
    assert Path(plan.argv[0]).name == "cargo-zigbuild" and plan.argv[1] == "zigbuild"
    assert flag_values(plan.argv, "--target") == [
        "aarch64-unknown-linux-gnu.2.26",
        "x86_64-unknown-linux-gnu.2.26",
    ]
    assert "--release" in plan.argv
    assert flag_values(plan.argv, "--bin") == ["api", "worker", "cron"]
    assert "--workspace" in plan.argv
    assert Path(plan.env["CARGO_ZIGBUILD_ZIG_PATH"]).name == "zig"
    import ziglang

    assert Path(plan.env["CARGO_ZIGBUILD_ZIG_PATH"]).parent == Path(ziglang.__file__).parent
    # cargo-zigbuild runs our zig directly, not `python3 -m ziglang` of whatever python3 is first
    # on PATH (a process start per zig call, and maybe another zig)
    assert plan.env["CARGO_ZIGBUILD_ZIG_COMMAND"] == plan.env["CARGO_ZIGBUILD_ZIG_PATH"]
    assert plan.env["CARGO_ZIGBUILD_PYTHON_PATH"] == sys.executable
    configs = flag_values(plan.argv, "--config")
    assert 'profile.release.lto="thin"' in configs
    assert 'target.aarch64-unknown-linux-gnu.rustflags=["-C", "target-cpu=neoverse-n1"]' in configs
    # several targets: one tree per architecture
    dests = {(o.binary.name, o.target.arch): o.dest for o in plan.outputs}
    assert dests[("api", Arch.ARM64)] == root / "target/lambda/arm64/api/bootstrap"
    assert dests[("cron", Arch.X86_64)] == root / "target/lambda/x86_64/cron/bootstrap"
    assert plan.outputs[0].source == root / "target/aarch64-unknown-linux-gnu/release/api"


def test_single_target_layout_is_cargo_lambdas(project: Project) -> None:
    root, runner, environ = project
    result = build(options(root, environ, bins=("worker",), targets=(ARM,)), runner=runner)
    [artifact] = result.artifacts
    assert artifact.path == root / "target/lambda/worker/bootstrap"
    assert artifact.function == "worker" and artifact.package == "jobs"
    assert artifact.arch == "arm64" and str(artifact.target) == "aarch64-unknown-linux-gnu"
    assert artifact.size == artifact.path.stat().st_size
    assert stat.S_IMODE(artifact.path.stat().st_mode) == 0o755
    [command] = runner.builds
    assert flag_values(command.argv, "--profile") == ["dev"]
    assert flag_values(command.argv, "--package") == ["jobs"]
    assert "--config" not in command.argv  # debug build: no release tuning
    # the source stays where cargo left it (copied, not moved)
    assert (root / "target/aarch64-unknown-linux-gnu/debug/worker").is_file()


def test_selection_narrows_what_is_packaged(project: Project) -> None:
    root, runner, environ = project
    build(options(root, environ, bins=("api",), targets=(X86,)), runner=runner)
    lambda_dir = root / "target/lambda"
    (lambda_dir / "api/bootstrap").unlink()
    # api's binary is still in target/ from the earlier build: it must not be packaged now
    assert (root / "target/x86_64-unknown-linux-gnu/debug/api").is_file()
    result = build(options(root, environ, packages=("jobs",), targets=(X86,)), runner=runner)
    assert sorted(a.function for a in result.artifacts) == ["cron", "worker"]
    assert sorted(p.parent.name for p in lambda_dir.glob("*/bootstrap")) == ["cron", "worker"]
    assert flag_values(runner.builds[-1].argv, "--bin") == ["worker", "cron"]
    assert flag_values(runner.builds[-1].argv, "--package") == ["jobs"]


def test_extension_flatten_lambda_dir_and_examples(project: Project) -> None:
    root, runner, environ = project
    ext = build(
        options(root, environ, bins=("worker",), extension=True, targets=(X86,)), runner=runner
    )
    assert ext.artifacts[0].path == root / "target/lambda/extensions/worker"
    assert ext.artifacts[0].kind == "extension"
    flat = build(
        options(
            root,
            environ,
            bins=("api", "cron"),
            flatten="api",
            lambda_dir=Path("out/dir"),
            targets=(X86,),
        ),
        runner=runner,
    )
    paths = {a.function: a.path for a in flat.artifacts}
    assert paths == {"api": root / "out/dir/bootstrap", "cron": root / "out/dir/cron/bootstrap"}
    example = build(options(root, environ, examples=("demo",), targets=(X86,)), runner=runner)
    assert flag_values(runner.builds[-1].argv, "--example") == ["demo"]
    assert example.artifacts[0].path == root / "target/lambda/demo/bootstrap"


def test_cargo_compiler_sets_the_cross_linker(project: Project, tmp_path: Path) -> None:
    root, runner, environ = project
    fake_tool(tmp_path / "bin", "aarch64-linux-gnu-gcc")
    cargo = CompilerSettings(Compiler.CARGO, extra_args=("--offline",))
    plan = plan_build(
        options(root, environ, compiler=cargo, targets=(X86, ARM), release=True), runner=runner
    )
    assert Path(plan.argv[0]).name == "cargo" and plan.argv[1] == "build"
    assert flag_values(plan.argv, "--target") == [
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
    ]
    assert plan.env["CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER"] == "aarch64-linux-gnu-gcc"
    assert "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER" not in plan.env
    # the cc crate (ring, aws-lc-sys) compiles the target's C with the same gcc
    assert plan.env["CC_aarch64_unknown_linux_gnu"] == "aarch64-linux-gnu-gcc"
    assert "CC_x86_64_unknown_linux_gnu" not in plan.env
    assert plan.argv[-1] == "--offline"
    brazil = CompilerSettings(Compiler.CARGO, subcommand=("brazil", "build"))
    plan = plan_build(options(root, environ, compiler=brazil, targets=(X86,)), runner=runner)
    assert plan.argv[1:3] == ("brazil", "build")


def test_cargo_compiler_c_compilers_follow_the_linker_unless_chosen(tmp_path: Path) -> None:
    fake_tool(tmp_path / "bin", "aarch64-linux-gnu-gcc-12")
    fake_tool(tmp_path / "bin", "aarch64-linux-gnu-g++-12")
    env = {"PATH": str(tmp_path / "bin")}
    # a linker whose name does not end in gcc: no guess at its C compiler
    assert c_compiler_env(ARM, "aarch64-linux-gnu-gcc-12", env) == {}
    fake_tool(tmp_path / "bin", "aarch64-linux-gnu-gcc")
    assert c_compiler_env(ARM, "aarch64-linux-gnu-gcc", env) == {
        "CC_aarch64_unknown_linux_gnu": "aarch64-linux-gnu-gcc"  # no ...-g++ on PATH: no CXX
    }
    fake_tool(tmp_path / "bin", "aarch64-linux-gnu-g++")
    assert c_compiler_env(ARM, "aarch64-linux-gnu-gcc", env) == {
        "CC_aarch64_unknown_linux_gnu": "aarch64-linux-gnu-gcc",
        "CXX_aarch64_unknown_linux_gnu": "aarch64-linux-gnu-g++",
    }
    for chosen in ("CC_aarch64-unknown-linux-gnu", "CXX_aarch64_unknown_linux_gnu", "TARGET_CC"):
        assert c_compiler_env(ARM, "aarch64-linux-gnu-gcc", {**env, chosen: "clang"}) == {}
    assert c_compiler_env(ARM, "/opt/ld.lld", env) == {}


def test_cargo_compiler_without_the_linker_says_what_to_install(project: Project) -> None:
    root, runner, environ = project
    environ["PATH"] = "/nonexistent"
    environ["CARGO"] = "/usr/bin/true"
    environ["RUSTC"] = "/usr/bin/true"
    with pytest.raises(ToolNotFoundError) as info:
        plan_build(
            options(root, environ, compiler=CompilerSettings(Compiler.CARGO), targets=(ARM,)),
            runner=runner,
        )
    assert "aarch64-linux-gnu-gcc" in info.value.message
    assert "apt-get install gcc-aarch64-linux-gnu" in info.value.fix
    assert "--compiler zig" in info.value.fix


def test_cross_runs_cross_build_with_the_same_arguments(project: Project, tmp_path: Path) -> None:
    root, runner, environ = project
    fake_tool(tmp_path / "bin", "cross")
    zig = plan_build(
        options(root, environ, release=True, targets=(ARM,), bins=("api",)), runner=runner
    )
    cross = plan_build(
        options(
            root,
            environ,
            release=True,
            targets=(ARM,),
            bins=("api",),
            compiler=CompilerSettings(Compiler.CROSS),
        ),
        runner=runner,
    )
    assert cross.argv[:2] == (str(tmp_path / "bin" / "cross"), "build")
    assert flag_values(cross.argv, "--target") == ["aarch64-unknown-linux-gnu"]
    assert cross.argv[2:] == tuple(a.replace(".2.34", "") for a in zig.argv[2:])


def test_features_and_passthrough_flags(project: Project) -> None:
    root, runner, environ = project
    plan = plan_build(
        options(
            root,
            environ,
            features=("a", "b"),
            no_default_features=True,
            locked=True,
            jobs=2,
            cargo_args=("--timings",),
            targets=(X86,),
        ),
        runner=runner,
    )
    assert flag_values(plan.argv, "--features") == ["a,b"]
    for flag in ("--no-default-features", "--locked", "--timings"):
        assert flag in plan.argv
    assert flag_values(plan.argv, "--jobs") == ["2"]


def test_missing_std_is_installed_with_rustup_when_possible(
    project: Project, tmp_path: Path
) -> None:
    root, runner, environ = project
    runner.std_triples = {"x86_64-unknown-linux-gnu"}
    runner.rustup_installs = True
    rustup = tmp_path / "bin" / "rustup"
    fake_tool(tmp_path / "bin", "rustup")
    os.link(rustup, tmp_path / "bin" / "rustc")  # rustc is the rustup proxy
    environ["RUSTC"] = str(tmp_path / "bin" / "rustc")
    build(options(root, environ, targets=(ARM,), bins=("api",)), runner=runner)
    assert any(
        c.argv[:4] == (str(rustup), "target", "add", "aarch64-unknown-linux-gnu")
        for c in runner.calls
    )
    assert len(runner.builds) == 1


@pytest.mark.parametrize("given", [None, "CargoLambda.toml", "conf/lambda.toml", "absent"])
def test_the_global_configuration_is_found_once_and_is_the_one_the_plan_names(
    project: Project, monkeypatch: pytest.MonkeyPatch, given: str | None
) -> None:
    root, runner, environ = project
    if given in ("CargoLambda.toml", "conf/lambda.toml"):
        (root / given).parent.mkdir(exist_ok=True)
        (root / given).write_text('[build]\noutput_format = "zip"\n')
    found: list[Path] = []
    is_file = Path.is_file

    def counted(path: Path) -> bool:
        if path.name in ("CargoLambda.toml", "lambda.toml"):
            found.append(path)
        return is_file(path)

    monkeypatch.setattr(Path, "is_file", counted)
    named = Path(given) if given and given != "CargoLambda.toml" else None
    with_global = options(root, environ, bins=("api",), targets=(X86,), global_config=named)
    if given == "absent":
        with pytest.raises(ConfigError, match="global configuration file"):
            plan_build(with_global, runner=runner)
        return
    plan = plan_build(with_global, runner=runner)
    expected = root / given if given else None
    assert plan.global_config == expected  # an input of the no-op replay (builder.inputs)
    assert (plan.outputs[0].zip_dest is not None) == (expected is not None)  # and it was read
    assert found == [expected or root / "CargoLambda.toml"]  # looked for once
