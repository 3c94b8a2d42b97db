"""``rustlambda watch`` as a user runs it — a process, its printed addresses and environment —
serving the real-crates functions (lambda_http, lambda_runtime, aws-sdk-rust) on both
architectures (arm64 under qemu): the HTTP front over a real socket (GET with a query and
cookies, a binary POST, a streamed answer arriving in pieces, the IPv6 loopback),
``--max-concurrency`` with overlapping invocations, an SDK call with credentials that exist only
in the profile given with ``--aws-profile``, ``--only-lambda-apis`` with the bootstrap started
from the printed exports, and ``--wait`` (invokes during the first build wait for it; without
it they are answered Pending).

watch builds with the flags of conftest's ``real_crates_zig`` build, in its target dir: a no-op
cargo run, not a second build of the workspace. The first build is held back for the --wait test
by taking cargo's own lock on the target dir, as another cargo would.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import json
import os
import re
import shlex
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest

from rustlambda.emulator.process import plan_launch

from .conftest import REAL_CRATES, Moto, RealCratesBuild, lambda_client, run_cli
from .test_watch import Watch

BOTH = pytest.mark.parametrize("arch", ["x86_64", "arm64"])
RUST_ARCH = {"x86_64": "x86_64", "arm64": "aarch64"}
#: Upper bound of every wait (arm64 runs under qemu; the machine may be shared).
WAIT = 120.0


def watch_argv(build: RealCratesBuild, *extra: str) -> list[str]:
    """The fixture build's own flags (so cargo has nothing to do), port 0, no file watching."""
    return [
        "--arm64",
        "--x86-64",
        "--compiler",
        build.compiler,
        "--target-dir",
        str(build.target_dir),
        "--locked",
        "--manifest-path",
        str(REAL_CRATES / "Cargo.toml"),
        "-P",
        "0",
        "--ignore-changes",
        *extra,
    ]


def no_aws(env: dict[str, str]) -> dict[str, str]:
    """The test environment without AWS credentials, profile or region of this machine."""
    return {k: v for k, v in env.items() if not k.startswith("AWS_")}


@pytest.fixture(scope="module")
def moto_url(moto: Moto) -> str:
    return moto.url


@pytest.fixture(scope="module")
def profile_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Credentials and a region that exist only in these files, under the profile ``dev``."""
    root = tmp_path_factory.mktemp("aws")
    (root / "credentials").write_text(
        "[dev]\naws_access_key_id = AKIAPROFILEONLY\naws_secret_access_key = profile-secret\n"
    )
    (root / "config").write_text("[profile dev]\nregion = eu-west-3\n")
    return {
        "AWS_SHARED_CREDENTIALS_FILE": str(root / "credentials"),
        "AWS_CONFIG_FILE": str(root / "config"),
    }


@pytest.fixture(scope="module")
def served(
    real_crates_zig: RealCratesBuild,
    build_env: dict[str, str],
    profile_files: dict[str, str],
    moto_url: str,
) -> Iterator[tuple[Watch, int]]:
    """One watch serving every real-crates function for both architectures."""
    env = {**no_aws(build_env), **profile_files, "AWS_ENDPOINT_URL": moto_url}
    argv = watch_argv(
        real_crates_zig, "--max-concurrency", "3", "--aws-profile", "dev", "--timeout", "60"
    )
    started = time.monotonic()
    watch = Watch(argv, REAL_CRATES, env)
    try:
        port = int(watch.wait_for(r"invoke at http://127\.0\.0\.1:(\d+)/", timeout=900)[1])
        watch.wait_for(r"functions run in ", timeout=WAIT)  # the last line of the announcement
        print(f"watch served the real crates {time.monotonic() - started:.1f} s after it started")
        yield watch, port
    finally:
        code = watch.stop()
    assert code == 0, "\n".join(watch.err_lines[-30:])


def test_watch_says_what_it_serves_and_where(served: tuple[Watch, int]) -> None:
    watch, port = served
    text = "\n".join(watch.err_lines)
    assert f"listening on http://127.0.0.1:{port} and http://[::1]:{port}" in text
    assert re.search(r"^info: built .* in [\d.]+ s$", text, re.M) and "error" not in text.lower()
    assert f"function URLs at http://127.0.0.1:{port}/lambda-url/<name>/<path>" in text
    assert f"also listening on http://[::1]:{port}" in text
    assert "each instance serves up to 3 invocations at once" in text
    assert "functions run in eu-west-3 (profile dev), with AWS credentials from profile dev" in text
    for arch in ("x86_64", "arm64"):
        assert f"serving http-stream-{arch} from " in text


def request(
    port: int,
    method: str,
    target: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    host: str = "127.0.0.1",
) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=WAIT)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


@BOTH
def test_http_front_through_watch(served: tuple[Watch, int], arch: str) -> None:
    _, port = served
    function = f"http-{arch}"
    response, data = request(
        port,
        "GET",
        f"/lambda-url/{function}/items/42?color=red&color=blue&size=L",
        headers={"Cookie": "session=abc; theme=dark", "User-Agent": "curl/8.5"},
    )
    assert response.status == 200, data
    answer = json.loads(data)
    assert answer["arch"] == RUST_ARCH[arch] and answer["raw_path"] == "/items/42"
    assert answer["query"] == {"color": ["red", "blue"], "size": ["L"]}
    assert answer["cookies"] == ["session=abc", "theme=dark"]
    assert response.getheader("set-cookie") == "fixture=http; Path=/"
    # a binary body, over the IPv6 loopback (where `cargo lambda invoke` goes)
    payload = bytes(range(256)) * 8
    response, data = request(
        port,
        "POST",
        f"/lambda-url/{function}/upload",
        body=payload,
        headers={"Content-Type": "application/octet-stream"},
        host="::1",
    )
    assert response.status == 200, data
    body = json.loads(data)["body"]
    assert body["kind"] == "binary" and bytes.fromhex(body["hex"]) == payload


@BOTH
def test_a_streamed_http_answer_arrives_in_pieces_through_watch(
    served: tuple[Watch, int], arch: str
) -> None:
    _, port = served
    chunks, delay_ms = 4, 300
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    try:
        conn.request("GET", f"/lambda-url/http-stream-{arch}/x?chunks={chunks}&delay_ms={delay_ms}")
        response = conn.getresponse()
        assert response.status == 200
        assert response.getheader("x-fixture") == "http-stream"
        arrivals: list[tuple[float, bytes]] = []
        while line := response.readline():
            arrivals.append((time.monotonic(), line))
    finally:
        conn.close()
    assert [line for _, line in arrivals] == [f"part {i}\n".encode() for i in range(chunks)]
    assert arrivals[-1][0] - arrivals[0][0] >= (chunks - 1) * delay_ms / 1000 * 0.8


@BOTH
def test_max_concurrency_through_watch(served: tuple[Watch, int], arch: str) -> None:
    _, port = served
    client = lambda_client(f"http://127.0.0.1:{port}")
    name = f"concurrent-{arch}"

    def call(sleep_ms: int) -> dict[str, Any]:
        answer = client.invoke(FunctionName=name, Payload=json.dumps({"sleep_ms": sleep_ms}))
        assert "FunctionError" not in answer
        return dict(json.loads(answer["Payload"].read()))

    call(1)  # Init first
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(call, [1500] * 3))
    assert len({a["pid"] for a in answers}) == 1  # one instance ...
    assert {a["max_concurrency"] for a in answers} == {"3"}
    # ... serving all three at once
    assert max(a["started_ms"] for a in answers) < min(a["finished_ms"] for a in answers)


@BOTH
def test_sdk_call_with_credentials_only_in_the_profile_given(
    served: tuple[Watch, int], arch: str, moto_url: str
) -> None:
    _, port = served
    sqs = boto3.client(
        "sqs",
        endpoint_url=moto_url,
        region_name="eu-west-3",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    queue = f"watch-{arch}"
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    answer = lambda_client(f"http://127.0.0.1:{port}").invoke(
        FunctionName=f"sdk-{arch}",
        Payload=json.dumps({"queue": queue, "message": f"via watch on {arch}"}),
    )
    body = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, body
    assert body["region"] == "eu-west-3" and body["queue_url"] == url
    message = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"][0]
    assert message["Body"] == f"via watch on {arch}"


# --------------------------------------------------------------------------- only the Lambda APIs


def exports(watch: Watch, function: str) -> dict[str, str]:
    """The ``export K=V`` lines watch printed for ``function``."""
    lines = watch.err_lines
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{function}: export"))
    env: dict[str, str] = {}
    for line in lines[start + 1 :]:
        if not line.startswith("  export "):
            break
        key, _, value = line.removeprefix("  export ").partition("=")
        env[key] = shlex.split(value)[0] if value else ""
    return env


@BOTH
def test_only_lambda_apis_with_the_bootstrap_the_user_starts(
    real_crates_zig: RealCratesBuild, build_env: dict[str, str], arch: str, tmp_path: Path
) -> None:
    argv = [
        "--only-lambda-apis",
        "--bin",
        "typed",
        "--manifest-path",
        str(REAL_CRATES / "Cargo.toml"),
        "-P",
        "0",
        "--env-var",
        "GREETING_FROM=watch",
    ]
    watch = Watch(argv, REAL_CRATES, no_aws(build_env))
    user: subprocess.Popen[bytes] | None = None
    try:
        port = int(watch.wait_for(r"invoke at http://127\.0\.0\.1:(\d+)/", timeout=WAIT)[1])
        watch.wait_for(r"^  export ", timeout=WAIT)
        time.sleep(0.5)  # the rest of the block
        env = exports(watch, "typed")
        assert env["AWS_LAMBDA_RUNTIME_API"] == f"http://127.0.0.1:{port}/.rt/typed"
        assert env["AWS_LAMBDA_FUNCTION_NAME"] == "typed"
        assert env["GREETING_FROM"] == "watch"
        assert "AWS_SECRET_ACCESS_KEY" not in env
        # As a user would: the exports, then the bootstrap (here the fixture's own build).
        launch = plan_launch(real_crates_zig.bootstrap(arch, "typed"), environ=os.environ)
        user = subprocess.Popen(
            list(launch.argv), env={**env, "PATH": os.environ["PATH"]}, cwd=tmp_path
        )
        answer = lambda_client(f"http://127.0.0.1:{port}").invoke(
            FunctionName="typed", Payload=json.dumps({"name": "Ada", "count": 2})
        )
        body = json.loads(answer["Payload"].read())
        assert "FunctionError" not in answer, body
        assert body["greeting"] == "hello Ada" and body["arch"] == RUST_ARCH[arch]
        assert user.poll() is None  # it serves on, waiting for the next event
        assert not any(line.startswith("info: built") for line in watch.err_lines)  # no build
    finally:
        if user is not None:
            user.kill()
            user.wait(timeout=30)
        assert watch.stop() == 0


# --------------------------------------------------------------------------- --wait


@contextlib.contextmanager
def cargo_locked(target_dir: Path) -> Iterator[None]:
    """Hold cargo's own locks on the target dir's build directories, as a running cargo does:
    a cargo started meanwhile blocks until they are released."""
    files = [p for p in target_dir.glob("**/debug/.cargo-lock") if "lambda" not in p.parts]
    assert files, f"no cargo locks under {target_dir}"
    handles = [os.open(p, os.O_RDWR) for p in files]
    try:
        for fd in handles:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        for fd in handles:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def test_invokes_during_the_first_build_wait_with_wait_and_are_pending_without(
    real_crates_zig: RealCratesBuild, build_env: dict[str, str]
) -> None:
    env = no_aws(build_env)
    watches: list[Watch] = []
    pool = ThreadPoolExecutor(1)
    try:
        with cargo_locked(real_crates_zig.target_dir):
            # the fixture's whole selection: `--bin typed` alone would unify features anew
            waiting = Watch(watch_argv(real_crates_zig, "-w"), REAL_CRATES, env)
            watches.append(waiting)
            plain = Watch(watch_argv(real_crates_zig), REAL_CRATES, env)
            watches.append(plain)
            wait_port = int(waiting.wait_for(r"listening on http://127\.0\.0\.1:(\d+) ", WAIT)[1])
            plain_port = int(plain.wait_for(r"listening on http://127\.0\.0\.1:(\d+) ", WAIT)[1])
            # cargo is blocked on the lock, and watch says so
            waiting.wait_for(r"building: compiling .*\(waiting for file lock", timeout=WAIT)
            held = pool.submit(
                lambda_client(f"http://127.0.0.1:{wait_port}").invoke,
                FunctionName="typed-x86_64",
                Payload=json.dumps({"name": "early"}).encode(),
            )
            refused = run_cli(
                "invoke", "typed-x86_64", "-P", str(plain_port), cwd=REAL_CRATES, env=env
            )
            assert refused.returncode == 21, refused.stderr
            assert "ResourceConflictException" in refused.stderr
            assert "state: Pending" in refused.stderr and "--wait" in refused.stderr
            time.sleep(1.0)
            assert not held.done()  # waiting for the build
        answer = held.result(timeout=600)
        body = json.loads(answer["Payload"].read())
        assert "FunctionError" not in answer, body
        assert body["greeting"] == "hello early"
        plain.wait_for(r"invoke at ", timeout=600)
        later = run_cli(
            "invoke",
            "typed",
            "-P",
            str(plain_port),
            "-A",
            '{"name": "later"}',
            cwd=REAL_CRATES,
            env=env,
        )
        assert later.returncode == 0 and json.loads(later.stdout)["greeting"] == "hello later"
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        for watch in watches:
            assert watch.stop() == 0, "\n".join(watch.err_lines[-20:])
