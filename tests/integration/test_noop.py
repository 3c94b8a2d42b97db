"""``rustlambda build`` run again with nothing changed (rustlambda.noop), with real cargo on
tests/fixtures/std-workspace: it shows the same artifacts and verification without resolving
anything again; whatever changes the result (a source, a manifest, cargo's config, the
environment, an installed file) runs the whole build, and the result is the new one."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from .conftest import copy_fixture, run_cli

ARGV = ("build", "--bin", "hello", "--x86-64")
#: Said by the whole build only (a shown-again build resolves nothing).
RESOLVING = "info: building: resolving"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_fixture("std-workspace", tmp_path_factory.mktemp("noop"))


@pytest.fixture
def env(build_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {**build_env, "RUSTLAMBDA_CACHE_DIR": str(tmp_path / "user-cache")}


def build(ws: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    done = run_cli(*ARGV, *extra, cwd=ws, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    return done


def whole(done: subprocess.CompletedProcess[str]) -> bool:
    return RESOLVING in done.stderr


def bootstrap(ws: Path) -> Path:
    return ws / "target" / "lambda" / "hello" / "bootstrap"


def test_an_unchanged_build_is_shown_again(ws: Path, env: dict[str, str]) -> None:
    first = build(ws, env)
    second = build(ws, env)
    assert whole(first) and not whole(second)
    assert second.stdout == first.stdout  # the artifact line
    for line in ("Finished `dev` profile", "info: built hello for x86_64 in "):
        assert line in second.stderr
    assert "info: verified 1 artifact for provided.al2023: all would start" in second.stderr
    first_json, second_json = build(ws, env, "--json"), build(ws, env, "--json")
    assert whole(first_json) and not whole(second_json)
    assert json.loads(second_json.stdout) == json.loads(first_json.stdout)


def test_a_changed_source_is_built_and_its_result_shown_next_time(
    ws: Path, env: dict[str, str]
) -> None:
    before = json.loads(build(ws, env, "--json").stdout)["artifacts"][0]["sha256"]
    main = ws / "functions" / "hello" / "src" / "main.rs"
    original = main.read_text()
    try:
        main.write_text(original + '\n#[used]\nstatic NOOP_TEST: [u8; 9] = *b"noop-test";\n')
        rebuilt = build(ws, env, "--json")
        again = build(ws, env, "--json")
    finally:
        main.write_text(original)
    assert whole(rebuilt) and not whole(again)
    after = json.loads(rebuilt.stdout)["artifacts"][0]["sha256"]
    assert after != before and json.loads(again.stdout)["artifacts"][0]["sha256"] == after
    assert b"noop-test" in bootstrap(ws).read_bytes()


@pytest.mark.parametrize("change", ["deleted", "lost its exec bit", "overwritten"])
def test_a_tampered_bootstrap_is_installed_again(
    ws: Path, env: dict[str, str], change: str
) -> None:
    build(ws, env)
    good = bootstrap(ws).read_bytes()
    if change == "deleted":
        bootstrap(ws).unlink()
    elif change == "lost its exec bit":
        bootstrap(ws).chmod(0o644)
    else:
        bootstrap(ws).write_bytes(b"not an executable")
    assert whole(build(ws, env))
    assert bootstrap(ws).read_bytes() == good and os.access(bootstrap(ws), os.X_OK)


def test_a_changed_manifest_setting_is_applied(ws: Path, env: dict[str, str]) -> None:
    build(ws, env)
    manifest = ws / "Cargo.toml"
    original = manifest.read_text()
    try:
        manifest.write_text(original.replace('GREETING = "hello"', 'GREETING = "bonjour"'))
        changed = build(ws, env, "--json")
    finally:
        manifest.write_text(original)
    assert whole(changed)
    assert json.loads(changed.stdout)["artifacts"][0]["env"] == {"GREETING": "bonjour"}
    assert whole(build(ws, env, "--json"))  # and back


def test_cargo_config_and_environment_are_inputs(ws: Path, env: dict[str, str]) -> None:
    build(ws, env)
    config = ws / ".cargo" / "config.toml"
    config.parent.mkdir(exist_ok=True)
    try:
        config.write_text("[env]\nNOOP_TEST = '1'\n")
        assert whole(build(ws, env))
        assert not whole(build(ws, env))
    finally:
        config.unlink()
    assert whole(build(ws, env))
    assert whole(build(ws, {**env, "RUSTFLAGS": "-C debuginfo=0"}))
    assert not whole(build(ws, {**env, "RUSTFLAGS": "-C debuginfo=0"}))


def test_a_build_with_warnings_says_them_every_time(ws: Path, env: dict[str, str]) -> None:
    argv = ("--include", "README.md")  # include without zip output: a warning
    first, second = build(ws, env, *argv), build(ws, env, *argv)
    for done in (first, second):
        assert whole(done) and "only applies to zip output" in done.stderr
