"""``rustlambda watch``: build, serve the artifacts in the emulator, rebuild and restart on change.

The artifacts served are the ones ``rustlambda build`` produced (arm64 ones under qemu), not a
``cargo run`` of the host build. After a source change only the functions whose bootstrap
changed get new instances; a failed rebuild keeps the previous build serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import pathspec
from watchfiles import Change, DefaultFilter, awatch

from . import layout
from .builder import BuildPlan, BuildResult, plan_build, run_plan
from .builder.settings import global_config
from .elf import read_elf
from .emulator import Emulator, EmulatorSettings, FunctionSpec, LogRecord, Report
from .errors import ArtifactError, ConfigError, RustLambdaError
from .layout import ArtifactKind
from .options import BuildOptions, OutputFormat
from .reporting import LoggingReporter, Reporter
from .settings import table as t
from .settings.metadata import Metadata
from .settings.model import Scope, Section
from .settings.resolve import options_layer, served_chain
from .targets import Arch, host_arch


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


class SourceFilter(DefaultFilter):
    """Changes that can alter a build: not in target dirs, .git, or anything .gitignore'd."""

    def __init__(self, root: Path, ignored_dirs: Sequence[Path]) -> None:
        super().__init__()
        self.root = root.resolve()
        self.ignored_dirs = tuple(p.resolve() for p in ignored_dirs)
        self._specs: list[tuple[Path, pathspec.GitIgnoreSpec]] = []
        for gitignore in sorted(self._gitignores(), key=lambda p: len(p.parts)):
            lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
            self._specs.append((gitignore.parent, pathspec.GitIgnoreSpec.from_lines(lines)))

    def _gitignores(self) -> list[Path]:
        found: list[Path] = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            here = Path(dirpath)
            dirnames[:] = [
                d
                for d in dirnames
                if d not in self.ignore_dirs and not self._in_ignored_dir(here / d)
            ]
            if ".gitignore" in filenames:
                found.append(here / ".gitignore")
        return found

    def _in_ignored_dir(self, path: Path) -> bool:
        return any(path == d or d in path.parents for d in self.ignored_dirs)

    def __call__(self, change: Change, path: str) -> bool:
        if not super().__call__(change, path):
            return False
        resolved = Path(path).resolve()
        if self._in_ignored_dir(resolved):
            return False
        # As git does: deeper .gitignore files come later, and the last matching rule wins
        # (so a nested "!keep.log" brings back what the root's "*.log" ignored).
        ignored = False
        for base, spec in self._specs:
            try:
                relative = resolved.relative_to(base)
            except ValueError:
                continue
            verdict = spec.check_file(str(relative)).include
            if verdict is not None:
                ignored = verdict
        return not ignored


def _ignored_dirs(plan: BuildPlan, options: BuildOptions) -> list[Path]:
    dirs = [plan.workspace.target_directory, plan.lambda_dir]
    if options.target_dir is not None:
        cwd = options.cwd or Path.cwd()
        dirs.append(cwd / options.target_dir)
    return dirs


def _binary_build(options: BuildOptions) -> BuildOptions:
    # The emulator runs bootstraps; zips would only slow every rebuild down.
    return replace(options, output_format=OutputFormat.BINARY)


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
) -> None:
    """Build, serve until ``stop`` is set, rebuilding on source changes; then shut down."""
    reporter = reporter or LoggingReporter()
    build_options = _binary_build(options.build)
    plan = await asyncio.to_thread(plan_build, build_options)
    options, warnings = resolve_watch(options, plan)
    for warning in warnings:
        reporter.warning(warning)
    result = await asyncio.to_thread(run_plan, plan, reporter=reporter)
    served = functions_to_serve(result, options)
    for note in served.notes:
        reporter.warning(note)
    emulator = Emulator(
        served.functions,
        options.settings,
        aliases=served.aliases,
        on_log=on_log,
        on_report=on_report,
        on_notice=on_notice,
    )
    for warning in emulator.warnings:
        reporter.warning(warning)
    await emulator.start()
    try:
        for spec in served.functions:
            extras = (
                f" with {', '.join(p.name for p in spec.extensions)}" if spec.extensions else ""
            )
            reporter.info(f"serving {spec.name}{extras} from {spec.bootstrap}")
        for alias, target in served.aliases.items():
            reporter.info(f"{alias} routes to {target}")
        reporter.info(
            f"invoke at {emulator.url}/2015-03-31/functions/<name>/invocations "
            f"(boto3/AWS CLI: --endpoint-url {emulator.url})"
        )
        if on_ready is not None:
            on_ready(emulator)
        if options.ignore_changes:
            await stop.wait()
            return
        await _reload_loop(plan, build_options, options, emulator, stop, reporter, on_reload)
    finally:
        await emulator.stop()


async def _reload_loop(
    plan: BuildPlan,
    build_options: BuildOptions,
    options: WatchOptions,
    emulator: Emulator,
    stop: asyncio.Event,
    reporter: Reporter,
    on_reload: Callable[[list[str]], None] | None,
) -> None:
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
            plan = await asyncio.to_thread(plan_build, build_options)
            result = await asyncio.to_thread(run_plan, plan, reporter=reporter)
            served = functions_to_serve(result, options)
            changed = await emulator.update(served.functions, aliases=served.aliases)
        except RustLambdaError as exc:
            if exc.details:
                reporter.output(exc.details)
            reporter.warning(f"rebuild failed, still serving the previous build: {exc.message}")
            continue
        if changed:
            reporter.info(f"new instances for: {', '.join(changed)}")
        else:
            reporter.info("no bootstrap changed; instances keep running")
        if on_reload is not None:
            on_reload(changed)


def _relative(path: Path, root: Path) -> Path:
    with contextlib.suppress(ValueError):
        return path.relative_to(root)
    return path
