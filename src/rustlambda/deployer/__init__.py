"""``rustlambda deploy``: put what ``rustlambda build`` made on AWS Lambda with boto3, idempotently.

For each function: find the build, zip it reproducibly, verify it (all before any AWS call),
then create the function or update only what differs (see `function`); for an extension,
publish a layer version unless the newest one holds the same zip (see `layer`). ``dry_run``
plans with read-only calls and changes nothing.

    deploy(options, *, reporter=None, session=None, runner=None) -> DeployResult
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DeployError, Interrupted
from ..reporting import LoggingReporter, Reporter
from ..util import signals
from ..util.cmd import CommandRunner, SubprocessRunner
from ..util.fs import file_error
from . import select
from .artifacts import DeployPackage, package
from .result import Deployment, DeployResult, stopped_deploying
from .select import Target
from .settings import DeployOptions, DeploySettings

if TYPE_CHECKING:
    import boto3

    from .aws import Aws

__all__ = ["DeployOptions", "DeployResult", "Deployment", "deploy"]


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
    targets, warnings = select.targets(options, environ, cwd, runner or SubprocessRunner())
    for warning in warnings:
        reporter.warning(warning)
    with _scratch() as scratch:
        return _deploy_targets(targets, warnings, options, environ, scratch, reporter, session)


def _deploy_targets(
    targets: list[Target],
    warnings: list[str],
    options: DeployOptions,
    environ: dict[str, str],
    scratch: Path,
    reporter: Reporter,
    session: boto3.Session | None,
) -> DeployResult:
    dry_run = any(t.settings.dry_run for t in targets)
    packages: list[tuple[Target, DeployPackage]] = []
    for target in targets:  # every zip verified before the first AWS call
        packages.append((target, _package(target, options, environ, scratch)))
    from .aws import connect  # boto3 only once there is something to deploy

    sessions: dict[tuple[object, ...], Aws] = {}

    def aws_for(s: DeploySettings) -> Aws:
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
            try:
                deployment = _deploy_one(aws_for(target.settings), target, pkg, reporter, dry_run)
            except signals.Signalled as exc:
                raise stopped_deploying(exc.signum, target.settings.name) from exc
        except (DeployError, Interrupted) as exc:
            if results:
                finished = ", ".join(f"{d.name} ({d.status})" for d in results)
                exc.add_context(f"; deployed before it: {finished}")
            raise
        results.append(deployment)
    region = next(iter(sessions.values())).region if sessions else None
    return DeployResult(tuple(results), dry_run=dry_run, region=region, warnings=tuple(warnings))


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    """The deploy's temporary folder (in TMPDIR) for the zips it makes; removed at the end."""
    try:
        folder = tempfile.mkdtemp(prefix="rustlambda-deploy-")
    except OSError as exc:
        raise file_error(
            exc,
            Path(tempfile.gettempdir()),
            "create a temporary folder in",
            hint="set TMPDIR to a writable folder with space",
        ) from exc
    try:
        yield Path(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _deploy_one(
    aws: Aws, target: Target, pkg: DeployPackage, reporter: Reporter, dry_run: bool
) -> Deployment:
    from .apply import apply_function
    from .function import plan_function
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
    s: DeploySettings,
    status: str,
    actions: list[str],
    runtimes: tuple[str, ...],
) -> Deployment:
    return Deployment(
        name=s.name,
        kind=pkg.kind,
        arch=pkg.arch,
        zip_path=pkg.shown_path,
        size=pkg.size,
        sha256=pkg.sha256,
        status=status,
        compatible_runtimes=runtimes,
        actions=tuple(actions),
    )


def _package(
    target: Target, options: DeployOptions, environ: dict[str, str], scratch: Path
) -> DeployPackage:
    return package(
        target.source,
        target.settings,
        include_root=target.include_root,
        arch=options.arch,
        environ=environ,
        scratch=scratch,
    )
