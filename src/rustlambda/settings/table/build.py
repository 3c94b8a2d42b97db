"""The rows of ``[*.metadata.lambda]`` (``env``) and ``[*.metadata.lambda.build]``: what cargo
builds, and the build flags that are command line only."""

from __future__ import annotations

from pathlib import Path

from ...options import CompilerSettings, OutputFormat
from ...targets import Arch, Runtime, Target
from ..convert import (
    ArchSwitch,
    Bool,
    Choice,
    CompilerType,
    EnvFile,
    EnvTable,
    EnvVars,
    PathType,
    RuntimeType,
    Split,
    Strings,
    Targets,
    Text,
)
from ..model import Combine, Command, Flag, Scope, Section, Setting
from ._common import BUILDING, EVERYWHERE, switch

_B = Section.BUILD

# --- [*.metadata.lambda] ---------------------------------------------------------------------
ENV: Setting[dict[str, str]] = Setting(
    "env",
    Section.LAMBDA,
    EnvTable(),
    {},
    "the functions' environment; also passed to the build",
    keys=("env",),
    commands=EVERYWHERE,
    merge=True,
)

# --- [*.metadata.lambda.build]: what cargo builds ----------------------------------------------
RELEASE: Setting[bool] = Setting(
    "release",
    _B,
    Bool(),
    False,
    "build with the release profile",
    keys=("release",),
    flags=(switch("-r", "--release", help="Build with the release profile."),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
)
PROFILE: Setting[str | None] = Setting(
    "profile",
    _B,
    Text(),
    None,
    "cargo profile",
    keys=("profile",),
    flags=(Flag(("--profile",), "Build with this cargo profile."),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
)
TARGETS: Setting[tuple[Target, ...] | None] = Setting(
    "targets",
    _B,
    Targets(),
    None,
    "targets; default: the host's architecture (x86_64 elsewhere)",
    keys=("target", "arm64", "x86_64"),
    flags=(
        switch("--x86-64", help="Build for Lambda x86_64.", value=(Target.for_arch(Arch.X86_64),)),
        switch(
            "--arm64",
            help="Build for Lambda arm64 (aarch64-unknown-linux-gnu).",
            value=(Target.for_arch(Arch.ARM64),),
        ),
        Flag(("--target",), "Target triple (repeatable).", repeat=True),
    ),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
    combine=Combine.CONCAT,
    key_converters={"arm64": ArchSwitch(Arch.ARM64), "x86_64": ArchSwitch(Arch.X86_64)},
)
RUNTIME: Setting[Runtime] = Setting(
    "runtime",
    _B,
    RuntimeType(),
    Runtime.AL2023,
    "the Lambda runtime, whose glibc gnu targets are linked against (rustlambda's addition)",
    keys=("runtime",),
    env_var="RUSTLAMBDA_RUNTIME",
    flags=(Flag(("--runtime",), "provided.al2023 (default) or provided.al2: pins glibc."),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
)
COMPILER: Setting[CompilerSettings] = Setting(
    "compiler",
    _B,
    CompilerType(),
    CompilerSettings(),
    "zig (default), cargo or cross; the table form sets the cargo compiler's subcommand and "
    "extra_args",
    keys=("compiler",),
    env_var="CARGO_LAMBDA_COMPILER",
    flags=(
        Flag(("-c", "--compiler"), "zig (default), cargo or cross. Env: CARGO_LAMBDA_COMPILER."),
    ),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
)
EXTENSION: Setting[bool] = Setting(
    "extension",
    _B,
    Bool(),
    False,
    "build Lambda extensions",
    keys=("extension",),
    flags=(switch("--extension", help="Build Lambda extensions."),),
    commands=EVERYWHERE,
    scope=Scope.BUILD_WIDE,
)
INTERNAL: Setting[bool] = Setting(
    "internal",
    _B,
    Bool(),
    False,
    "the extension is internal",
    keys=("internal",),
    flags=(switch("--internal", help="The extension is internal."),),
    commands=EVERYWHERE,
    scope=Scope.BUILD_WIDE,
)
OUTPUT_FORMAT: Setting[OutputFormat] = Setting(
    "output_format",
    _B,
    Choice(OutputFormat),
    OutputFormat.BINARY,
    "binary, or zip (a reproducible zip next to each executable)",
    keys=("output_format",),
    env_var="CARGO_LAMBDA_OUTPUT_FORMAT",
    flags=(Flag(("-o", "--output-format"), "Artifact format."),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
)
LAMBDA_DIR: Setting[Path | None] = Setting(
    "lambda_dir",
    _B,
    PathType(),
    None,
    "output base directory (default: `<target-dir>/lambda`)",
    keys=("lambda_dir",),
    env_var="CARGO_LAMBDA_LAMBDA_DIR",
    flags=(Flag(("-l", "--lambda-dir"), "Output base directory."),),
    commands=EVERYWHERE,
    scope=Scope.BUILD_WIDE,
)
FLATTEN: Setting[str | None] = Setting(
    "flatten",
    _B,
    Text(),
    None,
    "put this binary's bootstrap directly in the lambda dir",
    keys=("flatten",),
    flags=(Flag(("--flatten",), "Put this binary's bootstrap directly in the lambda dir."),),
    commands=EVERYWHERE,
    scope=Scope.BUILD_WIDE,
)
INCLUDE: Setting[tuple[str, ...]] = Setting(
    "include",
    _B,
    Strings(Split.PATHS),
    (),
    "files and folders for the zip (PATH or DEST:SRC)",
    keys=("include",),
    flags=(Flag(("-i", "--include"), "Extra file for the zip (repeatable).", repeat=True),),
    commands=EVERYWHERE,
)
DISABLE_OPTIMIZATIONS: Setting[bool] = Setting(
    "disable_optimizations",
    _B,
    Bool(),
    False,
    "no release tuning",
    keys=("disable_optimizations",),
    flags=(
        switch(
            "--disable-optimizations",
            help="No release tuning (strip, LTO, codegen-units, panic, target-cpu).",
        ),
    ),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
)
FEATURES: Setting[tuple[str, ...]] = Setting(
    "features",
    _B,
    Strings(Split.FEATURES),
    (),
    "cargo features to activate",
    keys=("features",),
    flags=(Flag(("-F", "--features"), "Features to activate.", repeat=True),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
)
ALL_FEATURES: Setting[bool] = Setting(
    "all_features",
    _B,
    Bool(),
    False,
    "activate every feature",
    keys=("all_features",),
    flags=(switch("--all-features"),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
)
NO_DEFAULT_FEATURES: Setting[bool] = Setting(
    "no_default_features",
    _B,
    Bool(),
    False,
    "do not activate the default feature",
    keys=("no_default_features",),
    flags=(switch("--no-default-features"),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
)
SKIP_TARGET_CHECK: Setting[bool] = Setting(
    "skip_target_check",
    _B,
    Bool(),
    False,
    "don't check that the target's std is installed",
    keys=("skip_target_check",),
    flags=(switch("--skip-target-check", help="Don't check that the target's std is installed."),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
)
# command line only: what to build, and cargo's own switches
MANIFEST_PATH: Setting[Path | None] = Setting(
    "manifest_path",
    _B,
    PathType(),
    None,
    "path to Cargo.toml",
    flags=(Flag(("--manifest-path",), "Path to Cargo.toml."),),
    commands=BUILDING,
    scope=Scope.INPUT,
)
BINS: Setting[tuple[str, ...]] = Setting(
    "bins",
    _B,
    Strings(Split.PATHS),
    (),
    "build only these binaries",
    flags=(Flag(("--bin",), "Build only this binary (repeatable).", repeat=True),),
    commands=BUILDING,
    scope=Scope.INPUT,
)
PACKAGES: Setting[tuple[str, ...]] = Setting(
    "packages",
    _B,
    Strings(Split.PATHS),
    (),
    "build these packages' binaries",
    flags=(Flag(("-p", "--package"), "Build this package's binaries.", repeat=True),),
    commands=BUILDING,
    scope=Scope.INPUT,
)
WORKSPACE: Setting[bool] = Setting(
    "workspace",
    _B,
    Bool(),
    False,
    "build every binary of the workspace",
    flags=(switch("--workspace", "--all", help="Build every binary of the workspace."),),
    commands=BUILDING,
    scope=Scope.INPUT,
)
EXAMPLES: Setting[tuple[str, ...]] = Setting(
    "examples",
    _B,
    Strings(Split.PATHS),
    (),
    "build these examples",
    flags=(Flag(("--example",), "Build this example (repeatable).", repeat=True),),
    commands=BUILDING,
    scope=Scope.INPUT,
)
EXCLUDE: Setting[tuple[str, ...]] = Setting(
    "exclude",
    _B,
    Strings(Split.PATHS),
    (),
    "leave these packages out of --workspace",
    flags=(
        Flag(("--exclude",), "Leave this package out of --workspace (repeatable).", repeat=True),
    ),
    commands=BUILDING,
    scope=Scope.INPUT,
    only_on=(Command.BUILD,),
)
ALL_BINS: Setting[bool] = Setting(
    "all_bins",
    _B,
    Bool(),
    False,
    "build every binary of the selected packages",
    flags=(switch("--bins", help="Build every binary of the selected packages."),),
    commands=BUILDING,
    scope=Scope.INPUT,
    only_on=(Command.BUILD,),
)
ALL_EXAMPLES: Setting[bool] = Setting(
    "all_examples",
    _B,
    Bool(),
    False,
    "build every example of the selected packages",
    flags=(switch("--examples", help="Build every example of the selected packages."),),
    commands=BUILDING,
    scope=Scope.INPUT,
    only_on=(Command.BUILD,),
)
# cargo's environment (cargo-lambda's build env_var/env_file), and the cargo compiler's
# subcommand and arguments from the environment
BUILD_ENV_VARS: Setting[dict[str, str]] = Setting(
    "env_vars",
    _B,
    EnvVars(),
    {},
    "variables for cargo's environment (KEY=VALUE), over env's and env_file's",
    keys=("env_var", "env_vars", "env"),
    flags=(
        Flag(
            ("--env-var", "--env-vars"),
            "KEY=VALUE for cargo's environment (repeatable, or KEY=VALUE,OTHER=VALUE).",
            repeat=True,
        ),
    ),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
    merge=True,
    combine=Combine.MERGE,
    only_on=(Command.BUILD,),
)
BUILD_ENV_FILE: Setting[dict[str, str]] = Setting(
    "env_file",
    _B,
    EnvFile(),
    {},
    "file of KEY=VALUE lines for cargo's environment, relative to its Cargo.toml",
    keys=("env_file",),
    flags=(Flag(("--env-file",), "File of KEY=VALUE lines for cargo's environment."),),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
    merge=True,
    only_on=(Command.BUILD,),
)
COMPILER_SUBCOMMAND: Setting[tuple[str, ...] | None] = Setting(
    "compiler_subcommand",
    _B,
    Strings(Split.ARGUMENTS),
    None,
    "the cargo compiler's subcommand (over compiler.subcommand)",
    env_var="CARGO_LAMBDA_COMPILER_SUBCOMMAND",
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
)
COMPILER_EXTRA_ARGS: Setting[tuple[str, ...] | None] = Setting(
    "compiler_extra_args",
    _B,
    Strings(Split.ARGUMENTS),
    None,
    "the cargo compiler's extra arguments (over compiler.extra_args)",
    env_var="CARGO_LAMBDA_COMPILER_EXTRA_ARGS",
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
)
VERIFY: Setting[bool] = Setting(
    "verify",
    _B,
    Bool(),
    True,
    "check the artifacts against the runtime after building",
    flags=(
        switch("--no-verify", help="Don't check the artifacts against the runtime.", value=False),
    ),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
)
