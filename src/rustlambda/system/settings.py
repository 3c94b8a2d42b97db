"""The workspace's merged settings for ``rustlambda system``: every build, watch and deploy
setting with a metadata key or an environment variable, its value and the source it came from,
through the same resolver the commands use (so it shows what they would use)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..builder.settings import build_chains, global_config
from ..deployer.settings import DeployOptions, function_chain
from ..errors import RustLambdaError
from ..options import BuildOptions, CompilerSettings
from ..project import BinTarget, Workspace, load_workspace, locate_manifest
from ..settings import table as t
from ..settings.metadata import Metadata
from ..settings.model import AnySetting, Scope, Section
from ..settings.resolve import Chain
from ..toolchain import find_toolchain
from . import Probe, SettingsReport, SettingValue, SystemOptions


def merged_settings(
    options: SystemOptions, probe: Probe
) -> tuple[SettingsReport | None, str | None]:
    """The report, or (None, why there is none)."""
    try:
        manifest = locate_manifest(options.manifest_path, probe.cwd)
    except RustLambdaError as exc:
        return None, f"{exc.message} (settings are shown inside a Cargo workspace)"
    try:
        cargo = find_toolchain(probe.environ).cargo
        workspace = load_workspace(manifest, cargo=cargo, env=probe.environ, runner=probe.runner)
    except RustLambdaError as exc:
        return None, f"{exc.message}: {exc.fix}" if exc.fix else exc.message
    build = BuildOptions(
        cwd=probe.cwd,
        global_config=options.global_config,
        context=options.context,
        admerge=options.admerge,
    )
    try:
        sources = global_config(build, probe.environ, probe.cwd)
        binary = _function(workspace, options)
    except RustLambdaError as exc:
        problem = exc.message + (f" ({exc.fix})" if exc.fix else "")
        return SettingsReport(str(manifest), None, problems=(problem,)), None
    metadata = Metadata(workspace, sources)
    problems: list[str] = []
    values: list[SettingValue] = []
    for section, chain in _chains(build, workspace, metadata, binary, probe, problems):
        values += _values(section, chain)
    try:
        metadata.check()
    except RustLambdaError as exc:
        problems.append(exc.message + (f" ({exc.fix})" if exc.fix else ""))
    selection = sources.selection
    return (
        SettingsReport(
            manifest=str(manifest),
            function=binary.name if binary else None,
            values=tuple(values),
            config_file=str(selection.path) if selection.path else None,
            context=selection.context,
            warnings=tuple(dict.fromkeys(metadata.warnings)),
            problems=tuple(dict.fromkeys(problems)),
        ),
        None,
    )


def _function(workspace: Workspace, options: SystemOptions) -> BinTarget | None:
    """The binary whose tables are merged: ``--bin``, else ``--package``'s only binary, else
    the workspace's only one; None: the workspace's own tables only."""
    from ..builder import select_binaries

    if options.binary is None and options.package is None and len(workspace.bins) != 1:
        return None
    selection = BuildOptions(
        bins=(options.binary,) if options.binary else (),
        packages=(options.package,) if options.package else (),
    )
    chosen = select_binaries(workspace, selection)
    return chosen[0] if len(chosen) == 1 else None


def _chains(
    build: BuildOptions,
    workspace: Workspace,
    metadata: Metadata,
    binary: BinTarget | None,
    probe: Probe,
    problems: list[str],
) -> Iterable[tuple[Section, Chain]]:
    """Each section's chain, as its command builds it (build: with the flag variables)."""
    selected = (binary,) if binary is not None else ()
    try:
        chains, _ = build_chains(build, probe.environ, workspace, selected, metadata)
        yield Section.BUILD, next(iter(chains.values()))
    except RustLambdaError as exc:
        problems.append(exc.message + (f" ({exc.fix})" if exc.fix else ""))
        yield Section.BUILD, metadata.chain((Section.LAMBDA, Section.BUILD), None, None)
    package = workspace.package(binary.package) if binary is not None else None
    yield Section.WATCH, metadata.chain((Section.WATCH,), package, None)
    deploy = DeployOptions(cwd=probe.cwd)
    yield Section.DEPLOY, function_chain(deploy, probe.cwd, metadata, binary)


def _values(section: Section, chain: Chain) -> list[SettingValue]:
    rows = [*t.rows(section), *(t.rows(Section.LAMBDA) if section is Section.BUILD else ())]
    shown = [row for row in rows if row.scope is not Scope.INPUT and (row.keys or row.env_var)]
    return [_value(row, chain) for row in shown]


def _value(row: AnySetting, chain: Chain) -> SettingValue:
    found = chain.find(row)
    if row.merge:
        merged = chain.merged(row)
        sources = chain.merged_sources(row)
        label = " + ".join(str(s) for s in reversed(sources)) or "default"
        kind = sources[0].kind.value if sources else "default"
        path = sources[0].path if sources else None
        value = jsonable(merged if merged is not None else row.default)
        return SettingValue(row.section.value, _key(row), value, label, kind, _str(path))
    source = found.source if found is not None else None
    value = jsonable(found.value if found is not None else row.default)
    return SettingValue(
        row.section.value,
        _key(row),
        value,
        str(source) if source else "default",
        source.kind.value if source else "default",
        _str(source.path) if source else None,
    )


def _key(row: AnySetting) -> str:
    return row.keys[0] if row.keys else (row.env_var or row.name)


def _str(path: Path | None) -> str | None:
    return str(path) if path is not None else None


def jsonable(value: Any) -> Any:
    """A setting's typed value as JSON writes it: enums by value, paths and targets as text,
    tuples as lists, the compiler settings as cargo-lambda's table."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, CompilerSettings):
        data = {"type": jsonable(value.kind)}
        extra = {f.name: jsonable(getattr(value, f.name)) for f in fields(value)}
        data.update({k: v for k, v in extra.items() if k != "kind" and v})
        return data
    return str(value)
