"""KEY=VALUE values: ``--env-var`` / ``env_var`` items, ``--tag`` / ``tag`` items, and env files."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from ..errors import ConfigError

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_env_vars(values: Iterable[str], where: str = "--env-var") -> dict[str, str]:
    """cargo-lambda's ``--env-var KEY=VALUE`` (repeatable; ``A=1,B=2`` lists allowed)."""
    env: dict[str, str] = {}
    for value in values:
        for item in value.split(","):
            if not item.strip():
                continue
            key, sep, rest = item.partition("=")
            key = key.strip()
            if not sep or not _ENV_NAME.match(key):
                raise ConfigError(
                    f"{where} {item!r} is not KEY=VALUE",
                    f"write it as {where} NAME=value (names: letters, digits, underscores)",
                )
            env[key] = rest
    return env


def read_env_file(path: Path) -> dict[str, str]:
    """``--env-file``: KEY=VALUE lines; blank lines, ``#`` comments and ``export`` are allowed.

    A value may be wrapped in single or double quotes (dropped); nothing is expanded.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the env file {path}: {exc}", "pass an existing UTF-8 text file"
        ) from exc
    env: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _ENV_NAME.match(key):
            raise ConfigError(
                f"{path}:{number}: {raw!r} is not KEY=VALUE",
                "write one NAME=value per line (# starts a comment)",
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key] = value
    return env


def parse_tags(values: Iterable[str], where: str = "--tag") -> dict[str, str]:
    """cargo-lambda's ``--tag KEY=VALUE`` (repeatable; ``a=1,b=2`` lists allowed)."""
    tags: dict[str, str] = {}
    for value in values:
        for item in value.split(","):
            if not item.strip():
                continue
            key, sep, rest = item.partition("=")
            if not sep or not key.strip():
                raise ConfigError(
                    f"{where} {item!r} is not KEY=VALUE", f"write it as {where} team=lambda"
                )
            tags[key.strip()] = rest.strip()
    return tags
