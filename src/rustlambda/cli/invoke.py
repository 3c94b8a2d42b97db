"""``rustlambda invoke``: call a function served by ``rustlambda watch``, or (``--remote``) one
deployed on AWS Lambda, its last 4 KB of log on stderr. cargo-lambda's flags; those it refuses
fail with their own error."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import ConfigError, FunctionError
from ..flags import refusal_options, refuse
from ..settings.model import Command

_DEFAULT_ADDRESS = "127.0.0.1"


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
def invoke_command(**params: Any) -> None:
    """Invoke a function served by `rustlambda watch` (payload defaults to {}), or with
    --remote the one deployed on AWS Lambda.

    --global, --context, --admerge, -v and --color are accepted and change nothing, as in
    cargo-lambda (invoke reads no configuration)."""
    from ..emulator import client, examples

    refuse(Command.INVOKE, params)
    if params["list_examples"]:
        # cargo-lambda's names, one a line: an alias (the same fixture upstream ships twice)
        # is listed as a name of its own
        for name in sorted({*examples.names(), *examples.aliases()}):
            click.echo(name)
        return
    if not params["remote"]:
        remote_only = [
            flag
            for flag, key in (("--profile", "profile"), ("--region", "region"))
            if params[key] is not None
        ]
        if params["retry_attempts"] is not None:
            remote_only.append("--retry-attempts")
        if remote_only:
            raise ConfigError(
                f"{', '.join(remote_only)} only apply to --remote",
                "add --remote to invoke the deployed function, or drop them",
            )
    address, data_ascii = _short_a(
        params["short_a"], params["invoke_address"], params["data_ascii"]
    )
    payload = _payload(data_ascii, params["data_file"], params["data_example"])
    context = _client_context(params["client_context_ascii"], params["client_context_file"])
    identity = _identity(params["identity_id"], params["identity_pool_id"])
    function_name: str = params["function_name"]
    if params["remote"]:
        if identity is not None:
            raise ConfigError(
                "--identity-id/--identity-pool-id only reach a local function: Lambda's "
                "Invoke API takes no Cognito identity",
                "drop them with --remote (a function invoked through Cognito gets it from there)",
            )
        from ..deployer.invoke import RemoteTarget, invoke_remote

        target = RemoteTarget(
            function_name,
            params["alias"],
            params["profile"],
            params["region"],
            params["endpoint_url"],
            params["retry_attempts"],
        )
        response = invoke_remote(target, payload, client_context=context)
        if response.log:  # the invocation's last 4 KB of log (LogType=Tail)
            click.echo(response.log.rstrip("\n"), err=True)
    else:
        endpoint = params["endpoint_url"] or client.endpoint_for(
            address or _DEFAULT_ADDRESS, params["invoke_port"]
        )
        qualified = function_name + (f":{params['alias']}" if params["alias"] else "")
        response = client.invoke(
            endpoint, qualified, payload, client_context=context, cognito_identity=identity
        )
    _print_body(response.body, str(params["output_format"]).lower())
    if response.function_error:
        where = (
            "above (the log's last 4 KB) and in CloudWatch Logs"
            if params["remote"]
            else "in the rustlambda watch output"
        )
        raise FunctionError(
            f"{function_name} failed: {response.error_summary}",
            f"see the function's log lines {where}",
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
    return _read_input(context_file, "--client-context-file").decode()


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
