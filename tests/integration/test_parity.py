"""cargo-lambda compatibility end to end, on a copy of the hello-world example (std only, built
for the host by the default compiler, one target dir for the module): the global
configuration with a context and variables in a real build, cargo's own flags reaching cargo
(--timings' report, --message-format json's stream), -Z on a stable cargo, and
``rustlambda system`` as text and JSON."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from .conftest import copy_fixture, run_cli

Project = tuple[Path, Path, dict[str, str]]

CARGO_LAMBDA_TOML = """
[build]
output_format = "zip"
include = ["plain.txt"]
lambda_dir = "from-file"

[dev.build]
include = ["dev.txt"]
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, build_env: dict[str, str]) -> Project:
    root = copy_fixture("hello-world", tmp_path_factory.mktemp("parity"))
    (root / "CargoLambda.toml").write_text(CARGO_LAMBDA_TOML)
    (root / "plain.txt").write_text("plain\n")
    (root / "dev.txt").write_text("dev\n")
    with (root / "Cargo.toml").open("a") as fh:
        fh.write('\n[workspace.metadata.lambda.build]\nlambda_dir = "from-metadata"\n')
    return root, root / "target", dict(build_env)


def _zip_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return sorted(zf.namelist())


def test_global_config_context_and_variables_in_a_real_build(project: Project) -> None:
    root, target, env = project
    env = {
        **env,
        "CARGO_LAMBDA_BUILD.OUTPUT_FORMAT": "binary",  # below CargoLambda.toml's zip
        "CARGO_LAMBDA_BUILD.TIMINGS": "true",  # nobody else sets it: it applies
    }
    done = run_cli("-x", "dev", "build", "--bin", "greet", cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    built = root / "from-metadata" / "greet"  # metadata's lambda_dir beats the file's
    assert not (root / "from-file").exists()
    assert _zip_names(built / "bootstrap.zip") == ["bootstrap", "dev.txt"]  # the context's
    assert (target / "cargo-timings" / "cargo-timing.html").is_file()
    done = run_cli("build", "--bin", "greet", "--admerge", "-x", "dev", cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    assert _zip_names(built / "bootstrap.zip") == ["bootstrap", "dev.txt", "plain.txt"]
    shown = run_cli("system", "--json", "-x", "dev", "--bin", "greet", cwd=root, env=env)
    assert shown.returncode == 0, shown.stderr
    settings = json.loads(shown.stdout)["settings"]["values"]
    values = {v["key"]: v for v in settings if v["section"] == "build"}
    assert values["output_format"]["source"] == "CargoLambda.toml [build]"
    assert values["include"]["value"] == ["dev.txt"]
    assert values["include"]["source"] == "CargoLambda.toml [dev.build]"
    assert values["lambda_dir"]["source"] == "[workspace.metadata.lambda.build]"
    assert values["timings"]["source"] == "CARGO_LAMBDA_BUILD.TIMINGS"


def test_cargo_flags_reach_cargo(project: Project) -> None:
    root, target, env = project
    report = target / "cargo-timings" / "cargo-timing.html"
    report.unlink(missing_ok=True)
    argv = ["build", "--bin", "reverse", "-o", "Binary", "--timings", "--keep-going", "-v"]
    done = run_cli(*argv, "--config", "profile.dev.debug=0", cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    running = next(line for line in done.stderr.splitlines() if line.startswith("running: "))
    for arg in ("--timings", "--keep-going", "--config profile.dev.debug=0"):
        assert f" {arg}" in running
    assert report.is_file() and "reverse" in report.read_text(errors="replace")


def test_message_format_json_gives_stdout_to_cargos_messages(project: Project) -> None:
    root, _, env = project
    done = run_cli("build", "--bin", "greet", "--message-format", "json", cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    messages = [json.loads(line) for line in done.stdout.splitlines()]
    assert messages and all("reason" in m for m in messages)  # nothing else on stdout
    assert messages[-1] == {"reason": "build-finished", "success": True}
    assert any(m["reason"] == "compiler-artifact" for m in messages)
    assert "greet\tx86_64\t" in done.stderr  # the artifact list moved to stderr


def test_unstable_flag_on_a_stable_cargo_says_what_to_do(project: Project) -> None:
    root, _, env = project
    done = run_cli(
        "build", "--bin", "greet", "-c", "cargo", "-Z", "unstable-options", cwd=root, env=env
    )
    assert done.returncode == 12, done.stderr
    assert "error: cargo failed (exit code 101) building greet: cargo refused -Z" in done.stderr
    assert "fix: build with a nightly toolchain" in done.stderr
    assert "Traceback" not in done.stderr


def test_system_as_text_and_json(project: Project) -> None:
    root, _, env = project
    text = run_cli("system", cwd=root, env=env)
    assert text.returncode == 0, text.stderr
    out = text.stdout
    assert "rustc: " in out and f"{env['RUSTC']} (RUSTC" in out  # the rustc the tests chose
    assert "  ok      aarch64-unknown-linux-gnu: for --arm64" in out
    assert "Settings of the workspace" in out
    assert '    env = {"LOG_LEVEL": "info"}    <- [workspace.metadata.lambda]' in out
    assert out.rstrip().endswith("everything needed is there")
    shown = run_cli("system", "-o", "json", cwd=root, env=env)
    data = json.loads(shown.stdout)
    assert data["ok"] is True
    assert {t["name"]: t["status"] for t in data["targets"]}["x86_64-unknown-linux-gnu"] == "ok"
    assert data["zig"][0]["status"] == "ok" and data["zig"][0]["version"]
    assert data["settings"]["config_file"] == str(root / "CargoLambda.toml")
