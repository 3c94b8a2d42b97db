"""The ``rustlambda`` program: a build with nothing to do is answered by `rustlambda.noop`
(standard library only, no click, no settings); everything else by the CLI
(`rustlambda.cli`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .errors import RustLambdaError


def main(argv: Sequence[str] | None = None) -> int:
    """Run rustlambda; return the exit code (README, "Exit codes")."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["build"]:
        from . import noop
        from .errors import RustLambdaError
        from .util import signals

        try:
            with signals.raising():
                code = noop.replay(args)
        except signals.Signalled as exc:
            stopped = f"stopped by {signals.signal_name(exc.signum)}"
            return _fail(signals.interrupted(exc.signum, stopped))
        except RustLambdaError as exc:  # a signal stopped cargo
            return _fail(exc)
        if code is not None:
            return code
    from .cli import main as cli_main

    return cli_main(args)


def _fail(exc: RustLambdaError) -> int:
    from .cli import _fail as fail  # the CLI's one way of saying an error

    return fail(exc)
