"""cargo-lambda's cargo options in the one cargo command: selection (--exclude, --bins,
--examples), cargo's own options, cargo's environment (--env-var/--env-file) and
CargoLambda.toml's settings, as plan_build decides them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rustlambda.builder import BuildPlan, plan_build
from rustlambda.errors import ConfigError, UnknownBinaryError
from rustlambda.options import BuildOptions, ColorWhen, Compiler, CompilerSettings

from .fakes import FakeRunner, produce_binaries, write_workspace

Project = tuple[Path, FakeRunner, dict[str, str]]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "ws"
    root.mkdir()
    metadata = write_workspace(
        root,
        {"api": ["api"], "jobs": ["worker", "cron"]},
        examples={"api": ["demo"]},
    )
    runner = FakeRunner(
        metadata, libdir_root=tmp_path / "libdirs", produce=produce_binaries(root / "target")
    )
    environ = {"PATH": os.environ["PATH"], "CARGO_HOME": str(tmp_path / "cargo-home")}
    return root, runner, environ


def _plan(project: Project, **kw: object) -> BuildPlan:
    root, runner, environ = project
    compiler = CompilerSettings(Compiler.CARGO)
    options = BuildOptions(cwd=root, environ=environ, verify=False, compiler=compiler, **kw)  # type: ignore[arg-type]
    return plan_build(options, runner=runner)


def _after(argv: tuple[str, ...], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_exclude_bins_and_examples_select_as_cargo_does(project: Project) -> None:
    plan = _plan(project, workspace=True, exclude=("jobs",))
    assert [b.name for b in plan.selected] == ["api"]
    assert _after(plan.argv, "--exclude") == ["jobs"] and "--workspace" in plan.argv
    plan = _plan(project, packages=("jobs",), all_bins=True, bins=("cron",))
    assert [b.name for b in plan.selected] == ["worker", "cron"]
    plan = _plan(project, all_examples=True)
    assert [b.name for b in plan.selected] == ["demo"]
    with pytest.raises(ConfigError, match="--exclude can only be used together with --workspace"):
        _plan(project, exclude=("jobs",))
    with pytest.raises(UnknownBinaryError, match="no package named 'nope'"):
        _plan(project, workspace=True, exclude=("nope",))


def test_cargo_options_reach_cargo(project: Project) -> None:
    plan = _plan(
        project,
        bins=("api",),
        timings=True,
        keep_going=True,
        config=("profile.dev.debug=0", "build.rustflags=['-C', 'x']"),
        unstable_flags=("unstable-options",),
        message_format=("json",),
        color=ColorWhen.NEVER,
        ignore_rust_version=True,
        jobs=3,
        locked=True,
        quiet=True,
        verbose=2,
        target_dir=Path("elsewhere"),
        cargo_args=("--future-incompat-report",),
    )
    argv = plan.argv
    for flag in ("--timings", "--keep-going", "--ignore-rust-version", "--locked", "--quiet"):
        assert flag in argv
    assert _after(argv, "--config")[:2] == ["profile.dev.debug=0", "build.rustflags=['-C', 'x']"]
    assert _after(argv, "-Z") == ["unstable-options"]
    assert _after(argv, "--message-format") == ["json"] and _after(argv, "--color") == ["never"]
    assert _after(argv, "--jobs") == ["3"] and argv.count("-v") == 2
    assert _after(argv, "--target-dir") == [str(project[0] / "elsewhere")]
    assert argv[-1] == "--future-incompat-report"  # what follows -- stays last


def test_cargo_environment_from_the_build_table_and_flags(project: Project) -> None:
    root = project[0]
    (root / "build.env").write_text("FROM_FILE=1\nSHARED=file\n")
    plan = _plan(project, bins=("api",), env_file=Path("build.env"), env_vars={"SHARED": "flag"})
    assert (plan.env["FROM_FILE"], plan.env["SHARED"]) == ("1", "flag")


def test_cargo_lambda_toml_and_variables_reach_the_plan(project: Project) -> None:
    root, runner, environ = project
    (root / "CargoLambda.toml").write_text(
        '[build]\noutput_format = "zip"\n[ci.build]\nlocked = true\n'
    )
    environ = {**environ, "CARGO_LAMBDA_BUILD.KEEP_GOING": "true"}
    options = BuildOptions(
        cwd=root,
        environ=environ,
        verify=False,
        bins=("api",),
        context="ci",
        compiler=CompilerSettings(Compiler.CARGO),
    )
    plan = plan_build(options, runner=runner)
    assert plan.outputs[0].zip_dest is not None
    assert "--locked" in plan.argv and "--keep-going" in plan.argv
