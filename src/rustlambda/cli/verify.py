"""``rustlambda verify``."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import VerifyError


@click.command("verify")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--runtime", help="provided.al2023 (default) or provided.al2.")
@click.option("--arm64", "arch", flag_value="arm64", help="Expect arm64 executables.")
@click.option("--x86-64", "arch", flag_value="x86_64", help="Expect x86_64 executables.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify_command(
    paths: tuple[Path, ...], runtime: str | None, arch: str | None, as_json: bool
) -> None:
    """Check bootstraps, zips or a lambda dir (default target/lambda) before deploying."""
    from ..targets import Arch, Runtime
    from ..verify import verify_artifacts
    from . import render

    report = verify_artifacts(
        paths or (Path("target/lambda"),),
        runtime=Runtime.parse(runtime) if runtime else Runtime.AL2023,
        arch=Arch(arch) if arch else None,
    )
    if as_json:
        click.echo(report.to_json())
    else:
        render.verification(render.stdout(), report)
    try:
        report.raise_on_failure()
    except VerifyError as exc:
        exc.details = ""  # every failure is in the report just printed
        raise
