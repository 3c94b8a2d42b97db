"""The function-URL front: an HTTP request becomes a payload format 2.0 event (what Lambda
function URLs and API Gateway HTTP APIs send), and the function's answer becomes the HTTP
response — buffered (``{statusCode, headers, cookies, body, isBase64Encoded}``, or any other
JSON as a 200 body) or streamed (``application/vnd.awslambda.http-integration-response``: a
JSON prelude ``{statusCode, headers, cookies}``, eight NUL bytes, then the body, relayed to the
client as it arrives). cargo-lambda serves the same at ``/lambda-url/<function>/<path>``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, unquote

from .httpserver import Request, Response, StreamResponse
from .invocation import ResponseStream
from .model import Outcome
from .protocol import PRELUDE_END, STREAM_CONTENT_TYPE, new_request_id

#: A prelude longer than this is not a prelude (the stream is relayed as it is).
_MAX_PRELUDE = 1 << 20
#: Bodies of these types travel as text (isBase64Encoded: false); anything else as base64.
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/x-www-form-urlencoded",
    "application/graphql",
    "application/yaml",
)
#: Hop-by-hop and framing headers a proxy does not pass on.
_NOT_FORWARDED = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer", "content-length"}
)


def _is_text(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith(_TEXT_TYPES) or kind.endswith(("+json", "+xml"))


def _headers_and_cookies(request: Request) -> tuple[dict[str, str], list[str]]:
    """Lower-case headers (repeats joined with ","), the Cookie header as a list of cookies."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.header_list:
        key = name.lower()
        if key == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
        elif key in headers:
            headers[key] += "," + value
        else:
            headers[key] = value
    headers.setdefault("x-forwarded-for", request.remote)
    headers.setdefault("x-forwarded-proto", "http")
    return headers, cookies


def _body_fields(body: bytes, content_type: str) -> dict[str, Any]:
    """``body`` and ``isBase64Encoded``: text for textual types that decode, base64 otherwise."""
    if not body:
        return {"isBase64Encoded": False}
    if not content_type or _is_text(content_type):
        try:
            return {"body": body.decode(), "isBase64Encoded": False}
        except UnicodeDecodeError:
            pass
    return {"body": base64.b64encode(body).decode(), "isBase64Encoded": True}


def request_event(request: Request, path: str, body: bytes) -> bytes:
    """The payload format 2.0 event for ``request`` (``path``: the path the function sees)."""
    headers, cookies = _headers_and_cookies(request)
    host = headers.get("host", "localhost")
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": request.query,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",  # what a function URL without IAM auth sends
            "apiId": host.split(".", 1)[0],
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": request.method,
                "path": unquote(path),
                "protocol": "HTTP/1.1",
                "sourceIp": request.remote,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": new_request_id(),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
    }
    if cookies:
        event["cookies"] = cookies
    if request.query:
        params: dict[str, str] = {}
        for key, value in parse_qsl(request.query, keep_blank_values=True):
            params[key] = f"{params[key]},{value}" if key in params else value
        event["queryStringParameters"] = params
    event.update(_body_fields(body, headers.get("content-type", "")))
    return json.dumps(event).encode()


def error(status: int, message: str) -> Response:
    return Response(status, json.dumps({"Message": message}).encode(), _JSON)


_JSON = {"Content-Type": "application/json"}


def _header_pairs(headers: object, cookies: object) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    if isinstance(headers, dict):
        for name, value in headers.items():
            if str(name).lower() in _NOT_FORWARDED:
                continue
            values = value if isinstance(value, list) else [value]
            pairs += [(str(name), str(v)) for v in values]
    if isinstance(cookies, list):
        pairs += [("Set-Cookie", str(cookie)) for cookie in cookies]
    return pairs


def buffered_response(body: bytes) -> Response:
    """The HTTP response for a function's buffered answer."""
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or "statusCode" not in answer:
        # Anything but a response object is the body of a 200 (Lambda infers the shape).
        return Response(200, body, _JSON)
    try:
        status = int(answer["statusCode"])
    except (TypeError, ValueError):
        return error(502, "the function's statusCode is not a number")
    headers = _header_pairs(answer.get("headers"), answer.get("cookies"))
    multi = answer.get("multiValueHeaders")
    if isinstance(multi, dict):
        seen = {name.lower() for name, _ in headers}
        headers += [p for p in _header_pairs(multi, None) if p[0].lower() not in seen]
    raw = answer.get("body")
    if raw is None:
        data = b""
    elif answer.get("isBase64Encoded"):
        try:
            data = base64.b64decode(str(raw))
        except (binascii.Error, ValueError):
            return error(502, "the function's body is not valid base64")
    else:
        data = raw.encode() if isinstance(raw, str) else json.dumps(raw).encode()
    return Response(status, data, headers)


async def response(
    stream: ResponseStream, running: asyncio.Future[Outcome]
) -> Response | StreamResponse:
    """The HTTP response for an invocation: streamed when the function streams."""
    if await stream.wait_begun() and stream.streaming:
        return await _streamed(stream, running)
    outcome = await running
    if outcome.function_error:
        # A function URL answers 502 when the function fails; the error helps more locally.
        return Response(502, outcome.body, _JSON)
    return buffered_response(outcome.body)


async def _streamed(
    stream: ResponseStream, running: asyncio.Future[Outcome]
) -> Response | StreamResponse:
    chunks = stream.chunks()
    if stream.content_type != STREAM_CONTENT_TYPE:
        kind = stream.content_type or "application/octet-stream"
        return StreamResponse(200, {"Content-Type": kind}, _relay(b"", chunks, running))
    head = b""
    async for chunk in chunks:
        head += chunk
        end = head.find(PRELUDE_END)
        if end >= 0 or len(head) > _MAX_PRELUDE:
            break
    end = head.find(PRELUDE_END)
    if end < 0:
        outcome = await running
        if outcome.function_error:
            return Response(502, outcome.body, _JSON)
        return Response(200, head, {"Content-Type": "application/octet-stream"})
    try:
        prelude = json.loads(head[:end])
        status = int(prelude.get("statusCode", 200))
    except (ValueError, TypeError, AttributeError):
        return Response(200, head, {"Content-Type": "application/octet-stream"})
    headers = _header_pairs(prelude.get("headers"), prelude.get("cookies"))
    return StreamResponse(status, headers, _relay(head[end + len(PRELUDE_END) :], chunks, running))


async def _relay(
    first: bytes, chunks: AsyncIterator[bytes], running: asyncio.Future[Outcome]
) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in chunks:
        yield chunk
    await running  # an error mid-stream: the client has the body so far, as with Lambda
