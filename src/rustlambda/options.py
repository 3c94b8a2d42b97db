"""What a caller asks a build for: `BuildOptions`, and the value types of its settings
(`Compiler`, `CompilerSettings`, `OutputFormat`). Fields left ``None`` are resolved from the
environment, Cargo.toml metadata and the defaults (see `rustlambda.settings`)."""

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
    env: Mapping[str, str] | None = None
    # passed through to cargo
    target_dir: Path | None = None
    locked: bool | None = None
    offline: bool | None = None
    frozen: bool | None = None
    jobs: int | None = None
    verbose: int = 0
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
