"""The command line: parse flags into the library's options, call the library, render. No logic
of its own. Flag names are cargo-lambda's, so ``cargo lambda build ...`` becomes
``rustlambda build ...``.

Each command is a module of this package; `COMMANDS` registers it (one line) and it is
imported only when it runs, so ``rustlambda --version`` stays fast. Rendering (rich) lives in
`render`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click

from .. import __version__
from ..errors import RustLambdaError

#: Command name → "module:attribute" of its click command. A new command is one line here.
COMMANDS: Mapping[str, str] = {
    "build": "rustlambda.cli.build:build_command",
    "watch": "rustlambda.cli.watch:watch_command",
    "invoke": "rustlambda.cli.invoke:invoke_command",
    "deploy": "rustlambda.cli.deploy:deploy_command",
    "verify": "rustlambda.cli.verify:verify_command",
    "system": "rustlambda.cli.system:system_command",
    "new": "rustlambda.cli.scaffold:new_command",
    "init": "rustlambda.cli.scaffold:init_command",
}


class _Commands(click.Group):
    """A group whose commands are imported when used (`COMMANDS`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*COMMANDS, *super().list_commands(ctx)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rustlambda")
@click.option("--global", "global_config", type=click.Path(), help="The global CargoLambda.toml.")
@click.option("-x", "--context", help="CargoLambda.toml's context.")
@click.option("--admerge", is_flag=True, default=None, help="Merge lists of every source.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), help="Coloring.")
@click.option("-v", "--verbose", count=True, help="More output (added to the command's -v).")
@click.pass_context
def cli(ctx: click.Context, /, **options: Any) -> None:
    """Build, package and run Rust AWS Lambda functions (cargo-lambda compatible).

    The options before the command are cargo-lambda's global ones: they apply to the command
    as if given after it (where it takes them)."""
    from ..flags import ROOT_OPTIONS

    ctx.meta[ROOT_OPTIONS] = {k: v for k, v in options.items() if v not in (None, False, 0)}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (documented in README, "Exit codes")."""
    try:
        # Not standalone, click returns a command's ``Exit(code)`` rather than raising it.
        code = cli.main(
            args=list(argv) if argv is not None else sys.argv[1:],
            prog_name="rustlambda",
            standalone_mode=False,
        )
    except RustLambdaError as exc:
        from .render import print_error

        print_error(exc)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return 2
    except (click.exceptions.Abort, KeyboardInterrupt) as exc:
        _stderr("aborted" if isinstance(exc, click.exceptions.Abort) else "interrupted")
        return 130
    return code if isinstance(code, int) else 0


def _stderr(message: str) -> None:
    click.echo(message, err=True)


__all__: list[Any] = ["COMMANDS", "cli", "main"]
