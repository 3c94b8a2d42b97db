"""``rustlambda new`` and ``rustlambda init``: flags (cargo-lambda's) -> `TemplateOptions`, then
the library writes the project and this module renders what it did.

Prompts appear only when stdin is a terminal and the flags leave a choice open; anywhere else a
missing choice is one error naming the flag that makes it.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..scaffold import Processor, ScaffoldResult, TemplateOptions

_FLAG = Callable[[Any], Any]


def _event_types_help() -> str:
    from ..scaffold import EVENT_TYPES, JSON

    keys = ", ".join([JSON, *(e.key for e in EVENT_TYPES)])
    return (
        "The event the function takes: one of " + keys + ", or cargo-lambda's module::Type "
        "spelling of one of them (e.g. sqs::SqsEvent)."
    )


_OPTIONS: list[_FLAG] = [
    click.option("--name", help="The package's name [default: the directory's name]."),
    click.option("--bin-name", help="The binary's (and Lambda function's) name, if not NAME."),
    click.option("--event-type", help=_event_types_help()),
    click.option("--http", is_flag=True, help="An HTTP function (lambda_http)."),
    click.option(
        "--http-feature",
        "http_features",
        multiple=True,
        help="Only this lambda_http service: alb, apigw_rest, apigw_http or apigw_websockets "
        "(repeatable; implies --http) [default: all].",
    ),
    click.option("--streaming", is_flag=True, help="A response-streaming function."),
    click.option(
        "--extension",
        is_flag=True,
        help="A Lambda extension (lambda-extension); implied by the four flags below.",
    ),
    click.option(
        "--internal",
        is_flag=True,
        help="An internal extension: inside a function's process.",
    ),
    click.option("--events", is_flag=True, help="The extension handles INVOKE and SHUTDOWN."),
    click.option("--logs", is_flag=True, help="The extension processes the Logs API."),
    click.option("--telemetry", is_flag=True, help="The extension processes the Telemetry API."),
    click.option("--cdk", is_flag=True, help="Also write a Python AWS CDK app in cdk/."),
    click.option(
        "-y",
        "--no-interactive",
        is_flag=True,
        help="Never prompt: a missing choice takes its default (a function taking JSON).",
    ),
    click.option("-v", "--verbose", count=True, hidden=True),
    click.option(
        "--color",
        type=click.Choice(["auto", "always", "never"], case_sensitive=False),
        default="auto",
        hidden=True,
    ),
    # cargo-lambda's, refused with one error each (see _refuse_unsupported).
    click.option("--template", hidden=True),
    click.option("--render-file", multiple=True, hidden=True),
    click.option("--render-var", multiple=True, hidden=True),
    click.option("--ignore-file", multiple=True, hidden=True),
    click.option("-o", "--open", "open_editor", is_flag=True, hidden=True),
    click.option("--global", "global_config", hidden=True),
    click.option("-x", "--context", hidden=True),
    click.option("--admerge", is_flag=True, default=None, hidden=True),
]


@dataclass(frozen=True)
class ScaffoldFlags:
    """The flags of `new` and `init`, typed (click's parameter names are the fields)."""

    name: str | None
    bin_name: str | None
    event_type: str | None
    http: bool
    http_features: tuple[str, ...]
    streaming: bool
    extension: bool
    internal: bool
    events: bool
    logs: bool
    telemetry: bool
    cdk: bool
    no_interactive: bool
    verbose: int
    color: str
    template: str | None
    render_file: tuple[str, ...]
    render_var: tuple[str, ...]
    ignore_file: tuple[str, ...]
    open_editor: bool
    global_config: str | None
    context: str | None
    admerge: bool | None

    def template_engine_flags(self) -> list[str]:
        """cargo-lambda's template-engine flags given (rustlambda ships its templates)."""
        given = {
            "--template": self.template is not None,
            "--render-file": bool(self.render_file),
            "--render-var": bool(self.render_var),
            "--ignore-file": bool(self.ignore_file),
        }
        return [flag for flag, on in given.items() if on]

    def extension_flags(self) -> list[str]:
        """The extension-only flags given."""
        given = {
            "--internal": self.internal,
            "--events": self.events,
            "--logs": self.logs,
            "--telemetry": self.telemetry,
        }
        return [flag for flag, on in given.items() if on]


def _scaffold_options(
    command: Callable[[Path, ScaffoldFlags], None],
) -> Callable[..., None]:
    """click's options for `command`, which gets them as one `ScaffoldFlags`."""

    @functools.wraps(command)
    def with_flags(path: Path, **given: Any) -> None:
        command(path, ScaffoldFlags(**given))

    wrapped: Callable[..., None] = with_flags
    for flag in reversed(_OPTIONS):
        wrapped = flag(wrapped)
    return wrapped


def stdin_is_tty() -> bool:
    """Whether a person can answer prompts (a separate function so tests can decide)."""
    return sys.stdin is not None and sys.stdin.isatty()


def _refuse_unsupported(kw: ScaffoldFlags) -> None:
    given = kw.template_engine_flags()
    if given:
        raise ConfigError(
            f"{', '.join(given)}: rustlambda does not render other templates (no download, "
            "no template engine options)",
            "choose one of the templates rustlambda ships: --event-type TYPE, --http, "
            "--streaming or --extension (see --help)",
        )
    if kw.open_editor:
        raise ConfigError(
            "--open is not supported: rustlambda never starts an editor",
            "open the new project yourself, e.g. $EDITOR NAME",
        )
    # cargo-lambda's configuration-file flags: `new`/`init` read no configuration
    if any(v is not None for v in (kw.global_config, kw.context, kw.admerge)):
        raise ConfigError(
            "--global, --context and --admerge select cargo-lambda configuration, which "
            "`new` and `init` do not read",
            "drop them; every choice of a new project is a flag",
        )


def _template_flags(kw: ScaffoldFlags) -> list[str]:
    chosen = []
    if kw.event_type is not None:
        chosen.append("--event-type")
    if kw.http or kw.http_features:
        chosen.append("--http")
    if kw.streaming:
        chosen.append("--streaming")
    if kw.extension or (not chosen and kw.extension_flags()):
        chosen.append("--extension")  # the extension's own flags say which template it is
    return chosen


def _choose_template(kw: ScaffoldFlags, interactive: bool) -> str:
    """Which template: from the flags, a prompt, or -y's default."""
    chosen = _template_flags(kw)
    if len(chosen) > 1:
        raise ConfigError(
            f"{' and '.join(chosen)} choose different templates",
            "pass only one of --event-type, --http, --streaming and --extension",
        )
    if chosen:
        return chosen[0].lstrip("-")
    if kw.no_interactive:
        return "event-type"
    if not interactive:
        raise ConfigError(
            "no template chosen, and stdin is not a terminal to ask",
            "pass --event-type TYPE (json, sqs, s3, ...), --http, --streaming or --extension; "
            "or -y for a function taking JSON",
        )
    answer: str = click.prompt(
        "Template",
        type=click.Choice(["function", "http", "streaming", "extension"]),
        default="function",
        err=True,
    )
    return "event-type" if answer == "function" else answer


def template_options(package: str, kw: ScaffoldFlags, *, interactive: bool) -> TemplateOptions:
    """The `TemplateOptions` the flags (and, on a terminal, the answers) ask for."""
    from ..scaffold import EVENT_TYPES, JSON, HttpFeature, TemplateKind, TemplateOptions
    from ..scaffold import parse_event_type as parse

    _refuse_unsupported(kw)
    prompts = interactive and not kw.no_interactive
    template = _choose_template(kw, prompts)
    if template != "extension":
        _only_with_extension(kw)
    common: dict[str, Any] = {"package": package, "bin_name": kw.bin_name, "cdk": kw.cdk}
    if template == "event-type":
        spelling = kw.event_type
        if spelling is None and prompts:
            keys = [JSON, *(e.key for e in EVENT_TYPES)]
            spelling = click.prompt("Event type", type=click.Choice(keys), default=JSON, err=True)
        return TemplateOptions(**common, event_type=parse(spelling or JSON))
    if template == "http":
        features = tuple(HttpFeature.parse(v) for v in kw.http_features)
        if not features and prompts:
            choices = ["all", *(f.value for f in HttpFeature)]
            answer = click.prompt(
                "lambda_http service", type=click.Choice(choices), default="all", err=True
            )
            features = () if answer == "all" else (HttpFeature.parse(answer),)
        return TemplateOptions(**common, kind=TemplateKind.HTTP, http_features=features)
    if template == "streaming":
        return TemplateOptions(**common, kind=TemplateKind.STREAMING)
    processors = _processors(kw)
    if not processors and not kw.internal and prompts:
        processors = _prompt_processors()
    return TemplateOptions(
        **common, kind=TemplateKind.EXTENSION, internal=kw.internal, processors=processors
    )


def _processors(kw: ScaffoldFlags) -> frozenset[Processor]:
    from ..scaffold import Processor

    given = {
        Processor.EVENTS: kw.events,
        Processor.LOGS: kw.logs,
        Processor.TELEMETRY: kw.telemetry,
    }
    return frozenset(p for p, on in given.items() if on)


def _only_with_extension(kw: ScaffoldFlags) -> None:
    given = kw.extension_flags()
    if given:
        raise ConfigError(
            f"{', '.join(given)} go with --extension", "add --extension, or drop them"
        )


def _prompt_processors() -> frozenset[Processor]:
    from ..scaffold import Processor

    answer: str = click.prompt(
        "What the extension processes (comma-separated: events, logs, telemetry)",
        default="events",
        err=True,
    )
    chosen: set[Processor] = set()
    for word in answer.replace(",", " ").split():
        try:
            chosen.add(Processor(word.strip().lower()))
        except ValueError:
            raise ConfigError(
                f"{word!r} is not something an extension processes",
                "answer with events, logs and/or telemetry",
            ) from None
    return frozenset(chosen)


def _render(result: ScaffoldResult, command: str, color: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(
        soft_wrap=True,
        force_terminal=True if color == "always" else None,
        no_color=color == "never",
        highlight=False,
    )
    root = result.root
    shown = _relative(root)
    verb = "created" if command == "new" else "initialized"
    console.print(f"[bold green]{verb}[/] {escape(shown)}: {escape(result.options.description)}")
    for path in result.written:
        console.print(f"  {escape(str(path))}")
    for path in result.updated:
        console.print(f"  {escape(str(path))} [dim](lines added)[/]")
    for path in result.kept:
        console.print(f"  {escape(str(path))} [dim](already there, kept)[/]")
    steps: list[str] = []
    if root != Path.cwd().absolute():
        steps.append(f"cd {shown}")
    steps.append("cargo test")
    if result.invoke_command is not None:
        steps += ["rustlambda watch", f"{result.invoke_command}   # in another terminal"]
    else:
        built = f"target/lambda/extensions/{result.options.binary}"
        steps.append(f"rustlambda build --extension   # {built}")
    console.print("next:")
    for step in steps:
        console.print(f"  {escape(step)}")


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd().absolute())) or "."
    except ValueError:
        return str(path)


def _package_name(path: Path, name: str | None) -> str:
    """--name, or the directory's name when it is a valid package name."""
    from ..scaffold import check_name

    if name is not None:
        return name
    name = path.absolute().resolve().name
    try:
        check_name(name)
    except ConfigError as exc:
        raise ConfigError(
            f"the directory's name cannot be the package's: {exc.message}",
            f"pass --name NAME ({exc.fix})",
        ) from None
    return name


@click.command("new")
@click.argument("path", type=click.Path(path_type=Path))
@_scaffold_options
def new_command(path: Path, kw: ScaffoldFlags) -> None:
    """Create a Lambda project in a new directory PATH (cargo lambda new).

    \b
    Templates (shipped with rustlambda, nothing is downloaded):
      --event-type TYPE   a function taking JSON or an aws_lambda_events type (lambda_runtime)
      --http              an HTTP function (lambda_http), --http-feature to pick services
      --streaming         a response-streaming function
      --extension         an external extension (--events, --logs, --telemetry) or --internal
      --cdk               adds a Python AWS CDK app deploying it
    """
    from ..scaffold import new_project

    package = _package_name(path, kw.name)
    options = template_options(package, kw, interactive=stdin_is_tty())
    _render(new_project(options, path), "new", kw.color)


@click.command("init")
@click.argument("path", type=click.Path(path_type=Path), default=Path("."), required=False)
@_scaffold_options
def init_command(path: Path, kw: ScaffoldFlags) -> None:
    """Create a Lambda project in an existing directory PATH (default: here), keeping the files
    there (cargo lambda init). Refused where a Cargo.toml already is.

    The template flags are those of `rustlambda new`.
    """
    from ..scaffold import init_project

    package = _package_name(path, kw.name)
    options = template_options(package, kw, interactive=stdin_is_tty())
    _render(init_project(options, path), "init", kw.color)


__all__: Sequence[str] = ("init_command", "new_command", "stdin_is_tty", "template_options")
