"""``rustlambda build``."""

from __future__ import annotations

import click

from ..flags import BuildFlags, build_flags


@click.command("build", context_settings={"ignore_unknown_options": False})
@build_flags
@click.option("--json", "as_json", is_flag=True, help="Print the build result as JSON.")
def build_command(flags: BuildFlags, as_json: bool) -> None:
    """Compile Lambda functions and extensions into target/lambda/<bin>/bootstrap."""
    from ..builder import build
    from ..errors import ConfigError
    from . import render

    formats = flags.options.message_format or ()
    if as_json and any(f.startswith("json") for f in formats):
        raise ConfigError(
            "--json and --message-format json would both write JSON to stdout",
            "pass one: --json for rustlambda's result, --message-format json for cargo's messages",
        )
    color = flags.options.color.value if flags.options.color else None
    err, out = render.stderr(color), render.stdout(color)
    reporter = render.ConsoleReporter(
        err, verbose=flags.verbose > 0, quiet=flags.quiet, cargo_messages=not as_json
    )
    if err.is_terminal and not flags.verbose and not flags.quiet:
        with err.status("[bold green]building[/]") as status:
            reporter.status = status
            result = build(flags.options, reporter=reporter)
    else:
        result = build(flags.options, reporter=reporter)
    if as_json:
        out.print_json(result.to_json()) if out.is_terminal else click.echo(result.to_json())
        return
    # cargo's JSON messages own stdout (as with cargo): the artifacts go to stderr then
    render.build_result(err if reporter.saw_cargo_messages else out, result)
