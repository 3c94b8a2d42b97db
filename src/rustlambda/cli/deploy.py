"""``rustlambda deploy``."""

from __future__ import annotations

import click

from ..errors import DeployError
from ..flags import DeployFlags, deploy_flags


@click.command("deploy")
@deploy_flags
def deploy_command(flags: DeployFlags) -> None:
    """Create or update functions (and extension layers) on AWS Lambda from the build."""
    from ..deployer import DeployResult, deploy
    from . import render

    reporter = render.DeployReporter(render.stderr(), verbose=False, quiet=flags.quiet)

    def show(result: DeployResult) -> None:
        if flags.json:
            click.echo(result.to_json())
        else:
            out = render.stdout()
            render.deploy_result(result, out.width if out.is_terminal else None)

    try:
        result = deploy(flags.options, reporter=reporter)
    except DeployError as exc:
        # every function's outcome first (stdout), then the error and its exit code
        if exc.result is not None and (flags.json or len(exc.result.deployments) > 1):
            show(exc.result)
        raise
    show(result)
