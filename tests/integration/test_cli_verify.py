"""`rustlambda build` verifies what it built; `rustlambda verify` checks a lambda dir.

A bootstrap linked against libssl failing verification: test_real_crates.py (`tls`)."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import copy_fixture, run_cli


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
