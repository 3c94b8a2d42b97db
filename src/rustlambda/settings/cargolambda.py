"""cargo-lambda's global configuration, the sources below Cargo.toml metadata: the
``CargoLambda.toml`` file (the working directory's, or ``--global PATH``) with its contexts
(``[<context>.<section>]``, chosen by ``--context``), and ``CARGO_LAMBDA_<SECTION>.<KEY>``
environment variables (``CARGO_LAMBDA_BUILD.RELEASE=true``,
``CARGO_LAMBDA_BUILD.FEATURES="[a, b]"``).

Each is read through the same rows and `read_table` as metadata; their layers carry their
`Level <rustlambda.settings.model.Level>`, so a chain puts them where cargo-lambda does.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, RustLambdaError
from ..util.suggest import did_you_mean
from . import table as t
from .convert import Bool, Int, Seconds
from .metadata import TableRead, read_table
from .model import AnySetting, Level, Section, Source, SourceKind
from .resolve import Layer, input_value

FILE_NAME = "CargoLambda.toml"
ENV_PREFIX = "CARGO_LAMBDA_"
#: The sections a file or a variable holds (``env`` sits at the file's top level).
SECTIONS = (Section.LAMBDA, Section.BUILD, Section.WATCH, Section.DEPLOY)
_TABLES = {s.config_section: s for s in SECTIONS if s.config_section}


@dataclass(frozen=True)
class Selection:
    """Which global configuration to read: the file (None: there is none), the context, and
    whether lists merge (``--admerge``)."""

    path: Path | None
    context: str | None
    admerge: bool


def select(options: object, environ: Mapping[str, str], cwd: Path) -> Selection:
    """From the options' ``global_config``/``context``/``admerge`` fields, else
    ``CARGO_LAMBDA_GLOBAL``/``CARGO_LAMBDA_CONTEXT``/``CARGO_LAMBDA_ADMERGE``. A file named
    there must exist; ``CargoLambda.toml`` in ``cwd`` is read when it does."""
    named = input_value(t.GLOBAL_CONFIG, options, environ, cwd)
    path: Path | None
    if named is not None:
        path = named if named.is_absolute() else cwd / named
        if not path.is_file():
            raise ConfigError(
                f"the global configuration file {path} does not exist (--global / "
                "CARGO_LAMBDA_GLOBAL)",
                f"point --global at an existing file, or drop it to read ./{FILE_NAME}",
            )
    else:
        default = cwd / FILE_NAME
        path = default if default.is_file() else None
    context = input_value(t.CONTEXT, options, environ, cwd)
    return Selection(path, context, bool(input_value(t.ADMERGE, options, environ, cwd)))


class GlobalConfig:
    """The layers of ``CargoLambda.toml`` and of ``CARGO_LAMBDA_<SECTION>.<KEY>`` variables,
    read once per section (`rustlambda.settings.resolve.ConfigSources`)."""

    def __init__(self, selection: Selection, environ: Mapping[str, str], cwd: Path) -> None:
        self.selection = selection
        self.admerge = selection.admerge
        self.warnings: list[str] = []
        self.errors: list[RustLambdaError] = []
        self._root = self._load(selection.path)
        self._variables = self._env_tables(environ)
        self._cwd = cwd
        self._layers: dict[Section, tuple[Layer, ...]] = {}
        self._check_context()

    def layers(self, section: Section) -> tuple[Layer, ...]:
        if section not in self._layers:
            self._layers[section] = (*self._file_layers(section), *self._env_layers(section))
        return self._layers[section]

    def read_all(self) -> None:
        """Read every section, so a bad value anywhere is reported."""
        for section in SECTIONS:
            self.layers(section)

    # --- the file ---

    def _load(self, path: Path | None) -> Mapping[str, Any]:
        if path is None:
            return {}
        try:
            with path.open("rb") as fh:
                return tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            self.errors.append(
                ConfigError(f"cannot read {path}: {exc}", f"fix {path}'s TOML syntax")
            )
            return {}

    def _contexts(self) -> list[str]:
        """Top-level tables that hold sections: the file's contexts."""
        return [
            str(key)
            for key, value in self._root.items()
            if isinstance(value, Mapping) and key not in _TABLES and key != "env"
        ]

    def _check_context(self) -> None:
        context, path = self.selection.context, self.selection.path
        if path is None:
            return
        contexts = self._contexts()
        if context is not None and context not in contexts:
            listed = ", ".join(contexts) or "none"
            self.warnings.append(
                f"context {context!r} has no tables in {path} (contexts there: {listed}); "
                "only its plain tables apply"
            )
        for key in self._root:
            if key not in _TABLES and key != "env" and key not in contexts:
                hint = did_you_mean(str(key), [*_TABLES, "env"])
                self.warnings.append(f"unknown key {key!r} in {path}{hint}; it is ignored")

    def _file_layers(self, section: Section) -> list[Layer]:
        path = self.selection.path
        if path is None:
            return []
        context = self.selection.context
        found = []
        if context is not None and isinstance(self._root.get(context), Mapping):
            node = self._section_of(self._root[context], section)
            found.append((node, f"[{context}.{section.config_section or 'env'}]", Level.CONTEXT))
        found.append((self._section_of(self._root, section), "", Level.CONFIG_FILE))
        layers = []
        for node, name, level in found:
            if node is None:
                continue
            table = name or (f"[{section.config_section}]" if section.config_section else "")
            where = f"{path.name} {table}".strip()
            read = read_table(node, section, where, path.parent)
            self._collect(read)
            source = Source(SourceKind.CONFIG_FILE, where, path, level)
            layers.append(Layer(source, read.values))
        return layers

    def _section_of(self, node: Mapping[str, Any], section: Section) -> Mapping[str, Any] | None:
        if not section.config_section:
            return {"env": node["env"]} if "env" in node else None
        value = node.get(section.config_section)
        if value is None or isinstance(value, Mapping):
            return value
        self.errors.append(
            ConfigError(
                f"{section.config_section} in {self.selection.path} must be a table",
                f"write it as [{section.config_section}] with its keys",
            )
        )
        return None

    # --- the variables ---

    def _env_tables(self, environ: Mapping[str, str]) -> dict[Section, dict[str, Any]]:
        """``CARGO_LAMBDA_<SECTION>.<KEY>`` variables as one table per section, nested at
        each further dot (``CARGO_LAMBDA_DEPLOY.VPC.SUBNET_IDS``); keys lower-cased as
        cargo-lambda's (figment's) reading does."""
        tables: dict[Section, dict[str, Any]] = {}
        for name, raw in sorted(environ.items()):
            if not name.startswith(ENV_PREFIX) or "." not in name:
                continue
            head, _, key = name[len(ENV_PREFIX) :].partition(".")
            section = _TABLES.get(head.lower())
            if section is None:
                if head.lower() not in _NOT_CONFIGURABLE:
                    hint = did_you_mean(head.lower(), list(_TABLES))
                    self.warnings.append(f"unknown section in {name}{hint}; it is ignored")
                continue
            tables.setdefault(section, {})[key.lower()] = (name, raw)
        return tables

    def _env_layers(self, section: Section) -> list[Layer]:
        variables = self._variables.get(section, {})
        if not variables:
            return []
        index = {key: row for row in t.rows(section) for key in row.keys}
        node = {key: _typed(index.get(key), raw) for key, (_, raw) in variables.items()}
        where = f"{ENV_PREFIX}{section.value.upper()}.<KEY> variables"
        read = read_table(node, section, where, self._cwd)
        self._collect(read)
        layers = []
        for row, value in read.values.items():
            names = [name for key, (name, _) in variables.items() if key in row.keys]
            source = Source(SourceKind.ENVIRONMENT, " + ".join(names), level=Level.SECTION_ENV)
            layers.append(Layer(source, {row: value}))
        return layers

    def _collect(self, read: TableRead) -> None:
        self.warnings += [w for w in read.warnings if w not in self.warnings]
        self.errors += read.errors


def _typed(row: AnySetting | None, raw: str) -> object:
    """A variable's text read as `env_value` for rows that take numbers, switches or lists,
    and as the text itself (without quotes) for those that take a string or a path."""
    value = env_value(raw)
    if row is None or isinstance(value, list) or isinstance(row.convert, Bool | Int | Seconds):
        return value
    return value if isinstance(value, str) else raw.strip()


#: cargo-lambda subcommands whose options are not configurable: their variables are left alone.
_NOT_CONFIGURABLE = ("new", "init", "invoke", "system")


def env_value(text: str) -> object:
    """A variable's value as cargo-lambda (figment) reads it: ``true``/``false``, numbers,
    ``[a, b]`` lists (items read the same way), quoted strings without their quotes, else the
    text itself."""
    raw = text.strip()
    if len(raw) >= 2 and raw[0] == "[" and raw[-1] == "]":
        inner = raw[1:-1].strip()
        return [env_value(item) for item in _split_items(inner)] if inner else []
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return text


def _split_items(text: str) -> list[str]:
    """Split on the commas outside quotes and brackets."""
    items: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "," and depth == 0:
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]
