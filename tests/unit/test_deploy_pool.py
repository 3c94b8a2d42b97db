"""Deploying many functions at once, the parts that need no AWS endpoint: the bounded pool, the
one-creator registry, waiting out throttling and updates in progress (botocore's Stubber stands
in for Lambda), the ``max_parallel`` setting, the summary error and the CLI's rendering."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.stub import Stubber
from rich.console import Console

from rustlambda.cli import render
from rustlambda.deployer import _summary, retry
from rustlambda.deployer.pool import Once, Progress, run_all
from rustlambda.deployer.result import Deployment, DeployResult, Failure
from rustlambda.deployer.select import Target, parallelism
from rustlambda.deployer.settings import DeployOptions
from rustlambda.errors import ConfigError
from rustlambda.layout import ArtifactKind
from rustlambda.targets import Arch

from .test_deploy import plain, settings_for

WAIT = 10.0  # seconds any blocking step of these tests may take before it fails


# --- the pool ----------------------------------------------------------------------------------
def test_results_in_task_order_news_in_completion_order() -> None:
    first_may_end = threading.Event()

    def slow() -> str:
        assert first_may_end.wait(WAIT)
        return "slow"

    news: list[tuple[int, str]] = []

    def finished(index: int, value: str) -> None:
        news.append((index, value))
        first_may_end.set()  # "fast" is done: now "slow" may end

    results = run_all([slow, lambda: "fast"], parallel=2, finished=finished)
    assert results == ["slow", "fast"]
    assert news == [(1, "fast"), (0, "slow")]


@pytest.mark.parametrize("parallel", [1, 3])
def test_at_most_parallel_tasks_run_at_once(parallel: int) -> None:
    """Tasks meet in groups of ``parallel``: fewer workers would never fill a group (the
    barrier times out), more would show in the count."""
    barrier = threading.Barrier(parallel, timeout=WAIT)
    lock = threading.Lock()
    running = [0, 0]  # now, most

    def task() -> int:
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        barrier.wait()
        time.sleep(0.01)
        with lock:
            running[0] -= 1
        return 1

    results = run_all([task] * (parallel * 3), parallel=parallel, finished=lambda i, v: None)
    assert results == [1] * (parallel * 3)
    assert running[1] == parallel


def test_stop_starts_no_further_task() -> None:
    started: list[int] = []

    def task(n: int) -> int:
        started.append(n)
        return n

    tasks = [lambda n=n: task(n) for n in range(5)]
    results = run_all(tasks, parallel=1, finished=lambda i, v: None, stop=lambda v: v == 1)
    assert results == [0, 1, None, None, None]
    assert started == [0, 1]


def test_a_task_that_raises_is_raised_after_the_running_ones() -> None:
    ended = threading.Event()

    def boom() -> int:
        raise RuntimeError("a defect")

    def slow() -> int:
        time.sleep(0.05)
        ended.set()
        return 2

    with pytest.raises(RuntimeError, match="a defect"):
        run_all([slow, boom, lambda: 3], parallel=2, finished=lambda i, v: None)
    assert ended.is_set()


def test_once_makes_a_value_once_for_every_waiting_caller() -> None:
    once: Once[str, str] = Once()
    made: list[int] = []
    gate = threading.Event()

    def make() -> str:
        made.append(1)
        assert gate.wait(WAIT)
        return "arn:role"

    got: list[tuple[str, bool]] = []
    threads = [threading.Thread(target=lambda: got.append(once.get("r", make))) for _ in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(0.05)  # let them all queue up behind the first
    gate.set()
    for thread in threads:
        thread.join(WAIT)
    assert made == [1]
    assert sorted(got) == [("arn:role", False)] * 5 + [("arn:role", True)]


def test_once_does_not_keep_a_failure() -> None:
    once: Once[str, str] = Once()

    def fail() -> str:
        raise ValueError("denied")

    with pytest.raises(ValueError):
        once.get("r", fail)
    assert once.get("r", lambda: "made") == ("made", True)


# --- waiting out refusals ------------------------------------------------------------------
def _error(code: str, message: str = "no", status: int = 400) -> botocore.exceptions.ClientError:
    response: Any = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {}}
    response["ResponseMetadata"]["HTTPStatusCode"] = status
    return botocore.exceptions.ClientError(response, "Op")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(retry, "_sleep", fake.sleep)
    monkeypatch.setattr(retry, "_now", lambda: fake.now)
    return fake


def flaky(*errors: Exception, value: str = "ok") -> tuple[list[int], Any]:
    calls: list[int] = []

    def fn(**kwargs: Any) -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return value

    return calls, fn


def test_throttling_is_waited_out_with_a_growing_jittered_backoff(clock: Clock) -> None:
    calls, fn = flaky(*[_error("TooManyRequestsException", status=429)] * 3, _error("Throttling"))
    with retry.counting() as seen:
        assert retry.patiently(fn, {}) == "ok"
    assert len(calls) == 5 and seen == [retry.Refusal.THROTTLED] * 4
    caps = [1.0, 2.0, 4.0, 8.0]  # base 1 s, doubled each time
    assert all(0 <= s <= cap for s, cap in zip(clock.sleeps, caps, strict=True))


def test_waiting_is_bounded_in_attempts(clock: Clock) -> None:
    calls, fn = flaky(*[_error("TooManyRequestsException")] * 20)
    with pytest.raises(botocore.exceptions.ClientError):
        retry.patiently(fn, {})
    assert len(calls) == retry.PATIENCE.attempts


def test_waiting_is_bounded_in_time(clock: Clock) -> None:
    patience = retry.Patience(attempts=100, seconds=30.0)
    calls, fn = flaky(*[_error("TooManyRequestsException")] * 100)
    with pytest.raises(botocore.exceptions.ClientError):
        retry.patiently(fn, {}, patience=patience)
    assert sum(clock.sleeps) <= 30.0 and len(calls) < 100


@pytest.mark.parametrize(
    "error",
    [
        _error("ResourceConflictException", "Function already exist: hello", 409),
        _error("AccessDeniedException", "not allowed", 403),
        _error("InvalidParameterValueException", "bad", 400),
    ],
)
def test_other_refusals_fail_at_once(clock: Clock, error: Exception) -> None:
    calls, fn = flaky(error)
    with pytest.raises(botocore.exceptions.ClientError):
        retry.patiently(fn, {})
    assert len(calls) == 1 and clock.sleeps == []


def test_a_throttled_waiter_is_waited_out(clock: Clock) -> None:
    last: Any = {"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}}
    waiter_error = botocore.exceptions.WaiterError("FunctionUpdatedV2", "throttled", last)
    calls, fn = flaky(waiter_error)
    assert retry.patiently(fn, {}) == "ok" and len(calls) == 2


IN_PROGRESS = (
    "The operation cannot be performed at this time. An update is in progress for resource: "
    "arn:aws:lambda:us-east-1:123456789012:function:hello"
)


PENDING = (
    "The operation cannot be performed at this time. The function is currently in the following "
    "state: Pending"
)


@pytest.mark.parametrize(
    ("message", "ready"),
    [
        (IN_PROGRESS, {"LastUpdateStatus": "Successful"}),  # function_updated_v2
        (PENDING, {"State": "Active"}),  # still being created: function_active_v2
    ],
)
def test_an_update_in_progress_waits_for_the_function(
    clock: Clock, message: str, ready: dict[str, str]
) -> None:
    session = boto3.Session(
        aws_access_key_id="a", aws_secret_access_key="b", region_name="us-east-1"
    )
    lam = session.client("lambda")
    stub = Stubber(lam)
    stub.add_client_error(
        "update_function_configuration", "ResourceConflictException", message, 409
    )
    stub.add_response("get_function", {"Configuration": ready})
    stub.add_response("update_function_configuration", {"FunctionName": "hello"})
    with stub, retry.counting() as seen:
        done = retry.patiently(
            lam.update_function_configuration, {"FunctionName": "hello", "MemorySize": 256}
        )
    stub.assert_no_pending_responses()  # the waiter asked for the status in between
    assert done["FunctionName"] == "hello"
    assert seen == [retry.Refusal.IN_PROGRESS] and clock.sleeps == []


# --- the setting ---------------------------------------------------------------------------
def test_max_parallel_from_flag_environment_and_metadata(tmp_path: Path) -> None:
    assert plain().max_parallel == 8  # the default
    meta = {"deploy": {"max_parallel": 3}}
    s, warnings = settings_for(tmp_path, DeployOptions(), ws_meta=meta)
    assert s.max_parallel == 3 and warnings == []
    s, _ = settings_for(tmp_path, DeployOptions(max_parallel=2), ws_meta=meta)
    assert s.max_parallel == 2
    from rustlambda.deployer.settings import function_chain, resolve_function

    chain = function_chain(
        DeployOptions(), tmp_path, None, None, environ={"RUSTLAMBDA_DEPLOY_MAX_PARALLEL": "5"}
    )
    resolved = resolve_function(
        chain,
        binary="hello",
        base_env={},
        build_include=(),
        build_extension=False,
        build_internal=False,
    )
    assert resolved.max_parallel == 5
    with pytest.raises(ConfigError, match="RUSTLAMBDA_DEPLOY_MAX_PARALLEL must be a whole number"):
        function_chain(
            DeployOptions(),
            tmp_path,
            None,
            None,
            environ={"RUSTLAMBDA_DEPLOY_MAX_PARALLEL": "eight"},
        )
    with pytest.raises(ConfigError, match="from 1 to 64"):
        settings_for(tmp_path, DeployOptions(), ws_meta={"deploy": {"max_parallel": 0}})


def test_the_functions_must_agree_on_max_parallel(tmp_path: Path) -> None:
    def target(name: str, max_parallel: int) -> Target:
        return Target(plain(name=name, max_parallel=max_parallel), tmp_path, tmp_path)

    assert parallelism([target("a", 4), target("b", 4)]) == 4
    with pytest.raises(ConfigError, match="disagree on max_parallel: a → 4, b → 2") as caught:
        parallelism([target("a", 4), target("b", 2)])
    assert "--max-parallel" in caught.value.fix


# --- reporting ---------------------------------------------------------------------------------
def deployment(name: str, status: str, failure: Failure | None = None) -> Deployment:
    return Deployment(
        name=name,
        kind=ArtifactKind.FUNCTION,
        arch=Arch.X86_64,
        zip_path=f"/l/{name}/bootstrap.zip",
        size=1,
        sha256="ab" * 32,
        status=status,
        failure=failure,
        seconds=1.25,
        retries=(("throttled", 2),),
    )


DENIED = Failure("CreateFunction for b failed: AccessDeniedException: no", "grant it", "Acc", 23)


def test_several_failures_are_named_in_one_error() -> None:
    result = DeployResult(
        (
            deployment("a", "created"),
            deployment("b", "failed", DENIED),
            deployment("c", "not started"),
        ),
        max_parallel=8,
    )
    assert not result.ok and [d.name for d in result.failed] == ["b"]
    error = _summary(result)
    assert error.exit_code == 23 and error.result is result and error.code == "Acc"
    assert error.message.splitlines() == [
        "1 of 3 failed:",
        "- b: CreateFunction for b failed: AccessDeniedException: no",
        "- not started after that: c",
    ]
    assert "the other 1 went through" in error.fix and "(grant it)" in error.fix
    data = result.to_dict()
    assert data["failed"] == ["b"] and data["not_started"] == ["c"] and data["ok"] is False
    assert data["deployments"][0]["retries"] == {"throttled": 2}
    assert data["deployments"][1]["failure"]["code"] == "Acc"


def test_the_cli_prints_each_function_as_it_finishes() -> None:
    out = io.StringIO()
    reporter = render.DeployReporter(Console(file=out, width=200), verbose=False, quiet=False)
    reporter.deployed(Progress(deployment("a", "created"), 1, 2))
    reporter.deployed(Progress(deployment("b", "failed", DENIED), 2, 2))
    reporter.deployed(Progress(deployment("solo", "created"), 1, 1))  # one function: no line
    assert out.getvalue().splitlines() == [
        "done [1/2] a: created in 1.2 s, 2 retries",
        "failed [2/2] b (Acc)",
    ]


def test_the_cli_summary_is_in_a_stable_order_with_a_tally(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = DeployResult(
        (deployment("a", "created"), deployment("b", "failed", DENIED)), max_parallel=8
    )
    render.deploy_result(result)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "a (function, x86_64): created"
    assert "b (function, x86_64): failed" in lines
    assert f"  error: {DENIED.message}" in lines
    assert lines[-1] == "2 functions: 1 created, 1 failed (8 at a time)"
