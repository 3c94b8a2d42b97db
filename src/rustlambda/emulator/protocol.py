"""Lambda's wire formats as the emulator speaks them: limits, ids, error bodies, REPORT lines.

Numbers and spellings follow Lambda (and the Runtime Interface Emulator where Lambda's own are
not public); see LAMBDA.md in the developers' notes.
"""

from __future__ import annotations

import base64
import json
import math
import os
import secrets
import struct
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import simdjson

#: Synchronous invoke request payload limit (the caller gets RequestEntityTooLargeException).
REQUEST_LIMIT = 6 * 1024 * 1024
#: Asynchronous (``Event``) invoke payload limit since 2025-10.
ASYNC_REQUEST_LIMIT = 1024 * 1024
#: Largest response a runtime may post; beyond it the caller gets Function.ResponseSizeTooLarge.
RESPONSE_LIMIT = 6 * 1024 * 1024 + 100
#: A streamed response may grow further (Lambda's soft limit for response streaming).
STREAMING_RESPONSE_LIMIT = 20 * 1024 * 1024
#: Lambda's shutdown budget with external extensions; then SIGKILL.
SHUTDOWN_BUDGET = 2.0
#: At most this many external extensions per function.
MAX_EXTENSIONS = 10

#: A streamed HTTP answer (lambda_http, lambda_runtime's StreamResponse): a JSON prelude
#: ``{statusCode, headers, cookies}``, eight NUL bytes, then the body.
STREAM_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response"
PRELUDE_END = b"\x00" * 8

RUNTIME_PREFIX = "/2018-06-01/runtime"
EXTENSION_PREFIX = "/2020-01-01/extension"

# SHUTDOWN's ``shutdownReason``, spelled as Lambda sends it: lower case. AWS's Runtime Interface
# Emulator (aws-lambda-runtime-interface-emulator, lambda/rapid/shutdown.go renders the reason it
# is given into model.AgentShutdownEvent) sends "spindown", and extensions written against
# Lambda compare with lower case ("spindown" / "timeout" / "failure" in the Go extension clients
# of AWS's samples and of vendors' production extensions). The upper-case SPINDOWN in the
# lambda-extension crate is only its doc comment: it deserializes the field as a String.
SPINDOWN = "spindown"
TIMEOUT = "timeout"
FAILURE = "failure"


def error_body(error_type: str, message: str, *, stack: list[str] | None = None) -> bytes:
    body: dict[str, object] = {"errorMessage": message, "errorType": error_type}
    if stack is not None:
        body["stackTrace"] = stack
    return json.dumps(body).encode()


def header_json(text: str) -> str:
    """JSON text re-serialised to travel in an HTTP header: one line, ASCII only.

    A pretty-printed client context would put newlines in ``Lambda-Runtime-Client-Context``
    (not a valid header), and a character above U+00FF cannot be sent at all; the Rust runtime
    also reads the header as visible ASCII. Raises ValueError for text that is not JSON.
    """
    return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=True)


def json_problem(payload: bytes) -> str | None:
    """Why ``payload`` is not JSON (Lambda refuses such an Invoke), or None (empty is fine).

    Every payload is checked, as Lambda checks them, by simdjson: it validates 5 MiB in about
    a millisecond without building Python objects (json.loads took 5 to 80 ms, orjson as long
    for payloads of many small objects). Only a payload it refuses is parsed again by the json
    module, for a message with the line and column, and for the two things simdjson alone
    refuses: a number too large for a double (1e999) and a lone surrogate escape, which
    Lambda's parser accepts. NaN and Infinity are refused, as Lambda refuses them.
    """
    if not payload or payload.isspace():
        return None
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        # One parser per thread, kept: its buffers (about twice the largest payload) are
        # reused; a new parser's fresh memory cost page faults worth 5 to 15 ms per 5 MiB.
        parser = _parsers.parser = simdjson.Parser()
    try:
        document = parser.parse(payload)
        del document  # the parser cannot parse again while a document refers to it
        return None
    except ValueError:  # UnicodeDecodeError included
        pass
    try:
        # Decoding first: json.loads(bytes) detects the encoding and decodes with
        # "surrogatepass", which takes twice as long on large payloads.
        json.loads(payload.decode(), parse_constant=_refuse_constant)
    except UnicodeDecodeError as exc:
        return f"not UTF-8: {exc}"
    except ValueError as exc:
        return str(exc)
    return None


_parsers = threading.local()


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON value")


def new_request_id() -> str:
    """A random (version 4) UUID, as Lambda's request ids are. Formatted from 16 random bytes
    directly: uuid.uuid4() also builds a UUID object (twice the time)."""
    raw = int.from_bytes(os.urandom(16)) & _UUID4_CLEAR | _UUID4_SET
    text = f"{raw:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


#: Version 4 and the RFC 4122 variant, as uuid.UUID(version=4) sets them.
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def new_trace_id(now: float | None = None) -> str:
    """An X-Ray trace header as Lambda passes it: Root, Parent and Sampled (one read of the
    random source for both ids)."""
    epoch = int(now if now is not None else time.time())
    ids = os.urandom(20).hex()
    return f"Root=1-{epoch:08x}-{ids[:24]};Parent={ids[24:]};Sampled=0"


def function_arn(name: str, region: str, account: str) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def log_stream_name(now: float | None = None) -> str:
    day = time.strftime("%Y/%m/%d", time.gmtime(now))
    return f"{day}/[$LATEST]{secrets.token_hex(16)}"


@dataclass(frozen=True)
class Report:
    """What Lambda logs after an invocation (the REPORT line), with measured memory."""

    request_id: str
    function: str
    duration_ms: float
    memory_size: int
    max_memory_used_mb: int
    init_duration_ms: float | None = None
    #: "success" | "error" | "timeout" | "crash"
    status: str = "success"
    error_type: str | None = None

    @property
    def billed_duration_ms(self) -> int:
        # Custom runtimes are billed for their init phase too.
        billed = self.duration_ms + (self.init_duration_ms or 0.0)
        return max(1, math.ceil(billed))

    @property
    def line(self) -> str:
        parts = [
            f"REPORT RequestId: {self.request_id}",
            f"Duration: {self.duration_ms:.2f} ms",
            f"Billed Duration: {self.billed_duration_ms} ms",
            f"Memory Size: {self.memory_size} MB",
            f"Max Memory Used: {self.max_memory_used_mb} MB",
        ]
        if self.init_duration_ms is not None:
            parts.append(f"Init Duration: {self.init_duration_ms:.2f} ms")
        if self.status == "timeout":
            parts.append("Status: timeout")
        elif self.status == "crash":
            parts.append("Status: error")
            parts.append(f"Error Type: {self.error_type or 'Runtime.ExitError'}")
        return "\t".join(parts)


def timeout_message(request_id: str, timeout: float) -> str:
    return f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"


def exit_message(request_id: str, returncode: int | None) -> str:
    if returncode is None:
        how = "unknown"
    elif returncode < 0:
        how = f"signal: {_signal_name(-returncode)}"
    else:
        how = f"exit status {returncode}"
    return f"RequestId: {request_id} Error: Runtime exited with error: {how}"


def _signal_name(number: int) -> str:
    """The signal as Lambda's (Go) runtime words it: "killed", "terminated", "aborted"."""
    import signal

    try:
        description = signal.strsignal(number)
    except ValueError:
        description = None
    return description.lower() if description else f"signal {number}"


def decode_error_body(raw: str) -> bytes:
    """A streaming error trailer's body (base64; tolerate plain JSON)."""
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError:
        return raw.encode()


# --- AWS event stream (application/vnd.amazon.eventstream), for InvokeWithResponseStream ---

_STRING = 7


def event_stream_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One event-stream message: prelude, CRCs, string headers, payload."""
    encoded = b""
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        encoded += struct.pack("!B", len(raw_name)) + raw_name
        encoded += struct.pack("!BH", _STRING, len(raw_value)) + raw_value
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack("!II", total, len(encoded))
    prelude += struct.pack("!I", zlib.crc32(prelude))
    message = prelude + encoded + payload
    return message + struct.pack("!I", zlib.crc32(message))


def payload_chunk_event(data: bytes) -> bytes:
    return event_stream_message(
        {
            ":event-type": "PayloadChunk",
            ":content-type": "application/octet-stream",
            ":message-type": "event",
        },
        data,
    )


def invoke_complete_event(
    error_code: str | None = None, details: str | None = None, log_result: str | None = None
) -> bytes:
    body: dict[str, str] = {}
    if error_code:
        body["ErrorCode"] = error_code
    if details:
        body["ErrorDetails"] = details
    if log_result:
        body["LogResult"] = log_result
    return event_stream_message(
        {
            ":event-type": "InvokeComplete",
            ":content-type": "application/json",
            ":message-type": "event",
        },
        json.dumps(body).encode(),
    )
