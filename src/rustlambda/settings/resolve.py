"""The resolver: turns every source of settings into layers of typed values, and answers "what is
this setting for this function, and where does it come from".

Sources, highest first: the options dataclass (the command line's flags, or an API caller's
fields) > environment variables > ``[package.metadata.lambda.bin.<name>]`` >
``[package.metadata.lambda]`` > ``[workspace.metadata.lambda.bin.<name>]`` >
``[workspace.metadata.lambda]`` > the row's default. The first layer that sets a row wins;
rows with ``merge`` (environment tables) merge key by key instead, higher layers winning.

Raw values are converted exactly once, here, by the row's converter. Unknown keys are warnings
with a "did you mean"; bad values are collected and raised together (`Metadata.check`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from ..errors import ConfigError, RustLambdaError
from ..options import CompilerSettings
from ..project import Package, Workspace
from ..util.suggest import did_you_mean
from .model import (
    DEFAULT_SOURCE,
    STRUCTURE_KEYS,
    AnySetting,
    Combine,
    Context,
    Invalid,
    Section,
    Setting,
    Source,
    SourceKind,
)
from .table import rows

T = TypeVar("T")
U = TypeVar("U")


def convert(setting: Setting[T], raw: object, ctx: Context) -> T:
    """``raw`` through the row's converter (``ctx.key``'s own, if it has one); a refused value
    becomes a `ConfigError` naming where it was written."""
    try:
        return setting.converter_for(ctx.key)(raw, ctx)
    except Invalid as exc:
        raise ConfigError(f"{ctx.where} {exc.reason}", exc.hint) from None


@dataclass(frozen=True)
class Layer:
    """The values one source sets, already typed."""

    source: Source
    values: Mapping[AnySetting, object] = field(default_factory=dict)

    def only(self, keep: Iterable[AnySetting]) -> Layer:
        wanted = set(keep)
        return Layer(self.source, {r: v for r, v in self.values.items() if r in wanted})


@dataclass(frozen=True)
class Resolved(Generic[T]):
    value: T
    source: Source


@dataclass(frozen=True)
class Chain:
    """The layers one function (or package) sees, highest precedence first."""

    layers: tuple[Layer, ...]

    def find(self, setting: Setting[T]) -> Resolved[T] | None:
        """The value of the first layer that sets ``setting``, with its source."""
        for layer in self.layers:
            if setting in layer.values:
                return Resolved(layer.values[setting], layer.source)  # type: ignore[arg-type]
        return None

    def get(self, setting: Setting[T]) -> T:
        found = self.find(setting)
        return found.value if found is not None else setting.default

    def get_or(self, setting: Setting[T], fallback: U) -> T | U:
        """The value, or ``fallback`` (not the row's default) when no layer sets it."""
        found = self.find(setting)
        return found.value if found is not None else fallback

    def source(self, setting: AnySetting) -> Source:
        found = self.find(setting)
        return found.source if found is not None else DEFAULT_SOURCE

    def merged(self, *settings: Setting[dict[str, str]]) -> dict[str, str] | None:
        """Merge-rows' tables from the lowest layer up (within a layer, in the order given);
        None when no layer sets any of them."""
        merged: dict[str, str] | None = None
        for layer in reversed(self.layers):
            for setting in settings:
                if setting in layer.values:
                    merged = {**(merged or {}), **layer.values[setting]}  # type: ignore[dict-item]
        return merged

    def explain(self, settings: Iterable[AnySetting]) -> list[tuple[AnySetting, Any, Source]]:
        """Every setting's value and where it came from (for ``rustlambda system``)."""
        return [(s, self.get(s), self.source(s)) for s in settings]


# --- the options and the environment -------------------------------------------------------

OPTIONS_SOURCE = Source(SourceKind.OPTIONS, "command line")


def options_layer(options: object, settings: Iterable[AnySetting], base: Path) -> Layer:
    """The fields an options dataclass sets (not None), checked by their rows' converters.
    Rows of `Scope.INPUT <rustlambda.settings.model.Scope>` are read from the options directly."""
    values: dict[AnySetting, object] = {}
    for setting in settings:
        raw = getattr(options, setting.name, None)
        if raw is not None:
            where = _flag_name(setting)
            values[setting] = convert(setting, raw, Context(where, base, where))
    return Layer(OPTIONS_SOURCE, values)


def _flag_name(setting: AnySetting) -> str:
    """How messages name an option: its first long flag, else the field."""
    for flag in setting.flags:
        if not flag.argument:
            return flag.name
    return setting.name


def environment_layers(
    environ: Mapping[str, str], settings: Iterable[AnySetting], base: Path
) -> list[Layer]:
    """One layer per environment variable that is set (and not empty)."""
    layers = []
    for setting in settings:
        var = setting.env_var
        raw = environ.get(var) if var else None
        if var and raw:
            ctx = Context(f"environment variable {var}", base, var, text=True)
            value = convert(setting, raw, ctx)
            layers.append(Layer(Source(SourceKind.ENVIRONMENT, var), {setting: value}))
    return layers


# --- Cargo.toml metadata -------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    """Where a metadata table is: whose Cargo.toml, which section, which binary."""

    package: Package | None
    section: Section
    binary: str | None

    @property
    def where(self) -> str:
        scope = "package" if self.package is not None else "workspace"
        name = f"[{scope}.metadata.{self.section.table_name(self.binary)}]"
        return f"{name} of {self.package.name}" if self.package is not None else name


class Metadata:
    """The ``[package|workspace.metadata.lambda]`` tables of one workspace, each read and
    converted once. Unknown keys become `warnings`; bad values collect until `check`."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.errors: list[RustLambdaError] = []
        self._warnings: list[tuple[Section, str]] = []
        self._layers: dict[tuple[str | None, Section, str | None], Layer] = {}
        self._lambda_tables: dict[str | None, Mapping[str, Any] | None] = {}

    @property
    def warnings(self) -> list[str]:
        """Unknown keys found so far, each with a "did you mean"."""
        return [text for _, text in self._warnings]

    def warnings_of(self, *sections: Section) -> list[str]:
        return [text for section, text in self._warnings if section in sections]

    def layer(self, section: Section, package: Package | None, binary: str | None) -> Layer:
        """``[<package or workspace>.metadata.lambda(.bin.<binary>)(.<section>)]`` as a layer
        (empty when the table is absent)."""
        key = (package.name if package else None, section, binary)
        if key not in self._layers:
            self._layers[key] = self._read(_Table(package, section, binary))
        return self._layers[key]

    def read_all(self, section: Section) -> None:
        """Read ``section`` of every package and of the workspace, every binary table too, so
        a bad value anywhere is reported whatever is selected."""
        for package in (None, *self.workspace.packages):
            self.layer(section, package, None)
            if section.per_binary:
                for binary in self._bin_tables(package):
                    self.layer(section, package, binary)

    def chain(
        self,
        sections: Sequence[Section],
        package: Package | None,
        binary: str | None,
        top: Sequence[Layer] = (),
    ) -> Chain:
        """``top``, then ``package.bin.<binary>``, ``package``, ``workspace.bin.<binary>``,
        ``workspace`` (levels without a package or binary are left out)."""
        levels: list[tuple[Package | None, str | None]] = []
        for owner in (package, None) if package is not None else (None,):
            if binary is not None:
                levels.append((owner, binary))
            levels.append((owner, None))
        layers = list(top)
        for owner, name in levels:
            for section in sections:
                if name is None or section.per_binary:
                    layers.append(self.layer(section, owner, name))
        return Chain(tuple(layers))

    def check(self) -> None:
        """Raise the collected errors: one as it is, several as one `ConfigError`."""
        errors = list({e.message: e for e in self.errors}.values())
        if not errors:
            return
        if len(errors) == 1:
            raise errors[0]
        text = "\n".join(f"- {e.message}" + (f" ({e.fix})" if e.fix else "") for e in errors)
        raise ConfigError(f"{len(errors)} configuration problems:\n{text}", "fix each one listed")

    # --- reading ---

    def _manifest(self, package: Package | None) -> Path:
        return package.manifest_path if package is not None else self.workspace.root / "Cargo.toml"

    def _lambda_table(self, package: Package | None) -> Mapping[str, Any] | None:
        name = package.name if package is not None else None
        if name not in self._lambda_tables:
            metadata = package.metadata if package is not None else self.workspace.metadata
            table = self._mapping(metadata.get("lambda"), _Table(package, Section.LAMBDA, None))
            if table is not None:
                known = [*_keys(Section.LAMBDA), *STRUCTURE_KEYS]
                where = _Table(package, Section.LAMBDA, None)
                self._warn_unknown(table, known, where)
            self._lambda_tables[name] = table
        return self._lambda_tables[name]

    def _bin_tables(self, package: Package | None) -> list[str]:
        table = self._lambda_table(package)
        bins = table.get("bin") if table is not None else None
        return [str(name) for name in bins] if isinstance(bins, Mapping) else []

    def _mapping(self, value: object, table: _Table) -> Mapping[str, Any] | None:
        if value is None or isinstance(value, Mapping):
            return value
        self.errors.append(
            ConfigError(
                f"{table.where} in {self._manifest(table.package)} must be a table",
                "see README's settings tables",
            )
        )
        return None

    def _read(self, table: _Table) -> Layer:
        source = Source(SourceKind.METADATA, table.where, self._manifest(table.package))
        node = self._lambda_table(table.package)
        path = ["bin", table.binary] if table.binary is not None else []
        if table.section is not Section.LAMBDA:
            path.append(table.section.value)
        for part in path:
            if node is None:
                break
            node = self._mapping(node.get(part), table)
        if node is None:
            return Layer(source)
        if table.binary is not None and table.section is Section.LAMBDA:
            self._warn_unknown(node, [*_keys(Section.LAMBDA), *STRUCTURE_KEYS], table)
        elif table.section is not Section.LAMBDA:
            self._warn_unknown(node, [*_keys(table.section), *table.section.accepted], table)
        return Layer(source, self._convert(node, table))

    def _convert(self, node: Mapping[str, Any], table: _Table) -> dict[AnySetting, object]:
        index = {key: row for row in rows(table.section) for key in row.keys}
        base = self._manifest(table.package).parent
        values: dict[AnySetting, object] = {}
        for key, raw in node.items():
            row = index.get(key)
            if row is None:
                continue
            ctx = Context(f"{table.where}: {key}", base, key)
            try:
                value = convert(row, raw, ctx)
            except RustLambdaError as exc:
                if table.where not in exc.message:
                    exc.add_context(f" ({ctx.where})")
                self.errors.append(exc)
                continue
            values[row] = _combine(row, values.get(row), value)
        for row in [r for r, v in values.items() if r.combine is Combine.CONCAT and not v]:
            del values[row]  # ``arm64 = false`` alone sets no target
        return values

    def _warn_unknown(self, node: Mapping[str, Any], known: Sequence[str], table: _Table) -> None:
        for key in node:
            if key not in known:
                hint = did_you_mean(str(key), known)
                text = f"unknown key {key!r} in {table.where}{hint}; it is ignored"
                self._warnings.append((table.section, text))


def _keys(section: Section) -> list[str]:
    return [key for row in rows(section) for key in row.keys]


def _combine(row: AnySetting, old: object, new: object) -> object:
    if old is None or row.combine is Combine.LAST:
        return new
    if row.combine is Combine.CONCAT:
        return tuple(dict.fromkeys((*old, *new)))  # type: ignore[misc]
    return {**old, **new}  # type: ignore[dict-item]


# --- functions resolved together -----------------------------------------------------------


def agree(chains: Mapping[str, Chain], setting: Setting[T]) -> T:
    """The one value every function's chain gives a build-wide setting, or a `ConfigError`
    naming each function's value."""
    chosen = {name: chain.get(setting) for name, chain in chains.items()}
    values = list(chosen.values())
    if any(value != values[0] for value in values[1:]):
        listing = ", ".join(f"{fn} → {show(v)}" for fn, v in chosen.items())
        raise ConfigError(
            f"the selected functions disagree on `{setting.name}` in their metadata: {listing}",
            "build them separately (--bin NAME), or set it on the command line",
        )
    return values[0]


def served_chain(top: Sequence[Layer], packages: Sequence[Layer], workspace: Layer) -> Chain:
    """One chain for packages served together: a value from a package's table beats the
    workspace's, two packages setting different values is a `ConfigError`; merge-rows merge in
    package order."""
    agreed: dict[AnySetting, object] = {}
    setter: dict[AnySetting, Layer] = {}
    for layer in packages:
        for row, value in layer.values.items():
            if row.merge:
                continue
            if row in agreed and agreed[row] != value:
                key = row.keys[0] if row.keys else row.name
                raise ConfigError(
                    f"{setter[row].source} sets {key} = {show(agreed[row])!r} and "
                    f"{layer.source} sets {show(value)!r}",
                    "watch serves them together: make them agree, or pass the flag",
                )
            agreed[row], setter[row] = value, layer
    merging = [layer.only(r for r in layer.values if r.merge) for layer in reversed(packages)]
    source = Source(SourceKind.METADATA, "the selected packages' tables")
    return Chain((*top, Layer(source, agreed), *merging, workspace))


def show(value: object) -> object:
    """A value as a message shows it: enums and compiler settings by name, tuples joined."""
    if isinstance(value, CompilerSettings):
        return value.kind.value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) or "(none)"
    return value
