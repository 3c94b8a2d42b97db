"""The invoke side: the Lambda ``Invoke`` API as boto3, the AWS CLI and RIE clients call it.

    POST /2015-03-31/functions/{name}/invocations                  Invoke (boto3, AWS CLI)
    POST /2015-03-31/functions/function/invocations                the RIE path
    POST /2021-11-15/functions/{name}/response-streaming-invocations  InvokeWithResponseStream

``{name}`` may be a function name, ``name:qualifier`` or an ARN; ``function`` and ``_``
(cargo-lambda's default) mean the only function being served.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from typing import TYPE_CHECKING

from aiohttp import web

from . import protocol

if TYPE_CHECKING:
    from . import Emulator

_DEFAULT_NAMES = ("function", "_")
#: LogType=Tail returns the last 4 KB of the invocation's log.
_TAIL_BYTES = 4096


def _aws_error(status: int, code: str, message: str) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps({"Type": "User", "message": message, "Message": message}).encode(),
        headers={"x-amzn-ErrorType": code, "Content-Type": "application/json"},
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


class InvokeApi:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._async_tasks: set[asyncio.Task[object]] = set()

    def app(self) -> web.Application:
        # The body is read by hand so oversized payloads get Lambda's error, not aiohttp's.
        app = web.Application(client_max_size=protocol.REQUEST_LIMIT * 4)
        app.router.add_post("/2015-03-31/functions/{name}/invocations", self.invoke)
        app.router.add_post(
            "/2021-11-15/functions/{name}/response-streaming-invocations", self.invoke_stream
        )
        app.router.add_route("*", "/{tail:.*}", self.unknown)
        return app

    async def unknown(self, request: web.Request) -> web.Response:
        return _aws_error(
            404, "UnknownOperationException", f"no such operation: {request.method} {request.path}"
        )

    def _resolve(self, request: web.Request) -> str | web.Response:
        raw = request.match_info["name"]
        names = self.emulator.function_names
        name = function_name(raw)
        resolved = self.emulator.resolve(name)
        if resolved is not None:
            return resolved
        if name in _DEFAULT_NAMES and len(names) == 1:
            return names[0]
        arn = protocol.function_arn(
            name, self.emulator.settings.region, self.emulator.settings.account_id
        )
        served = ", ".join(names) or "none"
        return _aws_error(
            404, "ResourceNotFoundException", f"Function not found: {arn} (serving: {served})"
        )

    async def _read_payload(
        self, request: web.Request, limit: int, operation: str
    ) -> bytes | web.Response:
        parts: list[bytes] = []
        size = 0
        while True:
            chunk = await request.content.readany()
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                return _aws_error(
                    413,
                    "RequestEntityTooLargeException",
                    f"Request must be smaller than {limit} bytes for the {operation} operation",
                )
            parts.append(chunk)
        payload = b"".join(parts)
        if payload.strip():
            try:
                json.loads(payload)
            except ValueError as exc:
                return _aws_error(
                    400,
                    "InvalidRequestContentException",
                    f"Could not parse request body into json: {exc}",
                )
        return payload

    def _client_context(self, request: web.Request) -> str | web.Response | None:
        raw = request.headers.get("X-Amz-Client-Context")
        if raw is None:
            return request.headers.get("Lambda-Runtime-Client-Context")
        try:
            text = base64.b64decode(raw, validate=True).decode()
            json.loads(text)
        except (binascii.Error, ValueError) as exc:
            return _aws_error(
                400,
                "InvalidRequestContentException",
                f"Client context must be a valid Base64-encoded JSON object: {exc}",
            )
        return text

    async def _prepare(
        self, request: web.Request, operation: str
    ) -> tuple[str, bytes, str | None, str] | web.Response:
        name = self._resolve(request)
        if isinstance(name, web.Response):
            return name
        kind = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if kind not in ("RequestResponse", "Event", "DryRun"):
            return _aws_error(
                400,
                "InvalidParameterValueException",
                f"Invalid invocation type {kind!r}: use RequestResponse, Event or DryRun",
            )
        limit = protocol.ASYNC_REQUEST_LIMIT if kind == "Event" else protocol.REQUEST_LIMIT
        payload = await self._read_payload(
            request, limit, "InvokeAsync" if kind == "Event" else operation
        )
        if isinstance(payload, web.Response):
            return payload
        context = self._client_context(request)
        if isinstance(context, web.Response):
            return context
        return name, payload, context, kind

    async def invoke(self, request: web.Request) -> web.Response:
        prepared = await self._prepare(request, "InvokeFunction")
        if isinstance(prepared, web.Response):
            return prepared
        name, payload, context, kind = prepared
        headers = {"X-Amz-Executed-Version": "$LATEST"}
        if kind == "DryRun":
            return web.Response(status=204, headers=headers)
        cognito = request.headers.get("Lambda-Runtime-Cognito-Identity")
        if kind == "Event":
            request_id = protocol.new_request_id()
            task: asyncio.Task[object] = asyncio.ensure_future(
                self.emulator.invoke_async(name, payload, context, cognito, request_id=request_id)
            )
            self._async_tasks.add(task)
            task.add_done_callback(self._async_tasks.discard)
            headers["x-amzn-RequestId"] = request_id
            return web.Response(status=202, headers=headers)
        tail = request.headers.get("X-Amz-Log-Type") == "Tail"
        outcome = await self.emulator.invoke_async(
            name, payload, context, cognito, wait_report=tail
        )
        # Lambda answers with the invocation's id (boto3: ResponseMetadata["RequestId"]).
        headers["x-amzn-RequestId"] = outcome.request_id
        if outcome.function_error:
            headers["X-Amz-Function-Error"] = "Unhandled"
        if tail:
            headers["X-Amz-Log-Result"] = _tail(outcome.logs)
        return web.Response(
            status=200, body=outcome.body, headers=headers, content_type="application/json"
        )

    async def invoke_stream(self, request: web.Request) -> web.StreamResponse:
        prepared = await self._prepare(request, "InvokeWithResponseStream")
        if isinstance(prepared, web.Response):
            return prepared
        name, payload, context, _ = prepared
        sink: asyncio.Queue[bytes | None] = asyncio.Queue()
        cognito = request.headers.get("Lambda-Runtime-Cognito-Identity")
        tail = request.headers.get("X-Amz-Log-Type") == "Tail"
        request_id = protocol.new_request_id()
        running = asyncio.ensure_future(
            self.emulator.invoke_async(
                name, payload, context, cognito, sink=sink, wait_report=tail, request_id=request_id
            )
        )
        response = web.StreamResponse(
            status=200,
            headers={
                "Content-Type": "application/vnd.amazon.eventstream",
                "X-Amz-Executed-Version": "$LATEST",
                "x-amzn-RequestId": request_id,
            },
        )
        await response.prepare(request)
        while (chunk := await sink.get()) is not None:
            await response.write(protocol.payload_chunk_event(chunk))
        outcome = await running
        error_code = details = None
        if outcome.function_error:
            error_code = outcome.error_type or "Unhandled"
            details = outcome.body.decode(errors="replace")
        log = _tail(outcome.logs) if tail else None
        await response.write(protocol.invoke_complete_event(error_code, details, log))
        await response.write_eof()
        return response


def _tail(lines: tuple[str, ...]) -> str:
    text = "".join(f"{line}\n" for line in lines).encode()
    return base64.b64encode(text[-_TAIL_BYTES:]).decode()
