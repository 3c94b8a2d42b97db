"""``rustlambda invoke`` against a fake Lambda Invoke endpoint served in-process on 127.0.0.1."""

from __future__ import annotations

import base64
import io
import json
import socket
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

import pytest

from rustlambda.cli import main

INVOKE_PATH = "/2015-03-31/functions/{}/invocations"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeLambda:
    """What the endpoint answers (set per test) and every request it received."""

    port: int = 0
    status: int = 200
    body: bytes = b'{"statusCode":200,"body":"hi"}'
    headers: dict[str, str] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)

    @property
    def only(self) -> Request:
        assert len(self.requests) == 1, self.requests
        return self.requests[0]


def _handler(fake: FakeLambda) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            fake.requests.append(
                Request(
                    "POST",
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
            )
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(fake.body)))
            for name, value in fake.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(fake.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # urllib honours proxy variables; 127.0.0.1 must be reached directly.
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")


@pytest.fixture
def fake() -> Iterator[FakeLambda]:
    state = FakeLambda()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def invoke(capsys: pytest.CaptureFixture[str], port: int, *argv: str) -> tuple[int, str, str]:
    code = main(["invoke", "--invoke-port", str(port), *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def free_port() -> int:
    """A port nothing listens on (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def bundled(name: str) -> bytes:
    return (resources.files("rustlambda.emulator") / "events" / f"{name}.json").read_bytes()


# --------------------------------------------------------------------------- the request


def test_defaults_function_underscore_and_empty_object(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = invoke(capsys, fake.port)
    assert code == 0, err
    request = fake.only
    assert request.method == "POST"
    assert request.path == INVOKE_PATH.format("_")
    assert request.body == b"{}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-amz-invocation-type"] == "RequestResponse"
    assert "x-amz-client-context" not in request.headers


def test_function_name_in_the_path(fake: FakeLambda, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = invoke(capsys, fake.port, "hello-arm64")
    assert code == 0
    assert fake.only.path == INVOKE_PATH.format("hello-arm64")


def test_arn_function_name_is_quoted_into_one_segment(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:hello:$LATEST"
    code, _, _ = invoke(capsys, fake.port, arn)
    assert code == 0
    prefix, _, rest = fake.only.path.partition("/functions/")
    segment, _, tail = rest.partition("/")
    assert prefix == "/2015-03-31" and tail == "invocations"
    assert urllib.parse.unquote(segment) == arn


def test_data_ascii(fake: FakeLambda, capsys: pytest.CaptureFixture[str]) -> None:
    payload = '{"command": "hi", "n": [1, 2]}'
    code, _, _ = invoke(capsys, fake.port, "hello", "--data-ascii", payload)
    assert code == 0
    assert fake.only.body == payload.encode()


def test_data_ascii_short_flag(fake: FakeLambda, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = invoke(capsys, fake.port, "-A", '{"x":1}')
    assert code == 0
    assert fake.only.body == b'{"x":1}'


def test_data_file(fake: FakeLambda, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = '{"name": "Zoë", "emoji": "🦀"}\n'.encode()
    path = tmp_path / "event.json"
    path.write_bytes(data)
    code, _, _ = invoke(capsys, fake.port, "--data-file", str(path))
    assert code == 0
    assert fake.only.body == data


def test_data_file_dash_reads_stdin(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b'{"from": "stdin"}'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, _, _ = invoke(capsys, fake.port, "--data-file", "-")
    assert code == 0
    assert fake.only.body == data


def test_data_file_missing(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = invoke(capsys, fake.port, "--data-file", str(tmp_path / "nope.json"))
    assert code == 2
    assert "--data-file" in err and "nope.json" in err
    assert fake.requests == []


@pytest.mark.parametrize(
    "spelling", ["apigw-request", "example-apigw-request.json", "APIGW_REQUEST"]
)
def test_data_example_sends_the_bundled_bytes(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str], spelling: str
) -> None:
    code, _, _ = invoke(capsys, fake.port, "--data-example", spelling)
    assert code == 0
    expected = bundled("apigw-request")
    assert fake.only.body == expected
    assert json.loads(expected)["httpMethod"]  # it is the API Gateway event


def test_unknown_example_suggests(fake: FakeLambda, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = invoke(capsys, fake.port, "--data-example", "apigw-requst")
    assert code == 18
    assert "no example event named 'apigw-requst'" in err
    assert "did you mean 'apigw-request'?" in err
    assert "fix" in err and "sqs-event" in err
    assert fake.requests == []


def test_list_examples(fake: FakeLambda, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(capsys, fake.port, "--list-examples")
    assert code == 0
    listed = out.split()
    assert "apigw-request" in listed
    assert "sqs-event" in listed
    assert listed == sorted(listed)
    assert not any(n.endswith(".json") for n in listed)
    assert fake.requests == []


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--data-ascii", "{}", "--data-example", "sqs-event"], "--data-ascii and --data-example"),
        (["-A", "{}", "--data-file", "x.json"], "--data-ascii and --data-file"),
        (["--data-file", "x.json", "-E", "sqs-event"], "--data-file and --data-example"),
    ],
)
def test_two_payload_flags(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str], flags: list[str], named: str
) -> None:
    code, _, err = invoke(capsys, fake.port, *flags)
    assert code == 2
    assert named in err
    assert "pass only one" in err
    assert fake.requests == []


def test_client_context_ascii_is_base64(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    context = '{"custom": {"tenant": "acme"}, "client": {"app_title": "tests"}}'
    code, _, _ = invoke(capsys, fake.port, "--client-context-ascii", context)
    assert code == 0
    raw = fake.only.headers["x-amz-client-context"]
    assert base64.b64decode(raw, validate=True).decode() == context


def test_client_context_file(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "ctx.json"
    path.write_text('{"custom": {"k": "v"}}')
    code, _, _ = invoke(capsys, fake.port, "--client-context-file", str(path))
    assert code == 0
    raw = fake.only.headers["x-amz-client-context"]
    assert json.loads(base64.b64decode(raw)) == {"custom": {"k": "v"}}


def test_both_client_context_flags(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "ctx.json"
    path.write_text("{}")
    code, _, err = invoke(
        capsys, fake.port, "--client-context-ascii", "{}", "--client-context-file", str(path)
    )
    assert code == 2
    assert "--client-context-ascii and --client-context-file" in err
    assert fake.requests == []


def test_endpoint_url(fake: FakeLambda, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["invoke", "hello", "--endpoint-url", f"http://127.0.0.1:{fake.port}/", "-A", "{}"])
    capsys.readouterr()
    assert code == 0
    assert fake.only.path == INVOKE_PATH.format("hello")


# --------------------------------------------------------------------------- the response


def test_json_output_is_the_body_as_received(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.body = b'{"b":2,  "a":[1,2]}'
    code, out, _ = invoke(capsys, fake.port, "-o", "json")
    assert code == 0
    assert out == '{"b":2,  "a":[1,2]}\n'


def test_text_output_pretty_prints(fake: FakeLambda, capsys: pytest.CaptureFixture[str]) -> None:
    fake.body = '{"b":2,"a":[1,2],"s":"ü"}'.encode()
    code, out, _ = invoke(capsys, fake.port)
    assert code == 0
    assert out == '{\n  "b": 2,\n  "a": [\n    1,\n    2\n  ],\n  "s": "ü"\n}\n'


def test_text_output_of_a_non_json_body(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.body = b"plain words"
    code, out, _ = invoke(capsys, fake.port, "-o", "text")
    assert code == 0
    assert out == "plain words\n"


def test_function_error_exit_20(fake: FakeLambda, capsys: pytest.CaptureFixture[str]) -> None:
    fake.headers = {"X-Amz-Function-Error": "Unhandled"}
    fake.body = b'{"errorType":"OrderNotFound","errorMessage":"no order 7"}'
    code, out, err = invoke(capsys, fake.port, "orders")
    assert code == 20
    assert json.loads(out) == {"errorType": "OrderNotFound", "errorMessage": "no order 7"}
    assert "orders failed: OrderNotFound: no order 7" in err
    assert "rustlambda watch" in err


def test_function_error_with_non_json_body(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.headers = {"X-Amz-Function-Error": "Unhandled"}
    fake.body = b"the runtime crashed"
    code, _, err = invoke(capsys, fake.port)
    assert code == 20
    assert "the runtime crashed" in err


def test_resource_not_found_exit_21(fake: FakeLambda, capsys: pytest.CaptureFixture[str]) -> None:
    fake.status = 404
    fake.headers = {"x-amzn-ErrorType": "ResourceNotFoundException"}
    fake.body = json.dumps(
        {
            "Type": "User",
            "message": "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope",
        }
    ).encode()
    code, out, err = invoke(capsys, fake.port, "nope")
    assert code == 21
    assert out == ""
    assert "ResourceNotFoundException: Function not found" in err
    assert "function:nope" in err
    assert fake.only.path == INVOKE_PATH.format("nope")


def test_error_without_error_type_header(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.status = 500
    fake.body = b"<html>proxy error</html>"
    code, _, err = invoke(capsys, fake.port)
    assert code == 21
    assert "HTTP 500" in err and "proxy error" in err


def test_nothing_listening_exit_19(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    code, out, err = invoke(capsys, port, "hello")
    assert code == 19
    assert out == ""
    assert f"no Lambda emulator answered at http://127.0.0.1:{port}" in err
    fix = err[err.index("fix") :]
    assert "rustlambda watch" in fix


# --------------------------------------------------------------------------- cargo-lambda's flags


def test_short_a_is_the_payload_when_json_and_the_address_otherwise(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = invoke(capsys, fake.port, "-A", "127.0.0.1", "--data-ascii", '{"n": 1}')
    assert code == 0, err
    assert fake.only.body == b'{"n": 1}'  # -A was the address: the request reached it
    code, _, err = invoke(capsys, fake.port, "-A", "[1, 2]")
    assert code == 0, err
    assert fake.requests[-1].body == b"[1, 2]"
    code, _, err = invoke(capsys, fake.port, "-A", "{}", "--data-ascii", "{}")
    assert code == 2 and "-A and --data-ascii both give the payload" in err


def test_alias_identity_and_accepted_global_options(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = invoke(
        capsys,
        fake.port,
        "hello",
        "--qualifier",
        "live",
        "--identity-id",
        "id-1",
        "--identity-pool-id",
        "pool-1",
        "--skip-cache",
        "-x",
        "dev",
        "--admerge",
        "-v",
        "--color",
        "never",
    )
    assert code == 0, err
    request = fake.only
    assert request.path == INVOKE_PATH.format("hello%3Alive")
    assert json.loads(request.headers["lambda-runtime-cognito-identity"]) == {
        "cognitoIdentityId": "id-1",
        "cognitoIdentityPoolId": "pool-1",
    }


def test_tls_flags_are_refused_with_the_alternative(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = invoke(capsys, fake.port, "--tls-cert", "cert.pem")
    assert code == 2
    assert "error: --tls-cert is not supported: rustlambda's local Lambda serves plain HTTP" in err
    assert "fix: drop the TLS options" in err
    assert not fake.requests


def test_remote_invokes_through_the_lambda_api(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """boto3's Invoke, pointed at a local endpoint: the same path, the qualifier as a query."""
    for var, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    }.items():
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    fake.headers = {"X-Amz-Executed-Version": "3"}
    endpoint = f"http://127.0.0.1:{fake.port}"
    argv = ["invoke", "greet", "--remote", "--endpoint-url", endpoint, "-r", "eu-west-1"]
    code = main([*argv, "-a", "live", "--data-ascii", '{"name": "Ada"}', "--retry-attempts", "1"])
    out, err = capsys.readouterr()
    assert code == 0, err
    request = fake.only
    assert urllib.parse.urlsplit(request.path).path == INVOKE_PATH.format("greet")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(request.path).query) == {
        "Qualifier": ["live"]
    }
    assert request.body == b'{"name": "Ada"}'
    assert "eu-west-1" in request.headers["authorization"]  # signed for that region
    assert json.loads(out) == {"statusCode": 200, "body": "hi"}
    code = main([*argv, "--identity-id", "x"])
    assert code == 2 and "Invoke API takes no Cognito identity" in capsys.readouterr().err


def test_remote_without_region_says_how_to_set_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    code = main(["invoke", "greet", "--remote"])
    assert code == 22 and "no AWS region set" in capsys.readouterr().err


# --------------------------------------------------------------------------- --remote


@pytest.fixture
def profile_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS credentials and a region that exist only in a profile file."""
    (tmp_path / "credentials").write_text(
        "[dev]\naws_access_key_id = AKIAPROFILEONLY\naws_secret_access_key = secret\n"
    )
    (tmp_path / "config").write_text("[profile dev]\nregion = eu-west-3\n")
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))


def remote(capsys: pytest.CaptureFixture[str], port: int, *argv: str) -> tuple[int, str, str]:
    endpoint = f"http://127.0.0.1:{port}"
    code = main(["invoke", "--remote", "--endpoint-url", endpoint, "--retry-attempts", "1", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.mark.usefixtures("profile_only")
def test_remote_sends_lambdas_invoke_signed_with_the_profile(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    log = "START RequestId: 1\nhello from the function\nEND RequestId: 1\n"
    fake.headers = {
        "X-Amz-Log-Result": base64.b64encode(log.encode()).decode(),
        "X-Amz-Executed-Version": "7",
    }
    code, out, err = remote(
        capsys,
        fake.port,
        "api",
        "--profile",
        "dev",
        "--qualifier",
        "live",
        "--data-example",
        "sqs-event",
        "--client-context-ascii",
        '{"custom": {"k": "v"}}',
    )
    assert code == 0, err
    request = fake.only
    assert request.path == INVOKE_PATH.format("api") + "?Qualifier=live"
    assert request.body == bundled("sqs-event")
    assert request.headers["x-amz-log-type"] == "Tail"
    assert request.headers["x-amz-invocation-type"] == "RequestResponse"
    context = json.loads(base64.b64decode(request.headers["x-amz-client-context"]))
    assert context == {"custom": {"k": "v"}}
    # SigV4 with the profile's key, for the profile's region
    assert "Credential=AKIAPROFILEONLY/" in request.headers["authorization"]
    assert "/eu-west-3/lambda/aws4_request" in request.headers["authorization"]
    assert json.loads(out) == {"statusCode": 200, "body": "hi"}
    assert "hello from the function" in err  # the log tail, decoded, on stderr


@pytest.mark.usefixtures("profile_only")
def test_remote_function_error_exits_20_with_the_log(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.body = b'{"errorType":"TypedError","errorMessage":"asked to fail"}'
    fake.headers = {
        "X-Amz-Function-Error": "Unhandled",
        "X-Amz-Log-Result": base64.b64encode(b"panicked at src/main.rs\n").decode(),
    }
    code, out, err = remote(capsys, fake.port, "api", "-p", "dev", "-r", "us-west-2")
    assert code == 20
    assert "TypedError: asked to fail" in err and "panicked at src/main.rs" in err
    assert "/us-west-2/lambda/" in fake.only.headers["authorization"]  # --region wins
    assert json.loads(out)["errorType"] == "TypedError"


@pytest.mark.usefixtures("profile_only")
def test_remote_refusals_and_missing_profile(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.status = 404
    fake.body = b'{"Type":"User","message":"Function not found: arn:aws:lambda:x"}'
    fake.headers = {"x-amzn-ErrorType": "ResourceNotFoundException"}
    code, _, err = remote(capsys, fake.port, "nope", "--profile", "dev")
    assert code == 21
    assert "ResourceNotFoundException: Function not found" in err and "--qualifier" in err
    code, _, err = remote(capsys, fake.port, "api", "--profile", "missing")
    assert code == 22 and "'missing' does not exist" in err


def test_profile_and_region_need_remote(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = invoke(capsys, fake.port, "--profile", "dev", "--region", "eu-west-3")
    assert code == 2 and "--profile, --region only apply to --remote" in err
    assert fake.requests == []


def test_list_examples_has_cargo_lambdas_names(
    fake: FakeLambda, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = invoke(capsys, fake.port, "--list-examples")
    listed = out.split()
    assert code == 0 and "kinesis-firehose-event" in listed and "firehose-event" in listed
