"""What a setting is: one row of `settings.table` — its cargo-lambda keys, environment variable,
command-line flags, converter, the commands that use it and its scope — and where a value came
from (`Source`)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

if TYPE_CHECKING:  # a Protocol costs its creation at import; only the type checker needs it

    class Converter(Protocol[T_co]):
        """Turns a raw value (TOML, an environment string, a command-line value, or a value of
        the result type itself) into the typed value, or raises `Invalid` /
        a `RustLambdaError`."""

        #: How the type reads in README's tables ("true or false", "whole number 1 to 900"...).
        @property
        def describe(self) -> str: ...

        def __call__(self, value: object, ctx: Context) -> T_co: ...


class Command(enum.StrEnum):
    """The fronts that use settings (``cdk``: the CDK constructs' bundling)."""

    BUILD = "build"
    WATCH = "watch"
    DEPLOY = "deploy"
    INVOKE = "invoke"
    SYSTEM = "system"
    CDK = "cdk"


class Section(enum.StrEnum):
    """The ``[package|workspace.metadata.lambda]`` table a row's keys live in: ``lambda``
    itself (``env``), or its ``build`` / ``watch`` / ``deploy`` sub-table."""

    LAMBDA = "lambda"
    BUILD = "build"
    WATCH = "watch"
    DEPLOY = "deploy"

    @property
    def flag_commands(self) -> tuple[Command, ...]:
        """The commands whose command line takes this section's flags."""
        return _FLAG_COMMANDS[self]

    @property
    def per_binary(self) -> bool:
        """Whether ``[*.metadata.lambda.bin.<name>.<section>]`` tables are read too."""
        return self is not Section.WATCH

    @property
    def accepted(self) -> tuple[str, ...]:
        """Keys cargo-lambda reads here that only steer its own output: accepted, ignored."""
        return ("output_format", "manifest_path") if self is Section.DEPLOY else ()

    @property
    def config_section(self) -> str:
        """The table's name in ``CargoLambda.toml`` and in ``CARGO_LAMBDA_<SECTION>.<KEY>``
        (``""``: the file's top level, where ``env`` lives)."""
        return "" if self is Section.LAMBDA else self.value

    def table_name(self, binary: str | None = None) -> str:
        """``lambda.build``, ``lambda.bin.<binary>.deploy``, ``lambda``..."""
        parts = ["lambda"]
        if binary is not None:
            parts += ["bin", binary]
        if self is not Section.LAMBDA:
            parts.append(self.value)
        return ".".join(parts)


_FLAG_COMMANDS = {
    Section.LAMBDA: (),
    Section.BUILD: (Command.BUILD, Command.WATCH),
    Section.WATCH: (Command.WATCH,),
    Section.DEPLOY: (Command.DEPLOY,),
}

#: Sub-tables of ``[*.metadata.lambda]`` that are not settings themselves.
STRUCTURE_KEYS = ("build", "deploy", "watch", "bin")


class Scope(enum.Enum):
    """How the values of the functions selected together combine."""

    #: Read before any metadata: which workspace, what to select (command line only).
    INPUT = "input"
    #: Shapes the whole run (build: the one cargo run; deploy: the pool): every selected
    #: function must resolve to the same value.
    BUILD_WIDE = "build-wide"
    #: May differ per function.
    FUNCTION = "function"
    #: ``watch`` serves the selected packages from one emulator: a value set by a package's
    #: table beats the workspace's, and two packages setting different values is an error.
    SERVED = "served"


class Combine(enum.Enum):
    """How several keys of one row in one table combine (``memory`` and ``memory_size``)."""

    LAST = "last"  # the key written last wins
    CONCAT = "concat"  # tuples are concatenated (``arm64 = true`` with ``target = ...``)
    MERGE = "merge"  # tables merge, the later key's entries win (``env_var`` and ``env_vars``)


@dataclass(frozen=True)
class Context:
    """Where a raw value comes from, for messages and relative paths."""

    where: str  # "[package.metadata.lambda.deploy] of api: memory", "--memory", ...
    base: Path  # relative paths are relative to this (the Cargo.toml's folder, or the cwd)
    key: str = ""  # the key or flag as the user wrote it


@dataclass(frozen=True)
class Flag:
    """One command-line spelling of a setting."""

    decls: tuple[str, ...]  # ("-r", "--release"); an argument: ("name",)
    help: str = ""
    #: A switch takes no value; ``value`` is what giving it means.
    switch: bool = False
    value: object = True
    #: May be given several times (all values are kept).
    repeat: bool = False
    #: A positional argument instead of an option.
    argument: bool = False
    #: Show the row's default in ``--help`` (and let click fill it in).
    show_default: bool = False
    #: Accept only a directory (click checks it).
    directory: bool = False

    @property
    def name(self) -> str:
        """How messages name it: the first long form (``--memory`` of ``--memory-size``)."""
        return next((d for d in self.decls if d.startswith("--")), self.decls[0])


@dataclass(frozen=True, eq=False)
class Setting(Generic[T]):
    """One row of the settings table. Rows are compared and hashed by identity."""

    name: str  # the field of the options dataclass (BuildOptions, WatchOptions, DeployOptions)
    section: Section
    convert: Converter[T]
    default: T
    help: str
    #: cargo-lambda's metadata keys, the documented one first; () = not a metadata key.
    keys: tuple[str, ...] = ()
    env_var: str | None = None
    flags: tuple[Flag, ...] = ()
    #: The fronts that read the setting (its flags appear in `Section.flag_commands`).
    commands: frozenset[Command] = frozenset()
    scope: Scope = Scope.FUNCTION
    #: Tables merge key by key across layers (the function environment) instead of the first
    #: layer that sets the row winning.
    merge: bool = False
    combine: Combine = Combine.LAST
    #: Keys whose raw value converts differently (``arm64 = true`` adds the arm64 target).
    key_converters: Mapping[str, Converter[T]] = field(default_factory=dict)
    #: The commands whose command line takes this row's flags, when not its section's
    #: (`Section.flag_commands`): one row serving several commands (``--context``), or a
    #: flag only one of them takes (build's ``--env-var``: watch has its own).
    only_on: tuple[Command, ...] | None = None
    #: cargo's own flag the value is passed on as (``--timings``, ``--config V`` per item).
    cargo: str | None = None

    def __repr__(self) -> str:
        return f"<setting {self.section.value}.{self.name}>"

    def converter_for(self, key: str) -> Converter[T]:
        return self.key_converters.get(key, self.convert)

    @property
    def flag_commands(self) -> tuple[Command, ...]:
        """The commands whose command line takes this row's flags."""
        return self.section.flag_commands if self.only_on is None else self.only_on

    def cargo_argv(self, value: object) -> list[str]:
        """``value`` as cargo's arguments (none when the row passes nothing to cargo): a
        switch when true, ``FLAG VALUE`` per item of a list, ``-v`` repeated for a count."""
        flag = self.cargo
        if flag is None or value is None or value is False or value == ():
            return []
        if value is True:
            return [flag]
        if isinstance(value, tuple):
            return [arg for item in value for arg in (flag, str(item))]
        if isinstance(value, int) and flag == "-v":
            return [flag] * value
        return [flag, str(value.value if isinstance(value, enum.Enum) else value)]


AnySetting = Setting[Any]


@dataclass(frozen=True)
class Refusal:
    """A cargo-lambda flag or metadata key rustlambda refuses, with one error that says why and
    names the alternative (README's parity table lists each)."""

    #: The flags (``("--tls-cert",)``); () for a key only.
    decls: tuple[str, ...]
    reason: str
    alternative: str
    #: The commands whose command line refuses the flags.
    commands: tuple[Command, ...] = ()
    #: Whether the flag takes a value (``--tls-cert PATH``) or is a switch.
    takes_value: bool = False
    #: The keys refused in ``section``'s tables (metadata, CargoLambda.toml, variables).
    keys: tuple[str, ...] = ()
    section: Section | None = None

    @property
    def name(self) -> str:
        return next((d for d in self.decls if d.startswith("--")), self.decls[0])


class SourceKind(enum.StrEnum):
    OPTIONS = "command line"  # the options dataclass: the CLI's flags or an API caller's fields
    ENVIRONMENT = "environment"
    METADATA = "metadata"
    CONFIG_FILE = "config file"  # cargo-lambda's global CargoLambda.toml
    DEFAULT = "default"


class Level(enum.IntEnum):
    """Where a source stands: a lower level wins. This order is the precedence, the same as
    cargo-lambda's (README "Configuration" lists it; a test keeps the two in step)."""

    #: Command-line flags, or an API caller's options.
    OPTIONS = 1
    #: A variable standing for one flag (``CARGO_LAMBDA_COMPILER``): clap's ``env =``.
    FLAG_ENV = 2
    PACKAGE_BIN = 3
    PACKAGE = 4
    WORKSPACE_BIN = 5
    WORKSPACE = 6
    #: ``CargoLambda.toml``'s ``[<context>.<section>]`` (``--context``).
    CONTEXT = 7
    #: ``CargoLambda.toml``'s ``[<section>]``.
    CONFIG_FILE = 8
    #: ``CARGO_LAMBDA_<SECTION>.<KEY>`` variables.
    SECTION_ENV = 9
    DEFAULT = 10


#: How README names each level, highest precedence first.
LEVEL_NAMES: Mapping[Level, str] = {
    Level.OPTIONS: "command-line flags",
    Level.FLAG_ENV: "a flag's own environment variable (`CARGO_LAMBDA_COMPILER`, ...)",
    Level.PACKAGE_BIN: "`[package.metadata.lambda.bin.<name>]`",
    Level.PACKAGE: "`[package.metadata.lambda]`",
    Level.WORKSPACE_BIN: "`[workspace.metadata.lambda.bin.<name>]`",
    Level.WORKSPACE: "`[workspace.metadata.lambda]`",
    Level.CONTEXT: "`CargoLambda.toml`'s `[<context>.<section>]`",
    Level.CONFIG_FILE: "`CargoLambda.toml`'s `[<section>]`",
    Level.SECTION_ENV: "`CARGO_LAMBDA_<SECTION>.<KEY>` variables",
    Level.DEFAULT: "defaults",
}


@dataclass(frozen=True)
class Source:
    """Where a layer's values come from."""

    kind: SourceKind
    label: str  # "[package.metadata.lambda.build] of api", "CARGO_LAMBDA_COMPILER", ...
    path: Path | None = None  # the Cargo.toml (or CargoLambda.toml) of a table
    level: Level = Level.DEFAULT

    def __str__(self) -> str:
        return self.label


DEFAULT_SOURCE = Source(SourceKind.DEFAULT, "default")


class Invalid(Exception):
    """A raw value a converter refuses: ``reason`` follows the key ("must be true or false,
    not 'yes'"), ``hint`` says what to write instead."""

    def __init__(self, reason: str, hint: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint
