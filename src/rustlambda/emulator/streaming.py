"""Receiving a runtime's streamed answer (``Lambda-Runtime-Function-Response-Mode: streaming``):
chunks relayed as they come, the size limit, and a failure in the middle of the stream.

A runtime reports a mid-stream failure with two fields, ``Lambda-Runtime-Function-Error-Type``
and ``Lambda-Runtime-Function-Error-Body`` (base64), which Lambda's documentation puts in HTTP
*trailers*. ``lambda_runtime`` (crate 1.x, ``requests.rs`` and ``ToStreamErrorTrailer`` in
``types.rs``) announces them in a ``Trailer`` header but sends them as the last *body chunk*,
the text ``Lambda-Runtime-Function-Error-Type: Runtime.StreamError\\r\\nLambda-Runtime-Function-
Error-Body: <base64 of the error's text>\\r\\n``, since its hyper body channel has no trailers.
Both forms are understood; a chunk that could be the in-body form is held back (not relayed)
until it is clear whether it is one.
"""

from __future__ import annotations

import json
import re

from . import protocol
from .httpserver import Request
from .invocation import Invocation

_ERROR_TYPE = b"Lambda-Runtime-Function-Error-Type: "
_ERROR_BODY = b"Lambda-Runtime-Function-Error-Body: "
_IN_BODY_ERROR = re.compile(
    rb"Lambda-Runtime-Function-Error-Type: ([^\r\n]*)\r\n"
    rb"Lambda-Runtime-Function-Error-Body: ([^\r\n]*)\r\n?"
)
#: An in-body error record longer than this is taken for data.
_MAX_RECORD = 1 << 20


def could_be_error_record(held: bytes) -> bool:
    """Whether ``held`` (the start of a chunk) may still turn out to be an in-body error."""
    if len(held) > _MAX_RECORD or held[: len(_ERROR_TYPE)] != _ERROR_TYPE[: len(held)]:
        return False
    first = held.find(b"\r\n")
    if first < 0:
        return True
    rest = held[first + 2 :]
    if rest[: len(_ERROR_BODY)] != _ERROR_BODY[: len(rest)]:
        return False
    second = rest.find(b"\r\n")
    return second < 0 or second + 2 == len(rest)


def error_record(held: bytes) -> tuple[str, bytes] | None:
    """The error type and the JSON error body of a complete in-body error record."""
    match = _IN_BODY_ERROR.fullmatch(held)
    if match is None:
        return None
    error_type = match[1].decode("latin-1").strip() or "Runtime.StreamError"
    return error_type, error_json(error_type, protocol.decode_error_body(match[2].decode()))


def error_json(error_type: str, body: bytes) -> bytes:
    """An error body as JSON ``{errorMessage, errorType}`` (lambda_runtime sends plain text)."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return body
    return protocol.error_body(error_type, body.decode(errors="replace"))


async def receive(inv: Invocation, request: Request) -> None:
    """Relay a streamed answer to ``inv``'s stream as it comes, then settle ``inv``."""
    limit = protocol.STREAMING_RESPONSE_LIMIT
    stream = inv.stream
    parts: list[bytes] = []
    size = 0
    held = b""

    def emit(data: bytes) -> None:
        nonlocal size
        size += len(data)
        if size <= limit:
            parts.append(data)
            if stream is not None:
                stream.push(data)

    try:
        async for chunk in request.iter_chunks():
            if held or chunk[:1] == b"L":
                held += chunk
                if not could_be_error_record(held):
                    emit(held)
                    held = b""
            else:
                emit(chunk)
    except ConnectionError:
        body = protocol.error_body("Runtime.TruncatedResponse", "the response stream broke off")
        inv.settle("error", body, "Runtime.TruncatedResponse")
        raise
    error_type = request.trailers.get("lambda-runtime-function-error-type")
    in_body = error_record(held) if held else None
    if error_type:
        emit(held)
        raw = request.trailers.get("lambda-runtime-function-error-body", "")
        inv.settle("error", error_json(error_type, protocol.decode_error_body(raw)), error_type)
    elif in_body is not None:
        inv.settle("error", in_body[1], in_body[0])
    elif size + len(held) > limit:
        message = f"Response payload size exceeded maximum allowed payload size ({limit} bytes)."
        inv.settle(
            "error",
            protocol.error_body("Function.ResponseSizeTooLarge", message),
            "Function.ResponseSizeTooLarge",
        )
    else:
        emit(held)
        inv.settle("success", b"".join(parts))
