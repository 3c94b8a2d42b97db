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

Raw values are converted exactly once, by the row's converter (`convert`). Tables (Cargo.toml
metadata, ``CargoLambda.toml``, variables) are read into layers by `rustlambda.settings.metadata`.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from ..errors import ConfigError
from ..options import CompilerSettings
from .convert import Bool, Int
from .model import (
    DEFAULT_SOURCE,
    AnySetting,
    Context,
    Invalid,
    Level,
    Scope,
    Setting,
    Source,
    SourceKind,
)

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
