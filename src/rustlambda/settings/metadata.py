"""Reading tables into layers: `read_table` (one table of cargo-lambda's keys: nested tables
flattened, values converted by their rows, refused keys and bad values collected, unknown keys
warned about with a "did you mean") and `Metadata` (a workspace's
``[package|workspace.metadata.lambda]`` tables, with the configuration sources below them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..errors import ConfigError, RustLambdaError
from ..project import Package, Workspace
from ..util.suggest import did_you_mean
from .model import (
    STRUCTURE_KEYS,
    AnySetting,
    Combine,
    Context,
    Level,
    Section,
    Source,
    SourceKind,
)
from .resolve import Chain, Layer, convert
from .table import coming_keys, refused_keys, rows

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
