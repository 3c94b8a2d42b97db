"""``rustlambda deploy``: put what ``rustlambda build`` made on AWS Lambda with boto3, idempotently.

For each function: find the build, zip it reproducibly, verify it (all before any AWS call),
then create the function or update only what differs (see `function`); for an extension,
publish a layer version unless the newest one holds the same zip (see `layer`). ``dry_run``
plans with read-only calls and changes nothing.

    deploy(options, *, reporter=None, session=None, runner=None) -> DeployResult
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .. import layout
from ..builder import select_binaries
from ..config import BuildOptions, resolve
from ..errors import ArtifactError, ConfigError, DeployError, RustLambdaError
from ..project import BinKind, BinTarget, Workspace, load_workspace, locate_manifest
from ..reporting import LoggingReporter, Reporter
from ..targets import default_target
from ..toolchain import find_toolchain
from ..util.cmd import CommandRunner, SubprocessRunner
from .artifacts import DeployPackage, candidates, locate, package
from .result import Deployment, DeployResult
from .settings import (
    DeployOptions,
    FunctionSettings,
    cli_layer,
    first,
    metadata_chain,
    resolve_function,
)

if TYPE_CHECKING:
    import boto3

    from .aws import Aws

__all__ = ["DeployOptions", "DeployResult", "Deployment", "deploy"]


@dataclass(frozen=True)
class _Target:
    settings: FunctionSettings
    source: Path
    include_root: Path


def deploy(
    options: DeployOptions,
    *,
    reporter: Reporter | None = None,
    session: boto3.Session | None = None,
    runner: CommandRunner | None = None,
) -> DeployResult:
    """Deploy the selected functions (or extensions); see the module docstring."""
    reporter = reporter or LoggingReporter()
    environ = dict(options.environ if options.environ is not None else os.environ)
    cwd = (options.cwd or Path.cwd()).resolve()
    targets, warnings = _targets(options, environ, cwd, runner or SubprocessRunner())
    for warning in warnings:
        reporter.warning(warning)
    dry_run = any(t.settings.dry_run for t in targets)
    packages: list[tuple[_Target, DeployPackage]] = []
    for target in targets:  # every zip verified before the first AWS call
        packages.append((target, _package(target, options, environ)))
    from .aws import connect  # boto3 only once there is something to deploy

    sessions: dict[tuple[object, ...], Aws] = {}

    def aws_for(s: FunctionSettings) -> Aws:
        key = (s.profile, s.region, s.endpoint_url, s.retry_attempts)
        if key not in sessions:
            sessions[key] = connect(
                profile=s.profile,
                region=s.region,
                endpoint_url=s.endpoint_url,
                retry_attempts=s.retry_attempts,
                session=session,
                environ=environ,
            )
        return sessions[key]

    for target, _ in packages:
        aws_for(target.settings)  # credentials and region for all, before any change
    results: list[Deployment] = []
    for target, pkg in packages:
        try:
            results.append(_deploy_one(aws_for(target.settings), target, pkg, reporter, dry_run))
        except DeployError as exc:
            if results:
                finished = ", ".join(f"{d.name} ({d.status})" for d in results)
                exc.add_context(f"; deployed before it: {finished}")
            raise
    region = next(iter(sessions.values())).region if sessions else None
    return DeployResult(tuple(results), dry_run=dry_run, region=region, warnings=tuple(warnings))


def _deploy_one(
    aws: Aws, target: _Target, pkg: DeployPackage, reporter: Reporter, dry_run: bool
) -> Deployment:
    from .function import apply_function, plan_function
    from .layer import apply_layer, plan_layer

    s = target.settings
    if s.extension:
        layer_plan = plan_layer(aws, s, pkg)
        if not dry_run:
            return apply_layer(aws, layer_plan, reporter)
        status = "would publish" if layer_plan.publish else "unchanged"
        return _preview(pkg, s, status, layer_plan.actions(), layer_plan.runtimes)
    plan = plan_function(aws, s, pkg)
    if not dry_run:
        return apply_function(aws, plan, reporter)
    if plan.create:
        status = "would create"
    elif plan.config_changes or plan.code_update or plan.tags_to_set:
        status = "would update"
    else:
        status = "unchanged"
    deployment = _preview(pkg, s, status, plan.actions(), ())
    return replace(
        deployment,
        arn=plan.current.get("FunctionArn") if plan.current else None,
        config_updated=tuple(plan.config_changes),
        code_updated=plan.create or plan.code_update,
        tags_updated=tuple(plan.tags_to_set),
    )


def _preview(
    pkg: DeployPackage,
    s: FunctionSettings,
    status: str,
    actions: list[str],
    runtimes: tuple[str, ...],
) -> Deployment:
    return Deployment(
        name=s.name,
        kind=pkg.kind,
        arch=pkg.arch,
        zip_path=str(pkg.zip_path),
        size=pkg.size,
        sha256=pkg.sha256,
        status=status,
        compatible_runtimes=runtimes,
        actions=tuple(actions),
    )


def _package(target: _Target, options: DeployOptions, environ: dict[str, str]) -> DeployPackage:
    return package(
        target.source,
        target.settings,
        include_root=target.include_root,
        arch=options.arch,
        environ=environ,
    )


# --- what to deploy ----------------------------------------------------------------------


def _targets(
    options: DeployOptions, environ: dict[str, str], cwd: Path, runner: CommandRunner
) -> tuple[list[_Target], list[str]]:
    warnings: list[str] = []
    workspace = _workspace(options, environ, cwd, runner)
    top = cli_layer(options, cwd)
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
    targets: list[_Target] = []
    not_built: list[str] = []
    for binary in binaries:
        target = _target_for(binary, options, workspace, top, cwd, environ, warnings)
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
    return targets, list(dict.fromkeys(warnings))


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
    workspace: Workspace | None,
    top: dict[str, object],
    cwd: Path,
    environ: dict[str, str],
    warnings: list[str],
) -> _Target | None:
    chain = [top, *metadata_chain(workspace, binary if binary.package else None, warnings)]
    base_env: dict[str, str] = {}
    include: tuple[str, ...] = ()
    extension = internal = False
    flatten: str | None = None
    lambda_dir: Path | None = first(chain, "lambda_dir")
    if workspace is not None and binary.package:
        build = resolve(
            BuildOptions(extension=first([top], "extension")),
            environ,
            workspace,
            (binary,),
            (default_target(),),
        )
        warnings.extend(build.warnings)
        function = build.functions.get(binary.name)
        if function is not None:
            base_env, include = dict(function.env), function.include
        extension, internal, flatten = build.extension, build.internal, build.flatten
        if lambda_dir is None:
            lambda_dir = (
                cwd / build.lambda_dir
                if build.lambda_dir
                else layout.default_lambda_dir(workspace.target_directory)
            )
    if lambda_dir is not None:
        lambda_dir = cwd / lambda_dir
    settings = resolve_function(
        chain,
        binary=binary.name,
        base_env=base_env,
        build_include=include,
        build_extension=extension,
        build_internal=internal,
    )
    binary_path: Path | None = first(chain, "binary_path")
    include_root = workspace.root if workspace is not None else cwd
    if binary_path is not None:
        return _Target(settings, cwd / binary_path, include_root)
    assert lambda_dir is not None
    if options.all and not candidates(
        lambda_dir, binary.name, extension=settings.extension, flatten=flatten
    ):
        return None
    source = locate(
        lambda_dir, binary.name, extension=settings.extension, flatten=flatten, arch=options.arch
    )
    return _Target(settings, source, include_root)
