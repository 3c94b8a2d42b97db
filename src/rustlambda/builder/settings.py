"""A build's settings, resolved: the build-wide values every selected function agrees on (they
shape the one cargo run) and each function's own (``env``, ``include``).

Sources and precedence: see `rustlambda.settings.resolve`. Every package's ``build`` and ``env``
tables are checked, selected or not, so a typo fails whatever is built.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ..options import BuildOptions, CompilerSettings, OutputFormat
from ..project import BinTarget, Workspace
from ..settings import table as t
from ..settings.model import Scope, Section, Setting
from ..settings.resolve import Chain, Metadata, agree, environment_layers, options_layer
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
    locked: bool
    offline: bool
    frozen: bool
    jobs: int | None
    verify: bool
    functions: Mapping[str, FunctionBuildSettings]
    warnings: tuple[str, ...]


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
    meta = metadata or Metadata(workspace)
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
    return BuildSettings(
        release=wide(t.RELEASE),
        profile=wide(t.PROFILE),
        targets=targets or default_targets,
        runtime=wide(t.RUNTIME),
        compiler=wide(t.COMPILER),
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
        locked=wide(t.LOCKED),
        offline=wide(t.OFFLINE),
        frozen=wide(t.FROZEN),
        jobs=wide(t.JOBS),
        verify=wide(t.VERIFY),
        functions={
            name: FunctionBuildSettings(chain.merged(t.ENV) or {}, chain.get(t.INCLUDE))
            for name, chain in chains.items()
            if name
        },
        warnings=tuple(meta.warnings),
    )
