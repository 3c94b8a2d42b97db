"""The invoke side: the Lambda ``Invoke`` API as boto3, the AWS CLI and RIE clients call it, and
the function-URL front.

    POST /2015-03-31/functions/{name}/invocations                  Invoke (boto3, AWS CLI)
    POST /2015-03-31/functions/function/invocations                the RIE path
    POST /2021-11-15/functions/{name}/response-streaming-invocations  InvokeWithResponseStream
    ANY  /lambda-url/{name}/{path}                                 a function URL (cargo-lambda)
    ANY  /{path}                    with one function served, any path not under /YYYY-MM-DD/
    ANY  /.rt/{name}/...            the Runtime API of a function in only-Lambda-APIs mode

``{name}`` may be a function name, ``name:qualifier`` or an ARN; ``function`` and ``_``
(cargo-lambda's default) mean the only function being served.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from . import function_url, protocol
from .cors import allow, preflight
from .http_messages import Body
from .httpserver import Request, Response, StreamResponse
from .invocation import ResponseStream
from .model import Outcome

if TYPE_CHECKING:
    from .service import Emulator

_DEFAULT_NAMES = ("function", "_")
#: LogType=Tail returns the last 4 KB of the invocation's log.
_TAIL_BYTES = 4096
_INVOKE = re.compile(r"/2015-03-31/functions/([^/]+)/invocations/?")
_INVOKE_STREAM = re.compile(r"/2021-11-15/functions/([^/]+)/response-streaming-invocations/?")
#: Paths of AWS APIs (``/2015-03-31/...``): never a function URL, even with one function.
_API_PATH = re.compile(r"/\d{4}-\d{2}-\d{2}(/|$)")
LAMBDA_URL_PREFIX = "/lambda-url/"
RUNTIME_API_PREFIX = "/.rt/"


def _aws_error(status: int, code: str, message: str) -> Response:
    return Response(
        status,
        json.dumps({"Type": "User", "message": message, "Message": message}).encode(),
        {"x-amzn-ErrorType": code, "Content-Type": "application/json"},
    )


def function_name(raw: str) -> str:
    """``arn:aws:lambda:r:a:function:name[:q]``, ``a:function:name[:q]`` (a partial ARN),
    ``name:q`` or ``name`` → ``name``."""
    parts = raw.split(":")
    if raw.startswith("arn:"):
        return parts[6] if len(parts) > 6 else raw
    if len(parts) >= 3 and parts[1] == "function":
        return parts[2]
    return parts[0]


@dataclass(frozen=True, slots=True)
class _Call:
    function: str
    payload: Body
    kind: str
    client_context: str | None
    cognito_identity: str | None
    tail: bool


class InvokeApi:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._async_tasks: set[asyncio.Task[object]] = set()

    async def handle(self, request: Request) -> Response | StreamResponse:
        path = request.path
        if path.startswith("/20"):
            match = _INVOKE.fullmatch(path)
            if match and request.method == "POST":
                return await self.invoke(request, unquote(match[1]))
            match = _INVOKE_STREAM.fullmatch(path)
            if match and request.method == "POST":
                return await self.invoke_stream(request, unquote(match[1]))
        if path.startswith(LAMBDA_URL_PREFIX):
            name, _, rest = path[len(LAMBDA_URL_PREFIX) :].partition("/")
            return await self.function_url(request, unquote(name), "/" + rest)
        if path.startswith(RUNTIME_API_PREFIX):
            return await self.emulator.lambda_api_request(request, path[len(RUNTIME_API_PREFIX) :])
        if not _API_PATH.match(path):
            if self.emulator.pending is not None:  # how many functions? after the build
                unavailable = await self._unavailable()
                if unavailable is not None:
                    return function_url.error(503, unavailable)
            if len(self.emulator.function_names) == 1:
                return await self.function_url(request, self.emulator.function_names[0], path)
        return _aws_error(
            404, "UnknownOperationException", f"no such operation: {request.method} {path}"
        )

    # ----------------------------------------------------------------- Invoke
    def _resolve(self, raw: str) -> str | Response:
        names = self.emulator.function_names
        name = function_name(raw)
        resolved = self.emulator.resolve(name)
        if resolved is not None:
            return resolved
        if name in _DEFAULT_NAMES and len(names) == 1:
            return names[0]
        settings = self.emulator.settings
        arn = protocol.function_arn(name, settings.region, settings.account_id)
        served = ", ".join(names) or "none"
        return _aws_error(
            404, "ResourceNotFoundException", f"Function not found: {arn} (serving: {served})"
        )

    async def _unavailable(self) -> str | None:
        """While the functions are being built: wait for them (None), or why the invocation
        cannot run, as Lambda says it for a function that is not Active."""
        pending = self.emulator.pending
        problem = await pending.settle() if pending is not None else None
        if problem is None:
            return None
        state, _, reason = problem.partition(": ")
        hint = (
            "; invoke again once it is served, or start rustlambda watch with --wait"
            if state == "Pending"
            else ""
        )
        return (
            "The operation cannot be performed at this time. The function is currently in the "
            f"following state: {state} ({reason}{hint})"
        )

    async def _prepare(self, request: Request, raw_name: str, operation: str) -> _Call | Response:
        if self.emulator.pending is not None:
            unavailable = await self._unavailable()
            if unavailable is not None:
                return _aws_error(409, "ResourceConflictException", unavailable)
        name = self._resolve(raw_name)
        if isinstance(name, Response):
            return name
        kind = request.headers.get("x-amz-invocation-type", "RequestResponse")
        if kind not in ("RequestResponse", "Event", "DryRun"):
            return _aws_error(
                400,
                "InvalidParameterValueException",
                f"Invalid invocation type {kind!r}: use RequestResponse, Event or DryRun",
            )
        limit = protocol.ASYNC_REQUEST_LIMIT if kind == "Event" else protocol.REQUEST_LIMIT
        parts = await request.read_parts()
        if request.size > limit:
            return _aws_error(
                413,
                "RequestEntityTooLargeException",
                f"Request must be smaller than {limit} bytes for the "
                f"{'InvokeAsync' if kind == 'Event' else operation} operation",
            )
        payload = parts[0] if len(parts) == 1 else b"".join(parts)
        problem = protocol.json_problem(payload)
        if problem is not None:
            return _aws_error(
                400,
                "InvalidRequestContentException",
                f"Could not parse request body into json: {problem}",
            )
        try:
            context = _client_context(request)
            cognito = request.headers.get("lambda-runtime-cognito-identity")
            cognito = protocol.header_json(cognito) if cognito is not None else None
        except (binascii.Error, ValueError) as exc:
            return _aws_error(
                400,
                "InvalidRequestContentException",
                f"Client context must be a valid Base64-encoded JSON object: {exc}",
            )
        tail = request.headers.get("x-amz-log-type") == "Tail"
        return _Call(name, payload, kind, context, cognito, tail)

    async def invoke(self, request: Request, raw_name: str) -> Response:
        call = await self._prepare(request, raw_name, "InvokeFunction")
        if isinstance(call, Response):
            return call
        headers = {"X-Amz-Executed-Version": "$LATEST"}
        if call.kind == "DryRun":
            return Response(204, b"", headers)
        if call.kind == "Event":
            request_id = protocol.new_request_id()
            task: asyncio.Task[object] = asyncio.ensure_future(
                self.emulator.invoke_async(
                    call.function,
                    call.payload,
                    call.client_context,
                    call.cognito_identity,
                    request_id=request_id,
                )
            )
            self._async_tasks.add(task)
            task.add_done_callback(self._async_tasks.discard)
            headers["x-amzn-RequestId"] = request_id
            return Response(202, b"", headers)
        outcome = await self.emulator.invoke_async(
            call.function,
            call.payload,
            call.client_context,
            call.cognito_identity,
            wait_report=call.tail,
        )
        # Lambda answers with the invocation's id (boto3: ResponseMetadata["RequestId"]).
        headers["x-amzn-RequestId"] = outcome.request_id
        headers["Content-Type"] = (
            outcome.content_type
            if outcome.content_type and not outcome.function_error
            else "application/json"
        )
        if outcome.function_error:
            headers["X-Amz-Function-Error"] = "Unhandled"
        if call.tail:
            headers["X-Amz-Log-Result"] = _tail(outcome.logs)
        return Response(200, outcome.body, headers)

    async def invoke_stream(self, request: Request, raw_name: str) -> Response | StreamResponse:
        call = await self._prepare(request, raw_name, "InvokeWithResponseStream")
        if isinstance(call, Response):
            return call
        stream = ResponseStream()
        request_id = protocol.new_request_id()
        running = asyncio.ensure_future(
            self.emulator.invoke_async(
                call.function,
                call.payload,
                call.client_context,
                call.cognito_identity,
                stream=stream,
                wait_report=call.tail,
                request_id=request_id,
            )
        )
        await stream.wait_begun()
        headers = {
            # boto3 reads this header as ResponseStreamContentType: the function's own type.
            "Content-Type": stream.content_type or "application/octet-stream",
            "X-Amz-Executed-Version": "$LATEST",
            "x-amzn-RequestId": request_id,
        }
        return StreamResponse(200, headers, self._event_stream(stream, running, call.tail))

    @staticmethod
    async def _event_stream(
        stream: ResponseStream, running: asyncio.Future[Outcome], tail: bool
    ) -> AsyncIterator[bytes]:
        async for chunk in stream.chunks():
            yield protocol.payload_chunk_event(chunk)
        outcome = await running
        error_code = details = None
        if outcome.function_error:
            error_code = outcome.error_type or "Unhandled"
            details = outcome.body.decode(errors="replace")
        log = _tail(outcome.logs) if tail else None
        yield protocol.invoke_complete_event(error_code, details, log)

    # ----------------------------------------------------------------- function URL
    async def function_url(
        self, request: Request, raw_name: str, path: str
    ) -> Response | StreamResponse:
        if self.emulator.pending is not None:
            unavailable = await self._unavailable()
            if unavailable is not None:
                return function_url.error(503, unavailable)
        name = self._resolve(raw_name)
        if isinstance(name, Response):
            return name
        cors = self.emulator.settings.cors
        if cors and (answered := preflight(request)) is not None:
            return answered
        body = await request.read()
        if request.size > protocol.REQUEST_LIMIT:
            return function_url.error(413, "Request payload too large")
        event = function_url.request_event(request, path, body)
        stream = ResponseStream()
        running = asyncio.ensure_future(
            self.emulator.invoke_async(name, event, stream=stream, wait_report=False)
        )
        answer = await function_url.response(stream, running)
        return allow(answer, request) if cors else answer


def _client_context(request: Request) -> str | None:
    raw = request.headers.get("x-amz-client-context")
    if raw is None:
        direct = request.headers.get("lambda-runtime-client-context")
        return protocol.header_json(direct) if direct is not None else None
    return protocol.header_json(base64.b64decode(raw, validate=True).decode())


def _tail(lines: tuple[str, ...]) -> str:
    text = "".join(f"{line}\n" for line in lines).encode()
    return base64.b64encode(text[-_TAIL_BYTES:]).decode()
