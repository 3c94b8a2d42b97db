"""Turning a failed cargo run into the cause and the known remedies, where we recognise it.

The classic case is a ``*-sys`` crate whose build script cannot find its native library for the
target — openssl-sys under zig cross-compiling above all. cargo then prints a wall of build
script output; the user needs one sentence and the ways out. Failures that are not about the
code at all get the error class that says what they are: rustup without a toolchain to run
(exit 9), a target dir on a full or read-only disk (exit 13); a compiler killed by a signal
(the out-of-memory killer, most often) is still a failed compile, with its own remedy; so is a
nightly-only cargo flag (``-Z``, ``--artifact-dir``) given to a stable cargo.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import ArtifactError, CompileError, RustLambdaError, ToolNotFoundError

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


_RUSTUP_NO_TOOLCHAIN = re.compile(
    r"rustup could not choose a version of (?P<tool>\w+) to run|"
    r"toolchain '(?P<name>[^']+)' is not installed"
)
_OS_ERROR = re.compile(r"\(os error (?P<code>\d+)\)")
#: A path in cargo's messages: quoted (`/x`, "/x") or ending the line ("failed to open: /x").
_PATH = re.compile(r"[`\"'](?P<quoted>/[^`\"']+)[`\"']|: (?P<bare>/\S+)$")
_KILLED = re.compile(r"\(signal: (?P<number>\d+), SIG(?P<name>[A-Z]+)")
_ELSEWHERE = "build with --target-dir DIR (or CARGO_TARGET_DIR)"
_IN_THE_WAY = (
    f"a file is where cargo needs a folder, on the way to {{where}}: remove it, or {_ELSEWHERE}"
)
#: errno -> (reason, fix for {where}, only when cargo says it "failed to" write something:
#: a build script's own failure with that errno is not about the target dir).
_FS_ERRORS = {
    "13": (
        "permission denied",
        "you may not write {where}: check its owner (a `sudo cargo build` leaves root-owned "
        f"files: sudo chown -R $USER on the target dir), or {_ELSEWHERE}",
        True,
    ),
    "17": ("a file is in the way", _IN_THE_WAY, True),
    "20": ("a file is in the way", _IN_THE_WAY, True),
    "28": (
        "no space left on device",
        "the disk holding {where} is full: free space (cargo clean removes old builds), or "
        f"{_ELSEWHERE} on a disk with space",
        False,
    ),
    "30": (
        "read-only file system",
        f"{{where}} is on a read-only file system: {_ELSEWHERE} on a writable disk",
        False,
    ),
    "122": (
        "disk quota exceeded",
        f"your disk quota is used up where {{where}} is: free space, or {_ELSEWHERE} elsewhere",
        False,
    ),
}


@dataclass(frozen=True)
class Diagnosis:
    message: str
    fix: str
    #: What the failure is: a compile error unless it is about the machine, not the code.
    error: type[RustLambdaError] = CompileError


def diagnose(lines: Sequence[str], targets: Sequence[str], code: int = 1) -> Diagnosis | None:
    """The cause of a failed build when we recognise it (``code``: cargo's exit code, negative
    when a signal ended it)."""
    text = "\n".join(lines)
    rules = (
        rustup_without_toolchain(text),
        _filesystem(lines),
        _killed(text, code),
        _nightly(text),
    )
    for rule in rules:
        if rule is not None:
            return rule
    return _native_dependency(text, targets)


def rustup_without_toolchain(text: str) -> Diagnosis | None:
    """rustup's cargo/rustc proxy found no toolchain to run (no default, or one named by
    rust-toolchain.toml that is not installed)."""
    match = _RUSTUP_NO_TOOLCHAIN.search(text)
    if match is None:
        return None
    if match["name"]:
        return Diagnosis(
            f"rustup's toolchain {match['name']} (asked for by rust-toolchain.toml or "
            "RUSTUP_TOOLCHAIN) is not installed",
            f"rustup toolchain install {match['name']}",
            ToolNotFoundError,
        )
    return Diagnosis(
        f"rustup has no default toolchain, so its {match['tool']} cannot run",
        "rustup default stable (or set RUSTUP_TOOLCHAIN, or CARGO and RUSTC to a Rust "
        "installed another way)",
        ToolNotFoundError,
    )


def _filesystem(lines: Sequence[str]) -> Diagnosis | None:
    """cargo could not write its target dir (full, read-only, not its own, a file in the way):
    not the code."""
    for index, line in enumerate(lines):
        match = _OS_ERROR.search(line)
        if match is None or match["code"] not in _FS_ERRORS:
            continue
        reason, fix, needs_failed_to = _FS_ERRORS[match["code"]]
        near = [*reversed(lines[max(0, index - 4) : index + 1])]
        if needs_failed_to and not any("failed to" in candidate for candidate in near):
            continue
        paths = [m["quoted"] or m["bare"] for candidate in near for m in _PATH.finditer(candidate)]
        where = paths[0] if paths else "the target directory"
        return Diagnosis(
            f"cargo could not write {where}: {reason}", fix.format(where=where), ArtifactError
        )
    return None


def _killed(text: str, code: int) -> Diagnosis | None:
    """A compiler (or cargo itself) ended by a signal nobody here sent: the OOM killer, mostly."""
    match = _KILLED.search(text)
    if match is not None:
        name = f"SIG{match['name']}"
    elif code < 0:
        name = signal.Signals(-code).name
    else:
        return None
    return Diagnosis(
        f"the build was killed by {name} (not by rustlambda: most often the out-of-memory killer)",
        "if the machine ran out of memory (dmesg shows the OOM killer), build with fewer "
        "parallel jobs (-j 1) or without LTO (--disable-optimizations), or add memory; then "
        "build again",
    )


def _nightly(text: str) -> Diagnosis | None:
    """A nightly-only cargo flag given to a stable cargo."""
    nightly = _NIGHTLY.search(text)
    if nightly is None:
        return None
    flag = nightly["flag"] or nightly["unstable"]
    return Diagnosis(
        f"cargo refused {flag}: it is a nightly-only (unstable) cargo option and this "
        "toolchain is stable",
        "build with a nightly toolchain (`rustup toolchain install nightly`, then "
        "RUSTUP_TOOLCHAIN=nightly rustlambda build ...), or drop the flag",
    )


def _native_dependency(text: str, targets: Sequence[str]) -> Diagnosis | None:
    """A ``*-sys`` crate whose build script found no native library for the target."""
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
