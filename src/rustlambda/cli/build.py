"""``rustlambda build``."""

from __future__ import annotations

import click

from ..flags import BuildFlags, build_flags


@click.command("build", context_settings={"ignore_unknown_options": False})
@build_flags
@click.option("--json", "as_json", is_flag=True, help="Print the build result as JSON.")
def build_command(flags: BuildFlags, as_json: bool) -> None:
    """Compile Lambda functions and extensions into target/lambda/<bin>/bootstrap."""
    import dataclasses
    import os
    import sys

    from .. import noop
    from ..builder import build
    from ..errors import CompileError, ConfigError
    from ..progress import ProgressReporter, progress_env
    from . import render
    from .status import BuildStatus

    options = flags.options
    formats = options.message_format or ()
    if as_json and any(f.startswith("json") for f in formats):
        raise ConfigError(
            "--json and --message-format json would both write JSON to stdout",
            "pass one: --json for rustlambda's result, --message-format json for cargo's messages",
        )
    color = options.color.value if options.color else None
    err = render.stream_console(color, stderr=True)
    out = render.stream_console(color, stderr=False)
    reporter = render.ConsoleReporter(
        err,
        verbose=flags.verbose > 0,
        quiet=flags.quiet,
        cargo_messages=not as_json,
        cargo_lines=True,
    )
    # cargo's progress bar on (it counts the units: "37/120") unless nothing is shown, its
    # colours on a terminal as `cargo build` shows them there; a user's CARGO_TERM_* win.
    environ = dict(options.environ if options.environ is not None else os.environ)
    if not flags.quiet:
        environ = progress_env(environ)
    if err.is_terminal and color != "never":
        environ.setdefault("CARGO_TERM_COLOR", "always")
    options = dataclasses.replace(options, environ=environ)
    live = err.is_terminal and not flags.verbose
    status = BuildStatus(err, live=live, quiet=flags.quiet, diagnostics=False)
    follower = ProgressReporter(reporter, status)
    try:
        result = build(options, reporter=follower)
    except CompileError as exc:
        status(follower.finish(ok=False))
        if reporter.printed_diagnostics or reporter.verbose:
            exc.details = ""  # cargo's errors are above, as cargo printed them
        raise
    except BaseException:
        status(follower.finish(ok=False))
        raise
    status.close()
    with noop.Capture() as capture:
        done = follower.finish(ok=True)
        status(done)
        if as_json:
            if out.is_terminal:
                out.print_json(result.to_json())
            else:
                sys.stdout.write(result.to_json() + "\n")
                sys.stdout.flush()
        else:
            # cargo's JSON messages own stdout (as with cargo): the artifacts go to stderr then
            render.build_result(err if reporter.saw_cargo_messages else out, result, err)
    if result.inputs is not None and not (formats or flags.verbose or reporter.saw_cargo_messages):
        noop.record(result.inputs, capture.output(f"{done.elapsed:.1f}"))
