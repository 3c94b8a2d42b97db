"""``rustlambda watch``: build, serve the artifacts in the emulator, rebuild and restart on change.

The artifacts served are the ones ``rustlambda build`` produced (arm64 ones under qemu), not a
``cargo run`` of the host build. After a source change only the functions whose bootstrap
changed get new instances; a failed rebuild keeps the previous build serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pathspec
from watchfiles import Change, DefaultFilter, awatch

from .build import BuildPlan, BuildResult, plan_build, run_plan
from .config import BuildOptions, OutputFormat, parse_env_vars, read_env_file
from .elf import read_elf
from .emulator import Emulator, EmulatorSettings, FunctionSpec, LogRecord, Report
from .errors import ArtifactError, ConfigError, RustLambdaError
from .reporting import LoggingReporter, Reporter
from .targets import host_arch


@dataclass(frozen=True)
class WatchOptions:
    """What to watch and how to serve it.

    ``invoke_address``, ``invoke_port``, ``concurrency``, ``timeout`` and ``ignore_changes`` left
    ``None`` come from ``[package|workspace.metadata.lambda.watch]`` (cargo-lambda's keys), then
    from ``settings`` / the defaults.
    """

    build: BuildOptions
    #: The emulator's base settings (host environment, region, and the fallback address/port).
    settings: EmulatorSettings = field(default_factory=EmulatorSettings)
    #: Seconds an invocation may run (Lambda's function timeout); default 30.
    timeout: float | None = None
    memory_size: int = 128
    #: ``--env-var`` / ``--env-file``: over each function's metadata env.
    env: Mapping[str, str] = field(default_factory=dict)
    #: Serve the first build only (cargo-lambda's ``--ignore-changes``).
    ignore_changes: bool | None = None
    #: Where external extensions are looked for (default ``<lambda-dir>/extensions``).
    extensions_dir: Path | None = None
    invoke_address: str | None = None
    invoke_port: int | None = None
    concurrency: int | None = None


#: ``[*.metadata.lambda.watch]`` keys rustlambda reads (cargo-lambda's names).
WATCH_KEYS = (
    "invoke_address",
    "invoke_port",
    "concurrency",
    "timeout",
    "ignore_changes",
    "env_var",
    "env_file",
)


def watch_metadata(plan: BuildPlan) -> tuple[dict[str, Any], list[str]]:
    """``[workspace.metadata.lambda.watch]`` under the selected packages' own tables.

    Returns the settings (typed) and warnings for unknown keys. Packages that disagree on a key
    are an error, as for build settings.
    """
    warnings: list[str] = []
    layers: list[tuple[str, dict[str, Any]]] = []
    sources = [("[workspace.metadata.lambda.watch]", plan.workspace.root, plan.workspace.metadata)]
    selected = dict.fromkeys(b.package for b in plan.selected)
    for package in plan.workspace.packages:
        if package.name in selected:
            where = f"[package.metadata.lambda.watch] of {package.name}"
            sources.append((where, package.manifest_path.parent, package.metadata))
    for where, base, metadata in sources:
        lambda_table = metadata.get("lambda")
        table = lambda_table.get("watch") if isinstance(lambda_table, Mapping) else None
        if table is None:
            continue
        if not isinstance(table, Mapping):
            raise ConfigError(f"{where} must be a table", "see README, watch")
        layers.append((where, _watch_layer(table, where, base, warnings)))
    merged: dict[str, Any] = {}
    env: dict[str, str] = {}
    package_values: dict[str, tuple[str, Any]] = {}
    for where, layer in layers:
        env.update(layer.pop("env", {}))
        for key, value in layer.items():
            if where.startswith("[package") and key in package_values:
                other_where, other = package_values[key]
                if other != value:
                    raise ConfigError(
                        f"{other_where} sets {key} = {other!r} and {where} sets {value!r}",
                        "watch serves them together: make them agree, or pass the flag",
                    )
            if where.startswith("[package"):
                package_values[key] = (where, value)
            merged[key] = value
    if env:
        merged["env"] = env
    return merged, warnings


def _watch_layer(
    table: Mapping[str, Any], where: str, base: Path, warnings: list[str]
) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for key, value in table.items():
        if key not in WATCH_KEYS:
            close = difflib.get_close_matches(str(key), WATCH_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            warnings.append(f"unknown key {key!r} in {where}{hint}; it is ignored")
            continue
        bad = ConfigError(f"{where}: {key} = {value!r} is not valid", _WATCH_HINTS[key])
        if key == "invoke_address":
            if not isinstance(value, str) or not value:
                raise bad
            layer[key] = value
        elif key in ("invoke_port", "concurrency"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise bad
            if value < (0 if key == "invoke_port" else 1) or value > 65535:
                raise bad
            layer[key] = value
        elif key == "timeout":
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise bad
            layer[key] = float(value)
        elif key == "ignore_changes":
            if not isinstance(value, bool):
                raise bad
            layer[key] = value
        elif key == "env_var":
            values = [value] if isinstance(value, str) else value
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise bad
            layer.setdefault("env", {}).update(parse_env_vars(values, f"{where}: env_var"))
        elif key == "env_file":
            if not isinstance(value, str):
                raise bad
            env_file = read_env_file(base / value)
            layer["env"] = {**env_file, **layer.get("env", {})}
    return layer


_WATCH_HINTS = {
    "invoke_address": 'a host address, e.g. invoke_address = "127.0.0.1"',
    "invoke_port": "a port number, e.g. invoke_port = 9000",
    "concurrency": "a whole number from 1, e.g. concurrency = 4",
    "timeout": "seconds, e.g. timeout = 30",
    "ignore_changes": "true or false",
    "env_var": 'a list of KEY=VALUE strings, e.g. env_var = ["LOG=debug"]',
    "env_file": 'a path relative to that Cargo.toml, e.g. env_file = ".env"',
}


def resolve_watch(options: WatchOptions, plan: BuildPlan) -> tuple[WatchOptions, list[str]]:
    """Fill what the caller left unset from the metadata, then the defaults."""
    metadata, warnings = watch_metadata(plan)
    base = options.settings

    def pick(name: str, fallback: Any) -> Any:
        explicit = getattr(options, name)
        if explicit is not None:
            return explicit
        return metadata.get(name, fallback)

    settings = replace(
        base,
        address=pick("invoke_address", base.address),
        port=pick("invoke_port", base.port),
        concurrency=pick("concurrency", base.concurrency),
    )
    resolved = replace(
        options,
        settings=settings,
        timeout=pick("timeout", 30.0),
        ignore_changes=pick("ignore_changes", False),
        env={**metadata.get("env", {}), **options.env},
        invoke_address=settings.address,
        invoke_port=settings.port,
        concurrency=settings.concurrency,
    )
    return resolved, warnings


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
    built = [a for a in result.artifacts if a.kind == "function"]
    if not built:
        raise ConfigError(
            "watch serves functions, and this build produced none (only extensions?)",
            "select function binaries (drop --extension); extensions in the lambda dir's "
            "extensions/ folder are started with the functions",
        )
    arches = list(dict.fromkeys(a.arch for a in built))
    multi = len(arches) > 1
    host = host_arch()
    specs: list[FunctionSpec] = []
    aliases: dict[str, str] = {}
    notes: list[str] = []
    for artifact in built:
        name = f"{artifact.function}-{artifact.arch}" if multi else artifact.function
        if options.extensions_dir is not None:
            ext_dir = options.extensions_dir
        else:
            ext_dir = (result.lambda_dir / artifact.arch if multi else result.lambda_dir) / (
                "extensions"
            )
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
        if multi and (artifact.function not in aliases or artifact.arch == (host and host.value)):
            aliases[artifact.function] = name
    return Served(tuple(specs), aliases, tuple(dict.fromkeys(notes)))


def _extensions(directory: Path, arch: str) -> tuple[tuple[Path, ...], list[str]]:
    if not directory.is_dir():
        return (), []
    found: list[Path] = []
    notes: list[str] = []
    for path in sorted(directory.iterdir()):
        if not path.is_file() or path.suffix == ".zip" or not os.access(path, os.X_OK):
            continue
        try:
            ext_arch = read_elf(path).arch
        except ArtifactError:
            ext_arch = None  # a script: runs anywhere
        if ext_arch is not None and ext_arch.value != arch:
            notes.append(f"extension {path} is {ext_arch.value}; not started with {arch} functions")
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
