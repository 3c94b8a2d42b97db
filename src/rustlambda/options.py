"""What a caller asks a build for: `BuildOptions`, and the value types of its settings
(`Compiler`, `CompilerSettings`, `OutputFormat`, `CacheKind`). Fields left ``None`` are resolved
from the environment, Cargo.toml metadata and the defaults (see `rustlambda.settings`)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import UnknownCompilerError
from .targets import Runtime, Target


class Compiler(enum.Enum):
    ZIG = "zig"
    CARGO = "cargo"
    CROSS = "cross"

    @classmethod
    def parse(cls, value: str) -> Compiler:
        name = value.strip().lower().replace("_", "-")
        if name in ("zig", "zigbuild", "cargo-zigbuild"):
            return cls.ZIG
        if name == "cargo":
            return cls.CARGO
        if name == "cross":
            return cls.CROSS
        raise UnknownCompilerError(
            f"unknown compiler {value!r}",
            "use one of: zig (cargo-zigbuild, the default), cargo, cross",
        )


class OutputFormat(enum.Enum):
    BINARY = "binary"
    ZIP = "zip"


class CacheKind(enum.Enum):
    """The shared compile cache a build runs rustc (and the C compilers) through."""

    NONE = "none"
    SCCACHE = "sccache"


class ColorWhen(enum.StrEnum):
    """cargo's ``--color``."""

    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


@dataclass(frozen=True)
class CompilerSettings:
    kind: Compiler = Compiler.ZIG
    #: cargo compiler only: the cargo subcommand (default ``["build"]``), cargo-lambda's key.
    subcommand: tuple[str, ...] = ()
    #: cargo compiler only: extra arguments, cargo-lambda's ``extra_args``.
    extra_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class BuildOptions:
    """What the caller asks for: every field optional; ``None`` means "not set here".

    The CLI, the CDK constructs and deploy all fill this one model. Fields left ``None`` are
    taken from the environment, Cargo.toml metadata or the defaults; each field is one row of
    `rustlambda.settings.table` (same name).
    """

    manifest_path: Path | None = None
    cwd: Path | None = None
    # selection (command line only, as in cargo)
    bins: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    workspace: bool = False
    examples: tuple[str, ...] = ()
    #: ``--exclude``: packages left out of ``--workspace``.
    exclude: tuple[str, ...] = ()
    #: ``--bins`` / ``--examples``: every binary / example of the selected packages.
    all_bins: bool = False
    all_examples: bool = False
    # where settings come from besides these options (cargo-lambda's global configuration)
    #: ``--global``: the CargoLambda.toml to read (default: ./CargoLambda.toml if present).
    global_config: Path | None = None
    #: ``--context``: read ``[<context>.<section>]`` tables of that file over its plain ones.
    context: str | None = None
    #: ``--admerge``: list values of every source are concatenated instead of replaced.
    admerge: bool | None = None
    # layered settings
    release: bool | None = None
    profile: str | None = None
    targets: tuple[Target, ...] | None = None
    runtime: Runtime | None = None
    compiler: CompilerSettings | None = None
    extension: bool | None = None
    internal: bool | None = None
    output_format: OutputFormat | None = None
    lambda_dir: Path | None = None
    flatten: str | None = None
    include: tuple[str, ...] | None = None
    disable_optimizations: bool | None = None
    features: tuple[str, ...] | None = None
    all_features: bool | None = None
    no_default_features: bool | None = None
    skip_target_check: bool | None = None
    #: ``--cache sccache``: rustc runs through sccache (`rustlambda.compilecache`).
    cache: CacheKind | None = None
    env: Mapping[str, str] | None = None
    #: ``--env-var`` / ``--env-file``: variables for cargo's environment (cargo-lambda's build
    #: ``env_var`` and ``env_file``), over ``env``'s.
    env_vars: Mapping[str, str] | None = None
    env_file: Path | None = None
    #: The cargo compiler's subcommand and extra arguments from the environment
    #: (``CARGO_LAMBDA_COMPILER_SUBCOMMAND``, ``CARGO_LAMBDA_COMPILER_EXTRA_ARGS``).
    compiler_subcommand: tuple[str, ...] | None = None
    compiler_extra_args: tuple[str, ...] | None = None
    # passed through to cargo
    target_dir: Path | None = None
    locked: bool | None = None
    offline: bool | None = None
    frozen: bool | None = None
    jobs: int | None = None
    keep_going: bool | None = None
    timings: bool | None = None
    config: tuple[str, ...] | None = None
    unstable_flags: tuple[str, ...] | None = None
    message_format: tuple[str, ...] | None = None
    color: ColorWhen | None = None
    ignore_rust_version: bool | None = None
    future_incompat_report: bool | None = None
    artifact_dir: Path | None = None
    quiet: bool | None = None
    #: cargo's own ``-v`` count.
    verbose: int | None = None
    cargo_args: tuple[str, ...] = ()
    #: Check every artifact against its runtime after building (``--no-verify`` turns it off).
    verify: bool | None = None
    #: The process environment to use instead of ``os.environ`` (never modified).
    environ: Mapping[str, str] | None = None


class TracingMode(enum.StrEnum):
    """X-Ray tracing of a deployed function; the value is Lambda's spelling."""

    ACTIVE = "Active"
    PASS_THROUGH = "PassThrough"


class UrlAuth(enum.StrEnum):
    """A function URL's auth type; the value is Lambda's spelling."""

    NONE = "NONE"
    AWS_IAM = "AWS_IAM"
