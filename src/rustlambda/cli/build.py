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
    from . import render

    err, out = render.stderr(), render.stdout()
    reporter = render.ConsoleReporter(err, verbose=flags.verbose > 0, quiet=flags.quiet)
    if err.is_terminal and not flags.verbose and not flags.quiet:
        with err.status("[bold green]building[/]") as status:
            reporter.status = status
            result = build(flags.options, reporter=reporter)
    else:
        result = build(flags.options, reporter=reporter)
    if as_json:
        out.print_json(result.to_json()) if out.is_terminal else click.echo(result.to_json())
        return
    render.build_result(out, result)
