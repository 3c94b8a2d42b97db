"""Turning a failed cargo run into the cause and the known remedies, where we recognise it.

The classic case is a ``*-sys`` crate whose build script cannot find its native library for the
target — openssl-sys under zig cross-compiling above all. cargo then prints a wall of build
script output; the user needs one sentence and the ways out. The other: a nightly-only cargo
flag (``-Z``, ``--artifact-dir``) given to a stable cargo.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_NIGHTLY = re.compile(
    r"the `(?P<flag>[^`]+)` flag is only accepted on the nightly channel"
    r"|the `(?P<unstable>[^`]+)` flag is unstable"
)
_SYS_FAILURE = re.compile(r"failed to run custom build command for `(?P<crate>[\w-]+-sys) v[^`]+`")

OPENSSL_REMEDIES = (
    'use rustls instead of OpenSSL (e.g. reqwest = { version = "0.12", default-features = '
    'false, features = ["rustls-tls"] }); or compile OpenSSL into the binary with the '
    '`vendored` feature (openssl = { version = "0.10", features = ["vendored"] }); or build '
    "for a musl target with a static OpenSSL; or --compiler cross, whose images carry a target "
    "OpenSSL (Lambda's runtimes have no libssl either way, so it must be in the binary)"
)


@dataclass(frozen=True)
class Diagnosis:
    message: str
    fix: str


def diagnose(lines: Sequence[str], targets: Sequence[str]) -> Diagnosis | None:
    """The cause of a failed build when we recognise it: a nightly-only flag on a stable
    cargo, or a native dependency."""
    text = "\n".join(lines)
    nightly = _NIGHTLY.search(text)
    if nightly is not None:
        flag = nightly["flag"] or nightly["unstable"]
        return Diagnosis(
            f"cargo refused {flag}: it is a nightly-only (unstable) cargo option and this "
            "toolchain is stable",
            "build with a nightly toolchain (`rustup toolchain install nightly`, then "
            "RUSTUP_TOOLCHAIN=nightly rustlambda build ...), or drop the flag",
        )
    match = _SYS_FAILURE.search(text)
    if match is None:
        return None
    crate = match["crate"]
    where = ", ".join(targets)
    if crate == "openssl-sys":
        return Diagnosis(
            f"openssl-sys could not find an OpenSSL for {where}: the build needs OpenSSL "
            "headers and libraries for the target, which a cross build does not have",
            OPENSSL_REMEDIES,
        )
    return Diagnosis(
        f"{crate} could not find or build its native library for {where}",
        f"enable {crate}'s bundled/vendored/static feature if it has one, so the library is "
        "compiled into the binary; or build with --compiler cross (a container with the "
        "target's libraries); or choose a pure-Rust crate. Lambda's runtime images have only "
        "glibc and libgcc_s, so the library must end up inside the binary",
    )
