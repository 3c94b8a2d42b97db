"""The command line: parse flags into BuildOptions, call the library, render. No logic of its own.

Flag names are cargo-lambda's, so ``cargo lambda build ...`` becomes ``rustlambda build ...``.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import __version__
from .commands.scaffold import init_command, new_command
from .errors import RustLambdaError, VerifyError

if TYPE_CHECKING:
    from .config import BuildOptions
    from .emulator import LogRecord
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


cli.add_command(new_command)
cli.add_command(init_command)

#: The options `build` and `watch` share (cargo-lambda's names).
_BUILD_FLAGS: list[Callable[[Any], Any]] = [
    click.option(
        "-r", "--release", is_flag=True, default=None, help="Build with the release profile."
    ),
    click.option("--profile", help="Build with this cargo profile."),
    click.option(
        "--arm64", is_flag=True, help="Build for Lambda arm64 (aarch64-unknown-linux-gnu)."
    ),
    click.option("--x86-64", "x86_64", is_flag=True, help="Build for Lambda x86_64."),
    click.option("--target", "targets", multiple=True, help="Target triple (repeatable)."),
    click.option("--runtime", help="provided.al2023 (default) or provided.al2: pins glibc."),
    click.option("--compiler", help="zig (default), cargo or cross. Env: CARGO_LAMBDA_COMPILER."),
    click.option("--bin", "bins", multiple=True, help="Build only this binary (repeatable)."),
    click.option(
        "-p", "--package", "packages", multiple=True, help="Build this package's binaries."
    ),
    click.option("--workspace", is_flag=True, help="Build every binary of the workspace."),
    click.option("--example", "examples", multiple=True, help="Build this example (repeatable)."),
    click.option("--extension", is_flag=True, default=None, help="Build Lambda extensions."),
    click.option("--internal", is_flag=True, default=None, help="The extension is internal."),
    click.option(
        "-o", "--output-format", type=click.Choice(["binary", "zip"]), help="Artifact format."
    ),
    click.option(
        "-l", "--lambda-dir", type=click.Path(path_type=Path), help="Output base directory."
    ),
    click.option("--flatten", help="Put this binary's bootstrap directly in the lambda dir."),
    click.option(
        "--include", "include", multiple=True, help="Extra file for the zip (repeatable)."
    ),
    click.option(
        "--disable-optimizations",
        is_flag=True,
        default=None,
        help="No release tuning (strip, LTO, codegen-units, panic, target-cpu).",
    ),
    click.option("--manifest-path", type=click.Path(path_type=Path), help="Path to Cargo.toml."),
    click.option("-F", "--features", multiple=True, help="Features to activate."),
    click.option("--all-features", is_flag=True, default=None),
    click.option("--no-default-features", is_flag=True, default=None),
    click.option("--target-dir", type=click.Path(path_type=Path), help="Cargo's target directory."),
    click.option(
        "--skip-target-check",
        is_flag=True,
        default=None,
        help="Don't check that the target's std is installed.",
    ),
    click.option("--locked", is_flag=True),
    click.option("--offline", is_flag=True),
    click.option("--frozen", is_flag=True),
    click.option("-j", "--jobs", type=int),
    click.option(
        "--no-verify", is_flag=True, help="Don't check the artifacts against the runtime."
    ),
    click.option("-q", "--quiet", is_flag=True, help="Print only errors and the result."),
    click.option("-v", "--verbose", count=True, help="Stream cargo's output (-vv: cargo -v)."),
    click.argument("cargo_args", nargs=-1, type=click.UNPROCESSED),
]


def build_flags(command: Callable[..., Any]) -> Callable[..., Any]:
    for flag in reversed(_BUILD_FLAGS):
        command = flag(command)
    return command


def build_options_from(kw: dict[str, Any]) -> BuildOptions:
    """The BuildOptions the shared build flags ask for."""
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

    return BuildOptions(
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


@cli.command("build", context_settings={"ignore_unknown_options": False})
@build_flags
@click.option("--json", "as_json", is_flag=True, help="Print the build result as JSON.")
def build_command(**kw: Any) -> None:
    """Compile Lambda functions and extensions into target/lambda/<bin>/bootstrap."""
    from .build import build

    options = build_options_from(kw)
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


@cli.command("watch", context_settings={"ignore_unknown_options": False})
@build_flags
@click.option(
    "-a",
    "-A",
    "--invoke-address",
    help="Address to listen on for invoke requests [default: 127.0.0.1].",
)
@click.option(
    "-P", "--invoke-port", type=int, help="Port for invokes [default: 9000; 0: any free port]."
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    help="Instances per function, each serving one invocation at a time [default: 1].",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds an invocation may run before its instance is killed [default: 30].",
)
@click.option(
    "--memory",
    type=click.IntRange(min=128, max=10240),
    default=128,
    show_default=True,
    help="Memory size in MB reported to the function and in REPORT lines.",
)
@click.option(
    "--env-var",
    "--env-vars",
    "env_vars",
    multiple=True,
    help="KEY=VALUE for the functions (repeatable, or KEY=VALUE,OTHER=VALUE).",
)
@click.option(
    "--env-file", type=click.Path(path_type=Path), help="File of KEY=VALUE lines for the functions."
)
@click.option(
    "--ignore-changes",
    "--no-reload",
    is_flag=True,
    default=None,
    help="Serve the first build; don't rebuild.",
)
@click.option(
    "--extensions-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="External extensions to start with each instance (default: <lambda-dir>/extensions).",
)
def watch_command(**kw: Any) -> None:
    """Build, serve the functions on a local Lambda, rebuild and restart them on change."""
    import asyncio
    import os
    import signal

    from .config import parse_env_vars, read_env_file
    from .emulator import EmulatorSettings
    from .watch import WatchOptions, watch

    env: dict[str, str] = {}
    if kw["env_file"] is not None:
        env.update(read_env_file(kw["env_file"]))
    env.update(parse_env_vars(kw["env_vars"]))
    options = WatchOptions(
        build=build_options_from(kw),
        settings=EmulatorSettings(environ=dict(os.environ)),
        timeout=kw["timeout"],
        memory_size=kw["memory"],
        env=env,
        ignore_changes=kw["ignore_changes"],
        extensions_dir=kw["extensions_dir"],
        invoke_address=kw["invoke_address"],
        invoke_port=kw["invoke_port"],
        concurrency=kw["concurrency"],
    )
    err = Console(stderr=True, soft_wrap=True)
    out = Console(soft_wrap=True)
    reporter = ConsoleReporter(err, verbose=kw["verbose"] > 0, quiet=kw["quiet"])
    logs = LogPrinter(out)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await watch(options, stop=stop, reporter=reporter, on_log=logs.record)
        reporter.info("stopped: every instance was shut down")

    asyncio.run(run())


class LogPrinter:
    """Renders function, extension and platform log lines as they arrive."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def record(self, record: LogRecord) -> None:
        who = record.function
        if record.source.startswith("extension:"):
            who = f"{record.function}/{record.source.split(':', 1)[1]}"
        if not self.console.is_terminal:  # exact text (rich would expand REPORT's tabs)
            click.echo(f"[{who}] {record.text}")
            return
        style = "dim" if record.source == "platform" else "cyan"
        self.console.print(f"[{style}]\\[{escape(who)}][/] {escape(record.text)}", highlight=False)


@cli.command("invoke")
@click.argument("function_name", default="_")
@click.option(
    "-a", "--invoke-address", default="127.0.0.1", show_default=True, help="Emulator address."
)
@click.option(
    "-P", "--invoke-port", type=int, default=9000, show_default=True, help="Emulator port."
)
@click.option("-A", "--data-ascii", help="The payload, as a JSON string.")
@click.option(
    "-F", "--data-file", type=click.Path(path_type=Path, allow_dash=True), help="Payload file."
)
@click.option("-E", "--data-example", help="A bundled example event (see --list-examples).")
@click.option("--list-examples", is_flag=True, help="List the bundled example events and exit.")
@click.option("--client-context-ascii", help="Client context JSON for the function.")
@click.option(
    "--client-context-file", type=click.Path(path_type=Path), help="File with client context JSON."
)
@click.option(
    "-o",
    "--output-format",
    type=click.Choice(["text", "json"], case_sensitive=False),
    default="text",
    show_default=True,
    help="text: indented JSON; json: the response as received.",
)
@click.option("--endpoint-url", help="Invoke this endpoint instead of the local emulator.")
def invoke_command(**kw: Any) -> None:
    """Invoke a function served by `rustlambda watch` (payload defaults to {})."""
    from .emulator import client, examples
    from .errors import ConfigError, FunctionError

    if kw["list_examples"]:
        for name in examples.names():
            click.echo(name)
        return
    sources = [k for k in ("data_ascii", "data_file", "data_example") if kw[k] is not None]
    if len(sources) > 1:
        flags = " and ".join("--" + k.replace("_", "-") for k in sources)
        raise ConfigError(f"{flags} both give the payload", "pass only one of them")
    if kw["data_ascii"] is not None:
        payload = kw["data_ascii"].encode()
    elif kw["data_file"] is not None:
        payload = _read_input(kw["data_file"], "--data-file")
    elif kw["data_example"] is not None:
        payload = examples.load(kw["data_example"])
    else:
        payload = b"{}"
    context = kw["client_context_ascii"]
    if kw["client_context_file"] is not None:
        if context is not None:
            raise ConfigError(
                "--client-context-ascii and --client-context-file both give the client context",
                "pass only one of them",
            )
        context = _read_input(kw["client_context_file"], "--client-context-file").decode()
    endpoint = kw["endpoint_url"] or client.endpoint_for(kw["invoke_address"], kw["invoke_port"])
    response = client.invoke(endpoint, kw["function_name"], payload, client_context=context)
    _print_body(response.body, kw["output_format"].lower())
    if response.function_error:
        raise FunctionError(
            f"{kw['function_name']} failed: {response.error_summary}",
            "see the function's log lines in the rustlambda watch output",
        )


def _read_input(path: Path, flag: str) -> bytes:
    from .errors import ConfigError

    if str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{flag} {path}: {exc.strerror or exc}", "pass a readable file") from exc


def _print_body(body: bytes, output_format: str) -> None:
    import json

    text = body.decode(errors="replace")
    if output_format == "text":
        with contextlib.suppress(ValueError):
            text = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    click.echo(text)


@cli.command("deploy")
@click.argument("name", required=False)
@click.option("--all", "deploy_all", is_flag=True, help="Deploy every built binary.")
@click.option("-p", "--profile", help="AWS profile [default: boto3's chain, AWS_PROFILE].")
@click.option("-r", "--region", help="AWS region [default: AWS_REGION or the profile's].")
@click.option("--endpoint-url", help="AWS endpoint [default: AWS_ENDPOINT_URL or AWS's].")
@click.option("--retry-attempts", type=click.IntRange(1, 20), help="Attempts per AWS call.")
@click.option("-a", "--alias", help="Point this alias at the version (implies --publish).")
@click.option("--publish", is_flag=True, default=None, help="Publish a version.")
@click.option("--enable-function-url", is_flag=True, default=None, help="Enable the function URL.")
@click.option(
    "--disable-function-url", is_flag=True, default=None, help="Disable the function URL."
)
@click.option(
    "--function-url-auth",
    type=click.Choice(["NONE", "AWS_IAM"], case_sensitive=False),
    help="The function URL's auth type [default: NONE, public].",
)
@click.option(
    "--memory", "--memory-size", "memory", type=click.IntRange(128, 10240), help="Memory in MB."
)
@click.option("--timeout", type=click.IntRange(1, 900), help="Function timeout in seconds.")
@click.option(
    "--env-var",
    "--env-vars",
    "env_vars",
    multiple=True,
    help="KEY=VALUE for the function (repeatable, or KEY=VALUE,OTHER=VALUE).",
)
@click.option("--env-file", type=click.Path(path_type=Path), help="File of KEY=VALUE lines.")
@click.option("--merge-env", is_flag=True, default=None, help="Keep variables set on Lambda.")
@click.option("--tracing", type=click.Choice(["active", "passthrough"], case_sensitive=False))
@click.option("--role", "--iam-role", "role", help="Execution role ARN (or name).")
@click.option(
    "--layer", "--layer-arn", "layers", multiple=True, help="Layer ARN (repeatable, or a,b)."
)
@click.option("--subnet-ids", help="Comma-separated VPC subnet IDs.")
@click.option("--security-group-ids", help="Comma-separated VPC security group IDs.")
@click.option("--ipv6-allowed-for-dual-stack", is_flag=True, default=None)
@click.option("--runtime", help="provided.al2023 (default) or provided.al2.")
@click.option("--description", help="The function's (or layer version's) description.")
@click.option("--log-retention", type=click.IntRange(1, 3653), help="Days to keep the logs.")
@click.option("--tag", "--tags", "tags", multiple=True, help="KEY=VALUE tag (repeatable).")
@click.option("--s3-bucket", help="Upload the zip through this S3 bucket.")
@click.option("--s3-key", help="The S3 key for the zip [default: the function's name].")
@click.option("--extension", is_flag=True, default=None, help="Publish an extension as a layer.")
@click.option("--internal", is_flag=True, default=None, help="The extension is internal.")
@click.option("--compatible-runtimes", help="Comma-separated runtimes of the extension layer.")
@click.option("-l", "--lambda-dir", type=click.Path(path_type=Path), help="Where builds are.")
@click.option("--manifest-path", type=click.Path(path_type=Path), help="Path to Cargo.toml.")
@click.option("--binary-name", help="The binary to deploy, when NAME is another name.")
@click.option(
    "--binary-path", type=click.Path(path_type=Path), help="A bootstrap or zip to deploy."
)
@click.option("--arm64", "arch", flag_value="arm64", help="Take the arm64 build.")
@click.option("--x86-64", "arch", flag_value="x86_64", help="Take the x86_64 build.")
@click.option(
    "-i", "--include", "include", multiple=True, help="Extra file for the zip (repeatable)."
)
@click.option("--dry", "--dry-run", "dry_run", is_flag=True, default=None, help="Plan only.")
@click.option(
    "-o",
    "--output-format",
    type=click.Choice(["text", "json"], case_sensitive=False),
    default="text",
    help="text or json.",
)
@click.option("--json", "as_json", is_flag=True, help="Same as --output-format json.")
@click.option("-q", "--quiet", is_flag=True, help="No progress messages.")
def deploy_command(**kw: Any) -> None:
    """Create or update functions (and extension layers) on AWS Lambda from the build."""
    from .config import parse_env_vars
    from .deploy import DeployOptions, deploy
    from .deploy.settings import parse_tags
    from .targets import Arch

    def listed(value: str | None) -> tuple[str, ...] | None:
        return None if value is None else tuple(v.strip() for v in value.split(",") if v.strip())

    def joined(values: tuple[str, ...]) -> tuple[str, ...] | None:
        return listed(",".join(values)) if values else None

    options = DeployOptions(
        name=kw["name"],
        all=kw["deploy_all"],
        manifest_path=kw["manifest_path"],
        lambda_dir=kw["lambda_dir"],
        binary_name=kw["binary_name"],
        binary_path=kw["binary_path"],
        arch=Arch(kw["arch"]) if kw["arch"] else None,
        extension=kw["extension"],
        internal=kw["internal"],
        compatible_runtimes=listed(kw["compatible_runtimes"]),
        include=kw["include"] or None,
        runtime=kw["runtime"],
        memory=kw["memory"],
        timeout=kw["timeout"],
        env=parse_env_vars(kw["env_vars"]) if kw["env_vars"] else None,
        env_file=kw["env_file"],
        merge_env=kw["merge_env"],
        tracing=kw["tracing"],
        role=kw["role"],
        layers=joined(kw["layers"]),
        subnet_ids=listed(kw["subnet_ids"]),
        security_group_ids=listed(kw["security_group_ids"]),
        ipv6_allowed_for_dual_stack=kw["ipv6_allowed_for_dual_stack"],
        description=kw["description"],
        log_retention=kw["log_retention"],
        tags=parse_tags(kw["tags"]) if kw["tags"] else None,
        publish=kw["publish"],
        alias=kw["alias"],
        enable_function_url=kw["enable_function_url"],
        disable_function_url=kw["disable_function_url"],
        function_url_auth=kw["function_url_auth"],
        s3_bucket=kw["s3_bucket"],
        s3_key=kw["s3_key"],
        dry_run=kw["dry_run"],
        profile=kw["profile"],
        region=kw["region"],
        endpoint_url=kw["endpoint_url"],
        retry_attempts=kw["retry_attempts"],
    )
    err = Console(stderr=True, soft_wrap=True)
    reporter = ConsoleReporter(err, verbose=False, quiet=kw["quiet"])
    result = deploy(options, reporter=reporter)
    if kw["as_json"] or kw["output_format"].lower() == "json":
        click.echo(result.to_json())
        return
    for d in result.deployments:
        click.echo(f"{d.name} ({d.kind}, {d.arch}): {d.status}" + (f"  {d.arn}" if d.arn else ""))
        if result.dry_run:
            for action in d.actions:
                click.echo(f"  - {action}")
            continue
        if d.role_created:
            click.echo(f"  role created: {d.role_created}")
        if d.config_updated:
            click.echo(f"  configuration updated: {', '.join(d.config_updated)}")
        if d.kind == "function":
            click.echo(f"  code: {'uploaded' if d.code_updated else 'unchanged'} ({d.sha256[:12]})")
        if d.tags_updated:
            click.echo(f"  tags updated: {', '.join(d.tags_updated)}")
        if d.version:
            click.echo(f"  version: {d.version}")
        if d.alias:
            click.echo(f"  alias: {d.alias}")
        if d.url:
            click.echo(f"  url: {d.url}")


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
