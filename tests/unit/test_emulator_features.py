"""Emulator features checked in-process (no function runs): the function-URL front's events and
answers, mid-stream errors, header-safe client context, the streamed-answer prelude, the
Telemetry/Logs API subscriptions and their delivery, the user's AWS environment, what a
function's environment holds, extension names and accountId, several ``next`` at once."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from rustlambda.emulator import EmulatorSettings, FunctionSpec, protocol, telemetry
from rustlambda.emulator import telemetry_events as records
from rustlambda.emulator.aws_env import resolve_aws_environment
from rustlambda.emulator.client import split_http_integration_response
from rustlambda.emulator.environment import process_env
from rustlambda.emulator.function_url import buffered_response, request_event
from rustlambda.emulator.httpserver import Request, Response, serve
from rustlambda.emulator.invocation import Invocation
from rustlambda.emulator.routes import SandboxApi
from rustlambda.emulator.streaming import could_be_error_record, error_record
from rustlambda.errors import EmulatorError

from .fakes import REAL_ELF


def run(coro: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(coro(), 30))


def http_request(
    method: str, target: str, headers: list[tuple[str, str]], remote: str = "192.0.2.9"
) -> Request:
    path, _, query = target.partition("?")
    joined: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        joined[key] = joined[key] + ", " + value if key in joined else value
    return Request(method, path, joined, query=query, header_list=headers, remote=remote)


# --------------------------------------------------------------------------- function URLs


def test_function_url_event_for_a_get_with_query_and_cookies() -> None:
    request = http_request(
        "GET",
        "/items/42?color=red&color=blue&empty=",
        [
            ("Host", "127.0.0.1:9000"),
            ("User-Agent", "curl/8"),
            ("Cookie", "a=1; b=2"),
            ("X-Multi", "one"),
            ("X-Multi", "two"),
        ],
    )
    event = json.loads(request_event(request, "/items/42", b""))
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/items/42"
    assert event["rawQueryString"] == "color=red&color=blue&empty="
    assert event["queryStringParameters"] == {"color": "red,blue", "empty": ""}
    assert event["cookies"] == ["a=1", "b=2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "one,two"
    assert event["headers"]["user-agent"] == "curl/8"
    http = event["requestContext"]["http"]
    assert http == {
        "method": "GET",
        "path": "/items/42",
        "protocol": "HTTP/1.1",
        "sourceIp": "192.0.2.9",
        "userAgent": "curl/8",
    }
    context = event["requestContext"]
    assert context["domainName"] == "127.0.0.1:9000"
    assert context["timeEpoch"] > 1_600_000_000_000
    assert context["requestId"]
    assert event["isBase64Encoded"] is False
    assert "body" not in event


def test_function_url_event_body_text_or_base64() -> None:
    text = http_request("POST", "/", [("Content-Type", "application/json; charset=utf-8")])
    event = json.loads(request_event(text, "/", b'{"k": "v"}'))
    assert event["body"] == '{"k": "v"}' and event["isBase64Encoded"] is False

    binary = http_request("POST", "/upload", [("Content-Type", "application/octet-stream")])
    data = bytes(range(256))
    event = json.loads(request_event(binary, "/upload", data))
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == data
    assert "queryStringParameters" not in event


def test_buffered_answer_with_status_headers_cookies_and_base64_body() -> None:
    answer = {
        "statusCode": 201,
        "headers": {"content-type": "image/png", "x-one": "1"},
        "cookies": ["a=1; Path=/", "b=2"],
        "body": base64.b64encode(b"\x89PNG").decode(),
        "isBase64Encoded": True,
    }
    response = buffered_response(json.dumps(answer).encode())
    assert response.status == 201
    assert response.body == b"\x89PNG"
    assert isinstance(response.headers, list)
    assert ("content-type", "image/png") in response.headers
    assert ("Set-Cookie", "a=1; Path=/") in response.headers
    assert ("Set-Cookie", "b=2") in response.headers


@pytest.mark.parametrize("body", [b'{"hello": "world"}', b'"just a string"', b"[1, 2]"])
def test_any_other_answer_is_the_body_of_a_200(body: bytes) -> None:
    response = buffered_response(body)
    assert (response.status, response.body) == (200, body)


# --------------------------------------------------------------------------- mid-stream errors


def test_lambda_runtime_in_body_error_record() -> None:
    encoded = base64.b64encode(b"the stream broke").decode()
    record = (
        f"Lambda-Runtime-Function-Error-Type: Runtime.StreamError\r\n"
        f"Lambda-Runtime-Function-Error-Body: {encoded}\r\n"
    ).encode()
    for cut in range(1, len(record)):
        assert could_be_error_record(record[:cut]), cut
    parsed = error_record(record)
    assert parsed is not None
    error_type, body = parsed
    assert error_type == "Runtime.StreamError"
    assert json.loads(body) == {"errorMessage": "the stream broke", "errorType": error_type}


@pytest.mark.parametrize(
    "data", [b"Lambda is great\n", b"Lambda-Runtime-Function-Error-Type: X\r\nmore data", b"L" * 9]
)
def test_ordinary_chunks_are_not_error_records(data: bytes) -> None:
    assert not could_be_error_record(data) or error_record(data) is None


# --------------------------------------------------------------------------- client context


def test_client_context_is_compact_ascii_for_a_header() -> None:
    pretty = json.dumps({"custom": {"name": "Zoë ✓ 😀"}, "env": {}}, indent=4)
    compact = protocol.header_json(pretty)
    assert "\n" not in compact and ": " not in compact and ", " not in compact
    assert compact.isascii()
    assert json.loads(compact) == json.loads(pretty)
    with pytest.raises(ValueError):
        protocol.header_json("{not json")


# --------------------------------------------------------------------------- prelude


def test_invoke_client_takes_the_prelude_off_a_streamed_http_answer() -> None:
    prelude = {"statusCode": 200, "headers": {"content-type": "text/plain"}, "cookies": []}
    body = json.dumps(prelude).encode() + b"\x00" * 8 + b"part 0\npart 1\n"
    found, rest = split_http_integration_response(body, protocol.STREAM_CONTENT_TYPE)
    assert found == prelude and rest == b"part 0\npart 1\n"
    assert split_http_integration_response(body)[1] == rest  # recognised without the type
    plain = b'{"statusCode": 200}'
    assert split_http_integration_response(plain) == (None, plain)


# --------------------------------------------------------------------------- Telemetry API


def subscription_body(**overrides: Any) -> bytes:
    body: dict[str, Any] = {
        "schemaVersion": "2022-12-13",
        "destination": {"protocol": "HTTP", "URI": "http://sandbox.localdomain:8080"},
        "types": ["platform", "function"],
        "buffering": {"maxItems": 1000, "maxBytes": 262144, "timeoutMs": 25},
    }
    body.update(overrides)
    return json.dumps(body).encode()


def test_subscription_defaults_and_sandbox_localdomain_is_loopback() -> None:
    sub = telemetry.parse_subscription("telemetry", "ext", subscription_body(buffering=None))
    assert (sub.host, sub.port, sub.path) == ("127.0.0.1", 8080, "/")
    assert (sub.max_items, sub.max_bytes, sub.timeout_ms) == (1000, 262144, 1000)
    assert sub.types == {"platform", "function"}


@pytest.mark.parametrize(
    ("api", "overrides", "words"),
    [
        ("telemetry", {"schemaVersion": "2021-03-18"}, "schemaVersion"),
        ("logs", {"schemaVersion": "2022-12-13"}, "schemaVersion"),
        ("telemetry", {"types": ["platform", "bogus"]}, "types"),
        ("telemetry", {"buffering": {"maxItems": 10}}, "maxItems"),
        ("telemetry", {"buffering": {"timeoutMs": 10}}, "timeoutMs"),
        ("telemetry", {"destination": {"protocol": "UDP", "URI": "x"}}, "protocol"),
        ("telemetry", {"destination": {"protocol": "HTTP", "URI": "http://host"}}, "port"),
    ],
)
def test_subscriptions_lambda_refuses(api: str, overrides: dict[str, Any], words: str) -> None:
    with pytest.raises(telemetry.SubscriptionError, match=words):
        telemetry.parse_subscription(api, "ext", subscription_body(**overrides))


def test_logs_and_telemetry_api_exclude_each_other() -> None:
    async def scenario() -> None:
        hub = telemetry.TelemetryHub(lambda message: None)
        logs = subscription_body(schemaVersion="2021-03-18")
        hub.subscribe(telemetry.parse_subscription("logs", "ext", logs))
        hub.subscribe(telemetry.parse_subscription("logs", "ext", logs))  # idempotent
        assert len(hub.subscriptions) == 1
        with pytest.raises(telemetry.SubscriptionError, match="other one"):
            hub.subscribe(telemetry.parse_subscription("telemetry", "ext", subscription_body()))
        # Another extension may use the other API.
        hub.subscribe(telemetry.parse_subscription("telemetry", "other", subscription_body()))
        hub.close()

    run(scenario)


def test_events_reach_the_listener_in_batches_with_init_history() -> None:
    """A listener on port 0 gets the Init events that came before its subscription, then the
    invoke's, batched by maxItems; the 2022-07-01 schema has no spans."""
    batches: list[list[dict[str, Any]]] = []

    async def listener(request: Request) -> Response:
        batches.append(json.loads(await request.read()))
        return Response(200)

    async def scenario() -> None:
        server = await serve(listener)
        port = server.sockets[0].getsockname()[1]
        hub = telemetry.TelemetryHub(lambda message: None)
        hub.emit("platform.initStart", records.init_start())
        hub.emit("function", "during init")
        body = subscription_body(
            schemaVersion="2022-07-01",
            destination={"protocol": "HTTP", "URI": f"http://sandbox.localdomain:{port}/t"},
            buffering={"maxItems": 1000, "maxBytes": 262144, "timeoutMs": 25},
        )
        hub.subscribe(telemetry.parse_subscription("telemetry", "ext", body))
        hub.emit("platform.initRuntimeDone", records.init_done("success", None))
        hub.emit("platform.initReport", records.init_report("success", 12.5, None))
        hub.end_of_init()
        hub.emit("platform.start", records.start("rid", "Root=1-a"))
        hub.emit("extension", "not subscribed")
        hub.emit(
            "platform.runtimeDone", records.runtime_done("rid", "Root=1-a", "crash", "E", 1.5, 7)
        )
        await hub.flush_all(timeout=5)
        hub.close()
        server.close()

    run(scenario)
    events = [event for batch in batches for event in batch]
    assert [e["type"] for e in events] == [
        "platform.initStart",
        "function",
        "platform.telemetrySubscription",
        "platform.initRuntimeDone",
        "platform.initReport",
        "platform.start",
        "platform.runtimeDone",
    ]
    assert events[1]["record"] == "during init"
    done = events[-1]["record"]
    assert done["status"] == "failure" and done["errorType"] == "E"
    assert done["metrics"] == {"durationMs": 1.5, "producedBytes": 7}
    assert "spans" not in done and "spans" not in events[3]["record"]
    # 2022-07-01: no phase in initRuntimeDone, but initReport keeps it (lambda-extension needs it)
    assert "phase" not in events[3]["record"]
    assert events[4]["record"]["phase"] == "init"
    assert events[4]["record"]["metrics"] == {"durationMs": 12.5}
    assert all(e["time"].endswith("Z") and "T" in e["time"] for e in events)


def test_max_items_cuts_batches() -> None:
    batches: list[int] = []

    async def listener(request: Request) -> Response:
        batches.append(len(json.loads(await request.read())))
        return Response(200)

    async def scenario() -> None:
        server = await serve(listener)
        port = server.sockets[0].getsockname()[1]
        hub = telemetry.TelemetryHub(lambda message: None)
        hub.end_of_init()
        uri = f"http://127.0.0.1:{port}"
        body = subscription_body(
            types=["function"],
            destination={"protocol": "HTTP", "URI": uri},
            buffering={"maxItems": 1000, "maxBytes": 262144, "timeoutMs": 30000},
        )
        hub.subscribe(telemetry.parse_subscription("telemetry", "ext", body))
        for index in range(2500):
            hub.emit("function", f"line {index}")
        await hub.flush_all(timeout=5)
        hub.close()
        server.close()

    run(scenario)
    # 1000, 1000, then the rest (plus the subscription event, filtered out: not "function")
    assert batches == [1000, 1000, 500]


def test_a_listener_that_is_not_there_drops_the_batch_with_a_report() -> None:
    problems: list[str] = []

    async def scenario() -> None:
        hub = telemetry.TelemetryHub(problems.append)
        hub.end_of_init()
        body = subscription_body(destination={"protocol": "HTTP", "URI": "http://127.0.0.1:9"})
        hub.subscribe(telemetry.parse_subscription("telemetry", "ext", body))
        hub.emit("function", "lost")
        await hub.flush_all(timeout=10)
        hub.close()

    run(scenario)
    assert len(problems) == 1 and "dropped" in problems[0] and "127.0.0.1:9" in problems[0]


# --------------------------------------------------------------------------- AWS environment


def write_profiles(tmp_path: Path) -> dict[str, str]:
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[dev]\naws_access_key_id = AKIDEV\naws_secret_access_key = secret-dev\n"
        "aws_session_token = token-dev\n"
    )
    config = tmp_path / "config"
    config.write_text("[profile dev]\nregion = eu-west-3\n[default]\nregion = ap-south-1\n")
    return {"AWS_SHARED_CREDENTIALS_FILE": str(credentials), "AWS_CONFIG_FILE": str(config)}


def test_credentials_and_region_from_a_profile_file_only(tmp_path: Path) -> None:
    environ = {**write_profiles(tmp_path), "AWS_PROFILE": "dev"}
    aws = resolve_aws_environment(environ=environ)
    assert (aws.region, aws.region_source) == ("eu-west-3", "profile dev")
    assert aws.credentials() == {
        "AWS_ACCESS_KEY_ID": "AKIDEV",
        "AWS_SECRET_ACCESS_KEY": "secret-dev",
        "AWS_SESSION_TOKEN": "token-dev",
    }


def test_region_flag_then_environment_then_profile(tmp_path: Path) -> None:
    environ = write_profiles(tmp_path)
    assert resolve_aws_environment("dev", "us-west-2", environ).region == "us-west-2"
    with_env = {**environ, "AWS_REGION": "ca-central-1"}
    assert resolve_aws_environment("dev", None, with_env).region == "ca-central-1"
    assert resolve_aws_environment(None, None, environ).region == "ap-south-1"  # [default]


def test_environment_credentials_win_as_in_the_sdk(tmp_path: Path) -> None:
    environ = {
        **write_profiles(tmp_path),
        "AWS_PROFILE": "dev",
        "AWS_ACCESS_KEY_ID": "AKIENV",
        "AWS_SECRET_ACCESS_KEY": "secret-env",
    }
    assert resolve_aws_environment(environ=environ).credentials() == {
        "AWS_ACCESS_KEY_ID": "AKIENV",
        "AWS_SECRET_ACCESS_KEY": "secret-env",
    }


def test_unknown_profile_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmulatorError) as caught:
        resolve_aws_environment("nope", environ=write_profiles(tmp_path))
    assert "'nope'" in caught.value.message and "profile" in caught.value.fix


# --------------------------------------------------------------------------- process env


def bootstrap(tmp_path: Path) -> Path:
    path = tmp_path / "fn" / "bootstrap"
    path.parent.mkdir(parents=True)
    path.write_bytes(REAL_ELF)
    path.chmod(0o755)
    return path


def test_host_passthrough_and_nothing_else(tmp_path: Path) -> None:
    host = {
        "RUST_LOG": "debug",
        "RUST_BACKTRACE": "1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
        "AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:5001",
        "AWS_PROFILE": "dev",
        "HOME": "/root",
        "AWS_ACCESS_KEY_ID": "host-key",
        "AWS_SECRET_ACCESS_KEY": "host-secret",
    }
    spec = FunctionSpec("f", bootstrap(tmp_path), env={"RUST_LOG": "info"}, max_concurrency=4)
    creds = {
        "AWS_ACCESS_KEY_ID": "resolved",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_SESSION_TOKEN": "t",
    }
    env = process_env(spec, EmulatorSettings(environ=host), "h:1", "s", creds)
    assert env["RUST_LOG"] == "info"  # the function's own setting wins over the host's
    assert env["RUST_BACKTRACE"] == "1"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    assert env["AWS_ENDPOINT_URL_SQS"] == "http://127.0.0.1:5001"
    assert env["AWS_ACCESS_KEY_ID"] == "resolved" and env["AWS_SESSION_TOKEN"] == "t"
    assert "AWS_PROFILE" not in env and "HOME" not in env
    assert env["AWS_LAMBDA_MAX_CONCURRENCY"] == "4"
    assert "AWS_LAMBDA_MAX_CONCURRENCY" not in process_env(
        FunctionSpec("g", spec.bootstrap), EmulatorSettings(environ=host), "h:1", "s"
    )


# --------------------------------------------------------------------------- Extensions API


def sandbox(*extension_files: str, capacity: int = 1) -> tuple[SandboxApi, list[str]]:
    lines: list[str] = []
    api = SandboxApi(
        "fn",
        "arn:aws:lambda:us-east-1:123456789012:function:fn",
        "123456789012",
        extension_files,
        log=lambda source, text, inv: lines.append(text),
        notify=lambda: None,
        telemetry=telemetry.TelemetryHub(lambda message: None),
        max_concurrency=capacity,
    )
    return api, lines


def content(response: Response) -> bytes:
    assert isinstance(response.body, bytes)
    return response.body


def register(api: SandboxApi, name: str, accept: str | None = None) -> Response:
    headers = {"lambda-extension-name": name}
    if accept is not None:
        headers["lambda-extension-accept-feature"] = accept

    async def call() -> Response:
        request = Request("POST", "/2020-01-01/extension/register", headers)
        request._feed(b'{"events": ["INVOKE", "SHUTDOWN"]}')
        request._finish()
        return await api.handle(request)

    return asyncio.run(call())


def test_account_id_only_when_the_extension_asks_for_it() -> None:
    api, _ = sandbox("ext")
    api.phase = "extensions-init"
    asked = register(api, "ext", accept="accountId")
    assert asked.status == 200
    assert json.loads(content(asked))["accountId"] == "123456789012"
    api2, _ = sandbox("ext")
    api2.phase = "extensions-init"
    assert "accountId" not in json.loads(content(register(api2, "ext")))


def test_an_extension_registering_under_another_name_fails_init_at_once() -> None:
    api, lines = sandbox("my-extension")
    api.phase = "extensions-init"
    answer = register(api, "renamed")
    assert answer.status == 403
    assert json.loads(content(answer))["errorType"] == "Extension.InvalidExtensionName"
    assert api.init_error is not None and api.init_error[0] == "Extension.InvalidExtensionName"
    message = json.loads(api.init_error[1])["errorMessage"]
    assert "'renamed'" in message and "'my-extension'" in message
    assert "with_extension_name" in message
    assert lines and "'renamed'" in lines[0]


# --------------------------------------------------------------------------- max concurrency


def test_several_next_requests_wait_and_events_queue_when_none_waits() -> None:
    async def scenario() -> None:
        api, _ = sandbox(capacity=3)
        api.phase = "ready"

        async def next_event() -> Response:
            request = Request("GET", "/2018-06-01/runtime/invocation/next", {})
            request._finish()
            return await api.handle(request)

        first = [asyncio.ensure_future(next_event()) for _ in range(3)]
        await asyncio.sleep(0)
        assert api.runtime_waiting
        fourth = await next_event()  # over max concurrency
        assert fourth.status == 400
        events = [Invocation(f'{{"n": {i}}}'.encode()) for i in range(4)]
        for inv in events:
            api.dispatch(inv)
        answers = await asyncio.gather(*first)
        assert sorted(a.body for a in answers) == [b'{"n": 0}', b'{"n": 1}', b'{"n": 2}']
        queued = await next_event()  # the fourth event waited for a next
        assert queued.body == b'{"n": 3}'
        assert len(api.active) == 4 and api.current is None

    run(scenario)


def test_only_the_given_environment_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's AWS_PROFILE and keys do not leak into a resolution for another env."""
    monkeypatch.setenv("AWS_PROFILE", "not-in-the-files")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIPROCESS")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "process-secret")
    monkeypatch.setenv("AWS_REGION", "sa-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance role on a CI host
    aws = resolve_aws_environment(environ=write_profiles(tmp_path))
    assert aws.region == "ap-south-1"  # the files' [default], not this process's AWS_REGION
    assert aws.credentials() == {}  # [default] has no keys in the credentials file
