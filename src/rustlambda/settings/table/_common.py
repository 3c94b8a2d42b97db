"""Helpers the row modules share."""

from __future__ import annotations

from ..model import Command, Flag

BUILDING = frozenset({Command.BUILD, Command.WATCH, Command.CDK})
EVERYWHERE = frozenset({Command.BUILD, Command.WATCH, Command.DEPLOY, Command.CDK})
DEPLOYING = frozenset({Command.DEPLOY})
WATCHING = frozenset({Command.WATCH})


def switch(*decls: str, help: str = "", value: object = True) -> Flag:
    """A flag without a value; giving it means ``value``."""
    return Flag(decls, help, switch=True, value=value)
