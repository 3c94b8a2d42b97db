"""``rustlambda invoke --remote``: one synchronous invocation of a function deployed on AWS
Lambda (lambda:InvokeFunction), with the same session, credentials and errors as deploy."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass

from ..emulator.client import InvokeResponse
from .aws import call, connect


@dataclass(frozen=True)
class RemoteTarget:
    """Which deployed function, and as whom."""

    function: str
    qualifier: str | None = None
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    retry_attempts: int | None = None


def invoke_remote(
    target: RemoteTarget,
    payload: bytes,
    *,
    client_context: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> InvokeResponse:
    """Invoke ``target`` once (RequestResponse); AWS errors are `DeployError`s, missing
    credentials or region `AwsCredentialsError`s (as for deploy)."""
    aws = connect(
        profile=target.profile,
        region=target.region,
        endpoint_url=target.endpoint_url,
        retry_attempts=target.retry_attempts,
        environ=environ,
    )
    kwargs: dict[str, object] = {
        "FunctionName": target.function,
        "InvocationType": "RequestResponse",
        "Payload": payload,
    }
    if target.qualifier is not None:
        kwargs["Qualifier"] = target.qualifier
    if client_context is not None:
        kwargs["ClientContext"] = base64.b64encode(client_context.encode()).decode()
    subject = target.function + (f":{target.qualifier}" if target.qualifier else "")
    answer = call("Invoke", subject, aws.lambda_.invoke, **kwargs)
    return InvokeResponse(
        int(answer.get("StatusCode", 200)),
        answer["Payload"].read(),
        answer.get("FunctionError"),
        answer.get("ExecutedVersion"),
    )
