"""Option layering: CLI > env > package.bin > package > workspace.bin > workspace > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from rustlambda.builder.settings import BuildSettings, resolve_build
from rustlambda.errors import ConfigError, UnknownCompilerError
from rustlambda.options import BuildOptions, Compiler, CompilerSettings, OutputFormat
from rustlambda.project import Workspace
from rustlambda.targets import Arch, Runtime, Target

from .fakes import write_workspace

X86 = (Target.for_arch(Arch.X86_64),)

WS = """
[workspace.metadata.lambda.env]
LEVEL = "workspace"
WS_ONLY = "1"
[workspace.metadata.lambda.build]
compiler = "cross"
runtime = "provided.al2"
[workspace.metadata.lambda.bin.api.build]
compiler = "cross"
output_format = "binary"
[workspace.metadata.lambda.bin.api.env]
LEVEL = "workspace-bin"
"""

PKG = """
[package.metadata.lambda.env]
LEVEL = "package"
[package.metadata.lambda.build]
compiler = { type = "cargo", subcommand = ["brazil", "build"], extra_args = ["--offline"] }
[package.metadata.lambda.bin.api.env]
LEVEL = "package-bin"
[package.metadata.lambda.bin.api.build]
compiler = "zig"
"""


def workspace(tmp_path: Path, ws: str = WS, pkg: str = PKG) -> Workspace:
    return Workspace.from_metadata(
        write_workspace(
            tmp_path, {"svc": ["api", "worker"]}, workspace_toml=ws, package_toml={"svc": pkg}
        )
    )


def resolve_for(
    ws: Workspace,
    names: list[str],
    options: BuildOptions | None = None,
    environ: dict[str, str] | None = None,
) -> BuildSettings:
    selected = [b for b in ws.bins if b.name in names]
    return resolve_build(options or BuildOptions(), environ or {}, ws, selected, X86)


def test_each_source_beats_the_next(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    # package.bin.api says zig
    assert resolve_for(ws, ["api"]).compiler.kind is Compiler.ZIG
    # worker has no bin table: the package says cargo (with cargo-lambda's table form)
    worker = resolve_for(ws, ["worker"]).compiler
    assert worker == CompilerSettings(Compiler.CARGO, ("brazil", "build"), ("--offline",))
    # environment beats package metadata
    env = {"CARGO_LAMBDA_COMPILER": "cross"}
    assert resolve_for(ws, ["worker"], environ=env).compiler.kind is Compiler.CROSS
    # the command line beats the environment
    cli = BuildOptions(compiler=CompilerSettings(Compiler.ZIG))
    assert resolve_for(ws, ["worker"], cli, env).compiler.kind is Compiler.ZIG


def test_workspace_bin_beats_workspace_and_defaults_fill_the_rest(tmp_path: Path) -> None:
    ws = workspace(
        tmp_path,
        ws="""
[workspace.metadata.lambda.build]
runtime = "provided.al2"
output_format = "binary"
[workspace.metadata.lambda.bin.api.build]
runtime = "provided.al2023"
""",
        pkg="",
    )
    assert resolve_for(ws, ["api"]).runtime is Runtime.AL2023
    assert resolve_for(ws, ["worker"]).runtime is Runtime.AL2
    settings = resolve_for(ws, ["worker"])
    assert settings.compiler.kind is Compiler.ZIG  # default
    assert settings.targets == X86  # default target
    assert settings.output_format is OutputFormat.BINARY


def test_env_tables_merge_key_by_key(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    api = resolve_for(ws, ["api"]).functions["api"].env
    assert api == {"LEVEL": "package-bin", "WS_ONLY": "1"}
    worker = resolve_for(ws, ["worker"]).functions["worker"].env
    assert worker == {"LEVEL": "package", "WS_ONLY": "1"}
    cli = resolve_for(ws, ["worker"], BuildOptions(env={"LEVEL": "cli"})).functions["worker"]
    assert cli.env["LEVEL"] == "cli"


def test_functions_that_disagree_on_a_build_wide_setting_are_an_error(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    with pytest.raises(ConfigError) as info:
        resolve_for(ws, ["api", "worker"])
    assert "disagree on `compiler`" in info.value.message
    assert "api → zig" in info.value.message and "worker → cargo" in info.value.message
    # ...unless the command line decides
    cli = BuildOptions(compiler=CompilerSettings(Compiler.ZIG))
    assert resolve_for(ws, ["api", "worker"], cli).compiler.kind is Compiler.ZIG


def test_metadata_targets_and_arch_flags(tmp_path: Path) -> None:
    ws = workspace(
        tmp_path,
        ws='[workspace.metadata.lambda.build]\narm64 = true\ntarget = "x86_64-unknown-linux-musl"',
        pkg="",
    )
    assert resolve_for(ws, ["api"]).targets == (
        Target.for_arch(Arch.ARM64),
        Target.parse("x86_64-unknown-linux-musl"),
    )


def test_unknown_keys_warn_with_did_you_mean(tmp_path: Path) -> None:
    ws = workspace(
        tmp_path,
        ws='[workspace.metadata.lambda.build]\ncompilr = "zig"\n[workspace.metadata.lambda.evn]\n',
        pkg="",
    )
    warnings = resolve_for(ws, ["api"]).warnings
    assert any("'compilr'" in w and "did you mean 'compiler'" in w for w in warnings)
    assert any("'evn'" in w and "did you mean 'env'" in w for w in warnings)


def test_bad_values_are_collected_into_one_error(tmp_path: Path) -> None:
    ws = workspace(
        tmp_path,
        ws='[workspace.metadata.lambda.build]\nrelease = "yes"\noutput_format = "tar"\n'
        'runtime = "nodejs20.x"',
        pkg="",
    )
    with pytest.raises(ConfigError) as info:
        resolve_for(ws, ["api"])
    text = info.value.message
    assert "3 configuration problems" in text
    assert "release must be true or false" in text
    assert "'tar' is not one of binary, zip" in text
    assert "nodejs20.x" in text


def test_unknown_compiler_name_is_an_error_listing_valid_ones(tmp_path: Path) -> None:
    ws = workspace(tmp_path, ws='[workspace.metadata.lambda.build]\ncompiler = "gcc"', pkg="")
    with pytest.raises(UnknownCompilerError) as info:
        resolve_for(ws, ["api"])
    assert "zig" in info.value.fix and "cargo" in info.value.fix and "cross" in info.value.fix
    with pytest.raises(UnknownCompilerError):
        resolve_for(ws, ["api"], environ={"CARGO_LAMBDA_COMPILER": "zigg"})


@pytest.mark.parametrize("alias", ["zig", "cargo-zigbuild", "cargo_zigbuild", "ZIG"])
def test_compiler_aliases(alias: str) -> None:
    assert Compiler.parse(alias) is Compiler.ZIG
