"""`rustlambda build` verifies what it built; `rustlambda verify` checks a lambda dir."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import copy_fixture, run_cli


def test_build_refuses_a_bootstrap_linked_against_libssl(
    tmp_path: Path, build_env: dict[str, str]
) -> None:
    ws = copy_fixture("openssl-workspace", tmp_path)
    done = run_cli("build", "--x86-64", "--compiler", "cargo", cwd=ws, env=build_env)
    assert done.returncode == 15, done.stderr
    assert "libssl.so.3: cannot open shared object file" in done.stderr
    assert "rustls" in done.stderr and "vendored" in done.stderr
    assert not (ws / "target/lambda/tls/bootstrap").exists()  # refused: not installed
    # --no-verify skips the check: the build itself succeeds
    skipped = run_cli(
        "build", "--x86-64", "--compiler", "cargo", "--no-verify", cwd=ws, env=build_env
    )
    assert skipped.returncode == 0, skipped.stderr
    # the same artifact through `rustlambda verify`, as JSON
    report = run_cli("verify", "--json", cwd=ws, env=build_env)
    assert report.returncode == 15
    [artifact] = json.loads(report.stdout)["artifacts"]
    assert "libssl.so.3" in artifact["needed"] and artifact["ok"] is False


def test_verify_passes_a_good_two_architecture_build(
    tmp_path: Path, build_env: dict[str, str]
) -> None:
    ws = copy_fixture("std-workspace", tmp_path)
    built = run_cli(
        "build",
        "--arm64",
        "--x86-64",
        "--bin",
        "hello",
        "--output-format",
        "zip",
        "--json",
        cwd=ws,
        env=build_env,
    )
    assert built.returncode == 0, built.stderr
    verification = json.loads(built.stdout)["verification"]
    assert verification["ok"] is True and len(verification["artifacts"]) == 2
    done = run_cli("verify", "target/lambda", cwd=ws, env=build_env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # each architecture: the bootstrap and its zip
    assert len(lines) == 4 and all(line.endswith("\tok") for line in lines)
    assert sum(line.startswith("target/lambda/arm64/hello/bootstrap.zip") for line in lines) == 1
    assert {line.split("\t")[1] for line in lines} == {"x86_64", "arm64"}
    # an arm64 bootstrap checked as x86_64 fails with Lambda's exec format error
    wrong = run_cli(
        "verify", "--x86-64", "target/lambda/arm64/hello/bootstrap.zip", cwd=ws, env=build_env
    )
    assert wrong.returncode == 15 and "exec format error" in wrong.stderr + wrong.stdout
