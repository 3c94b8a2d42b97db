"""The command line: parse flags into BuildOptions, call the library, render. No logic of its own.

Flag names are cargo-lambda's, so ``cargo lambda build ...`` becomes ``rustlambda build ...``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import __version__
from .errors import RustLambdaError, VerifyError

if TYPE_CHECKING:
    from .verify import VerifyReport


class ConsoleReporter:
    """Renders library events: a live status line on a TTY, nothing on a pipe unless verbose."""

    def __init__(self, console: Console, *, verbose: bool, quiet: bool) -> None:
        self.console = console
        self.verbose = verbose
        self.quiet = quiet
        self.status: Any = None

    def info(self, message: str) -> None:
        if not self.quiet:
            self.console.print(f"[bold blue]info[/]: {escape(message)}", highlight=False)

    def warning(self, message: str) -> None:
        self.console.print(f"[bold yellow]warning[/]: {escape(message)}", highlight=False)

    def command(self, argv: Sequence[str]) -> None:
        if self.verbose:
            self.console.print(f"[dim]running: {escape(' '.join(argv))}[/]", highlight=False)

    def output(self, line: str) -> None:
        if self.verbose:
            self.console.print(line, markup=False, highlight=False)
        elif self.status is not None and line.strip():
            self.status.update(f"[bold green]building[/] {escape(line.strip()[:100])}")


def _print_error(console: Console, exc: RustLambdaError) -> None:
    if exc.details:
        console.print(exc.details, markup=False, highlight=False)
    console.print(f"[bold red]error[/]: {escape(exc.message)}", highlight=False)
    if exc.fix:
        console.print(f"[bold]fix[/]: {escape(exc.fix)}", highlight=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rustlambda")
def cli() -> None:
    """Build, package and run Rust AWS Lambda functions (cargo-lambda compatible)."""


@cli.command("build", context_settings={"ignore_unknown_options": False})
@click.option("-r", "--release", is_flag=True, default=None, help="Build with the release profile.")
@click.option("--profile", help="Build with this cargo profile.")
@click.option("--arm64", is_flag=True, help="Build for Lambda arm64 (aarch64-unknown-linux-gnu).")
@click.option("--x86-64", "x86_64", is_flag=True, help="Build for Lambda x86_64.")
@click.option("--target", "targets", multiple=True, help="Target triple (repeatable).")
@click.option("--runtime", help="provided.al2023 (default) or provided.al2: pins glibc.")
@click.option("--compiler", help="zig (default), cargo or cross. Env: CARGO_LAMBDA_COMPILER.")
@click.option("--bin", "bins", multiple=True, help="Build only this binary (repeatable).")
@click.option("-p", "--package", "packages", multiple=True, help="Build this package's binaries.")
@click.option("--workspace", is_flag=True, help="Build every binary of the workspace.")
@click.option("--example", "examples", multiple=True, help="Build this example (repeatable).")
@click.option("--extension", is_flag=True, default=None, help="Build Lambda extensions.")
@click.option("--internal", is_flag=True, default=None, help="The extension is internal.")
@click.option(
    "-o", "--output-format", type=click.Choice(["binary", "zip"]), help="Artifact format."
)
@click.option("-l", "--lambda-dir", type=click.Path(path_type=Path), help="Output base directory.")
@click.option("--flatten", help="Put this binary's bootstrap directly in the lambda dir.")
@click.option("--include", "include", multiple=True, help="Extra file for the zip (repeatable).")
@click.option(
    "--disable-optimizations",
    is_flag=True,
    default=None,
    help="No release tuning (strip, LTO, codegen-units, panic, target-cpu).",
)
@click.option("--manifest-path", type=click.Path(path_type=Path), help="Path to Cargo.toml.")
@click.option("-F", "--features", multiple=True, help="Features to activate.")
@click.option("--all-features", is_flag=True, default=None)
@click.option("--no-default-features", is_flag=True, default=None)
@click.option("--target-dir", type=click.Path(path_type=Path), help="Cargo's target directory.")
@click.option(
    "--skip-target-check",
    is_flag=True,
    default=None,
    help="Don't check that the target's std is installed.",
)
@click.option("--locked", is_flag=True)
@click.option("--offline", is_flag=True)
@click.option("--frozen", is_flag=True)
@click.option("-j", "--jobs", type=int)
@click.option("--no-verify", is_flag=True, help="Don't check the artifacts against the runtime.")
@click.option("--json", "as_json", is_flag=True, help="Print the build result as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors and the result.")
@click.option("-v", "--verbose", count=True, help="Stream cargo's output (-vv: cargo -v).")
@click.argument("cargo_args", nargs=-1, type=click.UNPROCESSED)
def build_command(**kw: Any) -> None:
    """Compile Lambda functions and extensions into target/lambda/<bin>/bootstrap."""
    from .build import build
    from .config import BuildOptions, convert_value
    from .targets import Arch, Target

    targets: list[Target] = []
    if kw["x86_64"]:
        targets.append(Target.for_arch(Arch.X86_64))
    if kw["arm64"]:
        targets.append(Target.for_arch(Arch.ARM64))
    targets += [Target.parse(t) for t in kw["targets"]]

    def opt(name: str, raw: Any) -> Any:
        return None if raw is None else convert_value(name, raw, f"--{name.replace('_', '-')}")

    options = BuildOptions(
        manifest_path=kw["manifest_path"],
        bins=tuple(kw["bins"]),
        packages=tuple(kw["packages"]),
        workspace=kw["workspace"],
        examples=tuple(kw["examples"]),
        release=kw["release"],
        profile=kw["profile"],
        targets=tuple(dict.fromkeys(targets)) or None,
        runtime=opt("runtime", kw["runtime"]),
        compiler=opt("compiler", kw["compiler"]),
        extension=kw["extension"],
        internal=kw["internal"],
        output_format=opt("output_format", kw["output_format"]),
        lambda_dir=kw["lambda_dir"],
        flatten=kw["flatten"],
        include=tuple(kw["include"]) or None,
        disable_optimizations=kw["disable_optimizations"],
        features=tuple(f for v in kw["features"] for f in v.replace(",", " ").split()) or None,
        all_features=kw["all_features"],
        no_default_features=kw["no_default_features"],
        skip_target_check=kw["skip_target_check"],
        target_dir=kw["target_dir"],
        locked=kw["locked"],
        offline=kw["offline"],
        frozen=kw["frozen"],
        jobs=kw["jobs"],
        verbose=max(0, kw["verbose"] - 1),
        cargo_args=tuple(kw["cargo_args"]),
        verify=not kw["no_verify"],
    )
    err = Console(stderr=True, soft_wrap=True)
    out = Console(soft_wrap=True)
    reporter = ConsoleReporter(err, verbose=kw["verbose"] > 0, quiet=kw["quiet"])
    if err.is_terminal and not kw["verbose"] and not kw["quiet"]:
        with err.status("[bold green]building[/]") as status:
            reporter.status = status
            result = build(options, reporter=reporter)
    else:
        result = build(options, reporter=reporter)
    if kw["as_json"]:
        out.print_json(result.to_json()) if out.is_terminal else click.echo(result.to_json())
        return
    if not out.is_terminal:
        for a in result.artifacts:
            size, path = (a.zip.size, a.zip.path) if a.zip else (a.size, a.path)
            click.echo(f"{a.function}\t{a.arch}\t{size}\t{path}")
        return
    table = Table(title=f"Lambda artifacts in {result.lambda_dir}")
    for column in ("function", "kind", "architecture", "size"):
        table.add_column(column, justify="right" if column == "size" else "left")
    table.add_column("path", overflow="fold")
    for a in result.artifacts:
        size, path = (a.zip.size, a.zip.path) if a.zip else (a.size, a.path)
        table.add_row(a.function, a.kind, a.arch, _human(size), _shown(path))
    out.print(table)


@cli.command("verify")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--runtime", help="provided.al2023 (default) or provided.al2.")
@click.option("--arm64", "arch", flag_value="arm64", help="Expect arm64 executables.")
@click.option("--x86-64", "arch", flag_value="x86_64", help="Expect x86_64 executables.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify_command(
    paths: tuple[Path, ...], runtime: str | None, arch: str | None, as_json: bool
) -> None:
    """Check bootstraps, zips or a lambda dir (default target/lambda) before deploying."""
    from .targets import Arch, Runtime
    from .verify import verify_artifacts

    report = verify_artifacts(
        paths or (Path("target/lambda"),),
        runtime=Runtime.parse(runtime) if runtime else Runtime.AL2023,
        arch=Arch(arch) if arch else None,
    )
    out = Console(soft_wrap=True)
    if as_json:
        click.echo(report.to_json())
    else:
        _render_verification(out, report)
    try:
        report.raise_on_failure()
    except VerifyError as exc:
        exc.details = ""  # every failure is in the report just printed
        raise


def _render_verification(console: Console, report: VerifyReport) -> None:
    if not console.is_terminal:
        for a in report.artifacts:
            cells = (
                a.label,
                a.arch or "?",
                a.linkage,
                a.max_glibc or "-",
                ",".join(a.needed) or "-",
                str(a.size),
                a.sha256 or "-",
                "ok" if a.ok else "FAIL",
            )
            click.echo("\t".join(cells))
        _render_findings(console, report)
        return
    table = Table(title=f"verified against {report.runtime.value}")
    for column in (
        "artifact",
        "arch",
        "linkage",
        "max glibc",
        "needs",
        "size",
        "sha256",
        "verdict",
    ):
        table.add_column(column, overflow="fold")
    for a in report.artifacts:
        verdict = "[green]ok[/]" if a.ok else "[bold red]FAIL[/]"
        table.add_row(
            escape(a.label),
            a.arch or "?",
            a.linkage,
            a.max_glibc or "-",
            escape(", ".join(a.needed)) or "-",
            _human(a.size),
            (a.sha256 or "-")[:12],
            verdict,
        )
    console.print(table)
    _render_findings(console, report)


def _render_findings(console: Console, report: VerifyReport) -> None:
    for a in report.artifacts:
        for f in (*a.failures, *a.warnings):
            level = "[bold red]fail[/]" if not f.ok else "[yellow]warning[/]"
            console.print(f"{level} {escape(a.label)}: {escape(f.message)}", highlight=False)
            if f.lambda_error:
                console.print(f"    Lambda: {escape(f.lambda_error)}", highlight=False)
            if f.fix:
                console.print(f"    fix: {escape(f.fix)}", highlight=False)


def _shown(path: Path) -> str:
    """A path relative to the working directory when it is below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (documented in README, "Exit codes")."""
    err = Console(stderr=True, soft_wrap=True)
    try:
        cli.main(
            args=list(argv) if argv is not None else sys.argv[1:],
            prog_name="rustlambda",
            standalone_mode=False,
        )
    except RustLambdaError as exc:
        _print_error(err, exc)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.exceptions.Abort:
        err.print("aborted")
        return 130
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    return 0
