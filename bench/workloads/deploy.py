"""W9: ``rustlambda deploy --all`` of 20 functions against moto's server, a pool of 8 vs one
function at a time (``--max-parallel 1``): wall time and end state, without and with an added
per-call latency (tests/aws_proxy.py in front of moto)."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.aws_proxy import AwsProxy

from ..core import (
    BenchError,
    Cmd,
    Context,
    Stat,
    alternate,
    free_port,
    log,
    ratio,
    run,
    start_server,
    stop,
)
from ..report import Comparison, Section, Table
from ..workspaces import function_names, std_workspace

COUNT = 20
POOL = 8
#: Added to every request in the "realistic" runs (see the section's intro for why 100 ms).
LATENCY = 0.1
_SWEEP = (2, 4, 16)

#: Run by the project's Python (boto3): warm moto's backends, or print the end state.
_CLIENT = """
import json, sys, boto3
url, what = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="bench",
          aws_secret_access_key="bench")
lam, iam = boto3.client("lambda", **kw), boto3.client("iam", **kw)
if what == "warm":
    iam.list_roles(); lam.list_functions()
else:
    keys = ("CodeSha256", "Runtime", "Handler", "Architectures", "Role", "MemorySize",
            "Timeout", "Environment")
    state = {}
    for page in lam.get_paginator("list_functions").paginate():
        for fn in page["Functions"]:
            config = lam.get_function(FunctionName=fn["FunctionName"])["Configuration"]
            state[fn["FunctionName"]] = [config.get(k) for k in keys]
    roles = sorted(r["RoleName"] for r in iam.list_roles()["Roles"])
    print(json.dumps({"functions": state, "roles": roles}, sort_keys=True))
"""


class Endpoint:
    """moto's server (its own process) and, optionally, the latency proxy in front of it."""

    def __init__(self, ctx: Context, url: str, proxy: AwsProxy | None) -> None:
        self.ctx, self.moto_url, self.proxy = ctx, url, proxy

    @property
    def url(self) -> str:
        return self.proxy.url if self.proxy is not None else self.moto_url

    def client(self, what: str) -> str:
        t = self.ctx.tools
        cmd = Cmd(
            [str(t.project_python), "-c", _CLIENT, self.moto_url, what],
            self.ctx.scratch,
            t.rl_env(),
            120,
        )
        return run(cmd).stdout

    def reset(self) -> None:
        """Empty moto, then warm it (its first IAM call loads every managed policy: seconds
        that are moto's, not a deploy's)."""
        request = urllib.request.Request(self.moto_url + "/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
        self.client("warm")
        if self.proxy is not None:
            self.proxy.reset_counts()


def _start_moto(ctx: Context) -> tuple[Any, str]:
    port = free_port()
    moto = ctx.tools.project_venv / "bin" / "moto_server"
    env = ctx.tools.rl_env(MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    proc = start_server(
        Cmd([str(moto), "-H", "127.0.0.1", "-p", str(port)], ctx.scratch, env),
        ctx.scratch / "moto.log",
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/moto-api/", timeout=5) as response:
                response.read()
            return proc, url
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise BenchError(
        f"moto_server did not answer on {url} within 60 s (see {ctx.scratch}/moto.log)"
    )


class Deploys:
    """Timed ``rustlambda deploy --all`` runs, each from an empty endpoint."""

    def __init__(self, ctx: Context, ws: Path) -> None:
        self.ctx, self.ws = ctx, ws
        self.states: dict[tuple[str, int], set[str]] = {}
        self.in_flight: dict[tuple[str, int], int] = {}
        self.unchanged: dict[tuple[str, int], Stat] = {}

    def measure(self, endpoint: Endpoint, label: str, pool: int) -> float:
        """One deploy of every function to an empty endpoint; then, untimed, its end state,
        and an unchanged redeploy (timed separately)."""
        endpoint.reset()
        seconds, result = self._deploy(endpoint, pool)
        statuses = {d["status"] for d in result["deployments"]}
        if statuses != {"created"} or len(result["deployments"]) != COUNT:
            raise BenchError(f"deploy --max-parallel {pool}: statuses {statuses}")
        self.states.setdefault((label, pool), set()).add(endpoint.client("state"))
        if endpoint.proxy is not None:
            self.in_flight[label, pool] = endpoint.proxy.max_in_flight
        again, result = self._deploy(endpoint, pool)
        if {d["status"] for d in result["deployments"]} != {"unchanged"}:
            raise BenchError(f"redeploy --max-parallel {pool} changed something")
        self.unchanged.setdefault((label, pool), Stat()).samples.append(again)
        return seconds

    def _deploy(self, endpoint: Endpoint, pool: int) -> tuple[float, Any]:
        env = {
            "AWS_ENDPOINT_URL": endpoint.url,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(self.ctx.scratch / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.ctx.scratch / "no-aws-credentials"),
        }
        args = ("deploy", "--all", "--json", "--max-parallel", str(pool))
        cmd = self.ctx.tools.rl(*args, cwd=self.ws, timeout=600, **env)
        start = time.perf_counter()
        done = run(cmd)
        return time.perf_counter() - start, json.loads(done.stdout)


def _built_workspace(ctx: Context) -> Path:
    ws = std_workspace(ctx.workdir("w9") / "ws", COUNT)
    log(f"W9: building the {COUNT}-function workspace (debug, no debug info)")
    build = ctx.tools.rl(
        "build",
        cwd=ws,
        timeout=1800,
        CARGO_PROFILE_DEV_DEBUG="0",
        CARGO_PROFILE_DEV_STRIP="symbols",
    )
    run(build)
    built = [n for n in function_names(COUNT) if (ws / "target/lambda" / n / "bootstrap").is_file()]
    if len(built) != COUNT:
        raise BenchError(f"built {len(built)} of {COUNT} functions")
    return ws


def _compare(
    ctx: Context, section: Section, table: Table, deploys: Deploys, label: str, endpoint: Endpoint
) -> None:
    """A pool of 8 against one at a time on one endpoint (and, with the latency, a sweep)."""
    cases = [(str(pool), lambda p=pool: deploys.measure(endpoint, label, p)) for pool in (1, POOL)]
    stats = alternate(cases, ctx.cold_runs, f"W9 {label}")
    realistic = endpoint.proxy is not None
    sweep = {}
    if realistic and not ctx.quick:
        sweep = {pool: Stat([deploys.measure(endpoint, label, pool)]) for pool in _SWEEP}
    one, pooled = stats["1"], stats[str(POOL)]
    states = deploys.states
    same = states[label, 1] == states[label, POOL] and len(states[label, 1]) == 1
    value = ratio(pooled.median, one.median)
    section.comparisons += [
        Comparison(
            f"deploy {COUNT} functions ({label}): pool of {POOL} vs one at a time",
            pooled.fmt(),
            one.fmt() + " (--max-parallel 1)",
            value,
            "≤ 0.25x (≥ 4x faster)" if realistic else "— (see notes)",
            value <= 0.25 if realistic else None,
        ),
        Comparison(
            f"same end state ({label}): every function's code, configuration, role",
            "yes" if same else "NO",
            "",
            None,
            "identical",
            same,
        ),
    ]
    for pool, stat in [(1, one), (POOL, pooled), *sweep.items()]:
        table.add(
            label,
            pool,
            stat.fmt(),
            deploys.unchanged[label, pool].fmt(),
            deploys.in_flight.get((label, pool), "—"),
        )
    section.raw[label] = {str(pool): stat.to_dict() for pool, stat in stats.items()} | {
        str(pool): stat.to_dict() for pool, stat in sweep.items()
    }


def run_workload(ctx: Context) -> Section:
    section = Section(
        "9",
        "Deploying 20 functions at once",
        f"`rustlambda deploy --all` of {COUNT} generated std-only functions (bench/workspaces.py, "
        "x86_64, debug build without debug info), each run to an empty moto server "
        "(`moto_server`, its own process; reset and warmed before every run, untimed): "
        f"`--max-parallel {POOL}` (the default) against `--max-parallel 1` (one function at a "
        "time, as rustlambda did before and as cargo-lambda deploys). Wall time of the whole "
        "command (start-up, cargo metadata, zipping and verifying 20 zips, then AWS). A deploy "
        f"that creates a function makes 7 requests for it (GetFunction, GetRole, CreateRole, "
        "AttachRolePolicy, CreateFunction, GetFunction until Active, GetFunctionUrlConfig). "
        "moto answers in a few milliseconds from the same 2 cores, so the runs are repeated "
        f"behind tests/aws_proxy.py adding {LATENCY * 1000:.0f} ms to every request, about what "
        "a Lambda or IAM control-plane call takes from a CI runner in the Region. That is "
        "conservative: real Lambda also takes seconds to make a new function Active and an "
        "update Successful, which moto reports at once, and which a pool overlaps too.",
    )
    ws = _built_workspace(ctx)
    deploys = Deploys(ctx, ws)
    table = Table(
        [
            "endpoint",
            "--max-parallel",
            f"create {COUNT}: median (min to max, n)",
            "unchanged redeploy",
            "most requests in flight",
        ],
        title="Wall time of `rustlambda deploy --all`",
    )
    proc, moto_url = _start_moto(ctx)
    try:
        with AwsProxy(moto_url, latency=LATENCY) as proxy:
            _compare(ctx, section, table, deploys, "moto", Endpoint(ctx, moto_url, None))
            label = f"moto + {LATENCY * 1000:.0f} ms/call"
            _compare(ctx, section, table, deploys, label, Endpoint(ctx, moto_url, proxy))
    finally:
        stop(proc)
    section.tables.append(table)
    section.notes += [
        "Both sides are rustlambda: the anchor column is the same command with `--max-parallel 1`. "
        "cargo-lambda deploys one function per command, so its time for 20 functions is at "
        "least 20 of its single deploys.",
        "Without added latency the pool is bounded by moto itself: one Python process that "
        "serves every request on the same 2 cores as the 8 deploying threads (and the bench), "
        "so the ratio there says more about moto than about Lambda.",
        "Fixed costs in every run, whatever the pool: Python start-up and imports, `cargo "
        "metadata`, and zipping and verifying the 20 zips before the first AWS call.",
        "The sweep (one run each) shows the pool's effect with the added latency. moto never "
        "throttles; Lambda's control plane allows 15 requests per second per account and "
        "Region, so 16 at a time would meet throttling on AWS (waited out, see README): one "
        "reason the default is 8.",
    ]
    return section
