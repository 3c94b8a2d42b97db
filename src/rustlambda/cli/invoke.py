"""``rustlambda invoke``: call a function served by ``rustlambda watch``, or (``--remote``) one
deployed on AWS Lambda, its last 4 KB of log on stderr. cargo-lambda's flags; those it refuses
fail with their own error."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import ConfigError, FunctionError
from ..flags import refusal_options, refuse
from ..settings.model import Command

if TYPE_CHECKING:
    from ..emulator.client import InvokeResponse

_DEFAULT_ADDRESS = "127.0.0.1"


@dataclass(frozen=True)
class InvokeFlags:
    """`invoke`'s flags, typed (click's parameter names are the fields)."""

    function_name: str
    invoke_address: str | None
    short_a: str | None
    invoke_port: int
    data_ascii: str | None
    data_file: Path | None
    data_example: str | None
    list_examples: bool
    client_context_ascii: str | None
    client_context_file: Path | None
    identity_id: str | None
    identity_pool_id: str | None
    output_format: str
    endpoint_url: str | None
    remote: bool
    profile: str | None
    region: str | None
    alias: str | None
    retry_attempts: int | None
    skip_cache: bool
    verbose: int
    color: str | None
    global_config: str | None
    context: str | None
    admerge: bool


def _typed(command: Callable[[InvokeFlags], None]) -> Callable[..., None]:
    """``command`` gets click's parameters as one `InvokeFlags`, cargo-lambda's refused flags
    raised first."""

    @functools.wraps(command)
    def with_flags(**params: Any) -> None:
        refuse(Command.INVOKE, params)
        command(InvokeFlags(**params))

    return with_flags


@click.command("invoke")
@click.argument("function_name", default="_")
@click.option(
    "--invoke-address",
    default=None,
    help=f"Emulator address [default: {_DEFAULT_ADDRESS}].",
)
@click.option(
    "-A",
    "short_a",
    default=None,
    metavar="ADDRESS|JSON",
    help="The payload when it is JSON (--data-ascii), else the emulator address "
    "(--invoke-address): cargo-lambda documents -A for both.",
)
@click.option(
    "-P", "--invoke-port", type=int, default=9000, show_default=True, help="Emulator port."
)
@click.option("--data-ascii", help="The payload, as a JSON string.")
@click.option(
    "-F", "--data-file", type=click.Path(path_type=Path, allow_dash=True), help="Payload file."
)
@click.option("-E", "--data-example", help="A bundled example event (see --list-examples).")
@click.option("--list-examples", is_flag=True, help="List the bundled example events and exit.")
@click.option("--client-context-ascii", help="Client context JSON for the function.")
@click.option(
    "--client-context-file", type=click.Path(path_type=Path), help="File with client context JSON."
)
@click.option("--identity-id", help="The Cognito identity id the function sees.")
@click.option("--identity-pool-id", help="The Cognito identity pool id the function sees.")
@click.option(
    "-o",
    "--output-format",
    type=click.Choice(["text", "json"], case_sensitive=False),
    default="text",
    show_default=True,
    help="text: indented JSON; json: the response as received.",
)
@click.option(
    "--endpoint-url", help="Invoke this endpoint (the emulator's, or AWS's with --remote)."
)
@click.option("-R", "--remote", is_flag=True, help="Invoke the function deployed on AWS Lambda.")
@click.option("-p", "--profile", help="--remote: AWS profile.")
@click.option("-r", "--region", help="--remote: AWS region.")
@click.option("-a", "--alias", "--qualifier", "alias", help="Version or alias to invoke.")
@click.option("--retry-attempts", type=click.IntRange(1, 20), help="--remote: attempts per call.")
@click.option(
    "--skip-cache",
    is_flag=True,
    help="Accepted: rustlambda's example events are bundled, nothing is cached.",
)
@click.option("-v", "--verbose", count=True, hidden=True)
@click.option("--color", type=click.Choice(["auto", "always", "never"]), hidden=True)
@click.option("--global", "global_config", hidden=True)
@click.option("-x", "--context", hidden=True)
@click.option("--admerge", is_flag=True, hidden=True)
@refusal_options(Command.INVOKE)
@_typed
def invoke_command(flags: InvokeFlags) -> None:
    """Invoke a function served by `rustlambda watch` (payload defaults to {}), or with
    --remote the one deployed on AWS Lambda.

    --global, --context, --admerge, -v and --color are accepted and change nothing, as in
    cargo-lambda (invoke reads no configuration)."""
    from ..emulator import examples

    if flags.list_examples:
        # cargo-lambda's names, one a line: an alias (the same fixture upstream ships twice)
        # is listed as a name of its own
        for name in sorted({*examples.names(), *examples.aliases()}):
            click.echo(name)
        return
    if not flags.remote:
        _refuse_remote_only(flags)
    address, data_ascii = _short_a(flags.short_a, flags.invoke_address, flags.data_ascii)
    payload = _payload(data_ascii, flags.data_file, flags.data_example)
    context = _client_context(flags.client_context_ascii, flags.client_context_file)
    identity = _identity(flags.identity_id, flags.identity_pool_id)
    if flags.remote:
        response = _remote(flags, payload, context, identity)
    else:
        from ..emulator import client

        endpoint = flags.endpoint_url or client.endpoint_for(
            address or _DEFAULT_ADDRESS, flags.invoke_port
        )
        qualified = flags.function_name + (f":{flags.alias}" if flags.alias else "")
        response = client.invoke(
            endpoint, qualified, payload, client_context=context, cognito_identity=identity
        )
    _print_body(response.body, flags.output_format.lower())
    if response.function_error:
        where = (
            "above (the log's last 4 KB) and in CloudWatch Logs"
            if flags.remote
            else "in the rustlambda watch output"
        )
        raise FunctionError(
            f"{flags.function_name} failed: {response.error_summary}",
            f"see the function's log lines {where}",
        )


def _remote(
    flags: InvokeFlags, payload: bytes, context: str | None, identity: str | None
) -> InvokeResponse:
    """The deployed function through boto3, its log tail on stderr."""
    if identity is not None:
        raise ConfigError(
            "--identity-id/--identity-pool-id only reach a local function: Lambda's "
            "Invoke API takes no Cognito identity",
            "drop them with --remote (a function invoked through Cognito gets it from there)",
        )
    from ..deployer.invoke import RemoteTarget, invoke_remote

    target = RemoteTarget(
        flags.function_name,
        flags.alias,
        flags.profile,
        flags.region,
        flags.endpoint_url,
        flags.retry_attempts,
    )
    # the environment as deploy reads it (AWS_REGION too, which botocore alone ignores)
    response = invoke_remote(target, payload, client_context=context, environ=os.environ)
    if response.log:  # the invocation's last 4 KB of log (LogType=Tail)
        click.echo(response.log.rstrip("\n"), err=True)
    return response


def _refuse_remote_only(flags: InvokeFlags) -> None:
    given = {
        "--profile": flags.profile is not None,
        "--region": flags.region is not None,
        "--retry-attempts": flags.retry_attempts is not None,
    }
    remote_only = [flag for flag, on in given.items() if on]
    if remote_only:
        raise ConfigError(
            f"{', '.join(remote_only)} only apply to --remote",
            "add --remote to invoke the deployed function, or drop them",
        )


def _short_a(
    value: str | None, address: str | None, data_ascii: str | None
) -> tuple[str | None, str | None]:
    """``-A``: JSON is the payload, anything else the address (cargo-lambda's help documents -A
    as --data-ascii, its parser takes it as --invoke-address; both uses work here)."""
    if value is None:
        return address, data_ascii
    try:
        json.loads(value)
    except ValueError:
        if address is not None:
            raise ConfigError(
                "-A and --invoke-address both give the address", "pass only one of them"
            ) from None
        return value, data_ascii
    if data_ascii is not None:
        raise ConfigError("-A and --data-ascii both give the payload", "pass only one of them")
    return address, value


def _payload(data_ascii: str | None, data_file: Path | None, data_example: str | None) -> bytes:
    from ..emulator import examples

    given = {"--data-ascii": data_ascii, "--data-file": data_file, "--data-example": data_example}
    sources = [flag for flag, value in given.items() if value is not None]
    if len(sources) > 1:
        raise ConfigError(f"{' and '.join(sources)} both give the payload", "pass only one of them")
    if data_ascii is not None:
        return data_ascii.encode()
    if data_file is not None:
        return _read_input(data_file, "--data-file")
    if data_example is not None:
        return examples.load(data_example)
    return b"{}"


def _client_context(ascii_context: str | None, context_file: Path | None) -> str | None:
    if context_file is None:
        return ascii_context
    if ascii_context is not None:
        raise ConfigError(
            "--client-context-ascii and --client-context-file both give the client context",
            "pass only one of them",
        )
    raw = _read_input(context_file, "--client-context-file")
    try:
        return raw.decode()
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"--client-context-file {context_file} is not UTF-8 text",
            "pass a file holding the client context as JSON",
        ) from exc


def _identity(identity_id: str | None, pool_id: str | None) -> str | None:
    """The Cognito identity header's JSON (Lambda's field names), when either part is given."""
    if identity_id is None and pool_id is None:
        return None
    return json.dumps(
        {"cognitoIdentityId": identity_id or "", "cognitoIdentityPoolId": pool_id or ""}
    )


def _read_input(path: Path, flag: str) -> bytes:
    if str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{flag} {path}: {exc.strerror or exc}", "pass a readable file") from exc


def _print_body(body: bytes, output_format: str) -> None:
    text = body.decode(errors="replace")
    if output_format == "text":
        with contextlib.suppress(ValueError):
            text = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    click.echo(text)
