"""``rustlambda watch``."""

from __future__ import annotations

import click

from ..flags import WatchFlags, watch_flags


@click.command("watch", context_settings={"ignore_unknown_options": False})
@watch_flags
def watch_command(flags: WatchFlags) -> None:
    """Build, serve the functions on a local Lambda, rebuild and restart them on change."""
    import asyncio
    import signal

    from ..util import signals
    from ..watch import watch
    from . import render

    reporter = render.ConsoleReporter(render.stderr(), verbose=flags.verbose > 0, quiet=flags.quiet)
    logs = render.LogPrinter(render.stdout())

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_signal(number: int) -> None:
            stop.set()
            signals.forward(number)  # a build running in a worker thread stops too

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal, sig)
        await watch(flags.options, stop=stop, reporter=reporter, on_log=logs.record)
        reporter.info("stopped: every instance was shut down")

    asyncio.run(run())
