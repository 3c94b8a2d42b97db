"""``rustlambda deploy --all`` of many functions at once, against moto's server behind a proxy
(tests/aws_proxy.py) that sees every request, counts how many were in flight together, and
answers chosen ones with Lambda's throttling or update-in-progress refusals.

One generated workspace of 22 tiny functions (one package, 22 binaries on the std-workspace
fixture's ``shared`` runtime crate; x86_64, debug profile without debug info) is built once for
the module; each test deploys a copy of it.
"""

# ruff: noqa: F811
from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

import rustlambda
from rustlambda import Arch, BuildOptions, DeployOptions, Target
from rustlambda.errors import DeployError
from tests.aws_proxy import THROTTLED, AwsProxy, Fault, in_progress, is_lambda

from .conftest import FIXTURES, Recorder, run_cli

# test_deploy's moto server and AWS environment fixtures, shared (so F401/F811 are expected)
from .test_deploy import Moto, aws, code_sha256, moto  # noqa: F401

COUNT = 22
NAMES = [f"f{i:02d}" for i in range(1, COUNT + 1)]
_WORKSPACE = """\
[workspace]
members = ["crates/shared", "fleet"]
resolver = "2"

[workspace.package]
version = "0.1.0"
edition = "2021"
publish = false

[profile.dev]
debug = 0
strip = true
"""
_MAIN = """\
fn handler(event: &str) -> Result<String, String> {{
    shared::fixture::handle("{name}", event)
}}

fn main() {{
    shared::run(handler)
}}
"""


def fleet_workspace(dest: Path) -> Path:
    """22 binaries in one package, on the fixtures' shared runtime crate."""
    shutil.copytree(
        FIXTURES / "std-workspace/crates/shared",
        dest / "crates/shared",
        ignore=shutil.ignore_patterns("target"),
    )
    (dest / "Cargo.toml").write_text(_WORKSPACE)
    bins = "".join(f'\n[[bin]]\nname = "{n}"\npath = "src/bin/{n}.rs"\n' for n in NAMES)
    package = dest / "fleet"
    (package / "src/bin").mkdir(parents=True)
    (package / "Cargo.toml").write_text(
        '[package]\nname = "fleet"\nversion.workspace = true\nedition.workspace = true\n'
        f"publish.workspace = true\n{bins}\n"
        '[dependencies]\nshared = { path = "../crates/shared" }\n'
    )
    for name in NAMES:
        (package / "src/bin" / f"{name}.rs").write_text(_MAIN.format(name=name))
    return dest


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory, build_env: dict[str, str]) -> Path:
    ws = fleet_workspace(tmp_path_factory.mktemp("fleet") / "ws")
    result = rustlambda.build(
        BuildOptions(cwd=ws, targets=(Target.for_arch(Arch.X86_64),), environ=build_env)
    )
    assert sorted(a.function for a in result.artifacts) == NAMES
    return ws


@pytest.fixture
def ws(fleet: Path, tmp_path: Path) -> Path:
    """A private copy (a test edits its Cargo.toml; deploys write zips next to the builds)."""
    copy = tmp_path / "ws"
    shutil.copytree(fleet, copy, symlinks=True)
    return copy


@pytest.fixture
def proxy(moto: Moto) -> Iterator[AwsProxy]:
    # 20 ms per call: requests of concurrent deploys overlap for certain, sequential ones never
    with AwsProxy(moto.url, latency=0.02) as running:
        yield running


def cli(ws: Path, env: dict[str, str], proxy: AwsProxy, *args: str) -> tuple[int, Any, str]:
    """``rustlambda deploy --all --json ARGS`` through the proxy: exit code, JSON, stderr."""
    env = {**env, "AWS_ENDPOINT_URL": proxy.url}
    done = run_cli("deploy", "--all", "--json", *args, cwd=ws, env=env, timeout=600)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout) if done.stdout else None, done.stderr


def state(moto: Moto) -> dict[str, tuple[Any, ...]]:
    """Every function as Lambda (moto) has it, without timestamps."""
    lam = moto.client("lambda")
    found: dict[str, tuple[Any, ...]] = {}
    for page in lam.get_paginator("list_functions").paginate():
        for fn in page["Functions"]:
            config = lam.get_function(FunctionName=fn["FunctionName"])["Configuration"]
            found[config["FunctionName"]] = tuple(
                json.dumps(config.get(key), sort_keys=True)
                for key in (
                    "CodeSha256",
                    "Runtime",
                    "Handler",
                    "Architectures",
                    "Role",
                    "MemorySize",
                    "Timeout",
                    "Environment",
                )
            )
    return found


def finished_lines(stderr: str) -> list[tuple[int, str]]:
    """The progress lines, ``done [k/22] fNN: ...`` or ``failed [k/22] fNN``, in order."""
    return [
        (int(k), name)
        for k, name in re.findall(rf"^(?:done|failed) \[(\d+)/{COUNT}\] (f\d\d)", stderr, re.M)
    ]


# ------------------------------------------------------------------------------ tests
def test_concurrent_deploy_ends_as_a_sequential_one(
    moto: Moto, aws: dict[str, str], ws: Path, proxy: AwsProxy
) -> None:
    # the plan (dry run) is made concurrently too, with read-only calls
    code, plan, _ = cli(ws, aws, proxy, "--dry-run")
    assert code == 0 and [d["status"] for d in plan["deployments"]] == ["would create"] * COUNT
    assert {m for m, _ in proxy.requests} == {"GET"} and proxy.max_in_flight > 1

    proxy.reset_counts()
    code, one_by_one, stderr = cli(ws, aws, proxy, "--max-parallel", "1")
    assert code == 0, stderr
    assert proxy.max_in_flight == 1
    assert one_by_one["max_parallel"] == 1
    sequential = state(moto)
    assert sorted(sequential) == NAMES

    moto.reset()
    proxy.reset_counts()
    code, result, stderr = cli(ws, aws, proxy)  # the default pool: 8
    assert code == 0, stderr
    assert 1 < proxy.max_in_flight <= 8  # concurrent, and bounded by the pool
    assert result["ok"] is True and result["max_parallel"] == 8
    # the summary in the workspace's order; the progress lines in the order they finished
    assert [d["name"] for d in result["deployments"]] == NAMES
    assert [d["status"] for d in result["deployments"]] == ["created"] * COUNT
    lines = finished_lines(stderr)
    assert [k for k, _ in lines] == list(range(1, COUNT + 1))
    assert sorted(name for _, name in lines) == NAMES
    for d in result["deployments"]:
        assert code_sha256(Path(d["zip_path"])) == state(moto)[d["name"]][0].strip('"')
        assert d["failure"] is None and d["retries"] == {}
    assert state(moto) == sequential  # same configuration, code, roles
    roles = moto.client("iam").list_roles()["Roles"]
    assert sorted(r["RoleName"] for r in roles) == [f"rustlambda-{n}" for n in NAMES]

    # nothing changed: nothing is written
    proxy.reset_counts()
    code, again, stderr = cli(ws, aws, proxy)
    assert code == 0, stderr
    assert [d["status"] for d in again["deployments"]] == ["unchanged"] * COUNT
    assert proxy.requests and {m for m, _ in proxy.requests} == {"GET"}
    assert state(moto) == sequential


def test_throttling_and_updates_in_progress_are_waited_out(
    moto: Moto, aws: dict[str, str], ws: Path, proxy: AwsProxy
) -> None:
    """Every third Lambda request is throttled (but not the same request twice in a row, which
    keeps the test's sleeps short), and each function's first configuration update and first
    PublishVersion meet an update in progress. botocore's own retries are off
    (--retry-attempts 1): rustlambda's waiting gets every function deployed."""
    seen = {"lambda": 0}
    conflicted: set[tuple[str, str]] = set()
    throttled: set[tuple[str, str]] = set()

    def rule(method: str, path: str) -> Fault | None:
        if not is_lambda(path):
            return None
        step = re.fullmatch(r"/2015-03-31/functions/(f\d\d)/(configuration|versions)", path)
        if step and method in ("PUT", "POST") and step.groups() not in conflicted:
            conflicted.add((step[1], step[2]))
            return in_progress(step[1])
        seen["lambda"] += 1
        if (method, path) in throttled:
            throttled.discard((method, path))
        elif seen["lambda"] % 3 == 0:
            throttled.add((method, path))
            return THROTTLED
        return None

    proxy.rule = rule
    code, created, stderr = cli(ws, aws, proxy, "--retry-attempts", "1")
    assert code == 0, stderr
    assert [d["status"] for d in created["deployments"]] == ["created"] * COUNT
    assert proxy.refused["TooManyRequestsException"] >= 10  # about a sixth of the calls

    proxy.reset_counts()
    args = ("--retry-attempts", "1", "--memory", "256", "--publish")
    code, updated, stderr = cli(ws, aws, proxy, *args)
    assert code == 0, stderr
    assert proxy.refused["ResourceConflictException"] == 2 * COUNT
    assert proxy.refused["TooManyRequestsException"] > 0
    lam = moto.client("lambda")
    for d in updated["deployments"]:
        assert d["status"] == "updated" and d["config_updated"] == ["MemorySize"]
        assert d["version"] == "1"
        assert d["retries"]["update in progress"] == 2  # the configuration, then the version
        config = lam.get_function(FunctionName=d["name"])["Configuration"]
        assert config["MemorySize"] == 256
        assert config["CodeSha256"] == code_sha256(Path(d["zip_path"]))
    waited = sum(d["retries"].get("throttled", 0) for d in updated["deployments"])
    assert 0 < waited <= proxy.refused["TooManyRequestsException"]


def test_one_failure_is_named_and_the_others_are_deployed(
    moto: Moto, aws: dict[str, str], ws: Path, proxy: AwsProxy
) -> None:
    manifest = ws / "fleet/Cargo.toml"
    role = "arn:aws:iam::123456789012:role/nope"  # moto: "cannot be assumed by Lambda"
    manifest.write_text(
        manifest.read_text() + f'\n[package.metadata.lambda.bin.f07.deploy]\nrole = "{role}"\n'
    )
    code, result, stderr = cli(ws, aws, proxy)
    assert code == 23, stderr
    assert result["ok"] is False and result["failed"] == ["f07"] and result["not_started"] == []
    by_name = {d["name"]: d for d in result["deployments"]}
    failure = by_name["f07"]["failure"]
    assert by_name["f07"]["status"] == "failed"
    assert failure["code"] == "InvalidParameterValueException" and failure["exit_code"] == 23
    assert "CreateFunction for f07 failed" in failure["message"]
    assert all(by_name[n]["status"] == "created" for n in NAMES if n != "f07")
    assert "error: 1 of 22 failed:" in stderr and "- f07: CreateFunction for f07" in stderr
    assert sorted(state(moto)) == [n for n in NAMES if n != "f07"]

    # the same in text: every function's line, the tally, the error last
    done = run_cli("deploy", "--all", cwd=ws, env={**aws, "AWS_ENDPOINT_URL": proxy.url})
    assert done.returncode == 23 and "Traceback" not in done.stderr
    assert "f07 (function, x86_64): failed" in done.stdout
    assert "22 functions: 21 unchanged, 1 failed (8 at a time)" in done.stdout
    assert "error: 1 of 22 failed" in done.stderr


def test_the_python_api_deploys_all_and_raises_with_every_outcome(
    moto: Moto, ws: Path, proxy: AwsProxy
) -> None:
    moto.reset()
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    options = DeployOptions(all=True, cwd=ws, endpoint_url=proxy.url, max_parallel=4)
    recorder = Recorder()
    result = rustlambda.deploy(options, reporter=recorder, session=session)
    assert result.ok and result.max_parallel == 4 and 1 < proxy.max_in_flight <= 4
    assert [d.status for d in result.deployments] == ["created"] * COUNT
    # a reporter without `deployed` gets each finished function as an info line
    assert len([i for i in recorder.infos if re.match(rf"\[\d+/{COUNT}\] f\d\d: created", i)]) == (
        COUNT
    )

    manifest = ws / "fleet/Cargo.toml"
    manifest.write_text(
        manifest.read_text() + '\n[package.metadata.lambda.bin.f03.deploy]\nrole = "no-such-role"\n'
    )
    with pytest.raises(DeployError) as caught:
        rustlambda.deploy(options, reporter=Recorder(), session=session)
    outcome = caught.value.result
    assert outcome is not None and [d.name for d in outcome.failed] == ["f03"]
    assert {d.status for d in outcome.deployments if d.name != "f03"} == {"unchanged"}
