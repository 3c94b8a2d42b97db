"""A build's settings, resolved: the build-wide values every selected function agrees on (they
shape the one cargo run) and each function's own (``env``, ``include``).

Sources and precedence: see `rustlambda.settings.resolve`. Every package's ``build`` and ``env``
tables are checked, selected or not, so a typo fails whatever is built.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from ..errors import ConfigError
from ..options import BuildOptions, CacheKind, Compiler, CompilerSettings, OutputFormat
from ..project import BinTarget, Workspace
from ..settings import table as t
from ..settings.cargolambda import GlobalConfig, select
from ..settings.metadata import Metadata
from ..settings.model import Scope, Section, Setting
from ..settings.resolve import (
    Chain,
    agree,
    environment_layers,
    options_layer,
    show,
)
from ..targets import Runtime, Target

T = TypeVar("T")
SECTIONS = (Section.LAMBDA, Section.BUILD)


@dataclass(frozen=True)
class FunctionBuildSettings:
    """Settings that may differ per function (they do not change the cargo invocation)."""

    env: Mapping[str, str]
    include: tuple[str, ...]


@dataclass(frozen=True)
class BuildSettings:
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
    cache: CacheKind
    target_dir: Path | None
    #: cargo's own options, as cargo's arguments (``--locked``, ``--config V``, ``-Z F``...).
    cargo_flags: tuple[str, ...]
    #: ``env_file`` and ``env_var`` of the build table (and ``--env-var``/``--env-file``):
    #: variables for cargo's environment.
    build_env: Mapping[str, str]
    verify: bool
    functions: Mapping[str, FunctionBuildSettings]
    warnings: tuple[str, ...]
    #: The global configuration file these settings read (``CargoLambda.toml``; None: none).
    global_config: Path | None = None


def build_chains(
    options: BuildOptions,
    environ: Mapping[str, str],
    workspace: Workspace,
    selected: Iterable[BinTarget],
    metadata: Metadata | None = None,
) -> tuple[dict[str, Chain], Metadata]:
    """Each selected binary's chain (``""``: the workspace's, when nothing is selected);
    ``metadata``: the workspace's tables as another front already read them."""
    settings = [r for s in SECTIONS for r in t.rows(s) if r.scope is not Scope.INPUT]
    base = (options.cwd or Path.cwd()).resolve()
    top = [options_layer(options, settings, base), *environment_layers(environ, settings, base)]
    meta = metadata or Metadata(workspace, global_config(options, environ, base))
    for section in SECTIONS:
        meta.read_all(section)
    chains = {
        binary.name: meta.chain(SECTIONS, workspace.package(binary.package), binary.name, top)
        for binary in selected
    }
    if not chains:  # nothing selected: still resolve from the top and the workspace
        chains[""] = meta.chain(SECTIONS, None, None, top)
    meta.check()
    return chains, meta


def global_config(options: object, environ: Mapping[str, str], cwd: Path) -> GlobalConfig:
    """cargo-lambda's global configuration as ``options`` (``global_config``, ``context``,
    ``admerge``) and the environment select it."""
    return GlobalConfig(select(options, environ, cwd), environ, cwd)


def resolve_build(
    options: BuildOptions,
    environ: Mapping[str, str] | None,
    workspace: Workspace,
    selected: Iterable[BinTarget],
    default_targets: tuple[Target, ...],
    metadata: Metadata | None = None,
) -> BuildSettings:
    """Layer the sources for each selected binary; build-wide settings must agree."""
    environ = os.environ if environ is None else environ
    chains, meta = build_chains(options, environ, workspace, selected, metadata)

    def wide(setting: Setting[T]) -> T:
        return agree(chains, setting)

    targets = wide(t.TARGETS)
    notes: list[str] = []
    compiler = _compiler(chains, notes)
    return BuildSettings(
        release=wide(t.RELEASE),
        profile=wide(t.PROFILE),
        targets=targets or default_targets,
        runtime=wide(t.RUNTIME),
        compiler=compiler,
        extension=wide(t.EXTENSION),
        internal=wide(t.INTERNAL),
        output_format=wide(t.OUTPUT_FORMAT),
        lambda_dir=wide(t.LAMBDA_DIR),
        flatten=wide(t.FLATTEN),
        disable_optimizations=wide(t.DISABLE_OPTIMIZATIONS),
        features=wide(t.FEATURES),
        all_features=wide(t.ALL_FEATURES),
        no_default_features=wide(t.NO_DEFAULT_FEATURES),
        skip_target_check=wide(t.SKIP_TARGET_CHECK),
        cache=wide(t.CACHE),
        target_dir=wide(t.TARGET_DIR),
        cargo_flags=tuple(
            arg for row in t.rows(Section.BUILD) if row.cargo for arg in row.cargo_argv(wide(row))
        ),
        build_env=_build_env(chains),
        verify=wide(t.VERIFY),
        functions={
            name: FunctionBuildSettings(chain.merged(t.ENV) or {}, chain.get(t.INCLUDE))
            for name, chain in chains.items()
            if name
        },
        warnings=(*meta.warnings, *notes),
        global_config=(
            meta.sources.selection.path if isinstance(meta.sources, GlobalConfig) else None
        ),
    )


def _compiler(chains: Mapping[str, Chain], notes: list[str]) -> CompilerSettings:
    """The compiler, with ``CARGO_LAMBDA_COMPILER_SUBCOMMAND`` / ``..._EXTRA_ARGS`` over its
    table's ``subcommand`` / ``extra_args`` (the cargo compiler's only, as in cargo-lambda)."""
    compiler = agree(chains, t.COMPILER)
    overrides = {
        "subcommand": (t.COMPILER_SUBCOMMAND, agree(chains, t.COMPILER_SUBCOMMAND)),
        "extra_args": (t.COMPILER_EXTRA_ARGS, agree(chains, t.COMPILER_EXTRA_ARGS)),
    }
    given: dict[str, tuple[str, ...]] = {
        field: value for field, (_, value) in overrides.items() if value is not None
    }
    if not given:
        return compiler
    if compiler.kind is not Compiler.CARGO:
        names = " and ".join(str(overrides[field][0].env_var) for field in given)
        notes.append(
            f"{names} only apply to the cargo compiler (--compiler cargo), as in cargo-lambda; "
            f"ignored with {show(compiler)}"
        )
        return compiler
    return replace(
        compiler,
        subcommand=given.get("subcommand", compiler.subcommand),
        extra_args=given.get("extra_args", compiler.extra_args),
    )


def _build_env(chains: Mapping[str, Chain]) -> dict[str, str]:
    """cargo's variables from the build table's ``env_file`` and ``env_var`` (``env_var`` over
    ``env_file``, higher layers over lower ones); every selected function must agree."""
    envs = {
        name: chain.merged(t.BUILD_ENV_FILE, t.BUILD_ENV_VARS) or {}
        for name, chain in chains.items()
    }
    values = list(envs.values())
    if any(env != values[0] for env in values[1:]):
        listing = ", ".join(f"{fn} → {env}" for fn, env in envs.items())
        raise ConfigError(
            f"the selected functions disagree on the build's env_var/env_file: {listing}",
            "build them separately (--bin NAME), or set them on the command line",
        )
    return values[0] if values else {}
