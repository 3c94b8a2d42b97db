"""The resolver: turns every source of settings into layers of typed values, and answers "what is
this setting for this function, and where does it come from".

Every layer has a `Level <rustlambda.settings.model.Level>`; a chain orders its layers by it,
so the precedence is that enum (cargo-lambda's order): the options dataclass (the command
line's flags, or an API caller's fields) > a flag's own environment variable >
``[package.metadata.lambda.bin.<name>]`` > ``[package.metadata.lambda]`` >
``[workspace.metadata.lambda.bin.<name>]`` > ``[workspace.metadata.lambda]`` >
``CargoLambda.toml`` (its context's tables over its plain ones) >
``CARGO_LAMBDA_<SECTION>.<KEY>`` variables > the row's default. The first layer that sets a row
wins; rows with ``merge`` (environment tables) merge key by key instead, higher layers winning;
with ``admerge`` (cargo-lambda's ``--admerge``) list values are concatenated across layers.

Raw values are converted exactly once, here, by the row's converter. Unknown keys are warnings
with a "did you mean"; bad values and refused keys are collected and raised together
(`Metadata.check`).
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from ..errors import ConfigError, RustLambdaError
from ..options import CompilerSettings
from ..project import Package, Workspace
from ..util.suggest import did_you_mean
from .convert import Bool, Int
from .model import (
    DEFAULT_SOURCE,
    STRUCTURE_KEYS,
    AnySetting,
    Combine,
    Context,
    Invalid,
    Level,
    Scope,
    Section,
    Setting,
    Source,
    SourceKind,
)
from .table import coming_keys, refused_keys, rows

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
    """The layers one function (or package) sees, ordered by their level (highest precedence
    first; layers of one level keep the order given). ``admerge``: list values concatenate
    across layers, lowest first (cargo-lambda's ``--admerge``)."""

    layers: tuple[Layer, ...]
    admerge: bool = False

    def __post_init__(self) -> None:
        ordered = sorted(self.layers, key=lambda layer: layer.source.level)
        object.__setattr__(self, "layers", tuple(ordered))

    def find(self, setting: Setting[T]) -> Resolved[T] | None:
        """The value of the first layer that sets ``setting``, with its source."""
        setters = [layer for layer in self.layers if setting in layer.values]
        if not setters:
            return None
        first = setters[0]
        value = first.values[setting]
        if self.admerge and isinstance(value, tuple) and len(setters) > 1:
            joined = [item for layer in reversed(setters) for item in layer.values[setting]]  # type: ignore[attr-defined]
            label = " + ".join(layer.source.label for layer in reversed(setters))
            source = Source(first.source.kind, label, first.source.path, first.source.level)
            return Resolved(tuple(dict.fromkeys(joined)), source)  # type: ignore[arg-type]
        return Resolved(value, first.source)  # type: ignore[arg-type]

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

    def merged_sources(self, *settings: AnySetting) -> list[Source]:
        """The sources a merge-row's table comes from, highest first."""
        return [layer.source for layer in self.layers if any(s in layer.values for s in settings)]

    def explain(self, settings: Iterable[AnySetting]) -> list[tuple[AnySetting, Any, Source]]:
        """Every setting's value and where it came from (for ``rustlambda system``)."""
        return [(s, self.get(s), self.source(s)) for s in settings]


# --- the options and the environment -------------------------------------------------------

OPTIONS_SOURCE = Source(SourceKind.OPTIONS, "command line", level=Level.OPTIONS)


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
    """One layer per flag variable (a row's ``env_var``) that is set (and not empty); rows of
    `Scope.INPUT` are read where they are used (`input_value`)."""
    layers = []
    for setting in settings:
        var = setting.env_var
        raw = environ.get(var) if var else None
        if var and raw and setting.scope is not Scope.INPUT:
            ctx = Context(f"environment variable {var}", base, var)
            value = convert(setting, from_text(setting, raw), ctx)
            source = Source(SourceKind.ENVIRONMENT, var, level=Level.FLAG_ENV)
            layers.append(Layer(source, {setting: value}))
    return layers


def from_text(setting: AnySetting, raw: str) -> object:
    """An environment variable's text as the row's converter takes it: clap's reading of a
    switch's variable (false for ``""``, ``0``, ``no``, ``off``, ``false``...), numbers as
    numbers, anything else as the text."""
    if isinstance(setting.convert, Bool):
        return raw.strip().lower() not in ("", "0", "n", "no", "f", "false", "off")
    if isinstance(setting.convert, Int):
        with contextlib.suppress(ValueError):
            return int(raw)
    return raw


def input_value(setting: Setting[T], options: object, environ: Mapping[str, str], base: Path) -> T:
    """A `Scope.INPUT` row read directly: the options' field, else its variable, else the
    default (what selects the sources cannot come from them)."""
    raw = getattr(options, setting.name, None)
    where = _flag_name(setting)
    if raw is not None:
        return convert(setting, raw, Context(where, base, where))
    var = setting.env_var
    if var and environ.get(var):
        ctx = Context(f"environment variable {var}", base, var)
        return convert(setting, from_text(setting, environ[var]), ctx)
    return setting.default


# --- reading a table (Cargo.toml metadata, CargoLambda.toml, CARGO_LAMBDA_* variables) ------


@dataclass
class TableRead:
    """What reading one table gave: its typed values, unknown-key warnings, errors."""

    values: dict[AnySetting, object] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    errors: list[RustLambdaError] = field(default_factory=list)


def read_table(node: Mapping[str, Any], section: Section, where: str, base: Path) -> TableRead:
    """``node`` (a ``build``/``watch``/``deploy`` table, or ``lambda`` itself) through the
    section's rows: nested tables of dotted keys (``vpc.subnet_ids``) flattened, each value
    converted by its row, refused keys and bad values collected as errors, unknown keys as
    warnings with a "did you mean"."""
    read = TableRead()
    index = {key: row for row in rows(section) for key in row.keys}
    flat = _flatten(node, index, where, read)
    known = [*index, *section.accepted]
    if section is Section.LAMBDA:
        known += STRUCTURE_KEYS
    refused = refused_keys(section)
    coming = coming_keys(section)
    for key, raw in flat.items():
        row = index.get(key)
        ctx = Context(f"{where}: {key}", base, key)
        if key in refused:
            reason, alternative = refused[key]
            read.errors.append(ConfigError(f"{ctx.where}: {reason}", alternative))
        elif key in coming:
            read.warnings.append(
                f"{key} in {where} is not supported yet (coming: {coming[key]}); it is ignored"
            )
        elif row is None:
            if key not in known:
                hint = did_you_mean(key, [k for k in known if "." not in k or "." in key])
                read.warnings.append(f"unknown key {key!r} in {where}{hint}; it is ignored")
        else:
            try:
                value = convert(row, raw, ctx)
            except RustLambdaError as exc:
                if where not in exc.message:
                    exc.add_context(f" ({ctx.where})")
                read.errors.append(exc)
                continue
            read.values[row] = _combine(row, read.values.get(row), value)
    for row in [r for r, v in read.values.items() if r.combine is Combine.CONCAT and not v]:
        del read.values[row]  # ``arm64 = false`` alone sets no target
    return read


def _flatten(
    node: Mapping[str, Any], index: Mapping[str, AnySetting], where: str, read: TableRead
) -> dict[str, Any]:
    """A table's keys, nested tables of dotted keys spelled out (``vpc = { subnet_ids = .. }``
    and ``vpc.subnet_ids`` are the same key)."""
    nested = {key.split(".", 1)[0] for key in index if "." in key}
    flat: dict[str, Any] = {}
    for key, value in node.items():
        key = str(key)
        if key in nested and key not in index:
            if not isinstance(value, Mapping):
                read.errors.append(
                    ConfigError(f"{where}: {key} must be a table", f"e.g. [{key}] with its keys")
                )
                continue
            flat.update(_flatten({f"{key}.{k}": v for k, v in value.items()}, index, where, read))
        else:
            flat[key] = value
    return flat


def _combine(row: AnySetting, old: object, new: object) -> object:
    if old is None or row.combine is Combine.LAST:
        return new
    if row.combine is Combine.CONCAT:
        return tuple(dict.fromkeys((*old, *new)))  # type: ignore[misc]
    return {**old, **new}  # type: ignore[dict-item]


class ConfigSources(Protocol):
    """Sources below Cargo.toml metadata (cargo-lambda's global configuration): their layers
    per section, what reading them warned about, and their errors."""

    admerge: bool
    warnings: list[str]
    errors: list[RustLambdaError]

    def layers(self, section: Section) -> tuple[Layer, ...]: ...


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

    @property
    def level(self) -> Level:
        if self.package is not None:
            return Level.PACKAGE_BIN if self.binary is not None else Level.PACKAGE
        return Level.WORKSPACE_BIN if self.binary is not None else Level.WORKSPACE


class Metadata:
    """The ``[package|workspace.metadata.lambda]`` tables of one workspace, each read and
    converted once, and the configuration sources below them (``sources``). Unknown keys
    become `warnings`; bad values collect until `check`."""

    def __init__(self, workspace: Workspace, sources: ConfigSources | None = None) -> None:
        self.workspace = workspace
        self.sources = sources
        self.errors: list[RustLambdaError] = []
        self._warnings: list[tuple[Section, str]] = []
        self._layers: dict[tuple[str | None, Section, str | None], Layer] = {}
        self._lambda_tables: dict[str | None, Mapping[str, Any] | None] = {}

    @property
    def admerge(self) -> bool:
        return self.sources is not None and self.sources.admerge

    @property
    def warnings(self) -> list[str]:
        """Unknown keys found so far, each with a "did you mean"."""
        found = [text for _, text in self._warnings]
        return [*(self.sources.warnings if self.sources else []), *found]

    def warnings_of(self, *sections: Section) -> list[str]:
        return [text for section, text in self._warnings if section in sections]

    def layer(self, section: Section, package: Package | None, binary: str | None) -> Layer:
        """``[<package or workspace>.metadata.lambda(.bin.<binary>)(.<section>)]`` as a layer
        (empty when the table is absent)."""
        key = (package.name if package else None, section, binary)
        if key not in self._layers:
            self._layers[key] = self._read(_Table(package, section, binary))
        return self._layers[key]

    def bottom(self, sections: Sequence[Section]) -> list[Layer]:
        """The configuration sources' layers for ``sections`` (below every metadata table)."""
        if self.sources is None:
            return []
        return [layer for section in sections for layer in self.sources.layers(section)]

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
        ``workspace`` (levels without a package or binary are left out), then the
        configuration sources."""
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
        return Chain((*layers, *self.bottom(sections)), self.admerge)

    def check(self) -> None:
        """Raise the collected errors: one as it is, several as one `ConfigError`."""
        found = [*(self.sources.errors if self.sources else []), *self.errors]
        raise_collected(found)

    # --- reading ---

    def _manifest(self, package: Package | None) -> Path:
        return package.manifest_path if package is not None else self.workspace.root / "Cargo.toml"

    def _lambda_table(self, package: Package | None) -> Mapping[str, Any] | None:
        name = package.name if package is not None else None
        if name not in self._lambda_tables:
            metadata = package.metadata if package is not None else self.workspace.metadata
            table = self._mapping(metadata.get("lambda"), _Table(package, Section.LAMBDA, None))
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
        manifest = self._manifest(table.package)
        source = Source(SourceKind.METADATA, table.where, manifest, table.level)
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
        read = read_table(node, table.section, table.where, manifest.parent)
        self.errors += read.errors
        self._warnings += [(table.section, text) for text in read.warnings]
        return Layer(source, read.values)


def raise_collected(errors: Sequence[RustLambdaError]) -> None:
    """Raise collected errors: none, nothing; one as it is; several as one `ConfigError`."""
    unique = list({e.message: e for e in errors}.values())
    if not unique:
        return
    if len(unique) == 1:
        raise unique[0]
    text = "\n".join(f"- {e.message}" + (f" ({e.fix})" if e.fix else "") for e in unique)
    raise ConfigError(f"{len(unique)} configuration problems:\n{text}", "fix each one listed")


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


def served_chain(
    top: Sequence[Layer],
    packages: Sequence[Layer],
    workspace: Layer,
    bottom: Sequence[Layer] = (),
    admerge: bool = False,
) -> Chain:
    """One chain for packages served together: a value from a package's table beats the
    workspace's, two packages setting different values is a `ConfigError`; merge-rows merge in
    package order; ``bottom``: the configuration sources' layers."""
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
    source = Source(SourceKind.METADATA, "the selected packages' tables", level=Level.PACKAGE)
    return Chain((*top, Layer(source, agreed), *merging, workspace, *bottom), admerge)


def show(value: object) -> object:
    """A value as a message shows it: enums and compiler settings by name, tuples joined."""
    if isinstance(value, CompilerSettings):
        return value.kind.value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) or "(none)"
    return value
