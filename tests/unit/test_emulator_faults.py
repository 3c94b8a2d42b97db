"""Faults injected into the emulator's servers and log pump, in-process (no function runs):
malformed HTTP to the Invoke API and to the Runtime API get a correct answer and one report
line, never a traceback; a log line of any length loses no byte."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from rustlambda.emulator import Emulator, EmulatorSettings, FunctionSpec
from rustlambda.emulator.httpserver import Request, Response, serve
from rustlambda.emulator.logs import MAX_LINE_BYTES, LineSplitter

from .fakes import REAL_ELF

#: Requests no HTTP/1.1 server should accept, and the status each must get.
MALFORMED = {
    "bad Content-Length": (
        b"POST /2015-03-31/functions/f/invocations HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: abc\r\n\r\n{}",
        400,
    ),
    "two Content-Lengths": (
        b"POST /2015-03-31/functions/f/invocations HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 5\r\nContent-Length: 6\r\n\r\n{}",
        400,
    ),
    "bad chunk size": (
        b"POST /2015-03-31/functions/f/invocations HTTP/1.1\r\nHost: x\r\n"
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
        400,
    ),
    "oversized header": (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n", 0),
}


async def _exchange(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def _no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing was logged with a traceback (with no logging set up, Python prints those)."""
    noisy = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert noisy == [], [(r.name, r.getMessage()) for r in noisy]


def run(coro: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(coro(), 60))


# --------------------------------------------------------------------------- Invoke API


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_invoke_api_answers_malformed_http_without_a_traceback(
    case: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bootstrap = tmp_path / "bootstrap"
    bootstrap.write_bytes(REAL_ELF)
    bootstrap.chmod(0o755)
    data, status = MALFORMED[case]
    notices: list[str] = []

    async def scenario() -> None:
        emulator = Emulator(
            [FunctionSpec("f", bootstrap)],
            EmulatorSettings(port=0, environ={}, ipv6_loopback=False),
            on_notice=notices.append,
        )
        await emulator.start()
        try:
            answer = await _exchange(emulator.port, data)
            assert _status(answer) == (status or 431), answer[:200]
            # The server still serves (an operation it does not know: Lambda's 404).
            good = await _exchange(
                emulator.port,
                b"GET /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
            assert _status(good) == 404, good
        finally:
            await emulator.stop()

    run(scenario)
    _no_tracebacks(caplog)
    assert len(notices) == 1, notices
    assert notices[0].startswith(f"Invoke API: answered {status or 431} to a malformed request")
    assert "\n" not in notices[0]


# --------------------------------------------------------------------------- Runtime API


async def _echo(request: Request) -> Response:
    if request.path == "/bug":
        raise RuntimeError("a bug in a handler")
    return Response(200, await request.read())


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_runtime_api_answers_malformed_http(case: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    data, status = MALFORMED[case]
    errors: list[str] = []

    async def scenario() -> None:
        server = await serve(_echo, on_error=errors.append)
        port = server.sockets[0].getsockname()[1]
        try:
            answer = await _exchange(port, data)
            # llhttp has no limit of its own on headers; the server refuses over 64 KiB.
            assert _status(answer) == (status or 431), answer[:200]
        finally:
            server.close()

    run(scenario)
    _no_tracebacks(caplog)
    assert len(errors) == 1 and errors[0].startswith(f"answered {status or 431} "), errors


def test_runtime_api_answers_500_when_a_handler_fails(caplog: pytest.LogCaptureFixture) -> None:
    """Before, the client never got an answer and asyncio printed "Task exception was never
    retrieved" with the traceback."""
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []

    async def scenario() -> None:
        server = await serve(_echo, on_error=errors.append)
        port = server.sockets[0].getsockname()[1]
        try:
            answer = await _exchange(port, b"POST /bug HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
            assert _status(answer) == 500
            assert b"a bug in a handler" in answer
        finally:
            server.close()

    run(scenario)
    _no_tracebacks(caplog)
    assert errors == ["answered 500 to POST /bug: RuntimeError: a bug in a handler"]


def test_runtime_api_still_serves_a_keep_alive_connection_after_a_good_request() -> None:
    async def scenario() -> None:
        server = await serve(_echo)
        port = server.sockets[0].getsockname()[1]
        try:
            two = b"POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi" * 2
            answer = await _exchange(port, two + b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
            assert answer.count(b"HTTP/1.1 200 OK") == 3
        finally:
            server.close()

    run(scenario)


# --------------------------------------------------------------------------- log lines


def _alphabet(size: int) -> bytes:
    letters = b"abcdefghijklmnopqrstuvwxyz"
    return (letters * (size // len(letters) + 1))[:size]


def test_a_10_mib_line_without_newline_loses_no_byte() -> None:
    data = _alphabet(10 * 1024 * 1024)
    splitter = LineSplitter()
    lines: list[str] = []
    for start in range(0, len(data), 65536):  # as the pipe hands it over
        lines += splitter.feed(data[start : start + 65536])
    lines += splitter.finish()
    assert "".join(lines).encode() == data
    assert all(len(line) == MAX_LINE_BYTES for line in lines[:-1])
    assert len(lines) == -(-len(data) // MAX_LINE_BYTES)


def test_lambda_splits_at_256_kib_minus_26() -> None:
    assert MAX_LINE_BYTES == 262_118


def test_lines_keep_their_order_and_lose_only_the_newline() -> None:
    splitter = LineSplitter(limit=8)
    lines = splitter.feed(b"one\r\ntwo\n\nthree-is-long\nfo") + splitter.finish()
    assert lines == ["one", "two", "", "three-is", "-long", "fo"]


def test_a_split_never_cuts_a_utf8_character() -> None:
    text = "aé€😀" * 1000
    splitter = LineSplitter(limit=10)
    lines = splitter.feed(text.encode()) + splitter.finish()
    assert "".join(lines) == text
    assert all(len(line.encode()) <= 10 for line in lines)
    assert "\ufffd" not in "".join(lines)


def test_bytes_that_are_not_utf8_are_still_cut_at_the_limit() -> None:
    splitter = LineSplitter(limit=4)
    lines = splitter.feed(b"\x80" * 10 + b"\n")
    assert [len(line) for line in lines] == [4, 4, 2]
