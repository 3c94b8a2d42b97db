"""verify on real builds: rustlambda's Rust bootstraps pass, gcc-built C programs that Lambda
could not start (glibc too new, libssl, not executable, wrong architecture) fail."""

from __future__ import annotations

import stat
import subprocess
import zipfile
from pathlib import Path

import pytest

import rustlambda
from rustlambda import Arch, BuildOptions, BuildResult, Runtime, Target
from rustlambda.elf import read_elf
from rustlambda.verify import ArtifactReport, Finding, verify_artifacts, verify_path

from .conftest import copy_fixture


@pytest.fixture(scope="module")
def hello_build(tmp_path_factory: pytest.TempPathFactory, build_env: dict[str, str]) -> BuildResult:
    ws = copy_fixture("std-workspace", tmp_path_factory.mktemp("verify"))
    return rustlambda.build(
        BuildOptions(
            cwd=ws,
            targets=(Target.for_arch(Arch.X86_64), Target.for_arch(Arch.ARM64)),
            bins=("hello",),
            environ=build_env,
        )
    )


def gcc(tmp_path: Path, name: str, source: str, *libs: str) -> Path:
    c_file = tmp_path / f"{name}.c"
    c_file.write_text(source)
    out = tmp_path / name / "bootstrap"
    out.parent.mkdir()
    subprocess.run(["gcc", "-O1", "-o", str(out), str(c_file), *libs], check=True)
    return out


def zip_bootstrap(path: Path, bootstrap: Path, mode: int) -> Path:
    info = zipfile.ZipInfo("bootstrap", date_time=(2024, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(info, bootstrap.read_bytes())
    return path


def the(artifact: ArtifactReport, check: str) -> Finding:
    [found] = [f for f in artifact.findings if f.check == check]
    return found


def test_rust_bootstraps_for_both_architectures_pass_on_al2023(hello_build: BuildResult) -> None:
    report = verify_path(hello_build.lambda_dir)  # target/lambda with x86_64/ and arm64/
    assert report.ok, report.to_json()
    assert sorted((a.arch, a.expected_arch, a.kind) for a in report.artifacts) == [
        ("arm64", "arm64", "function"),
        ("x86_64", "x86_64", "function"),
    ]
    built = {a.path: a for a in hello_build.artifacts}
    for artifact in report.artifacts:
        assert artifact.linkage == "dynamic"
        assert artifact.sha256 == built[artifact.path].sha256
        assert "libc.so.6" in artifact.needed
        assert artifact.max_glibc is not None
        assert the(artifact, "glibc").message.endswith("provided.al2023 has 2.34")
    for built_artifact in hello_build.artifacts:
        assert verify_path(built_artifact.path, arch=Arch(built_artifact.arch)).ok


def test_arm64_bootstrap_verified_as_x86_64_fails(hello_build: BuildResult, tmp_path: Path) -> None:
    arm = next(a for a in hello_build.artifacts if a.arch == "arm64")
    package = zip_bootstrap(tmp_path / "hello.zip", arm.path, 0o755)
    assert verify_path(package, arch=Arch.ARM64).ok
    [artifact] = verify_path(package, arch=Arch.X86_64).artifacts
    assert [f.check for f in artifact.failures] == ["arch"]
    assert the(artifact, "arch").lambda_error == (
        "Runtime.InvalidEntrypoint: fork/exec /var/task/bootstrap: exec format error"
    )


def test_non_executable_bootstrap_in_a_zip_fails(hello_build: BuildResult, tmp_path: Path) -> None:
    x86 = next(a for a in hello_build.artifacts if a.arch == "x86_64")
    package = zip_bootstrap(tmp_path / "hello.zip", x86.path, 0o644)
    [artifact] = verify_path(package).artifacts
    assert [f.check for f in artifact.failures] == ["mode"]
    assert the(artifact, "mode").lambda_error == (
        "Runtime.InvalidEntrypoint: fork/exec /var/task/bootstrap: permission denied"
    )


def test_glibc_newer_than_the_runtime_fails(tmp_path: Path) -> None:
    # Debian 12's glibc 2.36 versions arc4random at GLIBC_2.36
    source = "#include <stdlib.h>\nint main(void) { return (int)(arc4random() & 1); }\n"
    bootstrap = gcc(tmp_path, "random", source)
    assert read_elf(bootstrap).max_glibc == (2, 36)
    [artifact] = verify_path(bootstrap).artifacts
    assert [f.check for f in artifact.failures] == ["glibc"]
    glibc = the(artifact, "glibc")
    assert glibc.lambda_error == (
        "Runtime.ExitError: /var/task/bootstrap: /lib64/libc.so.6: version `GLIBC_2.36' not "
        "found (required by /var/task/bootstrap)"
    )
    assert "zig" in (glibc.fix or "") and "musl" in (glibc.fix or "")


def test_al2_fails_a_glibc_234_binary_that_al2023_accepts(tmp_path: Path) -> None:
    # __libc_start_main@GLIBC_2.34: every program linked against glibc >= 2.34
    bootstrap = gcc(tmp_path, "hello", "int main(void) { return 0; }\n")
    assert read_elf(bootstrap).max_glibc == (2, 34)
    assert verify_path(bootstrap, runtime=Runtime.AL2023).ok
    report = verify_path(bootstrap, runtime=Runtime.AL2)
    [artifact] = report.artifacts
    assert [f.check for f in artifact.failures] == ["glibc"]
    assert "--runtime provided.al2023" in (the(artifact, "glibc").fix or "")
    assert report.to_dict()["runtime"] == "provided.al2"


def test_libssl_linked_binary_fails_with_the_openssl_fix(tmp_path: Path) -> None:
    source = (
        "#include <openssl/ssl.h>\nint main(void) { return OPENSSL_init_ssl(0, NULL) ? 0 : 1; }\n"
    )
    bootstrap = gcc(tmp_path, "tls", source, "-lssl", "-lcrypto")
    assert subprocess.run([str(bootstrap)], check=False).returncode == 0  # a real program
    [artifact] = verify_artifacts([bootstrap]).artifacts
    assert "libssl.so.3" in artifact.needed
    assert [f.check for f in artifact.failures] == ["libraries"]
    libs = the(artifact, "libraries")
    assert libs.lambda_error == (
        "Runtime.ExitError: /var/task/bootstrap: error while loading shared libraries: "
        "libssl.so.3: cannot open shared object file: No such file or directory"
    )
    assert "rustls" in (libs.fix or "") and 'features = ["vendored"]' in (libs.fix or "")
