"""``rustlambda watch``."""

from __future__ import annotations

import dataclasses

import click

from ..flags import WatchFlags, watch_flags


@click.command("watch", context_settings={"ignore_unknown_options": False})
@watch_flags
def watch_command(flags: WatchFlags) -> None:
    """Build, serve the functions on a local Lambda, rebuild and restart them on change."""
    import asyncio
    import os
    import signal

    from ..emulator.aws_env import resolve_aws_environment
    from ..emulator.eventloop import new_event_loop
    from ..watch import watch
    from . import render

    reporter = render.ConsoleReporter(render.stderr(), verbose=flags.verbose > 0, quiet=flags.quiet)
    logs = render.LogPrinter(render.stdout())
    # The user's AWS chain (profile, SSO, env) and region reach the functions as on Lambda.
    aws = resolve_aws_environment(environ=os.environ)
    settings = dataclasses.replace(
        flags.options.settings, region=aws.region, credentials=aws.credentials
    )
    options = dataclasses.replace(flags.options, settings=settings)
    received: list[int] = []

    async def run() -> None:
        stop = asyncio.Event()

        def on_signal(number: int) -> None:
            received.append(number)
            stop.set()

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal, sig)
        await watch(
            options, stop=stop, reporter=reporter, on_log=logs.record, on_notice=reporter.info
        )
        reporter.info("stopped: every instance was shut down")

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(run())
    if signal.SIGTERM in received[:1]:  # as a process ended by SIGTERM (Ctrl-C stays 0)
        raise click.exceptions.Exit(128 + signal.SIGTERM)
