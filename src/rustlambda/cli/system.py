"""``rustlambda system``: the tools a Lambda build and a local run need, and the workspace's
merged settings with where each came from (cargo-lambda's ``cargo lambda system``, and more)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..flags import system_flags

if TYPE_CHECKING:
    from ..system import Item, SettingsReport, SystemReport

_MARKS = {"ok": "ok", "missing": "MISSING", "optional": "--", "info": ".."}


@click.command("system")
@click.option("-m", "--manifest-path", type=click.Path(path_type=Path), help="Path to Cargo.toml.")
@click.option("-p", "--package", help="Show the settings of this package's function.")
@click.option("--bin", "binary", help="Show the settings of this binary.")
@click.option(
    "-o",
    "--output-format",
    type=click.Choice(["text", "json"], case_sensitive=False),
    default="text",
    help="text or json.",
)
@click.option("--json", "as_json", is_flag=True, help="Same as --output-format json.")
@click.option(
    "-v", "--verbose", count=True, help="List every setting (default: those not at their default)."
)
@click.option("--color", type=click.Choice(["auto", "always", "never"]), hidden=True)
@system_flags
def system_command(
    flags: dict[str, Any],
    manifest_path: Path | None,
    package: str | None,
    binary: str | None,
    output_format: str,
    as_json: bool,
    verbose: int,
    color: str | None,
) -> None:
    """Show the Rust toolchain, the Lambda targets' std, zig, qemu, cross and docker (with a
    fix for each missing piece) and the workspace's merged settings with their sources."""
    from ..system import SystemOptions, system_report

    del color  # accepted as cargo-lambda accepts it; the report is plain text
    options = SystemOptions(manifest_path=manifest_path, package=package, binary=binary, **flags)
    report = system_report(options)
    if as_json or output_format.lower() == "json":
        click.echo(report.to_json())
        return
    _text(report, every_setting=verbose > 0)


def _text(report: SystemReport, *, every_setting: bool) -> None:
    for section in report.sections:
        click.echo(f"{section.title}:")
        for item in section.items:
            _item(item)
        click.echo()
    if report.settings is not None:
        _settings(report.settings, every_setting)
    elif report.settings_note:
        click.echo(f"Settings: none shown: {report.settings_note}")
    verdict = "everything needed is there" if report.ok else "something needed is missing"
    click.echo(f"\n{verdict}")


def _item(item: Item) -> None:
    mark = _MARKS[item.status.value]
    parts = [item.version, item.path, f"({item.found_by})" if item.found_by else None]
    if item.detail:
        parts.append(item.detail)
    text = " ".join(p for p in parts if p) or item.status.value
    click.echo(f"  {mark:7} {item.name}: {text}")
    if item.fix and item.status.value in ("missing", "optional"):
        click.echo(f"          fix: {item.fix}")


def _settings(settings: SettingsReport, every_setting: bool) -> None:
    who = f"function {settings.function}" if settings.function else "the workspace"
    click.echo(f"Settings of {who} ({settings.manifest}):")
    if settings.config_file:
        context = f", context {settings.context}" if settings.context else ""
        click.echo(f"  global configuration: {settings.config_file}{context}")
    shown = [v for v in settings.values if every_setting or v.kind != "default"]
    if len(shown) < len(settings.values):
        hidden = len(settings.values) - len(shown)
        click.echo(f"  ({hidden} settings at their defaults: --verbose lists them)")
    section = None
    for value in shown:
        if value.section != section:
            section = value.section
            click.echo(f"  [{section}]")
        click.echo(f"    {value.key} = {_shown(value.value)}    <- {value.source}")
    for warning in settings.warnings:
        click.echo(f"  warning: {warning}")
    for problem in settings.problems:
        click.echo(f"  problem: {problem}")


def _shown(value: Any) -> str:
    import json

    if value is None:
        return "(unset)"
    return json.dumps(value) if not isinstance(value, str) else value
