"""The rows that choose where else settings come from (cargo-lambda's global configuration):
``--global``, ``--context``, ``--admerge``. One row serves every configurable command."""

from __future__ import annotations

from pathlib import Path

from ..convert import Bool, PathType, Text
from ..model import Command, Flag, Scope, Section, Setting
from ._common import EVERYWHERE, switch

#: The commands that read configuration (cargo-lambda: build, watch, deploy, system).
CONFIGURABLE = (Command.BUILD, Command.WATCH, Command.DEPLOY, Command.SYSTEM)

GLOBAL_CONFIG: Setting[Path | None] = Setting(
    "global_config",
    Section.LAMBDA,
    PathType(),
    None,
    "the CargoLambda.toml to read (default: CargoLambda.toml in the working directory)",
    env_var="CARGO_LAMBDA_GLOBAL",
    flags=(Flag(("--global",), "The global CargoLambda.toml [default: ./CargoLambda.toml]."),),
    commands=EVERYWHERE | {Command.SYSTEM},
    scope=Scope.INPUT,
    only_on=CONFIGURABLE,
)
CONTEXT: Setting[str | None] = Setting(
    "context",
    Section.LAMBDA,
    Text(),
    None,
    "read CargoLambda.toml's [<context>.<section>] tables over its plain ones",
    env_var="CARGO_LAMBDA_CONTEXT",
    flags=(Flag(("-x", "--context"), "CargoLambda.toml's context ([NAME.build], [NAME.deploy])."),),
    commands=EVERYWHERE | {Command.SYSTEM},
    scope=Scope.INPUT,
    only_on=CONFIGURABLE,
)
ADMERGE: Setting[bool] = Setting(
    "admerge",
    Section.LAMBDA,
    Bool(),
    False,
    "lists from every source are concatenated instead of the highest one replacing the others",
    env_var="CARGO_LAMBDA_ADMERGE",
    flags=(switch("--admerge", help="Merge lists (include, features, ...) of every source."),),
    commands=EVERYWHERE | {Command.SYSTEM},
    scope=Scope.INPUT,
    only_on=CONFIGURABLE,
)
