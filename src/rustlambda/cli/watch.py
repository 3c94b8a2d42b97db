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

    from ..emulator import Emulator
    from ..emulator.eventloop import new_event_loop
    from ..util import signals
    from ..watch import watch
    from . import render
    from .status import BuildStatus

    err = render.stderr()
    reporter = render.ConsoleReporter(err, verbose=flags.verbose > 0, quiet=flags.quiet)
    logs = render.LogPrinter(render.stdout())
    status = BuildStatus(err, live=err.is_terminal, quiet=flags.quiet)
    options = flags.options
    if err.is_terminal and "CARGO_TERM_COLOR" not in os.environ:
        # cargo's diagnostics in colour on a terminal, as `cargo build` shows them there.
        environ = {**os.environ, "CARGO_TERM_COLOR": "always"}
        build = dataclasses.replace(options.build, environ=environ)
        options = dataclasses.replace(options, build=build)
    received: list[int] = []

    def on_ready(emulator: Emulator) -> None:
        if emulator.settings.only_lambda_apis:
            for name in emulator.function_names:
                env = emulator.lambda_api_environment(name, credentials=False)
                render.lambda_api_exports(err, name, env)

    async def run() -> None:
        stop = asyncio.Event()

        def on_signal(number: int) -> None:
            received.append(number)
            stop.set()
            signals.forward(number)  # a build running in a worker thread stops too

        loop = asyncio.get_running_loop()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal, sig)
        await watch(
            options,
            stop=stop,
            reporter=reporter,
            on_log=logs.record,
            on_notice=reporter.info,
            on_progress=status,
            on_ready=on_ready,
        )
        reporter.info("stopped: every instance was shut down")

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(run())
    if signal.SIGTERM in received[:1]:  # as a process ended by SIGTERM (Ctrl-C stays 0)
        raise click.exceptions.Exit(128 + signal.SIGTERM)
