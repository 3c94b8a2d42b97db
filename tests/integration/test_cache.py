"""``--cache sccache`` for real: tests/fixtures/cache-crate (serde_json, anyhow, one C file through
the cc crate) built cold, for x86_64 and arm64, as two CI machines would — each its own checkout
path, target dir and sccache local dir — sharing one S3 bucket on moto's server (127.0.0.1).
The first fills the bucket, the second reads from it, and both give the same bytes as a build
without the cache. The cargo compiler shares a local-disk cache the same way."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from .conftest import copy_fixture, run_cli

BUCKET = "team-cache"
PREFIX = "rustlambda-ci/"
ARCHES = ("--arm64", "--x86-64")


@dataclass(frozen=True)
class Bucket:
    endpoint: str

    def keys(self) -> list[str]:
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        return [o["Key"] for page in pages for o in page.get("Contents", [])]


@pytest.fixture(scope="module")
def bucket() -> Iterator[Bucket]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=BUCKET)
    try:
        yield Bucket(endpoint)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def runner_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The home every "machine" shares, as CI runners have the same one (/home/runner): its
    ~/.cache holds cargo-zigbuild's linker wrappers, whose paths are part of sccache's keys
    (README, "Shared compile cache"), and rustlambda's record of the last cached build."""
    return tmp_path_factory.mktemp("runner-home")


def machine_env(
    build_env: dict[str, str], home: Path, s3: Bucket | None, runner_home: Path
) -> dict[str, str]:
    """A fresh machine: its own, empty sccache local dir, and the team's bucket through
    sccache's own variables, as a CI job sets them."""
    env = {k: v for k, v in build_env.items() if not k.startswith(("SCCACHE_", "RUSTC_WRAPPER"))}
    env["XDG_CACHE_HOME"] = str(runner_home / ".cache")
    env["SCCACHE_DIR"] = str(home / "sccache-local")
    if s3 is not None:
        env |= {
            "SCCACHE_BUCKET": BUCKET,
            "SCCACHE_S3_KEY_PREFIX": PREFIX,
            "SCCACHE_REGION": "us-east-1",
            "SCCACHE_ENDPOINT": s3.endpoint,
            "SCCACHE_S3_USE_SSL": "false",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
    return env


@dataclass(frozen=True)
class Built:
    result: dict[str, Any]  # build --json
    stderr: str
    seconds: float
    env: dict[str, str]
    root: Path

    @property
    def hashes(self) -> dict[tuple[str, str], str]:
        return {(a["function"], a["arch"]): a["sha256"] for a in self.result["artifacts"]}

    @property
    def cache(self) -> dict[str, Any]:
        stats = self.result["cache"]
        assert stats is not None, self.stderr
        return dict(stats)


def build(home: Path, env: dict[str, str], *extra: str) -> Built:
    root = copy_fixture("cache-crate", home)
    started = time.monotonic()
    done = run_cli("build", "--release", *ARCHES, "--json", *extra, cwd=root, env=env)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    return Built(json.loads(done.stdout), done.stderr, seconds, env, root)


@pytest.fixture(scope="module")
def machine_a(
    tmp_path_factory: pytest.TempPathFactory,
    build_env: dict[str, str],
    bucket: Bucket,
    runner_home: Path,
) -> Built:
    home = tmp_path_factory.mktemp("machine-a")
    env = machine_env(build_env, home, bucket, runner_home)
    return build(home, env, "--cache", "sccache")


@pytest.fixture(scope="module")
def machine_b(
    tmp_path_factory: pytest.TempPathFactory,
    build_env: dict[str, str],
    bucket: Bucket,
    runner_home: Path,
    machine_a: Built,
) -> Built:
    home = tmp_path_factory.mktemp("another-machine-b")
    env = machine_env(build_env, home, bucket, runner_home) | {"RUSTLAMBDA_CACHE": "sccache"}
    return build(home, env)


def test_a_cold_build_fills_the_bucket(machine_a: Built, bucket: Bucket) -> None:
    stats = machine_a.cache
    assert stats["backend"] == "s3" and BUCKET in stats["location"]
    assert stats["misses"] > 0 and stats["writes"] > 0 and stats["write_errors"] == 0
    assert stats["misses_by_language"].get("C/C++", 0) >= 2  # the C file, for each arch
    keys = bucket.keys()
    assert len(keys) >= stats["writes"] and all(k.startswith(PREFIX) for k in keys)
    assert f"info: sccache (s3, name: {BUCKET}, prefix: /{PREFIX}): 0% hit rate" in machine_a.stderr


def test_another_machine_reads_it(machine_a: Built, machine_b: Built) -> None:
    """A fresh checkout path, target dir and sccache local dir: the bucket alone serves it."""
    assert machine_b.root != machine_a.root
    assert machine_b.env["SCCACHE_DIR"] != machine_a.env["SCCACHE_DIR"]
    stats = machine_b.cache
    assert stats["hits"] > 0 and stats["hit_rate"] > 0.5, stats
    assert stats["hits_by_language"].get("C/C++", 0) >= 2
    assert stats["read_errors"] == 0
    assert machine_b.hashes == machine_a.hashes


def test_the_same_bytes_without_the_cache(
    tmp_path_factory: pytest.TempPathFactory,
    build_env: dict[str, str],
    runner_home: Path,
    machine_b: Built,
) -> None:
    home = tmp_path_factory.mktemp("uncached")
    plain = build(home, machine_env(build_env, home, None, runner_home))
    assert plain.result["cache"] is None
    assert plain.hashes == machine_b.hashes and len(plain.hashes) == 2


def test_system_shows_the_storage_and_the_last_hit_rate(machine_b: Built) -> None:
    done = run_cli("system", "--output-format", "json", cwd=machine_b.root, env=machine_b.env)
    report = json.loads(done.stdout)
    items = {i["name"]: i for i in report["cache"]}
    assert items["sccache"]["status"] == "ok" and "sccache 0." in items["sccache"]["version"]
    assert items["storage"]["status"] == "ok" and BUCKET in items["storage"]["detail"]
    rate = round(machine_b.cache["hit_rate"] * 100)
    last = items["last cached build"]
    assert last["path"] == str(machine_b.root) and f"hit rate {rate}%" in last["detail"]


def test_no_sccache_server_outlives_a_build(machine_a: Built, machine_b: Built) -> None:
    homes = {machine_a.env["SCCACHE_DIR"], machine_b.env["SCCACHE_DIR"]}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = [pid for pid in _sccache_pids() if _environ(pid) & homes]
        if not left:
            return
        time.sleep(0.2)
    pytest.fail(f"sccache servers still running after their builds: {left}")


def _sccache_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(entry, "exe").resolve().name == "sccache":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _environ(pid: int) -> set[str]:
    """The values of SCCACHE_DIR a process was started with."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return set()
    pairs = (item.partition(b"=") for item in raw.split(b"\0"))
    return {os.fsdecode(v) for k, _, v in pairs if k == b"SCCACHE_DIR"}


def test_settings_sccache_refuses_are_one_error(
    tmp_path: Path, build_env: dict[str, str], bucket: Bucket, runner_home: Path
) -> None:
    env = machine_env(build_env, tmp_path, bucket, runner_home)
    env["SCCACHE_BASEDIRS"] = "relative/dir"
    root = copy_fixture("cache-crate", tmp_path)
    done = run_cli("build", "--cache", "sccache", cwd=root, env=env, timeout=120)
    assert done.returncode == 25, done.stderr
    assert "error: the compile cache (sccache) did not start" in done.stderr
    assert "Traceback" not in done.stderr and not (root / "target" / "lambda").exists()


def test_the_cargo_compiler_shares_a_local_disk_cache(
    tmp_path_factory: pytest.TempPathFactory, build_env: dict[str, str], runner_home: Path
) -> None:
    """--compiler cargo (gcc for arm64's C and link): a second checkout on the same machine
    hits the local disk cache, for both architectures, with the same bytes."""
    home = tmp_path_factory.mktemp("cargo-compiler")
    env = machine_env(build_env, home, None, runner_home)
    first = build(home / "one", env, "--cache", "sccache", "--compiler", "cargo")
    second = build(home / "two", env, "--cache", "sccache", "--compiler", "cargo")
    assert first.cache["backend"] == "local disk" and first.cache["misses"] > 0
    assert second.cache["hits"] > 0 and second.cache["hits_by_language"].get("C/C++", 0) >= 2
    assert second.hashes == first.hashes


def test_one_architecture_s_entries_serve_a_build_of_both(
    tmp_path_factory: pytest.TempPathFactory, build_env: dict[str, str], runner_home: Path
) -> None:
    """A job that builds x86_64 alone fills entries a job building both architectures reads:
    cargo-zigbuild names each selected target in cargo's CARGO_* variables, which sccache
    hashes into every Rust key (without rustlambda's rewrite: 0 Rust hits here)."""
    home = tmp_path_factory.mktemp("selections")
    env = machine_env(build_env, home, None, runner_home)
    alone = copy_fixture("cache-crate", home / "alone")
    done = run_cli(
        "build", "--release", "--x86-64", "--json", "--cache", "sccache", cwd=alone, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    filled = json.loads(done.stdout)["cache"]
    assert filled["misses_by_language"].get("Rust", 0) > 0, done.stderr
    both = build(home / "both", env, "--cache", "sccache")
    rust_hits = both.cache["hits_by_language"].get("Rust", 0)
    # x86_64's crates; the build scripts' own crates miss in any second checkout
    assert rust_hits >= filled["misses_by_language"]["Rust"] // 2, both.stderr
