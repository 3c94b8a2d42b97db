"""Ways of running the emulator, with the stdlib Python runtime of tests/fixtures/script-runtime
(no build): only the Lambda APIs for a bootstrap the user starts, and the IPv6 loopback."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

from rustlambda.emulator import EmulatorSettings, FunctionSpec, running

from .conftest import FIXTURES

BOOTSTRAP = FIXTURES / "script-runtime" / "bootstrap"
WAIT = 30.0


def test_only_lambda_apis_serves_a_bootstrap_the_user_starts(tmp_path: Path) -> None:
    spec = FunctionSpec("f", BOOTSTRAP, env={"GREETING": "hi"})
    settings = EmulatorSettings(
        port=0, ipv6_loopback=False, only_lambda_apis=True, environ={"RUST_LOG": "debug"}
    )
    with running([spec], settings) as emu:
        env = emu.lambda_api_environment("f")
        assert env["AWS_LAMBDA_RUNTIME_API"] == f"http://127.0.0.1:{emu.port}/.rt/f"
        assert env["AWS_LAMBDA_FUNCTION_NAME"] == "f"
        assert env["GREETING"] == "hi" and env["RUST_LOG"] == "debug"
        assert "PATH" not in env and "LD_LIBRARY_PATH" not in env
        # As a user would: export the variables, start the bootstrap (here, not by the emulator).
        user = subprocess.Popen(
            [str(BOOTSTRAP)], env={**env, "PATH": os.environ["PATH"]}, cwd=tmp_path
        )
        try:
            outcome = emu.invoke("f", {"pid": True}, timeout=WAIT)
            assert outcome.status == "success", outcome.body
            assert json.loads(outcome.body)["pid"] == user.pid
            again = emu.invoke("f", {"n": 2}, timeout=WAIT)
            assert json.loads(again.body) == {"event": {"n": 2}}
        finally:
            user.kill()
            user.wait(timeout=WAIT)


def test_the_invoke_api_answers_on_the_ipv6_loopback_too() -> None:
    settings = EmulatorSettings(port=0, environ=dict(os.environ))
    with running([FunctionSpec("f", BOOTSTRAP)], settings) as emu:
        for host in ("127.0.0.1", "[::1]"):
            request = urllib.request.Request(
                f"http://{host}:{emu.port}/2015-03-31/functions/f/invocations",
                data=b'{"via": "' + host.encode() + b'"}',
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=WAIT) as response:
                assert json.loads(response.read()) == {"event": {"via": host}}


def test_a_mid_stream_error_sent_as_lambda_runtime_sends_it() -> None:
    """lambda_runtime announces trailers but sends the error record as the last body chunk:
    the caller gets the chunks before it and the error, never the record as data."""
    from .conftest import lambda_client

    settings = EmulatorSettings(port=0, ipv6_loopback=False, environ=dict(os.environ))
    with running([FunctionSpec("f", BOOTSTRAP)], settings) as emu:
        streamed = lambda_client(emu.url).invoke_with_response_stream(
            FunctionName="f", Payload=b'{"stream_error": "the disk is full"}'
        )
        chunks: list[bytes] = []
        complete: dict[str, Any] = {}
        for event in streamed["EventStream"]:
            if "PayloadChunk" in event:
                chunks.append(event["PayloadChunk"]["Payload"])
            elif "InvokeComplete" in event:
                complete = dict(event["InvokeComplete"])
        outcome = emu.invoke("f", {"stream_error": "again"}, timeout=WAIT)
    assert b"".join(chunks) == b"partial\n"
    assert complete["ErrorCode"] == "Runtime.StreamError"
    assert json.loads(complete["ErrorDetails"]) == {
        "errorMessage": "the disk is full",
        "errorType": "Runtime.StreamError",
    }
    assert outcome.error_type == "Runtime.StreamError"
