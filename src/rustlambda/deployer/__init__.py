"""``rustlambda deploy``: put what ``rustlambda build`` made on AWS Lambda with boto3, idempotently.

For each function: find the build, zip it reproducibly, verify it (all before any AWS call),
then create the function or update only what differs (see `function`); for an extension,
publish a layer version unless the newest one holds the same zip (see `layer`). ``dry_run``
plans with read-only calls and changes nothing.

Several functions (``all``) are deployed at once, ``max_parallel`` at a time (see `pool`), each
waiting out throttling and updates in progress (see `retry`). One function failing does not
stop the others: every function's outcome is in the result, and ``deploy`` then raises a
`DeployError` holding it (``result``). Only a refusal that every later call would meet too
(expired or invalid credentials) stops new functions from starting.

    deploy(options, *, reporter=None, session=None, runner=None) -> DeployResult
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import AwsCredentialsError, DeployError, Interrupted, RustLambdaError
from ..reporting import LoggingReporter, Reporter
from ..util import signals
from ..util.cmd import CommandRunner, SubprocessRunner
from ..util.fs import file_error
from . import select
from .artifacts import DeployPackage, package
from .pool import Halt, Halted, Once, Progress, ProgressReporter, run_all
from .result import (
    FAILED,
    NOT_STARTED,
    Deployment,
    DeployResult,
    Failure,
    stopped_deploying,
    stopped_pool,
)
from .retry import counting, halting
from .select import Target
from .settings import DeployOptions, DeploySettings

if TYPE_CHECKING:
    import boto3

    from .apply import RoleRegistry
    from .aws import Aws

__all__ = ["DeployOptions", "DeployResult", "Deployment", "deploy"]

#: AWS error codes every later call would get too: no new function is started after one.
ACCOUNT_WIDE = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "EndpointConnectionError",
    }
)


@dataclass(frozen=True)
class _Job:
    aws: Aws
    target: Target
    package: DeployPackage
    #: The changes made so far on AWS, as they are made (see `apply.apply_function`).
    done: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Outcome:
    deployment: Deployment
    error: RustLambdaError | None = None


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
    parallel = select.parallelism(targets)
    packages: list[tuple[Target, DeployPackage]] = []
    for target in targets:  # every zip verified before the first AWS call
        packages.append((target, _package(target, options, environ, scratch)))
    jobs = _connect(packages, session, environ, parallel)
    roles: RoleRegistry = Once()
    halt = Halt()
    try:
        outcomes = run_all(
            [partial(_attempt, job, reporter, dry_run, roles, halt) for job in jobs],
            parallel=parallel,
            finished=_announcer(reporter, len(jobs)),
            stop=_stops_the_rest,
            halt=halt,
        )
    except Halted as exc:
        raise _halted(jobs, exc) from exc
    deployments = tuple(
        outcome.deployment if outcome is not None else _unfinished(job, NOT_STARTED)
        for job, outcome in zip(jobs, outcomes, strict=True)
    )
    region = jobs[0].aws.region if jobs else None
    result = DeployResult(
        deployments,
        dry_run=dry_run,
        region=region,
        warnings=tuple(warnings),
        max_parallel=parallel,
    )
    errors = [o.error for o in outcomes if o is not None and o.error is not None]
    if len(jobs) == 1 and errors:  # one function: its own error, as it was raised
        if isinstance(errors[0], DeployError):
            errors[0].result = result
        raise errors[0]
    if not result.ok:
        raise _summary(result)
    return result


def _connect(
    packages: list[tuple[Target, DeployPackage]],
    session: boto3.Session | None,
    environ: dict[str, str],
    parallel: int,
) -> list[_Job]:
    """A session for each account and Region, credentials and region checked for all before
    any change; clients with a connection for each thread of the pool."""
    from .aws import connect  # boto3 only once there is something to deploy

    sessions: dict[tuple[object, ...], Aws] = {}
    jobs: list[_Job] = []
    for target, pkg in packages:
        s = target.settings
        key = (s.profile, s.region, s.endpoint_url, s.retry_attempts)
        if key not in sessions:
            sessions[key] = connect(
                profile=s.profile,
                region=s.region,
                endpoint_url=s.endpoint_url,
                retry_attempts=s.retry_attempts,
                session=session,
                environ=environ,
                pool_size=parallel,
            )
        jobs.append(_Job(sessions[key], target, pkg))
    return jobs


def _attempt(
    job: _Job, reporter: Reporter, dry_run: bool, roles: RoleRegistry, halt: Halt
) -> _Outcome:
    """One function, timed, with the refusals it waited out; a planned failure is returned,
    and so is a stop asked for by a signal (at the function's next AWS call)."""
    start = time.monotonic()
    with counting() as seen, halting(halt):
        try:
            try:
                deployment = _deploy_one(job, reporter, dry_run, roles)
            except signals.Signalled as exc:
                raise stopped_deploying(exc.signum, job.target.settings.name) from exc
            outcome = _Outcome(deployment)
        except RustLambdaError as exc:
            failed = _unfinished(job, FAILED)
            failure = Failure(exc.message, exc.fix, getattr(exc, "code", None), exc.exit_code)
            outcome = _Outcome(replace(failed, failure=failure), exc)
    retries = tuple((str(why), count) for why, count in sorted(Counter(seen).items()))
    deployment = replace(outcome.deployment, seconds=time.monotonic() - start, retries=retries)
    return replace(outcome, deployment=deployment)


def _halted(jobs: list[_Job], halted: Halted) -> Interrupted:
    """The error of a deploy a signal stopped: what each function got to."""
    finished, stopped, not_started = [], {}, []
    for index, (job, outcome) in enumerate(zip(jobs, halted.results, strict=True)):
        name = job.target.settings.name
        if index in halted.running or (outcome is not None and _was_stopped(outcome)):
            stopped[name] = job.done
        elif outcome is not None:
            finished.append(f"{name} ({outcome.deployment.status})")
        else:
            not_started.append(name)
    return stopped_pool(halted.signum, stopped, finished, not_started)


def _was_stopped(outcome: _Outcome) -> bool:
    return isinstance(outcome.error, Interrupted)


def _stops_the_rest(outcome: _Outcome) -> bool:
    error = outcome.error
    if isinstance(error, AwsCredentialsError):
        return True
    return isinstance(error, DeployError) and error.code in ACCOUNT_WIDE


def _announcer(reporter: Reporter, total: int) -> Callable[[int, _Outcome], None]:
    """Each function as it finishes: to a `ProgressReporter`, else as an info line."""
    count = 0

    def finished(_index: int, outcome: _Outcome) -> None:
        nonlocal count
        count += 1
        progress = Progress(outcome.deployment, count, total)
        if isinstance(reporter, ProgressReporter):
            reporter.deployed(progress)
        else:
            reporter.info(progress.line)

    return finished


def _summary(result: DeployResult) -> DeployError:
    """The error of a deploy of several functions when any failed: each failure, named."""
    failed, total = result.failed, len(result.deployments)
    lines = [f"{len(failed)} of {total} failed:"]
    for d in failed:
        assert d.failure is not None
        lines.append(f"- {d.name}: {d.failure.message}")
    if result.not_started:
        names = ", ".join(d.name for d in result.not_started)
        lines.append(f"- not started after that: {names}")
    done = total - len(failed) - len(result.not_started)
    codes = {d.failure.code for d in failed if d.failure is not None}
    fixes = "; ".join(dict.fromkeys(d.failure.fix for d in failed if d.failure and d.failure.fix))
    fix = (
        f"the other {done} went through; fix each failure"
        + (f" ({fixes})" if fixes else "")
        + " and run the same deploy again: what is deployed already is left as it is"
    )
    return DeployError(
        "\n".join(lines), fix, code=codes.pop() if len(codes) == 1 else None, result=result
    )


def _unfinished(job: _Job, status: str) -> Deployment:
    """A function that never started or failed: what it would have deployed, no actions."""
    return _preview(job.package, job.target.settings, status, [], ())


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


def _deploy_one(job: _Job, reporter: Reporter, dry_run: bool, roles: RoleRegistry) -> Deployment:
    from .apply import apply_function
    from .function import plan_function
    from .layer import apply_layer, plan_layer
    from .preview import function_configuration, layer_configuration

    aws, s, pkg = job.aws, job.target.settings, job.package
    if s.extension:
        layer_plan = plan_layer(aws, s, pkg)
        if not dry_run:
            return apply_layer(aws, layer_plan, reporter)
        status = "would publish" if layer_plan.publish else "unchanged"
        preview = _preview(pkg, s, status, layer_plan.actions(), layer_plan.runtimes)
        return replace(preview, configuration=layer_configuration(layer_plan))
    plan = plan_function(aws, s, pkg)
    if not dry_run:
        return apply_function(aws, plan, reporter, roles=roles, done=job.done)
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
        configuration=function_configuration(plan),
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
