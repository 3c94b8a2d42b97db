"""What a deploy deploys: the binaries ``DeployOptions`` names (one, or ``--all``), each with
its resolved `DeploySettings` and the build to upload (found in the lambda dir, or
``--binary-path``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import layout
from ..builder import select_binaries
from ..builder.settings import BuildSettings, global_config, resolve_build
from ..errors import ArtifactError, ConfigError, RustLambdaError
from ..options import BuildOptions
from ..project import BinKind, BinTarget, Workspace, load_workspace, locate_manifest
from ..settings import table as t
from ..settings.cargolambda import GlobalConfig
from ..settings.metadata import Metadata, raise_collected
from ..targets import default_target
from ..toolchain import find_toolchain
from ..util.cmd import CommandRunner
from .artifacts import candidates, locate
from .settings import DeployOptions, DeploySettings, function_chain, resolve_function


@dataclass(frozen=True)
class Target:
    """One function or extension to deploy."""

    settings: DeploySettings
    source: Path  # the executable or zip found
    include_root: Path  # what ``include`` paths are relative to


def targets(
    options: DeployOptions, environ: dict[str, str], cwd: Path, runner: CommandRunner
) -> tuple[list[Target], list[str]]:
    """What ``options`` asks to deploy, each with its settings and build; and the warnings."""
    warnings: list[str] = []
    workspace = _workspace(options, environ, cwd, runner)
    sources = global_config(options, environ, cwd)
    metadata = Metadata(workspace, sources) if workspace is not None else None
    if options.all:
        if options.name or options.binary_name or options.binary_path:
            raise ConfigError(
                "--all deploys every built binary under its own name",
                "drop --all to deploy one (NAME, --binary-name, --binary-path)",
            )
        if workspace is None:  # pragma: no cover - _workspace raises without a manifest
            raise ConfigError("--all needs a Cargo workspace", "pass --manifest-path")
        binaries = list(workspace.bins)
    else:
        binaries = [_one_binary(options, workspace)]
    targets: list[Target] = []
    not_built: list[str] = []
    for binary in binaries:
        target = _target_for(binary, options, metadata, cwd, environ, sources)
        if target is None:
            not_built.append(binary.name)
        else:
            targets.append(target)
    if options.all:
        if not targets:
            kind = "extension" if options.extension else "function"
            raise ArtifactError(
                f"no built {kind} to deploy in the workspace",
                "build first: rustlambda build --release"
                + (" --extension" if options.extension else ""),
            )
        if not_built:
            warnings.append(f"not built, so not deployed: {', '.join(not_built)}")
        _check_distinct(targets)
    warnings = (metadata.warnings if metadata is not None else sources.warnings) + warnings
    return targets, list(dict.fromkeys(warnings))


def _check_distinct(targets: list[Target]) -> None:
    """Two binaries deployed under one name would race each other (and the last would win)."""
    by_name: dict[tuple[bool, str], list[str]] = {}
    for target in targets:
        s = target.settings
        by_name.setdefault((s.extension, s.name), []).append(s.binary)
    clashes = [(name, bins) for (_, name), bins in by_name.items() if len(bins) > 1]
    if clashes:
        listing = "; ".join(f"{name} ← {', '.join(bins)}" for name, bins in clashes)
        raise ConfigError(
            f"several binaries would be deployed under one name: {listing}",
            "give each its own `name` in [package.metadata.lambda.bin.<binary>.deploy]",
        )


def parallelism(targets: list[Target]) -> int:
    """The pool's size: the one ``max_parallel`` every target resolves to."""
    chosen = {t.settings.name: t.settings.max_parallel for t in targets}
    values = set(chosen.values())
    if len(values) > 1:
        listing = ", ".join(f"{name} → {value}" for name, value in chosen.items())
        raise ConfigError(
            f"the deployed functions' metadata disagree on max_parallel: {listing}",
            "set it once in [workspace.metadata.lambda.deploy], or pass --max-parallel",
        )
    return values.pop() if values else 1


def _workspace(
    options: DeployOptions, environ: dict[str, str], cwd: Path, runner: CommandRunner
) -> Workspace | None:
    bare = options.binary_path is not None and options.manifest_path is None
    if bare and not (cwd / "Cargo.toml").is_file():
        return None  # a bare binary or zip: no metadata to read
    manifest = locate_manifest(options.manifest_path, cwd)
    toolchain = find_toolchain(environ)
    return load_workspace(manifest, cargo=toolchain.cargo, env=environ, runner=runner)


def _one_binary(options: DeployOptions, workspace: Workspace | None) -> BinTarget:
    """--binary-name, else NAME if a binary has it, else the workspace's only binary."""
    if workspace is None:  # --binary-path outside a workspace
        path = options.binary_path
        assert path is not None
        name = options.binary_name or options.name
        name = name or (path.stem if path.stem not in (layout.BOOTSTRAP, "") else None)
        if name is None:
            raise ConfigError(
                f"cannot tell the function's name from {path}",
                "name it: rustlambda deploy NAME --binary-path ...",
            )
        return BinTarget(name, "", BinKind.BIN)
    by_name = {b.name: b for b in workspace.bins}
    known = ", ".join(by_name) or "(none)"
    if options.binary_name is not None:
        if options.binary_name in by_name:
            return by_name[options.binary_name]
        if options.binary_path is not None:
            return BinTarget(options.binary_name, "", BinKind.BIN)
        raise ConfigError(
            f"--binary-name {options.binary_name}: no such binary in the workspace",
            f"binaries: {known}",
        )
    if options.name is not None and options.name in by_name:
        return by_name[options.name]
    only = _only_binary(workspace)
    if only is not None:
        return only  # NAME (if given) is the function's name on Lambda
    if options.name is not None:
        raise ConfigError(
            f"no binary named {options.name!r} in the workspace",
            f"binaries: {known}; deploy one under another name: "
            f"rustlambda deploy {options.name} --binary-name BIN",
        )
    raise ConfigError(
        f"the workspace has several binaries: {known}",
        "name the one to deploy (rustlambda deploy NAME) or pass --all",
    )


def _only_binary(workspace: Workspace) -> BinTarget | None:
    try:
        selected = select_binaries(workspace, BuildOptions())
    except RustLambdaError:  # no default binaries
        return None
    return selected[0] if len(selected) == 1 else None


def _target_for(
    binary: BinTarget,
    options: DeployOptions,
    metadata: Metadata | None,
    cwd: Path,
    environ: dict[str, str],
    sources: GlobalConfig,
) -> Target | None:
    """The settings and the build of one binary (None: ``--all`` and it is not built)."""
    in_workspace = metadata is not None and bool(binary.package)
    binary_or_none = binary if in_workspace else None
    chain = function_chain(options, cwd, metadata, binary_or_none, sources, environ=environ)
    lambda_dir = chain.get(t.DEPLOY_LAMBDA_DIR)
    build: BuildSettings | None = None
    if metadata is not None and in_workspace:
        workspace = metadata.workspace
        build_options = BuildOptions(cwd=cwd, extension=options.extension)
        build = resolve_build(
            build_options, environ, workspace, (binary,), (default_target(),), metadata
        )
        if lambda_dir is None:
            lambda_dir = (
                cwd / build.lambda_dir
                if build.lambda_dir
                else layout.default_lambda_dir(workspace.target_directory)
            )
    if metadata is not None:
        metadata.check()
    else:
        raise_collected(sources.errors)
    function = build.functions.get(binary.name) if build is not None else None
    settings = resolve_function(
        chain,
        binary=binary.name,
        base_env=dict(function.env) if function else {},
        build_include=function.include if function else (),
        build_extension=build.extension if build else False,
        build_internal=build.internal if build else False,
    )
    include_root = metadata.workspace.root if metadata is not None else cwd
    binary_path = chain.get(t.BINARY_PATH)
    if binary_path is not None:
        return Target(settings, cwd / binary_path, include_root)
    assert lambda_dir is not None
    flatten = build.flatten if build else None
    if options.all and not candidates(
        lambda_dir, binary.name, extension=settings.extension, flatten=flatten
    ):
        return None
    source = locate(
        lambda_dir, binary.name, extension=settings.extension, flatten=flatten, arch=options.arch
    )
    return Target(settings, source, include_root)
