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


@dataclass(frozen=True)
class InvokeResponse:
    status: int
    body: bytes
    #: ``X-Amz-Function-Error`` ("Unhandled") when the function failed.
    function_error: str | None
    executed_version: str | None = None

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
            return InvokeResponse(
                response.status,
                response.read(),
                response.headers.get("X-Amz-Function-Error"),
                response.headers.get("X-Amz-Executed-Version"),
            )
    except urllib.error.HTTPError as exc:
        body = exc.read()
        code = exc.headers.get("x-amzn-ErrorType", f"HTTP {exc.code}")
        try:
            parsed = json.loads(body)
            message = parsed.get("message") or parsed.get("Message") or body.decode()
        except (ValueError, AttributeError):
            message = body.decode(errors="replace")
        raise InvokeRequestError(
            f"{code}: {message}",
            "check the function name (rustlambda watch lists what it serves) and the payload",
        ) from exc
    except (urllib.error.URLError, ConnectionError, http.client.HTTPException, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InvokeConnectionError(
            f"no Lambda emulator answered at {endpoint}: {reason}",
            "start one with `rustlambda watch` (it listens on 127.0.0.1:9000 by default), or "
            "pass --invoke-address/--invoke-port to reach it",
        ) from exc
