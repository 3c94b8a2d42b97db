from __future__ import annotations

from rustlambda.diagnose import diagnose

FAILED = "error: failed to run custom build command for `{crate} v0.9.80`"


def test_openssl_sys_gets_the_known_remedies() -> None:
    found = diagnose(
        ["   Compiling x", FAILED.format(crate="openssl-sys"), "  --- stdout"],
        ["aarch64-unknown-linux-gnu"],
    )
    assert found is not None
    assert "openssl-sys could not find an OpenSSL for aarch64-unknown-linux-gnu" in found.message
    for remedy in ("rustls", "vendored", "musl", "--compiler cross"):
        assert remedy in found.fix


def test_other_sys_crates_get_the_generic_remedies() -> None:
    found = diagnose([FAILED.format(crate="zstd-sys")], ["x86_64-unknown-linux-gnu"])
    assert found is not None
    assert found.message.startswith("zstd-sys could not find or build its native library")
    assert "bundled/vendored/static" in found.fix


def test_ordinary_compile_errors_are_not_diagnosed() -> None:
    assert diagnose(["error[E0425]: cannot find value `x` in this scope"], ["t"]) is None
    assert (
        diagnose(["error: failed to run custom build command for `mycrate v1.0.0`"], ["t"]) is None
    )


def test_a_nightly_only_flag_on_a_stable_cargo() -> None:
    found = diagnose(
        [
            "error: the `-Z` flag is only accepted on the nightly channel of Cargo, but this is "
            "the `stable` channel"
        ],
        ["x86_64-unknown-linux-gnu"],
    )
    assert found is not None
    assert found.message.startswith("cargo refused -Z: it is a nightly-only")
    assert "RUSTUP_TOOLCHAIN=nightly" in found.fix
    unstable = diagnose(
        ["error: the `--artifact-dir` flag is unstable, pass `-Z unstable-options` to enable it"],
        ["t"],
    )
    assert unstable is not None and "--artifact-dir" in unstable.message
