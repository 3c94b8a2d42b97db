"""The client side of ``rustlambda invoke``: one Invoke call to a running emulator (or any
Lambda-compatible endpoint), with the errors a user can act on."""

from __future__ import annotations

import base64
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from ..errors import InvokeConnectionError, InvokeRequestError
from .protocol import PRELUDE_END, STREAM_CONTENT_TYPE


def split_http_integration_response(
    body: bytes, content_type: str | None = None
) -> tuple[dict[str, object] | None, bytes]:
    """A streamed HTTP answer's JSON prelude (statusCode, headers, cookies) and its body.

    ``lambda_http`` and ``lambda_runtime`` stream responses as
    ``application/vnd.awslambda.http-integration-response``: the prelude, eight NUL bytes,
    then the body. Without that content type the prelude is still recognised when the body
    starts with a JSON object followed by the eight NULs. Anything else: (None, body).
    """
    end = body.find(PRELUDE_END)
    if end < 0 or (content_type != STREAM_CONTENT_TYPE and body[:1] != b"{"):
        return None, body
    try:
        prelude = json.loads(body[:end])
    except ValueError:
        return None, body
    if not isinstance(prelude, dict):
        return None, body
    return prelude, body[end + len(PRELUDE_END) :]


@dataclass(frozen=True)
class InvokeResponse:
    status: int
    #: The function's answer (a streamed HTTP answer's prelude taken off: see ``prelude``).
    body: bytes
    #: ``X-Amz-Function-Error`` ("Unhandled") when the function failed.
    function_error: str | None
    executed_version: str | None = None
    #: The prelude of a streamed HTTP answer (statusCode, headers, cookies), if it had one.
    prelude: dict[str, object] | None = None
    #: The last 4 KB of the invocation's log, when asked for (``LogType=Tail``).
    log: str | None = None

    @property
    def error_summary(self) -> str:
        """``errorType: errorMessage`` from an error body, or the body itself."""
        try:
            parsed = json.loads(self.body)
        except ValueError:
            return self.body.decode(errors="replace")[:500]
        if isinstance(parsed, dict):
            kind = parsed.get("errorType") or self.function_error
            return f"{kind}: {parsed.get('errorMessage', '')}".rstrip(": ")
        return str(parsed)[:500]


def invoke_url(endpoint: str, function: str) -> str:
    quoted = urllib.parse.quote(function, safe="")
    return f"{endpoint.rstrip('/')}/2015-03-31/functions/{quoted}/invocations"


def endpoint_for(address: str, port: int) -> str:
    host = f"[{address}]" if ":" in address and not address.startswith("[") else address
    return f"http://{host}:{port}"


def invoke(
    endpoint: str,
    function: str,
    payload: bytes,
    *,
    client_context: str | None = None,
    timeout: float = 960.0,
    cognito_identity: str | None = None,
) -> InvokeResponse:
    """POST one synchronous invocation; raise when nobody answers or the request is refused.
    ``cognito_identity``: the JSON the function's runtime gets as its Cognito identity."""
    headers = {"Content-Type": "application/json", "X-Amz-Invocation-Type": "RequestResponse"}
    if client_context is not None:
        headers["X-Amz-Client-Context"] = base64.b64encode(client_context.encode()).decode()
    if cognito_identity is not None:
        headers["Lambda-Runtime-Cognito-Identity"] = cognito_identity
    url = invoke_url(endpoint, function)
    request = urllib.request.Request(url, data=payload, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            function_error = response.headers.get("X-Amz-Function-Error")
            prelude, body = (None, response.read())
            if not function_error:
                prelude, body = split_http_integration_response(
                    body, response.headers.get("Content-Type")
                )
            return InvokeResponse(
                response.status,
                body,
                function_error,
                response.headers.get("X-Amz-Executed-Version"),
                prelude,
            )
    except urllib.error.HTTPError as exc:
        body = exc.read()
        code = exc.headers.get("x-amzn-ErrorType", f"HTTP {exc.code}")
        try:
            parsed = json.loads(body)
            message = parsed.get("message") or parsed.get("Message") or body.decode()
        except (ValueError, AttributeError):
            message = body.decode(errors="replace")
        fix = (
            'invoke again once rustlambda watch serves the function (it prints "invoke at" '
            "then), or start it with --wait"
            if code == "ResourceConflictException"
            else "check the function name (rustlambda watch lists what it serves) and the payload"
        )
        raise InvokeRequestError(f"{code}: {message}", fix) from exc
    except (urllib.error.URLError, ConnectionError, http.client.HTTPException, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InvokeConnectionError(
            f"no Lambda emulator answered at {endpoint}: {reason}",
            "start one with `rustlambda watch` (it listens on 127.0.0.1:9000 by default), or "
            "pass --invoke-address/--invoke-port to reach it",
        ) from exc
