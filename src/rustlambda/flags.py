"""The command-line flags, built from the settings table, and what they parse into: the typed
options dataclasses. Shared by the CLI's commands and the CDK constructs (which parse
``bundling.extra_build_args`` as ``rustlambda build`` would).

A row's flags become click options of the commands that take them (`Setting.flag_commands`:
its section's, or the row's own list, so one row can serve several commands); a decorator
(`build_flags`, `watch_flags`, `deploy_flags`) adds them to a command and hands it one typed
value (`BuildFlags`, `WatchFlags`, `DeployFlags`) instead of the raw parameters. Values go
through the rows' converters, the same ones metadata values go through. cargo-lambda's flags
that rustlambda refuses (`settings.table.REFUSALS`) are parsed too, to fail with their own
error instead of "no such option".
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from .errors import ConfigError
from .settings import table as t
from .settings.convert import Choice, EnvFile, FilePath, Int, PathType, Seconds
from .settings.model import AnySetting, Combine, Command, Context, Flag, Refusal, Section
from .settings.resolve import convert

if TYPE_CHECKING:
    from .deployer.settings import DeployOptions
    from .options import BuildOptions
    from .watch import WatchOptions

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class BuildFlags:
    """What ``rustlambda build``'s flags ask for."""

    options: BuildOptions
    quiet: bool
    verbose: int  # -v count: 1 streams cargo's output, 2 adds cargo's own -v


@dataclass(frozen=True)
class WatchFlags:
    options: WatchOptions
    quiet: bool
    verbose: int


@dataclass(frozen=True)
class DeployFlags:
    options: DeployOptions
    json: bool  # --json or --output-format json
    quiet: bool


# --- click options from rows -----------------------------------------------------------------


def _dest(row: AnySetting, index: int) -> str:
    return f"{row.section.value}__{row.name}__{index}"


def _click_type(row: AnySetting, flag: Flag) -> click.ParamType[Any, Any] | None:
    convert = row.convert
    if isinstance(convert, Int):
        if convert.lo is None and convert.hi is None:
            return click.INT
        return click.IntRange(convert.lo, convert.hi)
    if isinstance(convert, Seconds):
        return click.FloatRange(min=0, min_open=True)
    if isinstance(convert, Choice):
        return click.Choice(convert.choices, case_sensitive=False)
    if isinstance(convert, PathType | FilePath | EnvFile):
        return click.Path(path_type=Path, file_okay=not flag.directory)
    return None


def rows_for(command: Command, sections: Sequence[Section]) -> list[AnySetting]:
    """The rows of ``sections`` whose flags ``command`` takes, in the table's order."""
    return [
        row
        for section in sections
        for row in t.rows(section)
        if row.flags and command in row.flag_commands
    ]


def _params(rows: Sequence[AnySetting]) -> Iterator[Callable[[F], F]]:
    """The click decorators for ``rows``' flags, in the table's order."""
    for row in rows:
        for index, flag in enumerate(row.flags):
            dest = _dest(row, index)
            if flag.argument:
                yield click.argument(dest, required=False, metavar=f"[{flag.decls[0].upper()}]")
            elif flag.switch:
                yield click.option(*flag.decls, dest, is_flag=True, help=flag.help or None)
            else:
                extra: dict[str, Any] = {}
                if flag.show_default:
                    extra.update(default=row.default, show_default=True)
                yield click.option(
                    *flag.decls,
                    dest,
                    type=_click_type(row, flag),
                    multiple=flag.repeat,
                    help=flag.help or None,
                    **extra,
                )


def _refusal_dest(refusal: Refusal) -> str:
    return "refused__" + refusal.name.lstrip("-").replace("-", "_")


def _refused(command: Command) -> list[Callable[[F], F]]:
    """Options for the flags ``command`` refuses: parsed, hidden from --help, and an error
    (`refuse`) when given."""
    return [
        click.option(
            *refusal.decls,
            _refusal_dest(refusal),
            is_flag=not refusal.takes_value,
            hidden=True,
            expose_value=True,
        )
        for refusal in t.refusals(command)
    ]


def refusal_options(command: Command) -> Callable[[F], F]:
    """A decorator adding ``command``'s refused flags to a click command (call `refuse` on its
    parameters first thing)."""

    def decorate(function: F) -> F:
        wrapped: Any = function
        for decorator in reversed(_refused(command)):
            wrapped = decorator(wrapped)
        return wrapped  # type: ignore[no-any-return]

    return decorate


def refuse(command: Command, params: dict[str, Any]) -> None:
    """Pop ``command``'s refused flags from ``params``; raise the first one given."""
    given = [r for r in t.refusals(command) if params.pop(_refusal_dest(r), None)]
    if given:
        refusal = given[0]
        raise ConfigError(f"{refusal.name} is not supported: {refusal.reason}", refusal.alternative)


#: Where the CLI's group keeps the options given before the command (cargo-lambda's global
#: ``--global``, ``--context``, ``--admerge``, ``--color``, ``-v``).
ROOT_OPTIONS = "rustlambda.root_options"


def _root_options() -> dict[str, Any]:
    ctx = click.get_current_context(silent=True)
    found: dict[str, Any] = ctx.meta.get(ROOT_OPTIONS, {}) if ctx is not None else {}
    return found


def _values(rows: Sequence[AnySetting], params: dict[str, Any]) -> dict[str, object]:
    """Pop ``rows``' parameters; return each row's typed value (rows given on the command
    line only: after the command, else before it for the global options)."""
    base = Path.cwd()
    root = _root_options()
    for row in rows:
        if row.name in root and all(
            params.get(_dest(row, i)) in (None, False, ()) for i in range(len(row.flags))
        ):
            flag = row.flags[0]
            params[_dest(row, 0)] = True if flag.switch else root[row.name]
    values: dict[str, object] = {}
    for row in rows:
        given: list[tuple[Flag, object]] = []
        for index, flag in enumerate(row.flags):
            raw = params.pop(_dest(row, index))
            if flag.switch and raw:
                given.append((flag, flag.value))
            elif not flag.switch and raw not in (None, ()):
                given.append((flag, tuple(raw) if flag.repeat else raw))
        if given:
            values[row.name] = _combine(row, given, base)
    return values


def _combine(row: AnySetting, given: list[tuple[Flag, object]], base: Path) -> object:
    # an env file stays a path in the options: the resolver reads it
    as_path = isinstance(row.convert, EnvFile)
    parts = []
    for flag, raw in given:
        ctx = Context(flag.name, base, flag.name)
        parts.append(PathType()(raw, ctx) if as_path else convert(row, raw, ctx))
    if row.combine is Combine.CONCAT:
        items = [item for part in parts for item in cast(tuple[object, ...], part)]
        return tuple(dict.fromkeys(items))
    if len(parts) > 1:
        names = " and ".join(flag.name for flag, _ in given)
        raise ConfigError(f"{names} both set {row.name}", "pass only one of them")
    return parts[0]


def _decorate(
    command_name: Command,
    sections: Sequence[Section],
    extra: Sequence[Callable[[F], F]],
    make: Callable[[dict[str, Any]], object],
) -> Callable[[F], F]:
    """A decorator adding the flags ``command_name`` takes from ``sections``' rows (and
    ``extra``, and its refused flags) to a command, which receives ``flags=make(params)``
    instead of those parameters."""

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def run(**params: Any) -> Any:
            refuse(command_name, params)
            return command(flags=make(params), **params)

        wrapped: Any = run
        decorators: list[Callable[[Any], Any]] = [
            *_params(rows_for(command_name, sections)),
            *extra,
            *_refused(command_name),
        ]
        for decorator in reversed(decorators):
            wrapped = decorator(wrapped)
        return wrapped  # type: ignore[no-any-return]

    return decorate


_OUTPUT = [
    click.option(
        "-v", "--verbose", "verbose", count=True, help="Stream cargo's output (-vv: cargo -v)."
    ),
]
_WHEN = ["auto", "always", "never"]
_CARGO_ARGS = click.argument("cargo_args", nargs=-1, type=click.UNPROCESSED)
#: The sections whose rows fill `BuildOptions` (``[*.metadata.lambda]``'s own rows included:
#: ``--global``, ``--context``, ``--admerge``) and `DeployOptions`.
_BUILD_SECTIONS = (Section.LAMBDA, Section.BUILD)
_DEPLOY_SECTIONS = (Section.LAMBDA, Section.DEPLOY)


def _build_options(command: Command, params: dict[str, Any]) -> BuildFlags:
    from .options import BuildOptions

    verbose = int(params.pop("verbose")) + int(_root_options().get("verbose", 0))
    values = _values(rows_for(command, _BUILD_SECTIONS), params)
    cargo_args = tuple(params.pop("cargo_args"))
    options = BuildOptions(
        **values,  # type: ignore[arg-type]
        verbose=max(0, verbose - 1) or None,
        cargo_args=cargo_args,
    )
    return BuildFlags(options, bool(options.quiet), verbose)


def _build(params: dict[str, Any]) -> BuildFlags:
    return _build_options(Command.BUILD, params)


def _watch(params: dict[str, Any]) -> WatchFlags:
    import os

    from .emulator import EmulatorSettings
    from .watch import WatchOptions

    build = _build_options(Command.WATCH, params)
    values = _values(rows_for(Command.WATCH, (Section.WATCH,)), params)
    settings = EmulatorSettings(environ=dict(os.environ))
    options = WatchOptions(build=build.options, settings=settings, **values)  # type: ignore[arg-type]
    return WatchFlags(options, build.quiet, build.verbose)


def _deploy(params: dict[str, Any]) -> DeployFlags:
    from .deployer.settings import DeployOptions

    values = _values(rows_for(Command.DEPLOY, _DEPLOY_SECTIONS), params)
    as_json, output_format = bool(params.pop("as_json")), str(params.pop("output_format"))
    params.pop("deploy_verbose"), params.pop("deploy_color")
    options = DeployOptions(**values)  # type: ignore[arg-type]
    return DeployFlags(
        options, as_json or output_format.lower() == "json", bool(params.pop("quiet"))
    )


#: ``rustlambda build``'s flags (cargo-lambda's names); the command gets ``flags: BuildFlags``.
build_flags = _decorate(Command.BUILD, _BUILD_SECTIONS, [*_OUTPUT, _CARGO_ARGS], _build)
#: ``rustlambda watch``'s: the build flags and the emulator's; ``flags: WatchFlags``.
watch_flags = _decorate(
    Command.WATCH, (*_BUILD_SECTIONS, Section.WATCH), [*_OUTPUT, _CARGO_ARGS], _watch
)
#: ``rustlambda deploy``'s; ``flags: DeployFlags``.
deploy_flags = _decorate(
    Command.DEPLOY,
    _DEPLOY_SECTIONS,
    [
        click.option(
            "-o",
            "--output-format",
            "output_format",
            type=click.Choice(["text", "json"], case_sensitive=False),
            default="text",
            help="text or json.",
        ),
        click.option("--json", "as_json", is_flag=True, help="Same as --output-format json."),
        click.option("-q", "--quiet", "quiet", is_flag=True, help="No progress messages."),
        # cargo-lambda's global options: accepted, nothing to change in deploy's output
        click.option("-v", "--verbose", "deploy_verbose", count=True, hidden=True),
        click.option("--color", "deploy_color", type=click.Choice(_WHEN), hidden=True),
    ],
    _deploy,
)


def _sources(params: dict[str, Any]) -> dict[str, object]:
    return _values(rows_for(Command.SYSTEM, (Section.LAMBDA,)), params)


#: ``rustlambda system``'s flags that choose the global configuration (``--global``,
#: ``--context``, ``--admerge``); ``flags``: those rows' values by field name.
_NO_EXTRA: list[Callable[[Any], Any]] = []
system_flags = _decorate(Command.SYSTEM, (Section.LAMBDA,), _NO_EXTRA, _sources)


@functools.cache
def _build_parser() -> click.Command:
    """A ``build`` command that returns its flags (made on first use: the CDK's)."""

    @click.command("build")
    @build_flags
    def parser(flags: BuildFlags) -> BuildFlags:
        return flags

    return parser


def parse_build_args(args: Sequence[str]) -> BuildOptions:
    """``rustlambda build`` flags (e.g. ``["--all-features"]``) as `BuildOptions`; click's
    usage errors (`click.ClickException`) are raised as they are."""
    parser = _build_parser()
    flags = parser.invoke(parser.make_context("build", list(args)))
    assert isinstance(flags, BuildFlags)
    return flags.options
