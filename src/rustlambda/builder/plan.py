"""Plan a build: resolve the settings, select the binaries, and decide the one cargo command
and where every output goes (the lambda dir's layout: `rustlambda.layout`) before anything
runs."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .. import layout
from ..compilers import Invocation, backend_for
from ..errors import (
    ConfigError,
    UnknownBinaryError,
    UnsupportedTargetError,
)
from ..layout import ArtifactKind
from ..optimize import CargoOverrides, plan_overrides
from ..options import BuildOptions, CacheKind, OutputFormat
from ..project import BinKind, BinTarget, Workspace, load_workspace, locate_manifest
from ..targets import Runtime, Target, default_target, version_str
from ..toolchain import Toolchain, find_toolchain
from ..util.cmd import CommandRunner, SubprocessRunner
from .select import select_binaries
from .settings import BuildSettings, resolve_build

if TYPE_CHECKING:  # imported when used: a build without --cache or zips needs neither
    from ..compilecache import CachePlan
    from ..package import ZipEntry


@dataclass(frozen=True)
class PlannedOutput:
    binary: BinTarget
    target: Target
    source: Path  # where cargo leaves it
    dest: Path  # where Lambda's layout wants it
    kind: ArtifactKind
    zip_dest: Path | None = None  # with zip output
    includes: tuple[ZipEntry, ...] = ()  # checked while planning, before anything runs


@dataclass(frozen=True)
class BuildPlan:
    """Everything decided before anything runs: the one cargo command and where outputs go."""

    workspace: Workspace
    toolchain: Toolchain
    selected: tuple[BinTarget, ...]
    settings: BuildSettings
    argv: tuple[str, ...]
    env: Mapping[str, str]
    cwd: Path
    lambda_dir: Path
    outputs: tuple[PlannedOutput, ...]
    triples: tuple[str, ...]  # the rustc triples whose std must exist
    notes: tuple[str, ...]
    verify: bool = True
    target_dir: Path | None = None  # cargo's target dir (rustlambda's caches live in it)
    #: ``--cache sccache``: the compile cache (its variables are in ``env`` already).
    cache: CachePlan | None = None
    #: Where the build was asked for (the options' ``cwd``), and the global configuration
    #: file it read (``CargoLambda.toml``, None: none): inputs of `rustlambda.builder.inputs`.
    caller_cwd: Path | None = None
    global_config: Path | None = None


def _profile_dir(settings: BuildSettings) -> tuple[str, str]:
    """(profile name for cargo, the directory cargo writes it to)."""
    profile = settings.profile or ("release" if settings.release else "dev")
    directory = {"dev": "debug", "test": "debug", "release": "release", "bench": "release"}
    return profile, directory.get(profile, profile)


def _check_conflicts(settings: BuildSettings, selected: Sequence[BinTarget]) -> None:
    if settings.release and settings.profile not in (None, "release"):
        raise ConfigError(
            f"--release and --profile {settings.profile} conflict",
            "give one of them (--release is --profile release)",
        )
    if settings.internal and not settings.extension:
        raise ConfigError("--internal only applies with --extension", "add --extension")
    arches = [t.arch for t in settings.targets]
    if len(set(arches)) != len(arches):
        listing = ", ".join(str(t) for t in settings.targets)
        raise ConfigError(
            f"two targets for the same architecture ({listing}) would share one output folder",
            "build them in separate runs with different --lambda-dir values",
        )
    if settings.flatten and settings.flatten not in {b.name for b in selected}:
        raise UnknownBinaryError(
            f"--flatten {settings.flatten}: that binary is not part of this build",
            "name one of: " + ", ".join(b.name for b in selected),
        )


def _glibc_notes(settings: BuildSettings) -> list[str]:
    """A pinned glibc (``.2.xx``) above every Lambda runtime's is refused before compiling:
    nothing could run the binary. Above this build's runtime only, it is a warning: the
    verification at the end fails the build (unless --no-verify), and the binary would run on
    the other runtime, which the warning names."""
    notes: list[str] = []
    newest = max(Runtime, key=lambda r: r.glibc)
    for target in settings.targets:
        if target.glibc is None or target.glibc <= settings.runtime.glibc:
            continue
        pinned = version_str(target.glibc)
        if target.glibc > newest.glibc:
            supported = ", ".join(f"{r.value} {version_str(r.glibc)}" for r in Runtime)
            raise UnsupportedTargetError(
                f"target {target}: no Lambda runtime has glibc {pinned} ({supported}), so "
                "nothing on Lambda could run the binary",
                f"drop the suffix ({target.triple}: rustlambda links against the runtime's "
                f"glibc) or pin at most {version_str(newest.glibc)}: "
                f"{target.triple}.{version_str(newest.glibc)}",
            )
        runs_on = next(r for r in Runtime if target.glibc <= r.glibc)
        notes.append(
            f"target {target} links against glibc {pinned}, newer than "
            f"{settings.runtime.value}'s {version_str(settings.runtime.glibc)}: the binary "
            f"runs on {runs_on.value} only (drop the suffix to link against "
            f"{settings.runtime.value}'s glibc)"
        )
    return notes


def plan_build(options: BuildOptions, *, runner: CommandRunner | None = None) -> BuildPlan:
    """Everything a build will do, decided before anything runs (see `BuildPlan`)."""
    runner = runner or SubprocessRunner()
    environ = dict(options.environ if options.environ is not None else os.environ)
    cwd = (options.cwd or Path.cwd()).resolve()
    manifest = locate_manifest(options.manifest_path, cwd)
    toolchain = find_toolchain(environ)
    workspace = load_workspace(
        manifest, cargo=toolchain.cargo, env=environ, runner=runner, rustc=toolchain.rustc
    )
    selected = select_binaries(workspace, options)
    settings = resolve_build(options, environ, workspace, selected, (default_target(),))
    _check_conflicts(settings, selected)
    glibc_notes = _glibc_notes(settings)
    target_dir = _target_dir(settings, workspace, cwd)
    # before the compiler's checks: --cache with cross is refused whether cross is there or not
    cache = _plan_cache(settings, environ, workspace, target_dir)
    as_argument = _target_dir_as_argument(settings, cache, environ)
    invocation = backend_for(settings.compiler.kind).invocation(
        settings.compiler, settings.targets, settings.runtime, toolchain, environ
    )
    profile, profile_dir = _profile_dir(settings)
    overrides = _overrides(settings, profile, workspace, environ)
    selection = _cargo_args(options, settings, selected, target_dir, as_argument)
    argv = _cargo_argv(options, settings, invocation, profile, manifest, selection, overrides)
    notes = [*settings.warnings, *glibc_notes, *invocation.notes, *overrides.notes]
    build_env = _cargo_env(environ, settings, invocation, overrides, cache, as_argument, notes)
    lambda_dir = _lambda_dir(settings, cwd, target_dir)
    outputs = _outputs(settings, selected, workspace, target_dir, profile_dir, lambda_dir, notes)
    return BuildPlan(
        workspace=workspace,
        toolchain=toolchain,
        selected=selected,
        settings=settings,
        argv=tuple(argv),
        env=build_env,
        cwd=workspace.root,
        lambda_dir=lambda_dir,
        outputs=outputs,
        triples=tuple(dict.fromkeys(t.triple for t in settings.targets)),
        notes=tuple(notes),
        verify=settings.verify,
        target_dir=target_dir,
        cache=cache,
        caller_cwd=cwd,
        global_config=settings.global_config,
    )


def _target_dir(settings: BuildSettings, workspace: Workspace, cwd: Path) -> Path:
    """cargo's target dir: ``--target-dir`` (relative to the caller's folder), else cargo's."""
    if settings.target_dir is not None:
        return (cwd / settings.target_dir).resolve()
    return workspace.target_directory


def _target_dir_as_argument(
    settings: BuildSettings, cache: CachePlan | None, environ: Mapping[str, str]
) -> bool:
    """Whether cargo gets ``--target-dir`` (else it finds the dir itself)."""
    # sccache's keys include every CARGO_* variable: a CARGO_TARGET_DIR that differs between
    # machines would miss every Rust entry, so the cache gets the same dir as an argument
    return settings.target_dir is not None or (
        cache is not None and bool(environ.get("CARGO_TARGET_DIR"))
    )


def _lambda_dir(settings: BuildSettings, cwd: Path, target_dir: Path) -> Path:
    """Where the artifacts go: ``--lambda-dir`` (relative to the caller's folder), else the
    layout's default in the target dir."""
    if settings.lambda_dir:
        return (cwd / settings.lambda_dir).resolve()
    return layout.default_lambda_dir(target_dir)


def _plan_cache(
    settings: BuildSettings, environ: Mapping[str, str], workspace: Workspace, target_dir: Path
) -> CachePlan | None:
    """The compile cache (``--cache``), None without one."""
    if settings.cache is CacheKind.NONE:
        return None
    from ..compilecache import plan_cache

    return plan_cache(settings.cache, settings.compiler.kind, environ, (workspace.root, target_dir))


def _overrides(
    settings: BuildSettings, profile: str, workspace: Workspace, environ: Mapping[str, str]
) -> CargoOverrides:
    """`rustlambda.optimize`'s ``--config`` values and variables for this build."""
    return plan_overrides(
        optimize=profile == "release" and not settings.disable_optimizations,
        profile=profile,
        targets=settings.targets,
        workspace_manifest=workspace.root / "Cargo.toml",
        cwd=workspace.root,
        environ=environ,
    )


def _cargo_argv(
    options: BuildOptions,
    settings: BuildSettings,
    invocation: Invocation,
    profile: str,
    manifest: Path,
    selection: Sequence[str],
    overrides: CargoOverrides,
) -> list[str]:
    """The one cargo command: the compiler's head, targets, profile, manifest, ``selection``
    (`_cargo_args`), cargo's own flags, the overrides, the compiler's and the caller's extras."""
    return [
        *invocation.head,
        *(arg for triple in invocation.triples for arg in ("--target", triple)),
        *(["--release"] if profile == "release" else ["--profile", profile]),
        *("--manifest-path", str(manifest)),
        *selection,
        *settings.cargo_flags,
        *overrides.args(),
        *settings.compiler.extra_args,
        *options.cargo_args,
    ]


def _cargo_env(
    environ: Mapping[str, str],
    settings: BuildSettings,
    invocation: Invocation,
    overrides: CargoOverrides,
    cache: CachePlan | None,
    as_argument: bool,
    notes: list[str],
) -> dict[str, str]:
    """cargo's environment: the caller's, then what the functions agree on, the build's own
    variables, the compiler's, the optimisation overrides' and the compile cache's (whose notes
    join ``notes``)."""
    build_env = {
        **environ,
        **_function_env(settings, notes),
        **settings.build_env,
        **invocation.env,
        **overrides.env,
    }
    if cache is not None:
        notes += cache.notes
        build_env.update(cache.env)
        if as_argument:
            build_env.pop("CARGO_TARGET_DIR", None)
    return build_env


def _cargo_args(
    options: BuildOptions,
    settings: BuildSettings,
    selected: Sequence[BinTarget],
    target_dir: Path,
    as_argument: bool,
) -> list[str]:
    """Selection, features and cargo's own switches, as cargo takes them."""
    argv: list[str] = []
    if options.packages:
        for name in options.packages:
            argv += ["--package", name]
    elif options.workspace or len({b.package for b in selected}) > 1:
        argv += ["--workspace"]
        for name in options.exclude:
            argv += ["--exclude", name]
    else:
        argv += ["--package", selected[0].package]
    for binary in selected:
        argv += [f"--{binary.kind.value}", binary.name]
    if settings.features:
        argv += ["--features", ",".join(settings.features)]
    features = (
        ("--all-features", settings.all_features),
        ("--no-default-features", settings.no_default_features),
    )
    argv += [flag for flag, on in features if on]
    if as_argument:
        argv += ["--target-dir", str(target_dir)]
    return argv


def _outputs(
    settings: BuildSettings,
    selected: Sequence[BinTarget],
    workspace: Workspace,
    target_dir: Path,
    profile_dir: str,
    lambda_dir: Path,
    notes: list[str],
) -> tuple[PlannedOutput, ...]:
    """Where cargo leaves each binary for each target, and where the layout wants it."""
    zipped = settings.output_format is OutputFormat.ZIP
    includes: dict[str, tuple[ZipEntry, ...]] = {}
    for name, function in settings.functions.items():
        if function.include and not zipped:
            notes.append(f"include for {name} only applies to zip output (--output-format zip)")
        elif zipped:
            from ..package import include_entries

            includes[name] = tuple(include_entries(function.include, workspace.root))
    outputs = []
    tree = layout.LambdaDir(lambda_dir, per_arch=len(settings.targets) > 1)
    kind = ArtifactKind.EXTENSION if settings.extension else ArtifactKind.FUNCTION
    for target in settings.targets:
        built = target_dir / target.triple / profile_dir
        for binary in selected:
            examples = "examples" if binary.kind is BinKind.EXAMPLE else ""
            source = built / examples / binary.name
            flat = settings.flatten == binary.name
            dest = tree.executable(binary.name, kind, target.arch, flatten=flat)
            zip_dest = layout.zip_path(dest, binary.name, kind, flatten=flat) if zipped else None
            outputs.append(
                PlannedOutput(
                    binary, target, source, dest, kind, zip_dest, includes.get(binary.name, ())
                )
            )
    return tuple(outputs)


def _function_env(settings: BuildSettings, notes: list[str]) -> dict[str, str]:
    """The metadata ``env`` values every selected function agrees on (passed to cargo)."""
    tables = list(settings.functions.values())
    if not tables:
        return {}
    agreed: dict[str, str] = {}
    for key in sorted({k for t in tables for k in t.env}):
        values = {t.env.get(key) for t in tables}
        if len(values) == 1 and None not in values:
            agreed[key] = tables[0].env[key]
        else:
            notes.append(f"env {key} differs between the selected functions; not passed to cargo")
    return agreed
