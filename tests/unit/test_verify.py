"""verify: real ELF files of this machine (read, copied, zipped) judged as Lambda would run them.

Inputs are Debian 12 files that setup.sh guarantees: coreutils' /bin/true and /bin/ls (x86_64,
dynamic, GLIBC_2.34; ls also needs libselinux.so.1), libc-bin's /sbin/ldconfig (static-pie),
python3.11 (needs GLIBC_2.35), and libc6-arm64-cross's aarch64 libc.so.6 (ET_DYN with an
interpreter, i.e. runnable, GLIBC_2.17). Variants are byte-patched copies in tmp_path.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from rustlambda import verify
from rustlambda.elf import read_elf
from rustlambda.errors import ArtifactError, VerifyError
from rustlambda.targets import Arch, Runtime
from rustlambda.verify import ArtifactReport, Finding, verify_artifacts, verify_path

X86_DYNAMIC = Path("/bin/true")
X86_SELINUX = Path("/bin/ls")
X86_STATIC = Path("/sbin/ldconfig")
X86_GLIBC_235 = Path("/usr/bin/python3.11")
ARM_DYNAMIC = Path("/usr/aarch64-linux-gnu/lib/libc.so.6")
ARM_OBJECT = Path("/usr/aarch64-linux-gnu/lib/crt1.o")
X86_SHARED_LIB = Path("/usr/lib/x86_64-linux-gnu/libssl.so.3")  # python3.11-minimal needs it


def system(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"{path} is missing: run scripts/setup.sh (Debian 12)")
    return path.resolve()


def copy(src: Path, dest: Path, mode: int = 0o755) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(system(src), dest)
    dest.chmod(mode)
    return dest


def patched(src: Path, dest: Path, old: bytes, new: bytes) -> Path:
    """A copy of src with one string replaced in place (padded with NULs to the same length)."""
    data = system(src).read_bytes()
    assert data.count(old) >= 1 and len(new) <= len(old)
    dest.write_bytes(data.replace(old, new.ljust(len(old), b"\0")))
    dest.chmod(0o755)
    return dest


def make_zip(path: Path, members: dict[str, tuple[bytes, int | None]]) -> Path:
    """members: name -> (content, Unix mode or None for a zip entry without Unix mode bits)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, (data, mode) in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            if mode is None:
                info.create_system = 0
                info.external_attr = 0
            else:
                info.create_system = 3
                info.external_attr = (stat.S_IFREG | mode) << 16
            zf.writestr(info, data)
            if mode is None:  # writestr turns 0 into 0o600; the central directory is written last
                info.external_attr = 0
    return path


def only(report: verify.VerifyReport) -> ArtifactReport:
    assert len(report.artifacts) == 1, report.artifacts
    return report.artifacts[0]


def finding(artifact: ArtifactReport, check: str) -> Finding:
    matches = [f for f in artifact.findings if f.check == check]
    assert len(matches) == 1, (check, artifact.findings)
    return matches[0]


def failed_checks(artifact: ArtifactReport) -> list[str]:
    return [f.check for f in artifact.failures]


# --- plain executables --------------------------------------------------------------------


def test_glibc_x86_64_binary_passes_for_al2023(tmp_path: Path) -> None:
    bootstrap = copy(X86_DYNAMIC, tmp_path / "bootstrap")
    artifact = only(verify_path(bootstrap))
    assert artifact.ok, artifact.failures
    assert (artifact.kind, artifact.arch, artifact.linkage) == ("function", "x86_64", "dynamic")
    assert artifact.interpreter == "/lib64/ld-linux-x86-64.so.2"
    assert artifact.max_glibc == (2, 34)
    assert artifact.needed == ("libc.so.6",)
    assert artifact.size == bootstrap.stat().st_size
    assert artifact.sha256 == hashlib.sha256(bootstrap.read_bytes()).hexdigest()
    assert finding(artifact, "glibc").message == "needs GLIBC_2.34, provided.al2023 has 2.34"


def test_glibc_234_binary_fails_on_al2_with_the_al2023_fix(tmp_path: Path) -> None:
    bootstrap = copy(X86_DYNAMIC, tmp_path / "bootstrap")
    artifact = only(verify_path(bootstrap, runtime=Runtime.AL2))
    assert failed_checks(artifact) == ["glibc"]
    glibc = finding(artifact, "glibc")
    assert glibc.lambda_error == (
        "Runtime.ExitError: /var/task/bootstrap: /lib64/libc.so.6: version `GLIBC_2.34' not "
        "found (required by /var/task/bootstrap)"
    )
    assert glibc.fix is not None
    assert "--compiler zig" in glibc.fix
    assert "x86_64-unknown-linux-musl" in glibc.fix
    assert "--runtime provided.al2023" in glibc.fix


def test_glibc_235_binary_fails_on_al2023_naming_the_library_and_no_al2023_fix(
    tmp_path: Path,
) -> None:
    artifact = only(verify_path(copy(X86_GLIBC_235, tmp_path / "bootstrap")))
    glibc = finding(artifact, "glibc")
    assert not glibc.ok
    assert artifact.max_glibc == (2, 35)
    assert "version `GLIBC_2.35' not found" in (glibc.lambda_error or "")
    assert "provided.al2023 has glibc 2.34" in glibc.message
    assert "--runtime" not in (glibc.fix or "")


def test_static_binary_needs_no_glibc_even_on_al2(tmp_path: Path) -> None:
    artifact = only(verify_path(copy(X86_STATIC, tmp_path / "bootstrap"), runtime=Runtime.AL2))
    assert artifact.ok, artifact.failures
    assert artifact.linkage == "static"
    assert artifact.max_glibc is None and artifact.needed == ()
    assert [f.check for f in artifact.findings if f.check in ("glibc", "libraries")] == []
    assert "statically linked" in finding(artifact, "linkage").message


def test_libssl_is_refused_with_the_rustls_and_vendored_fix(tmp_path: Path) -> None:
    # ls needs libselinux.so.1; rename that DT_NEEDED entry to libssl.so.3
    bootstrap = patched(X86_SELINUX, tmp_path / "bootstrap", b"libselinux.so.1", b"libssl.so.3")
    artifact = only(verify_path(bootstrap))
    assert artifact.needed == ("libssl.so.3", "libc.so.6")
    assert failed_checks(artifact) == ["libraries"]
    libs = finding(artifact, "libraries")
    assert libs.lambda_error == (
        "Runtime.ExitError: /var/task/bootstrap: error while loading shared libraries: "
        "libssl.so.3: cannot open shared object file: No such file or directory"
    )
    assert libs.fix is not None
    assert "rustls" in libs.fix and "vendored" in libs.fix and "musl" in libs.fix


def test_other_system_library_is_refused_with_the_generic_fix(tmp_path: Path) -> None:
    artifact = only(verify_path(copy(X86_SELINUX, tmp_path / "bootstrap")))
    assert failed_checks(artifact) == ["libraries"]
    libs = finding(artifact, "libraries")
    assert "libselinux.so.1" in libs.message
    assert "libselinux.so.1: cannot open shared object file" in (libs.lambda_error or "")
    assert "statically" in (libs.fix or "") and "layer" in (libs.fix or "")
    assert "rustls" not in (libs.fix or "")


def test_glibc_and_gcc_libraries_are_provided() -> None:
    assert {"libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1"} <= (
        verify.PROVIDED_LIBRARIES
    )
    assert {"libgcc_s.so.1", "libutil.so.1", "libresolv.so.2"} <= verify.PROVIDED_LIBRARIES
    assert {"ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"} <= verify.PROVIDED_LIBRARIES
    for absent in ("libssl.so.3", "libcrypto.so.3", "libssl.so.10", "libz.so.1", "libstdc++.so.6"):
        assert absent not in verify.PROVIDED_LIBRARIES


def test_arm64_executable_passes_as_arm64_and_fails_as_x86_64(tmp_path: Path) -> None:
    bootstrap = copy(ARM_DYNAMIC, tmp_path / "bootstrap")
    good = only(verify_path(bootstrap, arch=Arch.ARM64))
    assert good.ok, good.failures
    assert (good.arch, good.expected_arch, good.max_glibc) == (Arch.ARM64, Arch.ARM64, (2, 17))
    bad = only(verify_path(bootstrap, arch=Arch.X86_64))
    assert failed_checks(bad) == ["arch"]
    arch = finding(bad, "arch")
    assert arch.lambda_error == (
        "Runtime.InvalidEntrypoint: fork/exec /var/task/bootstrap: exec format error"
    )
    assert "--x86-64" in (arch.fix or "")


def test_no_expected_arch_accepts_either_and_reports_it(tmp_path: Path) -> None:
    report = verify_artifacts(
        [
            copy(ARM_DYNAMIC, tmp_path / "a" / "bootstrap"),
            copy(X86_DYNAMIC, tmp_path / "b" / "bootstrap"),
        ]
    )
    assert report.ok
    assert [a.arch for a in report.artifacts] == ["arm64", "x86_64"]
    assert [a.expected_arch for a in report.artifacts] == [None, None]
    assert "Architectures=[arm64]" in finding(report.artifacts[0], "arch").message


def test_not_an_elf_file_is_an_exec_format_error(tmp_path: Path) -> None:
    bootstrap = tmp_path / "bootstrap"
    bootstrap.write_text("fn main() {}\n")
    bootstrap.chmod(0o755)
    artifact = only(verify_path(bootstrap))
    assert failed_checks(artifact) == ["elf"]
    assert artifact.linkage == "unknown" and artifact.arch is None
    assert finding(artifact, "elf").lambda_error == (
        "Runtime.InvalidEntrypoint: fork/exec /var/task/bootstrap: exec format error"
    )


def test_a_script_is_not_called_good(tmp_path: Path) -> None:
    bootstrap = tmp_path / "bootstrap"
    bootstrap.write_text("#!/bin/sh\nexec ./hello\n")
    bootstrap.chmod(0o755)
    artifact = only(verify_path(bootstrap))
    assert failed_checks(artifact) == ["elf"]
    assert "script" in finding(artifact, "elf").message


def test_truncated_elf_is_reported_not_raised(tmp_path: Path) -> None:
    bootstrap = tmp_path / "bootstrap"
    bootstrap.write_bytes(system(X86_DYNAMIC).read_bytes()[:200])
    bootstrap.chmod(0o755)
    artifact = only(verify_path(bootstrap))
    assert failed_checks(artifact) == ["elf"]
    assert "damaged" in finding(artifact, "elf").message


def test_object_file_and_shared_library_are_not_executables(tmp_path: Path) -> None:
    obj = only(verify_path(copy(ARM_OBJECT, tmp_path / "o" / "bootstrap"), arch=Arch.ARM64))
    assert failed_checks(obj) == ["elf"]
    assert "ET_REL" in finding(obj, "elf").message
    assert finding(obj, "elf").lambda_error == (
        "Runtime.InvalidEntrypoint: fork/exec /var/task/bootstrap: exec format error"
    )
    # libssl.so.3: ET_DYN without interpreter that needs libraries, i.e. not a program
    lib = only(verify_path(copy(X86_SHARED_LIB, tmp_path / "l" / "bootstrap")))
    assert failed_checks(lib) == ["elf"]
    assert "shared library" in finding(lib, "elf").message
    assert lib.linkage == "unknown"


def test_other_os_abi_and_unknown_machine_are_refused(tmp_path: Path) -> None:
    data = bytearray(system(X86_DYNAMIC).read_bytes())
    freebsd = bytearray(data)
    freebsd[7] = 9  # EI_OSABI = ELFOSABI_FREEBSD
    (tmp_path / "freebsd").write_bytes(freebsd)
    (tmp_path / "freebsd").chmod(0o755)
    artifact = only(verify_path(tmp_path / "freebsd"))
    assert failed_checks(artifact) == ["elf"]
    assert "FREEBSD" in finding(artifact, "elf").message
    riscv = bytearray(data)
    riscv[18:20] = (243).to_bytes(2, "little")  # e_machine = EM_RISCV
    (tmp_path / "riscv").write_bytes(riscv)
    (tmp_path / "riscv").chmod(0o755)
    artifact = only(verify_path(tmp_path / "riscv"))
    assert failed_checks(artifact) == ["arch"]
    assert "EM_RISCV" in finding(artifact, "arch").message


def test_musl_loader_does_not_exist_on_lambda(tmp_path: Path) -> None:
    bootstrap = patched(
        X86_DYNAMIC,
        tmp_path / "bootstrap",
        b"/lib64/ld-linux-x86-64.so.2",
        b"/lib/ld-musl-x86_64.so.1",
    )
    artifact = only(verify_path(bootstrap))
    assert artifact.interpreter == "/lib/ld-musl-x86_64.so.1"
    assert failed_checks(artifact) == ["linkage"]
    linkage = finding(artifact, "linkage")
    assert linkage.lambda_error == (
        "Runtime.InvalidEntrypoint: fork/exec /var/task/bootstrap: no such file or directory"
    )
    assert "crt-static" in (linkage.fix or "")


def test_plain_file_without_exec_bit_fails_and_owner_only_warns(tmp_path: Path) -> None:
    artifact = only(verify_path(copy(X86_DYNAMIC, tmp_path / "a" / "bootstrap", 0o644)))
    assert failed_checks(artifact) == ["mode"]
    assert finding(artifact, "mode").lambda_error == (
        "Runtime.InvalidEntrypoint: fork/exec /var/task/bootstrap: permission denied"
    )
    owner_only = only(verify_path(copy(X86_DYNAMIC, tmp_path / "b" / "bootstrap", 0o744)))
    assert owner_only.ok
    assert [f.check for f in owner_only.warnings] == ["mode"]


def test_missing_path_and_empty_folder_are_artifact_errors(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError) as missing:
        verify_path(tmp_path / "nope")
    assert missing.value.exit_code == 13
    assert "does not exist" in missing.value.message
    (tmp_path / "empty" / "hello").mkdir(parents=True)
    (tmp_path / "empty" / "hello" / "main").write_text("x")
    with pytest.raises(ArtifactError) as empty:
        verify_path(tmp_path / "empty")
    assert "no Lambda artifacts" in empty.value.message
    assert empty.value.fix
    with pytest.raises(ArtifactError):
        verify_artifacts([])


# --- zips ---------------------------------------------------------------------------------


def test_zip_with_executable_bootstrap_at_root_passes(tmp_path: Path) -> None:
    data = system(X86_DYNAMIC).read_bytes()
    path = make_zip(tmp_path / "bootstrap.zip", {"bootstrap": (data, 0o755)})
    artifact = only(verify_path(path))
    assert artifact.ok, artifact.failures
    assert (artifact.member, artifact.kind, artifact.arch) == ("bootstrap", "function", "x86_64")
    assert artifact.size == len(data)
    assert artifact.sha256 == hashlib.sha256(data).hexdigest()
    assert artifact.label == f"{path}:bootstrap"


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        (0o644, "not executable"),
        (0o744, "not executable by others"),
        (None, "no Unix mode"),
    ],
)
def test_zip_bootstrap_without_exec_bits_fails(
    tmp_path: Path, mode: int | None, words: str
) -> None:
    data = system(X86_DYNAMIC).read_bytes()
    artifact = only(verify_path(make_zip(tmp_path / "f.zip", {"bootstrap": (data, mode)})))
    assert failed_checks(artifact) == ["mode"]
    found = finding(artifact, "mode")
    assert words in found.message
    assert found.lambda_error == (
        "Runtime.InvalidEntrypoint: fork/exec /var/task/bootstrap: permission denied"
    )
    assert "0o100755 << 16" in (found.fix or "")


def test_zip_without_bootstrap_is_couldnt_find_valid_bootstrap(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "f.zip", {"README.md": (b"hi", 0o644)})
    artifact = only(verify_path(path))
    assert artifact.member is None and artifact.sha256 is None
    assert failed_checks(artifact) == ["layout"]
    layout = finding(artifact, "layout")
    assert layout.lambda_error == (
        "Runtime.InvalidEntrypoint: Couldn't find valid bootstrap(s): "
        "[/var/task/bootstrap /opt/bootstrap]"
    )
    assert "README.md" in layout.message


def test_zip_with_bootstrap_in_a_subfolder_says_where_it_is(tmp_path: Path) -> None:
    data = system(X86_DYNAMIC).read_bytes()
    path = make_zip(tmp_path / "f.zip", {"hello/bootstrap": (data, 0o755)})
    artifact = only(verify_path(path))
    assert failed_checks(artifact) == ["layout"]
    layout = finding(artifact, "layout")
    assert "hello/bootstrap" in layout.message
    assert "Couldn't find valid bootstrap(s)" in (layout.lambda_error or "")
    assert "cd hello" in (layout.fix or "")


def test_layer_zip_extensions_are_checked_where_lambda_runs_them(tmp_path: Path) -> None:
    data = system(X86_DYNAMIC).read_bytes()
    path = make_zip(
        tmp_path / "layer.zip",
        {"extensions/good": (data, 0o755), "extensions/bad": (data, 0o644)},
    )
    report = verify_path(path)
    by_member = {a.member: a for a in report.artifacts}
    assert set(by_member) == {"extensions/good", "extensions/bad"}
    assert all(a.kind == "extension" for a in report.artifacts)
    assert by_member["extensions/good"].ok
    assert finding(by_member["extensions/bad"], "mode").lambda_error == (
        "Extension.LaunchError: fork/exec /opt/extensions/bad: permission denied"
    )
    assert not report.ok


def test_internal_extension_at_zip_root_passes_with_a_warning(tmp_path: Path) -> None:
    data = system(X86_DYNAMIC).read_bytes()
    artifact = only(verify_path(make_zip(tmp_path / "ext.zip", {"my-ext": (data, 0o755)})))
    assert artifact.ok
    assert (artifact.kind, artifact.member) == ("extension", "my-ext")
    assert [f.check for f in artifact.warnings] == ["layout"]


def test_wrong_arch_inside_a_zip(tmp_path: Path) -> None:
    data = system(ARM_DYNAMIC).read_bytes()
    path = make_zip(tmp_path / "f.zip", {"bootstrap": (data, 0o755)})
    artifact = only(verify_path(path, arch=Arch.X86_64))
    assert failed_checks(artifact) == ["arch"]
    assert only(verify_path(path, arch=Arch.ARM64)).ok


def test_damaged_zip(tmp_path: Path) -> None:
    path = tmp_path / "bootstrap.zip"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    artifact = only(verify_path(path))
    assert failed_checks(artifact) == ["layout"]
    assert "Could not unzip" in (finding(artifact, "layout").lambda_error or "")


# --- sizes --------------------------------------------------------------------------------


def test_over_the_unzipped_limit_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bootstrap = copy(X86_DYNAMIC, tmp_path / "bootstrap")
    monkeypatch.setattr(verify.limits, "UNZIPPED_LIMIT", bootstrap.stat().st_size - 1)
    artifact = only(verify_path(bootstrap))
    assert failed_checks(artifact) == ["size"]
    assert "Unzipped size must be smaller than" in (finding(artifact, "size").lambda_error or "")


def test_over_the_zipped_limit_only_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = system(X86_DYNAMIC).read_bytes()
    path = make_zip(tmp_path / "f.zip", {"bootstrap": (data, 0o755)})
    monkeypatch.setattr(verify.limits, "ZIPPED_LIMIT", path.stat().st_size - 1)
    artifact = only(verify_path(path))
    assert artifact.ok
    size = finding(artifact, "size")
    assert size.level == "warning"
    assert "RequestEntityTooLargeException" in (size.lambda_error or "")
    assert "S3" in (size.fix or "")
    # a plain file gets its zipped size estimated once it is over the zipped limit
    plain = copy(X86_DYNAMIC, tmp_path / "plain" / "bootstrap")
    monkeypatch.setattr(verify.limits, "ZIPPED_LIMIT", 1000)
    assert finding(only(verify_path(plain)), "size").level == "warning"


# --- directories --------------------------------------------------------------------------


def test_multi_target_layout_expects_each_folders_arch(tmp_path: Path) -> None:
    lam = tmp_path / "target" / "lambda"
    copy(X86_DYNAMIC, lam / "x86_64" / "hello" / "bootstrap")
    copy(ARM_DYNAMIC, lam / "arm64" / "hello" / "bootstrap")
    copy(X86_DYNAMIC, lam / "arm64" / "echo" / "bootstrap")  # the wrong architecture
    copy(X86_DYNAMIC, lam / "x86_64" / "extensions" / "probe")
    (lam / "x86_64" / "hello" / "notes.txt").write_text("not an artifact")
    report = verify_path(lam)
    found = {str(a.path.relative_to(lam)): a for a in report.artifacts}
    assert set(found) == {
        "x86_64/hello/bootstrap",
        "arm64/hello/bootstrap",
        "arm64/echo/bootstrap",
        "x86_64/extensions/probe",
    }
    assert found["x86_64/extensions/probe"].kind == "extension"
    assert found["arm64/hello/bootstrap"].ok
    wrong = found["arm64/echo/bootstrap"]
    assert failed_checks(wrong) == ["arch"]
    assert wrong.expected_arch == "arm64"
    assert "the arm64/ folder" in finding(wrong, "arch").message
    assert [a.ok for a in report.artifacts].count(False) == 1
    # an explicit arch wins over the folders
    assert not verify_path(lam / "x86_64", arch=Arch.ARM64).ok
    # one file of the layout still expects its folder's arch; an "arm64" higher up does not count
    assert not verify_path(lam / "arm64" / "echo" / "bootstrap").ok
    elsewhere = copy(X86_DYNAMIC, tmp_path / "arm64" / "project" / "lambda" / "hello" / "bootstrap")
    assert only(verify_path(elsewhere)).expected_arch is None


def test_single_target_layout_with_zips_and_flatten(tmp_path: Path) -> None:
    data = system(X86_DYNAMIC).read_bytes()
    lam = tmp_path / "lambda"
    copy(X86_DYNAMIC, lam / "hello" / "bootstrap")
    make_zip(lam / "echo" / "bootstrap.zip", {"bootstrap": (data, 0o755)})
    make_zip(lam / "extensions" / "probe.zip", {"extensions/probe": (data, 0o755)})
    copy(X86_DYNAMIC, lam / "bootstrap")
    report = verify_path(lam)
    assert report.ok
    assert sorted((str(a.path.relative_to(lam)), a.member, a.kind) for a in report.artifacts) == [
        ("bootstrap", None, "function"),
        ("echo/bootstrap.zip", "bootstrap", "function"),
        ("extensions/probe.zip", "extensions/probe", "extension"),
        ("hello/bootstrap", None, "function"),
    ]
    # the same file named twice is verified once
    twice = verify_artifacts([lam / "hello" / "bootstrap", lam / "hello" / "bootstrap"])
    assert len(twice.artifacts) == 1


# --- the report ---------------------------------------------------------------------------


def test_json_shape(tmp_path: Path) -> None:
    copy(X86_DYNAMIC, tmp_path / "hello" / "bootstrap")
    copy(X86_DYNAMIC, tmp_path / "bad" / "bootstrap", 0o644)
    data = json.loads(verify_path(tmp_path, runtime=Runtime.AL2, arch=Arch.X86_64).to_json())
    assert set(data) == {"ok", "runtime", "arch", "artifacts"}
    assert (data["ok"], data["runtime"], data["arch"]) == (False, "provided.al2", "x86_64")
    first = data["artifacts"][0]
    assert set(first) == {
        "path",
        "member",
        "kind",
        "ok",
        "arch",
        "expected_arch",
        "linkage",
        "interpreter",
        "max_glibc",
        "needed",
        "size",
        "sha256",
        "findings",
    }
    assert first["path"].endswith("bad/bootstrap") and first["needed"] == ["libc.so.6"]
    checks = [f["check"] for f in first["findings"]]
    assert checks == ["mode", "elf", "arch", "linkage", "glibc", "libraries", "size"]
    for f in first["findings"]:
        assert set(f) == {"check", "ok", "level", "message", "lambda_error", "fix"}
        assert f["ok"] == (f["level"] != "error")
        if not f["ok"]:
            assert f["lambda_error"] and f["fix"]


def test_raise_on_failure_carries_the_report(tmp_path: Path) -> None:
    good = verify_path(copy(X86_DYNAMIC, tmp_path / "good" / "bootstrap"))
    good.raise_on_failure()  # nothing to raise
    report = verify_path(copy(X86_DYNAMIC, tmp_path / "bad" / "bootstrap"), runtime=Runtime.AL2)
    with pytest.raises(VerifyError) as info:
        report.raise_on_failure()
    error = info.value
    assert error.exit_code == 15
    assert error.report is report
    assert "1 of 1 artifact(s) would not start on provided.al2" in error.message
    assert "GLIBC_2.34" in error.message
    assert "--compiler zig" in error.fix
    assert "Lambda: Runtime.ExitError" in error.details


def test_read_elf_keeps_its_fields_and_records_version_needs() -> None:
    info = read_elf(system(X86_DYNAMIC))
    assert info.arch is Arch.X86_64 and info.file_type == "ET_DYN"
    assert info.max_glibc == (2, 34) and info.needed == ("libc.so.6",)
    assert ("libc.so.6", "GLIBC_2.34") in info.version_needs
    assert (info.elf_class, info.little_endian, info.osabi) == (64, True, "ELFOSABI_SYSV")
    assert info.entry > 0
