"""Which functions ``rustlambda watch`` serves: one `FunctionSpec` per built function and
architecture (`functions_to_serve`, with the extensions of the lambda dir that match it), or,
in only-Lambda-APIs mode, one per selected function binary without a build
(`planned_functions`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import layout
from .elf import read_elf
from .emulator import FunctionSpec
from .errors import ArtifactError, ConfigError
from .layout import ArtifactKind
from .targets import Arch, host_arch

if TYPE_CHECKING:
    from .builder import BuildPlan, BuildResult
    from .watch import WatchOptions


@dataclass(frozen=True)
class Served:
    """What ``watch`` serves: the function specs and the plain names that route to them."""

    functions: tuple[FunctionSpec, ...]
    aliases: Mapping[str, str]
    notes: tuple[str, ...] = ()


def functions_to_serve(result: BuildResult, options: WatchOptions) -> Served:
    """One FunctionSpec per built function and architecture.

    With one architecture a function is served under its own name. With several, each is
    served as ``<name>-<arch>`` and the plain name routes to the host's architecture (or the
    first one built).
    """
    built = [a for a in result.artifacts if a.kind is ArtifactKind.FUNCTION]
    if not built:
        raise ConfigError(
            "watch serves functions, and this build produced none (only extensions?)",
            "select function binaries (drop --extension); extensions in the lambda dir's "
            "extensions/ folder are started with the functions",
        )
    arches = list(dict.fromkeys(a.arch for a in built))
    multi = len(arches) > 1
    tree = layout.LambdaDir(result.lambda_dir, per_arch=multi)
    host = host_arch()
    specs: list[FunctionSpec] = []
    aliases: dict[str, str] = {}
    notes: list[str] = []
    for artifact in built:
        name = f"{artifact.function}-{artifact.arch.value}" if multi else artifact.function
        ext_dir = options.extensions_dir or tree.extensions(artifact.arch)
        extensions, skipped = _extensions(ext_dir, artifact.arch)
        notes += skipped
        revision = ":".join(
            [artifact.sha256, *(f"{p.name}@{p.stat().st_mtime_ns}" for p in extensions)]
        )
        specs.append(
            FunctionSpec(
                name=name,
                bootstrap=artifact.path,
                env={**artifact.env, **options.env},
                memory_size=options.memory_size,
                timeout=options.timeout if options.timeout is not None else 30.0,
                extensions=extensions,
                revision=revision,
                max_concurrency=options.max_concurrency or 1,
            )
        )
        if multi and (artifact.function not in aliases or artifact.arch is host):
            aliases[artifact.function] = name
    return Served(tuple(specs), aliases, tuple(dict.fromkeys(notes)))


def _extensions(directory: Path, arch: Arch) -> tuple[tuple[Path, ...], list[str]]:
    if not directory.is_dir():
        return (), []
    found: list[Path] = []
    notes: list[str] = []
    for path in sorted(directory.iterdir()):
        if not path.is_file() or path.suffix == layout.ZIP_SUFFIX or not os.access(path, os.X_OK):
            continue
        try:
            ext_arch = read_elf(path).arch
        except ArtifactError:
            ext_arch = None  # a script: runs anywhere
        if ext_arch is not None and ext_arch is not arch:
            notes.append(
                f"extension {path} is {ext_arch.value}; not started with {arch.value} functions"
            )
            continue
        found.append(path)
    return tuple(found), notes


def planned_functions(plan: BuildPlan, options: WatchOptions) -> Served:
    """Only-Lambda-APIs mode: one function per selected function binary, under its own name,
    without building it (the user runs their own build of it)."""
    specs: dict[str, FunctionSpec] = {}
    for output in plan.outputs:
        name = output.binary.name
        if output.kind is not ArtifactKind.FUNCTION or name in specs:
            continue
        function = plan.settings.functions.get(name)
        specs[name] = FunctionSpec(
            name=name,
            bootstrap=output.dest,
            env={**(function.env if function else {}), **options.env},
            memory_size=options.memory_size,
            timeout=options.timeout if options.timeout is not None else 30.0,
            max_concurrency=options.max_concurrency or 1,
        )
    if not specs:
        raise ConfigError(
            "--only-lambda-apis serves functions, and none is selected (only extensions?)",
            "select function binaries (drop --extension)",
        )
    return Served(tuple(specs.values()), {})
