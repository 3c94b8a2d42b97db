"""``rustlambda invoke --remote``: one synchronous invocation of a function deployed on AWS
Lambda (lambda:InvokeFunction), with the session and credentials errors of deploy, and the last
4 KB of the invocation's log (``LogType=Tail``).

An invoke AWS refuses (no such function or alias, a payload that is not JSON, no permission)
is an `InvokeRequestError`, as the emulator's refusals are for a local invoke; a function that
ran and failed comes back as a response with ``function_error`` set.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import botocore.exceptions

from ..emulator.client import InvokeResponse, split_http_integration_response
from ..errors import ConfigError, InvokeConnectionError, InvokeRequestError
from .aws import Aws, connect, error_code

if TYPE_CHECKING:
    from mypy_boto3_lambda.type_defs import InvocationResponseTypeDef


@dataclass(frozen=True)
class RemoteTarget:
    """Which deployed function, and as whom."""

    function: str  # a name, ARN or partial ARN
    qualifier: str | None = None  # a version or alias
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
    """Invoke ``target`` once (RequestResponse) and return its answer with the decoded log
    tail. Missing credentials, region or profile raise `AwsCredentialsError`."""
    aws = connect(
        profile=target.profile,
        region=target.region,
        endpoint_url=target.endpoint_url,
        retry_attempts=target.retry_attempts,
        environ=environ,
    )
    answer, body = _invoke(aws, target, _request(target, payload, client_context))
    function_error = answer.get("FunctionError")
    prelude = None
    if not function_error:
        prelude, body = split_http_integration_response(body)
    return InvokeResponse(
        int(answer.get("StatusCode", 200)),
        body,
        function_error,
        answer.get("ExecutedVersion"),
        prelude,
        log=_decoded(answer.get("LogResult")),
    )


def _request(target: RemoteTarget, payload: bytes, client_context: str | None) -> dict[str, object]:
    """lambda:InvokeFunction's parameters (the client context base64-encoded, as AWS takes it)."""
    request: dict[str, object] = {
        "FunctionName": target.function,
        "InvocationType": "RequestResponse",
        "LogType": "Tail",
        "Payload": payload,
    }
    if target.qualifier is not None:
        request["Qualifier"] = target.qualifier
    if client_context is not None:
        request["ClientContext"] = base64.b64encode(client_context.encode()).decode()
    return request


def _invoke(
    aws: Aws, target: RemoteTarget, request: dict[str, object]
) -> tuple[InvocationResponseTypeDef, bytes]:
    """AWS's answer and the payload it returned; each way the call can fail as the
    `RustLambdaError` that says what to fix."""
    subject = target.function + (f":{target.qualifier}" if target.qualifier else "")
    try:
        answer = aws.lambda_.invoke(**request)  # type: ignore[arg-type]
        body = answer["Payload"].read()
    except botocore.exceptions.ClientError as exc:
        code = error_code(exc) or "Unknown"
        message = exc.response.get("Error", {}).get("Message", "") or str(exc)
        raise InvokeRequestError(f"{code}: {message}", _fix(code, aws.region)) from exc
    except (
        botocore.exceptions.EndpointConnectionError,
        botocore.exceptions.ConnectionClosedError,
        botocore.exceptions.ReadTimeoutError,
    ) as exc:
        raise InvokeConnectionError(
            f"invoking {subject} in {aws.region}: {exc}",
            "check the network, --region and --endpoint-url (or AWS_ENDPOINT_URL)",
        ) from exc
    except botocore.exceptions.ParamValidationError as exc:  # checked before any request
        raise ConfigError(
            f"invoking {subject}: {' '.join(str(exc).split())}",
            "pass the function's name (or ARN) and a qualifier",
        ) from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise InvokeRequestError(
            f"invoking {subject} in {aws.region}: {exc}",
            "check the AWS configuration (profile, credentials, --endpoint-url)",
        ) from exc
    return answer, body


def _decoded(log_result: str | None) -> str | None:
    if not log_result:
        return None
    try:
        return base64.b64decode(log_result, validate=True).decode(errors="replace")
    except (binascii.Error, ValueError):
        return None


_FIXES = {
    "ResourceNotFoundException": "check the function name (and --qualifier), --region and "
    "--profile: the function must exist in that account and region",
    "AccessDeniedException": "the credentials need lambda:InvokeFunction on the function",
    "InvalidRequestContentException": "pass a JSON payload (--data-ascii, --data-file or "
    "--data-example)",
    "RequestEntityTooLargeException": "Lambda takes at most 6 MB per synchronous invoke",
    "ResourceConflictException": "the function is being created or updated: try again in a moment",
    "TooManyRequestsException": "the function's concurrency is exhausted: try again later",
}


def _fix(code: str, region: str) -> str:
    return _FIXES.get(code, f"see the AWS error above (region {region})")
