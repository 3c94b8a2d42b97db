"""``rustlambda invoke``: call a function served by ``rustlambda watch``, or (``--remote``) the
one deployed on AWS Lambda."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from ..errors import ConfigError, FunctionError


@click.command("invoke")
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
@click.option("--endpoint-url", help="Invoke this endpoint (the emulator's; with --remote, AWS's).")
@click.option("-R", "--remote", is_flag=True, help="Invoke the function deployed on AWS Lambda.")
@click.option("-p", "--profile", help="--remote: the AWS profile [default: AWS_PROFILE].")
@click.option("-r", "--region", help="--remote: the AWS region [default: AWS_REGION, profile's].")
@click.option("--alias", "--qualifier", "qualifier", help="--remote: a version or alias.")
@click.option(
    "--retry-attempts", type=click.IntRange(1, 20), help="--remote: attempts per AWS call."
)
def invoke_command(
    function_name: str,
    invoke_address: str,
    invoke_port: int,
    data_ascii: str | None,
    data_file: Path | None,
    data_example: str | None,
    list_examples: bool,
    client_context_ascii: str | None,
    client_context_file: Path | None,
    output_format: str,
    endpoint_url: str | None,
    remote: bool,
    profile: str | None,
    region: str | None,
    qualifier: str | None,
    retry_attempts: int | None,
) -> None:
    """Invoke a function served by `rustlambda watch` (payload defaults to {}), or with
    --remote the one deployed on AWS Lambda (its last 4 KB of log go to stderr)."""
    from ..emulator import client, examples

    if list_examples:
        # cargo-lambda's names, one a line: an alias (the same fixture upstream ships twice)
        # is listed as a name of its own
        for name in sorted({*examples.names(), *examples.aliases()}):
            click.echo(name)
        return
    if not remote:
        remote_flags = {
            "--profile": profile,
            "--region": region,
            "--retry-attempts": retry_attempts,
        }
        remote_only = [flag for flag, value in remote_flags.items() if value is not None]
        if remote_only:
            raise ConfigError(
                f"{', '.join(remote_only)} only apply to --remote",
                "add --remote to invoke the deployed function, or drop them",
            )
    given = {"--data-ascii": data_ascii, "--data-file": data_file, "--data-example": data_example}
    sources = [flag for flag, value in given.items() if value is not None]
    if len(sources) > 1:
        raise ConfigError(f"{' and '.join(sources)} both give the payload", "pass only one of them")
    if data_ascii is not None:
        payload = data_ascii.encode()
    elif data_file is not None:
        payload = _read_input(data_file, "--data-file")
    elif data_example is not None:
        payload = examples.load(data_example)
    else:
        payload = b"{}"
    context = client_context_ascii
    if client_context_file is not None:
        if context is not None:
            raise ConfigError(
                "--client-context-ascii and --client-context-file both give the client context",
                "pass only one of them",
            )
        context = _read_input(client_context_file, "--client-context-file").decode()
    if remote:
        from ..deployer.invoke import RemoteTarget, invoke_remote

        target = RemoteTarget(
            function_name, qualifier, profile, region, endpoint_url, retry_attempts
        )
        response = invoke_remote(target, payload, client_context=context)
        if response.log:
            click.echo(response.log.rstrip("\n"), err=True)
    else:
        endpoint = endpoint_url or client.endpoint_for(invoke_address, invoke_port)
        qualified = function_name + (f":{qualifier}" if qualifier else "")
        response = client.invoke(endpoint, qualified, payload, client_context=context)
    _print_body(response.body, output_format.lower())
    if response.function_error:
        where = "above (the log's last 4 KB)" if remote else "in the rustlambda watch output"
        raise FunctionError(
            f"{function_name} failed: {response.error_summary}",
            f"see the function's log lines {where}",
        )


def _read_input(path: Path, flag: str) -> bytes:
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
