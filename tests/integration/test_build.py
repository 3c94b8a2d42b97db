"""Build real workspaces for both architectures and prove every bootstrap serves an invocation."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

import rustlambda
from rustlambda import Arch, BuildOptions, BuildResult, Compiler, CompilerSettings, Runtime, Target
from rustlambda.elf import read_elf
from rustlambda.toolchain import std_installed
from rustlambda.util.cmd import SubprocessRunner
from tests.runtime_api import invoke_bootstrap

from .conftest import Recorder, copy_fixture, run_cli

X86 = Target.for_arch(Arch.X86_64)
ARM = Target.for_arch(Arch.ARM64)
RUST_ARCH = {"x86_64": "x86_64", "arm64": "aarch64"}


def assert_serves(result: BuildResult, expected_functions: set[str]) -> None:
    """Each artifact: right ELF machine, executable, and answers a real event."""
    assert {a.function for a in result.artifacts} == expected_functions
    for artifact in result.artifacts:
        info = read_elf(artifact.path)
        assert info.arch is Arch(artifact.arch), artifact
        assert stat.S_IMODE(artifact.path.stat().st_mode) == 0o755
        assert hashlib.sha256(artifact.path.read_bytes()).hexdigest() == artifact.sha256
        event = {"source": "rustlambda-test", "n": 7}
        answer = invoke_bootstrap(artifact.path, event, env=artifact.env, timeout=60)
        assert answer.kind == "response", (artifact, answer.stderr)
        body = answer.json()
        assert body["function"] == artifact.function
        assert body["arch"] == RUST_ARCH[artifact.arch]
        if "event" in body:
            assert body["event"] == event


@pytest.fixture(scope="module")
def std_release(
    tmp_path_factory: pytest.TempPathFactory, build_env: dict[str, str]
) -> tuple[Path, BuildResult, Recorder]:
    ws = copy_fixture("std-workspace", tmp_path_factory.mktemp("std-release"))
    recorder = Recorder()
    result = rustlambda.build(
        BuildOptions(
            cwd=ws,
            release=True,
            targets=(X86, ARM),
            bins=("hello", "echo"),
            environ=build_env,
            verbose=1,
        ),
        reporter=recorder,
    )
    return ws, result, recorder


def test_zig_release_both_architectures_in_one_cargo_run(
    std_release: tuple[Path, BuildResult, Recorder],
) -> None:
    ws, result, recorder = std_release
    assert len(recorder.commands) == 1  # one cargo invocation for both targets
    assert recorder.commands[0].count("--target") == 2
    assert sorted(str(a.path.relative_to(ws)) for a in result.artifacts) == [
        "target/lambda/arm64/echo/bootstrap",
        "target/lambda/arm64/hello/bootstrap",
        "target/lambda/x86_64/echo/bootstrap",
        "target/lambda/x86_64/hello/bootstrap",
    ]
    assert_serves(result, {"hello", "echo"})
    # metadata env reached the function: [workspace.metadata.lambda.env] GREETING
    hello = next(a for a in result.artifacts if a.function == "hello")
    assert hello.env == {"GREETING": "hello"}
    answer = invoke_bootstrap(hello.path, {}, env=hello.env).json()
    assert answer["greeting"] == "hello"  # at run time, from the function's environment
    assert answer["build_greeting"] == "hello"  # at build time: env is passed to cargo


def test_al2023_glibc_ceiling_holds(std_release: tuple[Path, BuildResult, Recorder]) -> None:
    _, result, _ = std_release
    for artifact in result.artifacts:
        needed = read_elf(artifact.path).max_glibc
        assert needed is not None and needed <= (2, 34), (artifact.path, needed)


def test_release_optimizations_reach_rustc(
    std_release: tuple[Path, BuildResult, Recorder],
) -> None:
    _, result, recorder = std_release
    rustc_lines = [
        line for line in recorder.lines if "Running" in line and "--crate-name hello" in line
    ]
    by_target = {
        t: [x for x in rustc_lines if f"--target {t}" in x]
        for t in ("x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu")
    }
    assert all(by_target.values()), rustc_lines
    for triple, lines in by_target.items():
        cpu = "haswell" if triple.startswith("x86_64") else "neoverse-n1"
        line = lines[0]
        for flag in (
            f"target-cpu={cpu}",
            "-C lto=thin",
            "-C codegen-units=1",
            "-C panic=abort",
            "-C strip=symbols",
        ):
            assert flag in line, (flag, line)
        assert "target-cpu=native" not in line
    for artifact in result.artifacts:
        with artifact.path.open("rb") as fh:
            assert ELFFile(fh).get_section_by_name(".symtab") is None  # stripped


def test_noop_rebuild_is_fresh_and_sources_stay(
    std_release: tuple[Path, BuildResult, Recorder], build_env: dict[str, str]
) -> None:
    ws, first, _ = std_release
    recorder = Recorder()
    again = rustlambda.build(
        BuildOptions(
            cwd=ws, release=True, targets=(X86, ARM), bins=("hello", "echo"), environ=build_env
        ),
        reporter=recorder,
    )
    assert not [line for line in recorder.lines if "Compiling" in line]
    assert [a.sha256 for a in again.artifacts] == [a.sha256 for a in first.artifacts]
    # copied, never moved: cargo's own outputs are still where cargo expects them
    assert (ws / "target/aarch64-unknown-linux-gnu/release/hello").is_file()


def test_al2_pins_glibc_226_on_both_architectures(
    tmp_path: Path, build_env: dict[str, str]
) -> None:
    ws = copy_fixture("std-workspace", tmp_path)
    result = rustlambda.build(
        BuildOptions(
            cwd=ws, targets=(ARM, X86), runtime=Runtime.AL2, bins=("hello",), environ=build_env
        )
    )
    for artifact in result.artifacts:
        needed = read_elf(artifact.path).max_glibc
        assert needed is not None and needed <= (2, 26), (artifact.path, needed)
    assert not result.warnings
    assert_serves(result, {"hello"})


def test_cargo_compiler_both_architectures(tmp_path: Path, build_env: dict[str, str]) -> None:
    ws = copy_fixture("std-workspace", tmp_path)
    result = rustlambda.build(
        BuildOptions(
            cwd=ws,
            targets=(X86, ARM),
            compiler=CompilerSettings(Compiler.CARGO),
            bins=("hello", "echo"),
            environ=build_env,
        )
    )
    assert_serves(result, {"hello", "echo"})
    # plain cargo does not pin glibc; the build's own verification checked the ceiling
    assert result.verification is not None and result.verification.ok
    for artifact in result.artifacts:
        needed = read_elf(artifact.path).max_glibc
        assert needed is not None and needed <= Runtime.AL2023.glibc


def test_extension_layout(tmp_path: Path, build_env: dict[str, str]) -> None:
    ws = copy_fixture("std-workspace", tmp_path)
    result = rustlambda.build(
        BuildOptions(cwd=ws, targets=(ARM,), extension=True, bins=("probe-ext",), environ=build_env)
    )
    [artifact] = result.artifacts
    assert artifact.path == ws / "target/lambda/extensions/probe-ext"
    assert artifact.kind == "extension"
    assert read_elf(artifact.path).arch is Arch.ARM64


def test_real_crates_tokio_serde_ring_both_architectures(
    tmp_path: Path, build_env: dict[str, str]
) -> None:
    ws = copy_fixture("crates-workspace", tmp_path)
    result = rustlambda.build(
        BuildOptions(cwd=ws, release=True, targets=(X86, ARM), environ=build_env)
    )
    assert {(a.function, a.arch) for a in result.artifacts} == {
        ("digest", "x86_64"),
        ("digest", "arm64"),
    }
    event = b'{"zeta": 1, "alpha": [true, null]}'
    for artifact in result.artifacts:
        assert read_elf(artifact.path).max_glibc <= (2, 34)  # type: ignore[operator]
        answer = invoke_bootstrap(artifact.path, event, timeout=60)
        assert answer.kind == "response", answer.stderr
        body = answer.json()
        assert body["sha256"] == hashlib.sha256(event).hexdigest()
        assert body["keys"] == ["alpha", "zeta"]
        assert body["arch"] == RUST_ARCH[artifact.arch]


def test_cross_compiler_runs_cross_build_with_the_same_arguments(
    tmp_path: Path, build_env: dict[str, str]
) -> None:
    """No container engine here: a recording stub stands in for `cross`. It writes its argv
    to a file and then runs `cargo` with the same arguments, as cross would in its image."""
    ws = copy_fixture("std-workspace", tmp_path)
    stub_dir = tmp_path / "stub-bin"
    stub_dir.mkdir()
    record = tmp_path / "cross-argv.json"
    stub = stub_dir / "cross"
    stub.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"open({str(record)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
        "os.execvp('cargo', ['cargo', *sys.argv[1:]])\n"
    )
    stub.chmod(0o755)
    env = {**build_env, "PATH": f"{stub_dir}{os.pathsep}{build_env['PATH']}"}
    options = BuildOptions(
        cwd=ws,
        targets=(X86,),
        compiler=CompilerSettings(Compiler.CROSS),
        bins=("hello",),
        release=True,
        environ=env,
    )
    plan = rustlambda.plan_build(options)
    result = rustlambda.build(options)
    argv = json.loads(record.read_text())
    assert argv == list(plan.argv[1:])
    assert argv[:3] == ["build", "--target", "x86_64-unknown-linux-gnu"]
    assert "--release" in argv and "--bin" in argv
    assert 'profile.release.lto="thin"' in argv
    assert_serves(result, {"hello"})


def test_compile_failure_shows_rustc_errors_and_keeps_old_artifacts(
    tmp_path: Path, build_env: dict[str, str]
) -> None:
    ws = copy_fixture("std-workspace", tmp_path)
    options = BuildOptions(cwd=ws, targets=(X86,), bins=("hello",), environ=build_env)
    good = rustlambda.build(options).artifacts[0]
    before = good.path.read_bytes()
    main_rs = ws / "functions/hello/src/main.rs"
    main_rs.write_text(main_rs.read_text() + "\nfn broken() -> u32 { undefined_name }\n")
    with pytest.raises(rustlambda.RustLambdaError) as info:
        rustlambda.build(options)
    assert info.value.exit_code == 12
    assert "undefined_name" in info.value.details and "E0425" in info.value.details
    assert good.path.read_bytes() == before


def test_cli_builds_the_bundled_example_for_both_architectures(
    tmp_path: Path, build_env: dict[str, str]
) -> None:
    example = copy_fixture("hello-world", tmp_path)
    done = run_cli(
        "build",
        "--release",
        "--arm64",
        "--x86-64",
        "--manifest-path",
        str(example / "Cargo.toml"),
        "--json",
        cwd=tmp_path,  # outside the workspace: --manifest-path finds it
        env=build_env,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert sorted((a["function"], a["arch"]) for a in result["artifacts"]) == [
        ("greet", "arm64"),
        ("greet", "x86_64"),
        ("reverse", "arm64"),
        ("reverse", "x86_64"),
    ]
    for artifact in result["artifacts"]:
        answer = invoke_bootstrap(Path(artifact["path"]), {"name": "Ada"}, timeout=60)
        assert answer.kind == "response", answer.stderr


def test_cli_missing_std_with_rustups_rustc(tmp_path: Path) -> None:
    """A target whose std rustup's rustc lacks, on a machine where rustup cannot download it:
    one clear error. (This machine can reach rustup's server, so the test points rustup at a
    closed port: what an offline laptop or a locked-down CI runner sees.)"""
    rustc = Path.home() / ".cargo/bin/rustc"
    assert rustc.exists(), "rustup's rustc is preinstalled on this machine"
    env = {k: v for k, v in os.environ.items() if k != "RUSTC"}
    env["RUSTUP_DIST_SERVER"] = "http://127.0.0.1:9"
    env["RUSTUP_UPDATE_ROOT"] = "http://127.0.0.1:9/rustup"
    env["RUSTC"] = str(rustc)
    triple = "x86_64-unknown-linux-musl"
    assert not std_installed(str(rustc), triple, env, SubprocessRunner()), (
        f"rustup's toolchain unexpectedly has the {triple} std: remove it (rustup target remove)"
    )
    ws = copy_fixture("std-workspace", tmp_path)
    done = run_cli("build", "--target", triple, cwd=ws, env=env)
    assert done.returncode == 10, done.stderr
    assert f"standard library for {triple} is not installed" in done.stderr
    assert f"rustup target add {triple}" in done.stderr
    assert "Traceback" not in done.stderr and "E0463" not in done.stderr
    assert not (ws / "target/lambda").exists()
