"""The command line: every error path gives one message with the fix and its exit code."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import pytest

from rustlambda.cli import main

from .fakes import FakeRunner, produce_binaries, write_workspace


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeRunner:
    root = tmp_path / "ws"
    root.mkdir()
    metadata = write_workspace(root, {"lib": [], "fn": ["hello", "bye"]})
    runner = FakeRunner(
        metadata, libdir_root=tmp_path / "libdirs", produce=produce_binaries(root / "target")
    )
    monkeypatch.setattr(
        importlib.import_module("rustlambda.builder.run"), "SubprocessRunner", lambda: runner
    )
    monkeypatch.chdir(root)
    monkeypatch.setenv("CARGO_HOME", str(tmp_path / "cargo-home"))
    for var in ("CARGO_LAMBDA_COMPILER", "RUSTFLAGS", "CARGO_ZIGBUILD_ZIG_PATH"):
        monkeypatch.delenv(var, raising=False)
    return runner


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    # /bin/true stands in for every binary, so the post-build verification is off here
    code = main(["build", "--no-verify", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_json_result(ws: FakeRunner, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--release", "--arm64", "--x86-64", "--json")
    assert code == 0
    result = json.loads(out)
    assert sorted((a["function"], a["arch"]) for a in result["artifacts"]) == [
        ("bye", "arm64"),
        ("bye", "x86_64"),
        ("hello", "arm64"),
        ("hello", "x86_64"),
    ]
    assert all(len(a["sha256"]) == 64 and a["size"] > 0 for a in result["artifacts"])
    assert len(ws.builds) == 1


def test_plain_output_when_not_a_tty(ws: FakeRunner, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--bin", "hello", "--x86-64")
    assert code == 0
    assert out.splitlines()[0].startswith("hello\tx86_64\t")
    assert out.splitlines()[0].endswith("target/lambda/hello/bootstrap")
    assert "Compiling" not in err  # quiet on a pipe unless -v


def test_verbose_streams_cargo(ws: FakeRunner, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "-v", "--x86-64")
    assert code == 0 and "Compiling demo" in err


@pytest.mark.parametrize(
    ("argv", "code", "message", "fix"),
    [
        (["--bin", "nope"], 6, "no binary named 'nope'", "binaries: bye, hello"),
        (["-p", "nope"], 6, "no package named 'nope'", "packages: lib, fn"),
        (["-p", "lib"], 5, "no binary targets to build in lib", "add src/main.rs"),
        (["--release", "--profile", "dev"], 2, "--release and --profile dev conflict", ""),
        (["--workspace", "-p", "fn"], 2, "--workspace and --package conflict", ""),
        (["--internal"], 2, "--internal only applies with --extension", "--extension"),
        (["--target", "x86_64-pc-windows-msvc"], 7, "unsupported target", "--arm64"),
        (["--compiler", "gcc"], 8, "unknown compiler 'gcc'", "zig"),
        (["--runtime", "provided"], 2, "unknown runtime 'provided'", "provided.al2023"),
        (["--flatten", "other"], 6, "--flatten other", "hello"),
        (
            ["--target", "x86_64-unknown-linux-gnu", "--target", "x86_64-unknown-linux-musl"],
            2,
            "two targets for the same architecture",
            "--lambda-dir",
        ),
    ],
)
def test_errors_have_a_message_a_fix_and_an_exit_code(
    ws: FakeRunner,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: int,
    message: str,
    fix: str,
) -> None:
    got, _, err = run(capsys, *argv)
    assert got == code
    assert f"error: {message}" in " ".join(err.split())
    assert fix in " ".join(err.split())
    assert ws.builds == []  # nothing was built, nothing half-written
    assert not Path("target/lambda").exists()


def test_unknown_compiler_from_the_environment(
    ws: FakeRunner, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARGO_LAMBDA_COMPILER", "zigg")
    code, _, err = run(capsys)
    assert code == 8 and "unknown compiler 'zigg'" in err


def test_no_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys)
    assert code == 3 and "no Cargo.toml" in err and "--manifest-path" in err
    code, _, err = run(capsys, "--manifest-path", "missing/Cargo.toml")
    assert code == 3 and "missing/Cargo.toml" in err


def test_unparsable_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "x\n')
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys)
    assert code == 4 and "is not valid TOML" in err and "line 2" in err


def test_missing_std_stops_before_cargo_with_the_fix(
    ws: FakeRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    ws.std_triples = {"x86_64-unknown-linux-gnu"}
    code, _, err = run(capsys, "--arm64")
    assert code == 10
    flat = " ".join(err.split())
    assert "standard library for aarch64-unknown-linux-gnu is not installed" in flat
    assert "rustup target add aarch64-unknown-linux-gnu" in flat
    assert ws.builds == []


def test_missing_zig(
    ws: FakeRunner, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("CARGO", "/usr/bin/true")
    monkeypatch.setenv("RUSTC", "/usr/bin/true")
    code, _, err = run(capsys)
    assert code == 11 and "zig was not found" in err and "pip install ziglang" in err
    monkeypatch.setenv("CARGO_ZIGBUILD_ZIG_PATH", "/nonexistent/zig")
    code, _, err = run(capsys)
    assert code == 11 and "/nonexistent/zig" in err


def test_compile_failure_shows_cargos_diagnostics(
    ws: FakeRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    previous = Path("target/lambda/hello/bootstrap")
    previous.parent.mkdir(parents=True)
    previous.write_bytes(b"previous good build")
    ws.build_code = 101
    ws.build_output = [
        "   Compiling fn v0.1.0",
        "error[E0425]: cannot find value `x`",
        " --> fn/src/main.rs:2:5",
    ]
    code, _, err = run(capsys, "--x86-64")
    assert code == 12
    assert "error[E0425]: cannot find value `x`" in err and "fn/src/main.rs:2:5" in err
    assert "cargo failed (exit code 101)" in err
    assert previous.read_bytes() == b"previous good build"


def test_missing_linker_for_cargo_compiler(
    ws: FakeRunner, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("CARGO", "/usr/bin/true")
    monkeypatch.setenv("RUSTC", "/usr/bin/true")
    code, _, err = run(capsys, "--compiler", "cargo", "--arm64")
    assert code == 9 and "aarch64-linux-gnu-gcc" in err


def test_version() -> None:
    assert main(["--version"]) == 0


def test_exit_codes_are_distinct() -> None:
    from rustlambda.errors import error_classes

    codes = [e.exit_code for e in error_classes()]
    assert len(set(codes)) == len(codes)
    assert os.EX_OK not in codes
