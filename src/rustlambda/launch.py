"""The ``rustlambda`` program: a build with nothing to do is answered by `rustlambda.noop`
(standard library only, no click, no settings); everything else by the CLI
(`rustlambda.cli`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run rustlambda; return the exit code (README, "Exit codes")."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["build"]:
        from . import noop
        from .errors import RustLambdaError

        try:
            code = noop.replay(args)
        except RustLambdaError as exc:  # stopped by a signal while cargo ran
            from .cli.render import print_error

            print_error(exc)
            return exc.exit_code
        if code is not None:
            return code
    from .cli import main as cli_main

    return cli_main(args)
