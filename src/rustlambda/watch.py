"""``rustlambda watch``: build, serve the artifacts in the emulator, rebuild and restart on change.

The artifacts served are the ones ``rustlambda build`` produced (arm64 ones under qemu), not a
``cargo run`` of the host build. The emulator listens before the first build starts: invokes
that arrive during it wait for it (``wait``) or are answered as Lambda answers for a function
still Pending. After a source change only the functions whose bootstrap changed get new
instances; a failed rebuild keeps the previous build serving. The build's progress and, when
it fails, cargo's diagnostics reach the caller (`progress`). With ``only_lambda_apis`` nothing is
built: the emulator serves the Runtime API of each function for a runtime the user starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from watchfiles import awatch

from .builder import BuildPlan, BuildResult, plan_build, run_plan
from .builder.settings import global_config
from .emulator import Emulator, EmulatorSettings, LogRecord, Report
from .emulator.aws_env import AwsEnvironment, resolve_aws_environment
from .errors import RustLambdaError
from .options import BuildOptions, OutputFormat
from .progress import BuildProgress, BuildSession, progress_env
from .reporting import LoggingReporter, Reporter
from .serving import Served, functions_to_serve, planned_functions
from .settings import table as t
from .settings.metadata import Metadata
from .settings.model import Scope, Section
from .settings.resolve import options_layer, served_chain
from .sources import SourceFilter


@dataclass(frozen=True)
class WatchOptions:
    """What to watch and how to serve it.

    ``invoke_address``, ``invoke_port``, ``concurrency``, ``timeout`` and ``ignore_changes`` left
    ``None`` come from ``[package|workspace.metadata.lambda.watch]`` (cargo-lambda's keys), then
    from ``settings`` / the defaults. Each field is a row of `rustlambda.settings.table`.
    """

    build: BuildOptions
    #: The emulator's base settings (host environment, region, and the fallback address/port).
    settings: EmulatorSettings = field(default_factory=EmulatorSettings)
    #: Seconds an invocation may run (Lambda's function timeout); default 30.
    timeout: float | None = None
    memory_size: int = 128
    #: ``--env-var`` / ``--env-file``: over each function's metadata env (``env_var`` over
    #: ``env_file``; the file is relative to the working directory).
    env: Mapping[str, str] = field(default_factory=dict)
    env_file: Path | None = None
    #: Serve the first build only (cargo-lambda's ``--ignore-changes``).
    ignore_changes: bool | None = None
    #: Where external extensions are looked for (default ``<lambda-dir>/extensions``).
    extensions_dir: Path | None = None
    invoke_address: str | None = None
    invoke_port: int | None = None
    concurrency: int | None = None
    #: Invocations one instance serves at once (Lambda Managed Instances); default 1.
    max_concurrency: int | None = None
    #: Build nothing, start no function: serve the Runtime API for runtimes the user starts.
    only_lambda_apis: bool | None = None
    #: Invokes during the first build wait for it (else: ResourceConflictException, Pending).
    wait: bool | None = None
    #: The AWS profile and region the functions get (default: the user's chain and config).
    aws_profile: str | None = None
    region: str | None = None
    #: No CORS headers on the function-URL front (cargo-lambda's --disable-cors).
    disable_cors: bool | None = None


T = TypeVar("T")
ROWS = tuple(r for r in t.rows(Section.WATCH) if r.scope is not Scope.INPUT)


def resolve_watch(options: WatchOptions, plan: BuildPlan) -> tuple[WatchOptions, list[str]]:
    """Fill what the caller left unset from ``[package|workspace.metadata.lambda.watch]``
    (cargo-lambda's keys), then the defaults. Returns the warnings about those tables."""
    cwd = (options.build.cwd or Path.cwd()).resolve()
    environ = options.build.environ if options.build.environ is not None else os.environ
    metadata = Metadata(plan.workspace, global_config(options.build, environ, cwd))
    selected = dict.fromkeys(b.package for b in plan.selected)
    packages = [
        metadata.layer(Section.WATCH, package, None)
        for package in plan.workspace.packages
        if package.name in selected
    ]
    workspace = metadata.layer(Section.WATCH, None, None)
    bottom = metadata.bottom((Section.WATCH,))
    metadata.check()
    top = [options_layer(options, ROWS, cwd)]
    chain = served_chain(top, packages, workspace, bottom, metadata.admerge)
    base = options.settings
    settings = replace(
        base,
        address=_or(chain.get(t.INVOKE_ADDRESS), base.address),
        port=_or(chain.get(t.INVOKE_PORT), base.port),
        concurrency=_or(chain.get(t.CONCURRENCY), base.concurrency),
    )
    resolved = replace(
        options,
        settings=settings,
        timeout=chain.get(t.WATCH_TIMEOUT),
        memory_size=chain.get(t.MEMORY_SIZE),
        env=chain.merged(t.WATCH_ENV_FILE, t.WATCH_ENV_VARS) or {},
        env_file=None,  # read into env
        ignore_changes=chain.get(t.IGNORE_CHANGES),
        extensions_dir=chain.get(t.EXTENSIONS_DIR),
        max_concurrency=chain.get(t.MAX_CONCURRENCY),
        only_lambda_apis=chain.get(t.ONLY_LAMBDA_APIS),
        wait=chain.get(t.WAIT),
        aws_profile=chain.get(t.AWS_PROFILE),
        region=chain.get(t.WATCH_REGION),
        disable_cors=chain.get(t.DISABLE_CORS),
        invoke_address=settings.address,
        invoke_port=settings.port,
        concurrency=settings.concurrency,
    )
    warnings = metadata.warnings_of(Section.WATCH)
    if metadata.sources is not None:
        warnings = [*metadata.sources.warnings, *warnings]
    return resolved, warnings


def _or(value: T | None, fallback: T) -> T:
    return fallback if value is None else value


def _ignored_dirs(plan: BuildPlan, options: BuildOptions) -> list[Path]:
    dirs = [plan.workspace.target_directory, plan.lambda_dir]
    if options.target_dir is not None:
        cwd = options.cwd or Path.cwd()
        dirs.append(cwd / options.target_dir)
    return dirs


def emulator_settings(options: WatchOptions) -> tuple[EmulatorSettings, AwsEnvironment | None]:
    """The emulator's settings with the user's AWS environment: the region (flag, metadata,
    ``AWS_REGION``, the profile's) and the credentials chain of the profile — unless the
    caller's settings bring credentials of their own (then only a given region applies)."""
    settings = replace(
        options.settings,
        only_lambda_apis=bool(options.only_lambda_apis),
        cors=not options.disable_cors,
    )
    if settings.credentials is not None:
        return (replace(settings, region=options.region) if options.region else settings), None
    environ = settings.environ if settings.environ is not None else os.environ
    aws = resolve_aws_environment(options.aws_profile, options.region, environ)
    return replace(settings, region=aws.region, credentials=aws.credentials), aws


def _build(options: BuildOptions, reporter: Reporter) -> BuildResult:
    return run_plan(plan_build(options), reporter=reporter)


def _binary_build(options: BuildOptions) -> BuildOptions:
    # The emulator runs bootstraps; zips would only slow every rebuild down. cargo's progress
    # bar is on (even on a pipe) for the counts the progress shows.
    environ = options.environ if options.environ is not None else os.environ
    return replace(options, output_format=OutputFormat.BINARY, environ=progress_env(environ))


async def watch(
    options: WatchOptions,
    *,
    stop: asyncio.Event,
    reporter: Reporter | None = None,
    on_log: Callable[[LogRecord], None] | None = None,
    on_report: Callable[[Report], None] | None = None,
    on_ready: Callable[[Emulator], None] | None = None,
    on_reload: Callable[[list[str]], None] | None = None,
    on_notice: Callable[[str], None] | None = None,
    on_progress: Callable[[BuildProgress], None] | None = None,
) -> None:
    """Listen, build, serve until ``stop`` is set, rebuilding on source changes; then shut
    down. ``on_progress`` follows each build (on the event loop's thread); ``on_ready`` is
    called once the functions are served."""
    reporter = reporter or LoggingReporter()
    session = BuildSession(_build, reporter, on_progress)
    build_options = _binary_build(options.build)
    plan = await asyncio.to_thread(plan_build, build_options)
    options, warnings = resolve_watch(options, plan)
    for warning in warnings:
        reporter.warning(warning)
    settings, aws = emulator_settings(options)
    served = planned_functions(plan, options) if options.only_lambda_apis else Served((), {})
    emulator = Emulator(
        served.functions,
        settings,
        aliases=served.aliases,
        on_log=on_log,
        on_report=on_report,
        on_notice=on_notice,
    )
    await emulator.start()
    try:
        if options.only_lambda_apis:
            _ready(emulator, served, options, aws, reporter, on_ready)
            await stop.wait()
            return
        await _first_build(emulator, session, build_options, options, aws, on_ready)
        if options.ignore_changes:
            await stop.wait()
            return
        await _reload_loop(plan, build_options, options, emulator, stop, session, on_reload)
    finally:
        await emulator.stop()


async def _first_build(
    emulator: Emulator,
    session: BuildSession,
    build_options: BuildOptions,
    options: WatchOptions,
    aws: AwsEnvironment | None,
    on_ready: Callable[[Emulator], None] | None,
) -> None:
    """Build while listening (invokes wait or are told Pending), then serve what was built;
    a failed first build fails the invokes that waited, and ``watch``."""
    reporter = session.reporter
    emulator.hold(wait=bool(options.wait))
    then = "invokes wait for it" if options.wait else 'invokes meanwhile get "Pending"'
    reporter.info(f"listening on {' and '.join(emulator.urls)}; building first ({then})")
    try:
        result = await session.build(build_options, first=True)
        served = functions_to_serve(result, options)
        await emulator.update(served.functions, aliases=served.aliases)
    except RustLambdaError as exc:
        await emulator.fail_pending(exc.message)
        raise
    for warning in [*served.notes, *emulator.warnings]:
        reporter.warning(warning)
    _ready(emulator, served, options, aws, reporter, on_ready)


def _ready(
    emulator: Emulator,
    served: Served,
    options: WatchOptions,
    aws: AwsEnvironment | None,
    reporter: Reporter,
    on_ready: Callable[[Emulator], None] | None,
) -> None:
    """Serving: say what and where, then tell the caller."""
    _announce(emulator, served, options, aws, reporter)
    if on_ready is not None:
        on_ready(emulator)


def _announce(
    emulator: Emulator,
    served: Served,
    options: WatchOptions,
    aws: AwsEnvironment | None,
    reporter: Reporter,
) -> None:
    """What is served, where, and with which AWS environment."""
    url, others = emulator.url, emulator.urls[1:]
    for spec in served.functions:
        if options.only_lambda_apis:
            reporter.info(f"{spec.name}: Runtime API at {url}/.rt/{spec.name} (start it yourself)")
            continue
        extras = f" with {', '.join(p.name for p in spec.extensions)}" if spec.extensions else ""
        reporter.info(f"serving {spec.name}{extras} from {spec.bootstrap}")
    for alias, target in served.aliases.items():
        reporter.info(f"{alias} routes to {target}")
    reporter.info(
        f"invoke at {url}/2015-03-31/functions/<name>/invocations "
        f"(boto3/AWS CLI: --endpoint-url {url})"
    )
    one = f"; the only function: any path of {url}/" if len(served.functions) == 1 else ""
    reporter.info(f"function URLs at {url}/lambda-url/<name>/<path>{one}")
    if others:
        reporter.info(f"also listening on {', '.join(others)}, same APIs")
    if (options.max_concurrency or 1) > 1:
        reporter.info(
            f"each instance serves up to {options.max_concurrency} invocations at once "
            f"(AWS_LAMBDA_MAX_CONCURRENCY={options.max_concurrency})"
        )
    if aws is not None:
        source = _REGION_SOURCES.get(aws.region_source, aws.region_source)
        who = f"profile {options.aws_profile}" if options.aws_profile else "your AWS chain"
        credentials = "" if options.only_lambda_apis else f", with AWS credentials from {who}"
        reporter.info(f"functions run in {aws.region} ({source}){credentials}")


_REGION_SOURCES = {
    "flag": "--region / the region key",
    "environment": "AWS_REGION",
    "default": "no region configured: the default",
}


async def _reload_loop(
    plan: BuildPlan,
    build_options: BuildOptions,
    options: WatchOptions,
    emulator: Emulator,
    stop: asyncio.Event,
    session: BuildSession,
    on_reload: Callable[[list[str]], None] | None,
) -> None:
    reporter = session.reporter
    root = plan.workspace.root
    source_filter = SourceFilter(root, _ignored_dirs(plan, build_options))
    reporter.info(f"watching {root} for changes")
    async for changes in awatch(
        root, watch_filter=source_filter, stop_event=stop, debounce=1600, step=100
    ):
        paths = sorted({Path(p) for _, p in changes})
        shown = ", ".join(str(_relative(p, root)) for p in paths[:3])
        more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
        reporter.info(f"changed: {shown}{more}; rebuilding")
        try:
            result = await session.build(build_options, first=False)
            served = functions_to_serve(result, options)
            before = set(emulator.function_names)
            changed = await emulator.update(served.functions, aliases=served.aliases)
        except RustLambdaError as exc:
            reporter.warning(f"rebuild failed, still serving the previous build: {exc.message}")
            continue
        kept = sorted(before & {s.name for s in served.functions} - set(changed))
        if not changed:
            reporter.info("no bootstrap changed; instances keep running")
        elif kept:
            reporter.info(f"unchanged, instances keep running: {', '.join(kept)}")
        if changed:
            reporter.info(f"new instances for: {', '.join(changed)}")
        if on_reload is not None:
            on_reload(changed)


def _relative(path: Path, root: Path) -> Path:
    with contextlib.suppress(ValueError):
        return path.relative_to(root)
    return path
