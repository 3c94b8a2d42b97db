"""The build options model and its layering.

Sources, highest first: command line > environment > ``[package.metadata.lambda.bin.<name>]`` >
``[package.metadata.lambda]`` > ``[workspace.metadata.lambda.bin.<name>]`` >
``[workspace.metadata.lambda]`` > defaults. The first source that sets a field wins; the ``env``
table is merged key by key with the same precedence. Keys are cargo-lambda's.

Every source is first turned into a ``Layer``: a mapping of field name to an already typed value
(strings are converted exactly once, here). Resolution then walks the layers per function.
"""

from __future__ import annotations

import difflib
import enum
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError, RustLambdaError, UnknownCompilerError
from .project import BinTarget, Workspace
from .targets import Arch, Runtime, Target

Layer = Mapping[str, Any]


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
    taken from the environment, Cargo.toml metadata or the defaults (see ``resolve``).
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
    locked: bool = False
    offline: bool = False
    frozen: bool = False
    jobs: int | None = None
    verbose: int = 0
    cargo_args: tuple[str, ...] = ()
    #: Check every artifact against its runtime after building (``--no-verify`` turns it off).
    verify: bool = True
    #: The process environment to use instead of ``os.environ`` (never modified).
    environ: Mapping[str, str] | None = None


#: The fields a Layer may set, with their defaults.
DEFAULTS: Mapping[str, Any] = {
    "release": False,
    "profile": None,
    "targets": None,  # resolved to the host architecture
    "runtime": Runtime.AL2023,
    "compiler": CompilerSettings(),
    "extension": False,
    "internal": False,
    "output_format": OutputFormat.BINARY,
    "lambda_dir": None,
    "flatten": None,
    "include": (),
    "disable_optimizations": False,
    "features": (),
    "all_features": False,
    "no_default_features": False,
    "skip_target_check": False,
}

#: Fields that shape the one cargo invocation: every selected function must agree on them.
BUILD_WIDE = (
    "release",
    "profile",
    "targets",
    "runtime",
    "compiler",
    "extension",
    "internal",
    "output_format",
    "lambda_dir",
    "flatten",
    "disable_optimizations",
    "features",
    "all_features",
    "no_default_features",
    "skip_target_check",
)

#: Environment variables read, as cargo-lambda names them (plus RUSTLAMBDA_RUNTIME).
ENV_VARS: Mapping[str, str] = {
    "CARGO_LAMBDA_COMPILER": "compiler",
    "CARGO_LAMBDA_OUTPUT_FORMAT": "output_format",
    "CARGO_LAMBDA_LAMBDA_DIR": "lambda_dir",
    "RUSTLAMBDA_RUNTIME": "runtime",
}

_LAMBDA_KEYS = ("env", "build", "deploy", "watch", "bin")
_BUILD_KEYS = (
    "compiler",
    "target",
    "include",
    "output_format",
    "lambda_dir",
    "flatten",
    "extension",
    "internal",
    "arm64",
    "x86_64",
    "release",
    "profile",
    "features",
    "all_features",
    "no_default_features",
    "disable_optimizations",
    "skip_target_check",
    "runtime",
)


def cli_layer(options: BuildOptions) -> dict[str, Any]:
    """The fields the caller set explicitly."""
    layer: dict[str, Any] = {}
    for name in DEFAULTS:
        value = getattr(options, name)
        if value is not None:
            layer[name] = value
    if options.env is not None:
        layer["env"] = dict(options.env)
    return layer


def env_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for var, name in ENV_VARS.items():
        raw = environ.get(var)
        if raw:
            layer[name] = convert_value(name, raw, f"environment variable {var}")
    return layer


@dataclass
class MetadataLayers:
    """The metadata layers of a workspace, parsed and checked once."""

    workspace: Layer
    workspace_bins: Mapping[str, Layer]
    packages: Mapping[str, Layer]
    package_bins: Mapping[tuple[str, str], Layer]
    warnings: list[str] = field(default_factory=list)


def metadata_layers(workspace: Workspace) -> MetadataLayers:
    """Read ``[workspace|package.metadata.lambda]`` of every package; collect all errors."""
    errors: list[RustLambdaError] = []
    warnings: list[str] = []
    ws_root = workspace.root / "Cargo.toml"

    def lambda_table(
        metadata: Mapping[str, Any], section: str, path: Path
    ) -> tuple[Layer, dict[str, Layer]]:
        table = metadata.get("lambda")
        if table is None:
            return {}, {}
        if not isinstance(table, Mapping):
            errors.append(ConfigError(f"[{section}] in {path} must be a table", ""))
            return {}, {}
        layer = _table_layer(table, section, path, errors, warnings)
        bins: dict[str, Layer] = {}
        bin_tables = table.get("bin") or {}
        if isinstance(bin_tables, Mapping):
            for name, sub in bin_tables.items():
                if isinstance(sub, Mapping):
                    bins[name] = _table_layer(sub, f"{section}.bin.{name}", path, errors, warnings)
                else:
                    errors.append(
                        ConfigError(f"[{section}.bin.{name}] in {path} must be a table", "")
                    )
        return layer, bins

    ws_layer, ws_bins = lambda_table(workspace.metadata, "workspace.metadata.lambda", ws_root)
    packages: dict[str, Layer] = {}
    package_bins: dict[tuple[str, str], Layer] = {}
    for package in workspace.packages:
        layer, bins = lambda_table(
            package.metadata, "package.metadata.lambda", package.manifest_path
        )
        packages[package.name] = layer
        for name, bin_layer in bins.items():
            package_bins[(package.name, name)] = bin_layer
    if errors:
        raise _combine(errors)
    return MetadataLayers(ws_layer, ws_bins, packages, package_bins, warnings)


def _table_layer(
    table: Mapping[str, Any],
    section: str,
    path: Path,
    errors: list[RustLambdaError],
    warnings: list[str],
) -> Layer:
    _check_keys(table, _LAMBDA_KEYS, f"[{section}] in {path}", warnings)
    layer: dict[str, Any] = {}
    env = table.get("env")
    if env is not None:
        if isinstance(env, Mapping) and all(isinstance(v, str | int | bool) for v in env.values()):
            layer["env"] = {str(k): _env_value(v) for k, v in env.items()}
        else:
            errors.append(
                ConfigError(
                    f"[{section}.env] in {path} must be a table of strings",
                    'e.g. env = { LOG_LEVEL = "info" }',
                )
            )
    build = table.get("build")
    if build is None:
        return layer
    where = f"[{section}.build] in {path}"
    if not isinstance(build, Mapping):
        errors.append(ConfigError(f"{where} must be a table", "see README, Configuration"))
        return layer
    _check_keys(build, _BUILD_KEYS, where, warnings)
    targets: list[Target] = []
    for key, value in build.items():
        if key not in _BUILD_KEYS:
            continue
        try:
            if key == "arm64":
                if _bool(value, f"{where}: {key}"):
                    targets.append(Target.for_arch(Arch.ARM64))
            elif key == "x86_64":
                if _bool(value, f"{where}: {key}"):
                    targets.append(Target.for_arch(Arch.X86_64))
            elif key == "target":
                targets.extend(convert_value("targets", value, f"{where}: target"))
            else:
                layer[key] = convert_value(key, value, f"{where}: {key}")
        except RustLambdaError as exc:
            errors.append(exc)
    if targets:
        layer["targets"] = tuple(dict.fromkeys(targets))
    return layer


def _check_keys(
    table: Mapping[str, Any], known: Sequence[str], where: str, warnings: list[str]
) -> None:
    for key in table:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        warnings.append(f"unknown key {key!r} in {where}{hint}; it is ignored")


def _env_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _bool(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ConfigError(f"{where} must be true or false, not {value!r}", "")


def _strings(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v for v in value.replace(",", " ").split() if v)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{where} must be a string or a list of strings, not {value!r}", "")


def _compiler(value: object, where: str) -> CompilerSettings:
    if isinstance(value, CompilerSettings):
        return value
    if isinstance(value, str):
        return CompilerSettings(Compiler.parse(value))
    if isinstance(value, Mapping):
        kind = value.get("type")
        if not isinstance(kind, str):
            raise ConfigError(
                f"{where} needs a `type` (zig, cargo or cross)",
                '[package.metadata.lambda.build.compiler]\ntype = "cargo"',
            )
        compiler = Compiler.parse(kind)
        subcommand = _strings(value.get("subcommand", []), f"{where}.subcommand")
        extra_args = _strings(value.get("extra_args", []), f"{where}.extra_args")
        if compiler is not Compiler.CARGO and (subcommand or extra_args):
            raise ConfigError(
                f"{where}: subcommand and extra_args only apply to the cargo compiler", ""
            )
        return CompilerSettings(compiler, subcommand, extra_args)
    raise ConfigError(f"{where} must be a compiler name or a table with `type`", "")


def _enum_value(kind: type[enum.Enum], value: object, where: str) -> Any:
    if isinstance(value, kind):
        return value
    for member in kind:
        if member.value == value:
            return member
    valid = ", ".join(str(m.value) for m in kind)
    raise ConfigError(f"{where}: {value!r} is not one of {valid}", f"use one of: {valid}")


def convert_value(name: str, value: object, where: str) -> Any:
    """One raw value (TOML, env string) → the typed value of field ``name``."""
    converters: dict[str, Callable[[object], Any]] = {
        "compiler": lambda v: _compiler(v, where),
        "runtime": lambda v: (
            Runtime.parse(v) if isinstance(v, str) else _enum_value(Runtime, v, where)
        ),
        "output_format": lambda v: _enum_value(OutputFormat, v, where),
        "targets": lambda v: tuple(Target.parse(t) for t in _strings(v, where)),
        "lambda_dir": lambda v: Path(_str(v, where)),
        "flatten": lambda v: _str(v, where),
        "profile": lambda v: _str(v, where),
        "include": lambda v: _strings(v, where),
        "features": lambda v: _strings(v, where),
    }
    if name in converters:
        return converters[name](value)
    if isinstance(DEFAULTS.get(name), bool):
        return _bool(value, where)
    raise ConfigError(f"{where}: unsupported setting {name!r}", "")


def _str(value: object, where: str) -> str:
    if isinstance(value, str):
        return value
    raise ConfigError(f"{where} must be a string, not {value!r}", "")


def _combine(errors: Sequence[RustLambdaError]) -> RustLambdaError:
    if len(errors) == 1:
        return errors[0]
    text = "\n".join(f"- {e.message}" + (f" ({e.fix})" if e.fix else "") for e in errors)
    return ConfigError(f"{len(errors)} configuration problems:\n{text}", "fix each one listed")


@dataclass(frozen=True)
class FunctionSettings:
    """Settings that may differ per function (they do not change the cargo invocation)."""

    env: Mapping[str, str]
    include: tuple[str, ...]


@dataclass(frozen=True)
class ResolvedSettings:
    """Build-wide settings, fully resolved, and per-function settings."""

    release: bool
    profile: str | None
    targets: tuple[Target, ...]
    runtime: Runtime
    compiler: CompilerSettings
    extension: bool
    internal: bool
    output_format: OutputFormat
    lambda_dir: Path | None
    flatten: str | None
    disable_optimizations: bool
    features: tuple[str, ...]
    all_features: bool
    no_default_features: bool
    skip_target_check: bool
    functions: Mapping[str, FunctionSettings]
    warnings: tuple[str, ...]


def resolve(
    options: BuildOptions,
    environ: Mapping[str, str],
    workspace: Workspace,
    selected: Iterable[BinTarget],
    default_targets: tuple[Target, ...],
) -> ResolvedSettings:
    """Layer the sources for each selected binary; build-wide fields must agree."""
    meta = metadata_layers(workspace)
    top = [cli_layer(options), env_layer(environ)]
    chains: dict[str, list[Layer]] = {}
    for binary in selected:
        chains[binary.name] = [
            *top,
            meta.package_bins.get((binary.package, binary.name), {}),
            meta.packages.get(binary.package, {}),
            meta.workspace_bins.get(binary.name, {}),
            meta.workspace,
        ]
    if not chains:  # nothing selected: still resolve from the top and the workspace
        chains[""] = [*top, meta.workspace]

    values: dict[str, Any] = {}
    for name in BUILD_WIDE:
        chosen = {fn: _first(chain, name) for fn, chain in chains.items()}
        distinct = {repr(v) for v in chosen.values()}
        if len(distinct) > 1:
            listing = ", ".join(f"{fn} → {_show(v)}" for fn, v in chosen.items())
            raise ConfigError(
                f"the selected functions disagree on `{name}` in their metadata: {listing}",
                "build them separately (--bin NAME), or set it on the command line",
            )
        values[name] = next(iter(chosen.values()))
    if values["targets"] is None:
        values["targets"] = default_targets

    functions = {
        fn: FunctionSettings(env=_merged_env(chain), include=_first(chain, "include"))
        for fn, chain in chains.items()
        if fn
    }
    return ResolvedSettings(**values, functions=functions, warnings=tuple(meta.warnings))


def _first(chain: Sequence[Layer], name: str) -> Any:
    for layer in chain:
        if name in layer:
            return layer[name]
    return DEFAULTS[name]


def _merged_env(chain: Sequence[Layer]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for layer in reversed(chain):
        merged.update(layer.get("env", {}))
    return merged


def _show(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, CompilerSettings):
        return value.kind.value
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) or "(none)"
    return str(value)


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_env_vars(values: Iterable[str], where: str = "--env-var") -> dict[str, str]:
    """cargo-lambda's ``--env-var KEY=VALUE`` (repeatable; ``A=1,B=2`` lists allowed)."""
    env: dict[str, str] = {}
    for value in values:
        for item in value.split(","):
            if not item.strip():
                continue
            key, sep, rest = item.partition("=")
            key = key.strip()
            if not sep or not _ENV_NAME.match(key):
                raise ConfigError(
                    f"{where} {item!r} is not KEY=VALUE",
                    f"write it as {where} NAME=value (names: letters, digits, underscores)",
                )
            env[key] = rest
    return env


def read_env_file(path: Path) -> dict[str, str]:
    """``--env-file``: KEY=VALUE lines; blank lines, ``#`` comments and ``export`` are allowed.

    A value may be wrapped in single or double quotes (dropped); nothing is expanded.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the env file {path}: {exc}", "pass an existing UTF-8 text file"
        ) from exc
    env: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _ENV_NAME.match(key):
            raise ConfigError(
                f"{path}:{number}: {raw!r} is not KEY=VALUE",
                "write one NAME=value per line (# starts a comment)",
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key] = value
    return env
