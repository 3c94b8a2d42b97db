"""``rustlambda deploy``."""

from __future__ import annotations

import click

from ..flags import DeployFlags, deploy_flags


@click.command("deploy")
@deploy_flags
def deploy_command(flags: DeployFlags) -> None:
    """Create or update functions (and extension layers) on AWS Lambda from the build."""
    from ..deployer import deploy
    from . import render

    reporter = render.ConsoleReporter(render.stderr(), verbose=False, quiet=flags.quiet)
    result = deploy(flags.options, reporter=reporter)
    if flags.json:
        click.echo(result.to_json())
        return
    render.deploy_result(result)
