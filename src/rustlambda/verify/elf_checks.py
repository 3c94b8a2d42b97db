"""The ELF checks: what Lambda's loader needs from an executable, against a runtime's image.

``elf``        an ELF executable for Linux: 64-bit little-endian, OS ABI SYSV/GNU, ``ET_EXEC``,
               or ``ET_DYN`` with an interpreter (PIE), or ``ET_DYN`` without interpreter, without
               DT_NEEDED and with an entry point (static-pie, e.g. Rust's musl targets).
``arch``       x86_64 or aarch64 and, when one is expected, that one.
``linkage``    static, or dynamic with glibc's loader at its standard path.
``glibc``      the highest ``GLIBC_x.y`` symbol version needed <= the runtime's glibc.
``libraries``  every DT_NEEDED library is in `PROVIDED_LIBRARIES`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..targets import Arch, Runtime, version_str
from .report import Finding, crash_error, exec_error
from .sources import Executable

if TYPE_CHECKING:
    from ..elf import ElfInfo

GLIBC_LIBRARIES = frozenset(
    {
        "libc.so.6",
        "libm.so.6",
        "libdl.so.2",
        "libpthread.so.0",
        "librt.so.1",
        "libutil.so.1",
        "libresolv.so.2",
        "libanl.so.1",
        "ld-linux-x86-64.so.2",
        "ld-linux-aarch64.so.1",
    }
)
PROVIDED_LIBRARIES = GLIBC_LIBRARIES | {"libgcc_s.so.1"}
"""The shared libraries both provided.al2023 and provided.al2 images are relied on to have."""

LOADERS = {Arch.X86_64: "/lib64/ld-linux-x86-64.so.2", Arch.ARM64: "/lib/ld-linux-aarch64.so.1"}
"""glibc's dynamic loader for each architecture, at the path the images have it."""

_LINUX_OSABI = ("ELFOSABI_SYSV", "ELFOSABI_LINUX")
_OPENSSL = ("libssl.so", "libcrypto.so")

_FIX_GLIBC_BUILD = (
    "build with rustlambda's default compiler (--compiler zig), which links against the "
    "runtime's glibc, or for a musl target (--target {arch}-unknown-linux-musl)"
)
_FIX_OPENSSL = (
    "don't link the system OpenSSL: use rustls (e.g. reqwest = {{ default-features = false, "
    'features = ["rustls-tls"] }}), or the crate\'s vendored feature (openssl = '
    '{{ version = "0.10", features = ["vendored"] }}), or build for a musl target '
    "(--target {arch}-unknown-linux-musl)"
)
_FIX_OTHER_LIBRARY = (
    "link {libs} statically (many -sys crates have a `vendored`/`static`/`bundled` feature), "
    "or build for a musl target (--target {arch}-unknown-linux-musl), or ship the library in a "
    "layer (it is found in /opt/lib)"
)


def not_elf_finding(exe: Executable, script: bool) -> Finding:
    if script:
        return Finding(
            "elf",
            "error",
            "a script (#!), not an ELF executable: rustlambda verifies compiled bootstraps, and "
            "cannot tell whether the script's interpreter and what it runs exist on Lambda",
            None,
            "verify the executable the script starts instead",
        )
    return Finding(
        "elf",
        "error",
        "not an ELF executable",
        exec_error(exe.kind, exe.run_path, "exec format error"),
        "use the binary rustlambda build wrote (target/lambda/<bin>/bootstrap), not a source, "
        "text or archive file",
    )


def elf_findings(exe: Executable, info: ElfInfo, runtime: Runtime) -> list[Finding]:
    findings = [_format_finding(exe, info), _arch_finding(exe, info)]
    if any(not f.ok for f in findings):
        return findings  # Lambda would not get as far as loading libraries
    findings.append(_linkage_finding(exe, info))
    if not info.static:
        findings.append(_glibc_finding(exe, info, runtime))
        findings.extend(_library_findings(exe, info))
    return findings


def _format_finding(exe: Executable, info: ElfInfo) -> Finding:
    exec_format = exec_error(exe.kind, exe.run_path, "exec format error")
    if info.elf_class != 64 or not info.little_endian:
        layout = f"{info.elf_class}-bit {'little' if info.little_endian else 'big'}-endian"
        return Finding(
            "elf",
            "error",
            f"a {layout} ELF file: Lambda runs 64-bit little-endian code only",
            exec_format,
            "build for x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu (--x86-64, --arm64)",
        )
    if info.osabi not in _LINUX_OSABI:
        return Finding(
            "elf",
            "error",
            f"built for another operating system (OS ABI {info.osabi}), not Linux",
            crash_error(exe.kind, exe.run_path, "the process fails at start (wrong system calls)"),
            "build for a Linux target: rustlambda build --x86-64 or --arm64",
        )
    if info.file_type == "ET_EXEC" or (info.file_type == "ET_DYN" and info.interpreter):
        return Finding("elf", "ok", f"ELF executable for Linux ({info.file_type})")
    if info.file_type == "ET_DYN" and not info.needed and info.entry:
        return Finding("elf", "ok", "ELF executable for Linux (static-pie)")
    if info.file_type == "ET_DYN":
        return Finding(
            "elf",
            "error",
            "a shared library, not an executable (no interpreter"
            + (", but it needs shared libraries)" if info.needed else ", no entry point)"),
            crash_error(
                exe.kind, exe.run_path, "the process crashes at start (signal: segmentation fault)"
            ),
            "package the binary target (a [[bin]] with fn main), not the cdylib/dylib",
        )
    return Finding(
        "elf",
        "error",
        f"an ELF {info.file_type} file (an object file or core dump), not an executable",
        exec_format,
        "package the linked binary (target/lambda/<bin>/bootstrap), not an object file",
    )


def _arch_finding(exe: Executable, info: ElfInfo) -> Finding:
    if info.arch is None:
        return Finding(
            "arch",
            "error",
            f"built for {info.machine}, which Lambda does not run (x86_64 or arm64 only)",
            exec_error(exe.kind, exe.run_path, "exec format error"),
            "build for Lambda's architectures: rustlambda build --x86-64 or --arm64",
        )
    if exe.expected is None:
        return Finding(
            "arch",
            "ok",
            f"{info.arch.value} (no architecture expected: the function must be configured "
            f"with Architectures=[{info.arch.value}])",
        )
    if info.arch is not exe.expected:
        source = f" (expected from {exe.expected_from})" if exe.expected_from else ""
        other = "--arm64" if exe.expected is Arch.ARM64 else "--x86-64"
        return Finding(
            "arch",
            "error",
            f"built for {info.arch.value}, but the function runs on {exe.expected.value}{source}",
            exec_error(exe.kind, exe.run_path, "exec format error"),
            f"rebuild for {exe.expected.value} (rustlambda build {other}), or set the "
            f"function's architecture to {info.arch.value}",
        )
    return Finding("arch", "ok", f"{info.arch.value}, as expected")


def _linkage_finding(exe: Executable, info: ElfInfo) -> Finding:
    if info.static:
        return Finding("linkage", "ok", "statically linked: needs no shared library, no glibc")
    assert info.arch is not None  # _arch_finding passed
    loader = LOADERS[info.arch]
    if info.interpreter is None:
        # DT_NEEDED without PT_INTERP: _format_finding already refused it as a shared library.
        return Finding("linkage", "ok", "dynamically linked")
    if info.interpreter != loader:
        musl = "ld-musl" in info.interpreter
        return Finding(
            "linkage",
            "error",
            f"dynamically linked with the loader {info.interpreter}, which Lambda's images do "
            f"not have (glibc's is {loader})",
            exec_error(exe.kind, exe.run_path, "no such file or directory"),
            "link musl binaries statically (remove -C target-feature=-crt-static)"
            if musl
            else f"link with the standard loader: build with rustlambda (zig) or set "
            f"-C link-arg=-Wl,--dynamic-linker={loader}",
        )
    return Finding("linkage", "ok", f"dynamically linked against glibc ({info.interpreter})")


def _glibc_finding(exe: Executable, info: ElfInfo, runtime: Runtime) -> Finding:
    needed = info.max_glibc
    have = version_str(runtime.glibc)
    if needed is None:
        return Finding("glibc", "ok", "needs no versioned glibc symbol")
    want = version_str(needed)
    if needed <= runtime.glibc:
        return Finding("glibc", "ok", f"needs GLIBC_{want}, {runtime.value} has {have}")
    library = next(
        (
            lib
            for lib, version in info.version_needs
            if version == f"GLIBC_{want}" or version.startswith(f"GLIBC_{want}.")
        ),
        "libc.so.6",
    )
    assert info.arch is not None
    fix = _FIX_GLIBC_BUILD.format(arch=info.arch.rust_arch)
    if runtime is Runtime.AL2 and needed <= Runtime.AL2023.glibc:
        fix += "; or deploy on provided.al2023 (--runtime provided.al2023, glibc 2.34)"
    return Finding(
        "glibc",
        "error",
        f"needs GLIBC_{want} ({library}), but {runtime.value} has glibc {have}",
        crash_error(
            exe.kind,
            exe.run_path,
            f"/lib64/{library}: version `GLIBC_{want}' not found (required by {exe.run_path})",
        ),
        fix,
    )


def _library_findings(exe: Executable, info: ElfInfo) -> list[Finding]:
    missing = [lib for lib in info.needed if lib not in PROVIDED_LIBRARIES]
    if not missing:
        listed = ", ".join(info.needed) or "none"
        return [Finding("libraries", "ok", f"needs only libraries the runtime has: {listed}")]
    assert info.arch is not None
    arch = info.arch.rust_arch
    openssl = [lib for lib in missing if lib.startswith(_OPENSSL)]
    others = [lib for lib in missing if lib not in openssl]
    findings = []
    for group, fix in (
        (openssl, _FIX_OPENSSL.format(arch=arch)),
        (others, _FIX_OTHER_LIBRARY.format(arch=arch, libs=", ".join(others))),
    ):
        if group:
            findings.append(
                Finding(
                    "libraries",
                    "error",
                    f"needs {', '.join(group)}, which Lambda's images do not provide",
                    crash_error(
                        exe.kind,
                        exe.run_path,
                        f"error while loading shared libraries: {group[0]}: cannot open "
                        "shared object file: No such file or directory",
                    ),
                    fix,
                )
            )
    return findings
