"""W5: local runtime. `rustlambda watch` vs `cargo lambda watch` serving the same real-crate
functions: `typed` (lambda_runtime) for invokes, `http` (lambda_http) for the function URL."""

from __future__ import annotations

import http.client
import json
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..core import (
    BenchError,
    Cmd,
    Context,
    Stat,
    fmt_value,
    free_port,
    log,
    ratio,
    run,
    start_server,
    stop,
    tree_cpu_seconds,
)
from ..report import Comparison, Section, Table
from ..workspaces import copy_fixture

TOOLS = ("rustlambda", "cargo-lambda")
#: tests/fixtures/real-crates: `typed` answers {"greeting": "hello <name>", ...} (lambda_runtime,
#: serde), `http` describes the HTTP request it got (lambda_http).
INVOKED = "typed"
URL_FUNCTION = "http"
PATH = f"/2015-03-31/functions/{INVOKED}/invocations"
SMALL = b'{"name":"world"}'
BIG = b'{"name":"' + b"x" * (5 * 1024 * 1024 - 11) + b'"}'  # 5 MiB of JSON, echoed back
READY_TIMEOUT = 900.0  # cargo lambda watch compiles each function on its first invoke
HTTP_TIMEOUT = 60.0
STALL = 0.020  # an invoke of the trivial function slower than this waited on something
PHASES = ("sequential", "concurrent", "5 MiB", "function URL")
#: A function-URL request as curl sends it, through each tool's HTTP front.
URL_PATH = f"/lambda-url/{URL_FUNCTION}/items/42?color=red&size=L"

_PROFILE_TOP = """
import json, pstats, sys
# idle polling and start-up (imports, TLS setup) are not the emulator's work
SKIP = ("poll", "select", "compile", "marshal", "create_dynamic", "__build_class__", "exec",
        "verify_paths", "<frozen", "importlib")
stats = pstats.Stats(sys.argv[1])
rows = []
for (path, line, func), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():
    name = f"{path}:{func}"
    if any(skip in name for skip in SKIP) or func == "<module>":
        continue
    rows.append((tottime, calls, cumtime, f"{path.rsplit('/', 1)[-1]}:{line}({func})"))
rows.sort(reverse=True)
print(json.dumps(rows[: int(sys.argv[2])]))
"""


def url_request(conn: http.client.HTTPConnection) -> float:
    start = time.perf_counter()
    conn.request("GET", URL_PATH, headers={"User-Agent": "bench", "Cookie": "a=1"})
    response = conn.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - start
    if response.status != 200 or b'"raw_path":"/items/42"' not in data:
        raise BenchError(f"{URL_PATH} answered HTTP {response.status}: {data[:300]!r}")
    return elapsed


def invoke(conn: http.client.HTTPConnection, body: bytes) -> float:
    start = time.perf_counter()
    conn.request("POST", PATH, body=body, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - start
    if response.status != 200 or response.getheader("X-Amz-Function-Error"):
        raise BenchError(f"invoke answered HTTP {response.status}: {data[:300]!r}")
    if len(data) < len(body):
        raise BenchError(f"the echo is shorter than the event ({len(data)} < {len(body)} B)")
    return elapsed


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    ready_after: float = 0.0
    seq_rate: Stat = field(default_factory=lambda: Stat(unit="/s"))
    seq_latency: list[float] = field(default_factory=list)
    fresh_rate: Stat = field(default_factory=lambda: Stat(unit="/s"))
    fresh_latency: list[float] = field(default_factory=list)
    conc_rate: Stat = field(default_factory=lambda: Stat(unit="/s"))
    conc_latency: list[float] = field(default_factory=list)
    big: Stat = field(default_factory=Stat)
    url_rate: Stat = field(default_factory=lambda: Stat(unit="/s"))
    url_latency: list[float] = field(default_factory=list)
    #: phase → CPU ms (server and function processes) per invoke, one sample per round
    cpu: dict[str, Stat] = field(default_factory=dict)

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT)

    def log_tail(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-30:])

    def wait_ready(self) -> None:
        start = time.monotonic()
        last = ""
        while time.monotonic() - start < READY_TIMEOUT:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited early:\n{self.log_tail()}")
            conn = self.connect()
            try:
                invoke(conn, SMALL)
                url_request(conn)  # cargo lambda watch builds `http` on its first request
                self.ready_after = time.monotonic() - start
                return
            except (OSError, http.client.HTTPException, BenchError) as exc:
                last = str(exc)
            finally:
                conn.close()
            time.sleep(0.5)
        raise BenchError(
            f"{self.name} not ready after {READY_TIMEOUT:.0f} s ({last}):\n{self.log_tail()}"
        )

    def measured_cpu(self, phase: str, invokes: int, action: Callable[[], None]) -> None:
        before = tree_cpu_seconds(self.proc.pid)
        action()
        used = tree_cpu_seconds(self.proc.pid) - before
        self.cpu.setdefault(phase, Stat(unit="ms")).samples.append(used / invokes * 1000)


def sequential(server: Server, count: int, body: bytes) -> tuple[float, list[float]]:
    """(wall seconds, latencies) of ``count`` invokes over one keep-alive connection."""
    conn = server.connect()
    try:
        start = time.perf_counter()
        latencies = [invoke(conn, body) for _ in range(count)]
        return time.perf_counter() - start, latencies
    finally:
        conn.close()


def url_requests(server: Server, count: int) -> tuple[float, list[float]]:
    """(wall seconds, latencies) of ``count`` function-URL GETs over one keep-alive connection."""
    conn = server.connect()
    try:
        start = time.perf_counter()
        latencies = [url_request(conn) for _ in range(count)]
        return time.perf_counter() - start, latencies
    finally:
        conn.close()


def fresh_connections(server: Server, count: int) -> tuple[float, list[float]]:
    """(wall seconds, latencies) of ``count`` invokes, a new connection each (as curl or the
    AWS CLI)."""
    latencies = []
    start = time.perf_counter()
    for _ in range(count):
        began = time.perf_counter()
        conn = server.connect()
        try:
            invoke(conn, SMALL)
        finally:
            conn.close()
        latencies.append(time.perf_counter() - began)
    return time.perf_counter() - start, latencies


def concurrent(server: Server, clients: int, each: int) -> tuple[float, list[float]]:
    """(wall seconds, latencies) of ``clients`` threads, each with its own connection."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(clients + 1, timeout=HTTP_TIMEOUT)

    def client(index: int) -> None:
        conn = server.connect()
        try:
            barrier.wait()
            for _ in range(each):
                latencies[index].append(invoke(conn, SMALL))
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join(timeout=HTTP_TIMEOUT * each)
    wall = time.perf_counter() - start
    if errors or any(thread.is_alive() for thread in threads):
        raise BenchError(f"{server.name}: concurrent clients failed: {errors[:1]}")
    return wall, [value for group in latencies for value in group]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def watch_cmd(ctx: Context, tool: str, ws: Path, port: int) -> Cmd:
    t = ctx.tools
    target = ctx.workdir(f"w5/target-{tool}")
    common = ["--release", "-P", str(port), "--concurrency", "4"]
    if tool == "rustlambda":
        # The two functions only (the workspace's others include the SDK's, minutes to build).
        bins = ["--bin", INVOKED, "--bin", URL_FUNCTION]
        cmd = t.rl("watch", *common, *bins, "-a", "127.0.0.1", cwd=ws)
    else:
        # cargo lambda watch takes one --bin; without it, it builds and starts each function
        # on its first invoke (the warm-up below does that for both).
        cmd = t.cl("watch", *common, "-A", "127.0.0.1", cwd=ws)
    return cmd.with_env(CARGO_TARGET_DIR=str(target))


def start(ctx: Context, name: str, cmd: Cmd, port: int) -> Server:
    log_path = ctx.scratch / f"w5-{name}.log"
    log(f"W5: starting {cmd.text()}")
    return Server(name, port, start_server(cmd, log_path), log_path)


def run_workload(ctx: Context) -> Section:
    section = Section(
        "5",
        "Local runtime: invokes through the emulator",
        "Both tools serve the same real-crate functions from `tests/fixtures/real-crates` "
        "(crates.io, its Cargo.lock), built `--release`: `typed` (lambda_runtime with serde: "
        '`{"name":"world"}` → `{"greeting":"hello world",...}`; the 5 MiB event is a 5 MiB name, '
        "echoed back in the greeting) for the invokes, `http` (lambda_http: answers JSON "
        "describing the request) for the function URL; `--concurrency 4`, on 127.0.0.1: "
        "`rustlambda watch -a 127.0.0.1 -P PORT --concurrency 4 --release --bin typed --bin http` "
        "and `cargo lambda watch -A 127.0.0.1 -P PORT --concurrency 4 --release` (its `--bin` "
        "takes one name; it builds and starts each function on its first invoke). lambda_runtime "
        "keeps one connection to the Runtime API per instance, as on Lambda. The client is "
        "Python's `http.client`, the same for both: one "
        "keep-alive connection (sequential), a new connection per invoke (as curl or the AWS "
        "CLI), 4 threads with a keep-alive connection each (concurrent). Both servers run at "
        "once; measurements alternate between them, after a warm-up that starts all four "
        "instances of each.",
    )
    ws = copy_fixture("real-crates", ctx.workdir("w5"))
    rounds = 5 if ctx.quick else 7
    counts = {
        "seq": 200 if ctx.quick else 500,
        "fresh": 50 if ctx.quick else 125,
        "conc": 50 if ctx.quick else 125,
        "big": 3 if ctx.quick else 5,
        "url": 200 if ctx.quick else 500,
    }
    servers: list[Server] = []
    try:
        for tool in TOOLS:
            port = free_port()
            servers.append(start(ctx, tool, watch_cmd(ctx, tool, ws, port), port))
        for server in servers:
            server.wait_ready()
            log(f"W5: {server.name} answered after {server.ready_after:.1f} s")
        for server in servers:  # warm-up: every instance started, big bodies seen once
            sequential(server, 50, SMALL)
            concurrent(server, 4, 25)
            sequential(server, 1, BIG)
            url_requests(server, 20)
        for index in range(rounds):
            each_round(servers, counts)
            log(
                f"W5 round {index + 1}/{rounds}: "
                + ", ".join(f"{s.name} {s.seq_rate.samples[-1]:.0f}/s" for s in servers)
            )
    finally:
        for server in servers:
            stop(server.proc)
    report(section, servers, counts)
    profile_rustlambda(ctx, section, ws, counts)
    return section


def each_round(servers: list[Server], counts: dict[str, int]) -> None:
    def seq(server: Server) -> None:
        def action() -> None:
            wall, lat = sequential(server, counts["seq"], SMALL)
            server.seq_rate.samples.append(counts["seq"] / wall)
            server.seq_latency.extend(lat)

        server.measured_cpu("sequential", counts["seq"], action)

    def fresh(server: Server) -> None:
        wall, lat = fresh_connections(server, counts["fresh"])
        server.fresh_rate.samples.append(counts["fresh"] / wall)
        server.fresh_latency.extend(lat)

    def conc(server: Server) -> None:
        def action() -> None:
            wall, lat = concurrent(server, 4, counts["conc"])
            server.conc_rate.samples.append(4 * counts["conc"] / wall)
            server.conc_latency.extend(lat)

        server.measured_cpu("concurrent", 4 * counts["conc"], action)

    def big(server: Server) -> None:
        def action() -> None:
            server.big.samples.extend(sequential(server, counts["big"], BIG)[1])

        server.measured_cpu("5 MiB", counts["big"], action)

    def url(server: Server) -> None:
        def action() -> None:
            wall, lat = url_requests(server, counts["url"])
            server.url_rate.samples.append(counts["url"] / wall)
            server.url_latency.extend(lat)

        server.measured_cpu("function URL", counts["url"], action)

    for measure in (seq, fresh, conc, big, url):
        for server in servers:
            measure(server)


def _lat(values: list[float]) -> str:
    p50, p99 = percentile(values, 0.5) * 1000, percentile(values, 0.99) * 1000
    stalls = sum(1 for v in values if v > STALL) / len(values)
    return f"p50 {p50:.2f} ms / p99 {p99:.2f} ms; {stalls:.1%} over {STALL * 1000:.0f} ms"


def report(section: Section, servers: list[Server], counts: dict[str, int]) -> None:
    if len(servers) != 2 or not all(s.seq_rate.samples for s in servers):
        raise BenchError("W5 did not measure both servers")
    ours, theirs = servers
    p50 = (percentile(ours.seq_latency, 0.5), percentile(theirs.seq_latency, 0.5))

    def faster(measure: str, mine: Stat, anchor: Stat) -> Comparison:
        """A throughput: the goal is at least cargo-lambda's."""
        value = ratio(mine.median, anchor.median)
        return Comparison(measure, mine.fmt(), anchor.fmt(), value, "≥ 1.0x", value >= 1.0)

    def at_most(measure: str, mine: Stat, anchor: Stat) -> Comparison:
        """A time or a cost: the goal is at most cargo-lambda's."""
        value = ratio(mine.median, anchor.median)
        return Comparison(measure, mine.fmt(), anchor.fmt(), value, "≤ 1.0x", value <= 1.0)

    section.comparisons += [
        faster("sequential invokes/s (1 keep-alive connection)", ours.seq_rate, theirs.seq_rate),
        Comparison(
            "sequential latency p50",
            f"{p50[0] * 1000:.2f} ms",
            f"{p50[1] * 1000:.2f} ms",
            ratio(*p50),
        ),
        faster("sequential invokes/s, new connection each", ours.fresh_rate, theirs.fresh_rate),
        faster("4 clients, concurrency 4: invokes/s", ours.conc_rate, theirs.conc_rate),
        at_most("5 MiB payload round trip", ours.big, theirs.big),
        faster(
            "function URL requests/s (/lambda-url, 1 keep-alive connection)",
            ours.url_rate,
            theirs.url_rate,
        ),
        *(
            at_most(f"CPU per invoke, {phase}", ours.cpu[phase], theirs.cpu[phase])
            for phase in PHASES
        ),
    ]
    table = Table(
        ["measure", "rustlambda watch", "cargo lambda watch"],
        title=f"Runtime ({len(ours.seq_rate.samples)} alternating rounds; per round "
        f"{counts['seq']} sequential, {counts['fresh']} with a new connection each, "
        f"4x{counts['conc']} concurrent, {counts['big']} x 5 MiB, {counts['url']} function-URL "
        "GETs)",
    )
    table.add("sequential invokes/s, per round", ours.seq_rate.fmt(), theirs.seq_rate.fmt())
    table.add("sequential latency", _lat(ours.seq_latency), _lat(theirs.seq_latency))
    table.add(
        "new connection per invoke: invokes/s", ours.fresh_rate.fmt(), theirs.fresh_rate.fmt()
    )
    table.add("4 clients: invokes/s, per round", ours.conc_rate.fmt(), theirs.conc_rate.fmt())
    table.add("4 clients: latency", _lat(ours.conc_latency), _lat(theirs.conc_latency))
    table.add("5 MiB round trip", ours.big.fmt(), theirs.big.fmt())
    table.add("function URL GETs/s, per round", ours.url_rate.fmt(), theirs.url_rate.fmt())
    table.add("function URL latency", _lat(ours.url_latency), _lat(theirs.url_latency))
    for phase in PHASES:
        table.add(
            f"CPU per invoke, {phase} (server + function processes)",
            ours.cpu[phase].fmt(),
            theirs.cpu[phase].fmt(),
        )
    section.tables.append(table)
    section.raw = {
        s.name: {
            "seq_rate": s.seq_rate.to_dict(),
            "seq_latency_ms": [v * 1000 for v in s.seq_latency],
            "fresh_rate": s.fresh_rate.to_dict(),
            "conc_rate": s.conc_rate.to_dict(),
            "conc_latency_ms": [v * 1000 for v in s.conc_latency],
            "big": s.big.to_dict(),
            "url_rate": s.url_rate.to_dict(),
            "url_latency_ms": [v * 1000 for v in s.url_latency],
            "cpu_ms_per_invoke": {k: v.to_dict() for k, v in s.cpu.items()},
            "ready_after": s.ready_after,
        }
        for s in servers
    }

    def stalled(values: list[float]) -> float:
        return sum(1 for v in values if v > STALL) / len(values)

    section.notes += [
        "Earlier runs served a hand-written std-only `echo` (`bench/rust/runtime`), which opened "
        "a new connection per Runtime API call; users write `lambda_runtime`/`lambda_http` "
        "functions, which keep one, so W5 now serves those (the numbers of the two setups are "
        "not comparable).",
        f"Sequential over one keep-alive connection: median {p50[0] * 1000:.2f} ms vs "
        f"{p50[1] * 1000:.2f} ms per invoke; {stalled(ours.seq_latency):.1%} vs "
        f"{stalled(theirs.seq_latency):.1%} of the invokes took over {STALL * 1000:.0f} ms "
        "(an invoke of `typed` takes under 1 ms: one over 20 ms waited on something — with "
        "`cargo lambda watch` these are ~40 ms waits, the length of Linux's delayed ACK, seen "
        "with boto3's client too). With a new connection per invoke: "
        f"{ours.fresh_rate.median:.0f} vs {theirs.fresh_rate.median:.0f} invokes/s.",
        "CPU per invoke (user + system time of the server process and all its descendants, "
        "function instances included, over each phase): "
        f"{ours.cpu['sequential'].median:.2f} ms vs {theirs.cpu['sequential'].median:.2f} ms "
        f"sequential, {ours.cpu['concurrent'].median:.2f} ms vs "
        f"{theirs.cpu['concurrent'].median:.2f} ms concurrent, "
        f"{ours.cpu['5 MiB'].median:.1f} ms vs {theirs.cpu['5 MiB'].median:.1f} ms per 5 MiB "
        f"round trip, {ours.cpu['function URL'].median:.2f} ms vs "
        f"{theirs.cpu['function URL'].median:.2f} ms per function-URL request. Per invoke both "
        "servers parse three HTTP requests (the invoke, and the function's `next` and "
        "`response`, on the instance's kept connection); rustlambda does it in Python on "
        "uvloop, cargo-lambda in Rust. With 4 clients "
        "on 2 cores the CPU is the limit, hence the concurrent ratios; the profile below shows "
        "where the Python time goes (`runners.py:run` is uvloop's own loop: socket I/O).",
    ]


def profile_rustlambda(ctx: Context, section: Section, ws: Path, counts: dict[str, int]) -> None:
    """rustlambda watch under cProfile for the 5 MiB and concurrent phases: top functions."""
    t = ctx.tools
    port = free_port()
    prof = ctx.scratch / "w5-watch.prof"
    base = watch_cmd(ctx, "rustlambda", ws, port)
    argv = [str(t.project_python), "-m", "cProfile", "-o", str(prof), "-m", "rustlambda"]
    cmd = Cmd([*argv, *base.argv[1:]], base.cwd, base.env, base.timeout)
    server = start(ctx, "rustlambda-cprofile", cmd, port)
    try:
        server.wait_ready()
        sequential(server, 20, SMALL)
        sequential(server, counts["big"] * 2, BIG)
        concurrent(server, 4, counts["conc"])
    finally:
        stop(server.proc, grace=20.0)
    if not prof.exists():
        section.notes.append("(rustlambda watch under cProfile left no profile.)")
        return
    rows = json.loads(
        run(
            Cmd([str(t.project_python), "-c", _PROFILE_TOP, str(prof), "12"], ws, t.rl_env(), 120)
        ).stdout
    )
    table = Table(
        ["function (rustlambda watch under cProfile)", "calls", "own time", "cumulative"],
        title=f"Where the emulator's CPU goes: {counts['big'] * 2} x 5 MiB then 4x"
        f"{counts['conc']} concurrent small invokes (top own time, idle polling excluded)",
    )
    for tottime, calls, cumtime, name in rows:
        table.add(f"`{name}`", calls, fmt_value(tottime), fmt_value(cumtime))
    section.tables.append(table)
