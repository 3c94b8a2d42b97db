"""Would Lambda start this artifact? ELF and zip checks against a Lambda runtime.

What is checked, for every executable found (a function's ``bootstrap`` or an extension):

``layout``     in a zip, the executable is where Lambda looks: ``bootstrap`` at the root (a
               function, or a custom runtime in a layer), ``extensions/<name>`` (an external
               extension in a layer). A zip with neither but with ELF executables at its root
               is taken as an internal extension (cargo-lambda's ``--extension --internal``),
               with a warning, because as a function's zip it has no bootstrap.
``mode``       the executable bit. In a zip the Unix mode is ``external_attr >> 16``; Lambda
               runs the code as a user that is not the file's owner, so "others" need read and
               execute (0o755). On disk a file without any exec bit fails; one executable by
               its owner only gets a warning (zipped as is, it would fail).
``elf``        an ELF executable for Linux: 64-bit little-endian, OS ABI SYSV/GNU, ``ET_EXEC``,
               or ``ET_DYN`` with an interpreter (PIE), or ``ET_DYN`` without interpreter, without
               DT_NEEDED and with an entry point (static-pie, e.g. Rust's musl targets).
``arch``       x86_64 or aarch64 and, when one is expected, that one. The expected architecture
               is the ``arch`` argument, else the layout's ``x86_64/`` or ``arm64/`` folder; with
               neither, any Lambda architecture is accepted and reported.
``linkage``    static (no glibc check needed) or dynamic; a dynamic executable's interpreter
               must be glibc's loader at its standard path (``/lib64/ld-linux-x86-64.so.2``,
               ``/lib/ld-linux-aarch64.so.1``): musl's loader or a Nix store path do not exist
               on Lambda.
``glibc``      the highest ``GLIBC_x.y`` symbol version needed <= the runtime's glibc (2.34 for
               provided.al2023, 2.26 for provided.al2).
``libraries``  every DT_NEEDED library is in `PROVIDED_LIBRARIES`: glibc's own libraries (libc,
               libm, libdl, libpthread, librt, libutil, libresolv, libanl and the loaders; glibc
               2.34 folded several into libc but still ships them) and libgcc_s.so.1 (Rust's gnu
               targets need it for unwinding; it is in both images). Nothing else is assumed to be
               present: libssl/libcrypto (also on provided.al2, whose OpenSSL 1.0.2 is
               ``libssl.so.10``, not what a binary built elsewhere needs), libstdc++, libz, libpq.
``size``       over 250 MB unzipped (`UNZIPPED_LIMIT`) is a failure: Lambda refuses the code
               however it is uploaded. Over 50 MB zipped (`ZIPPED_LIMIT`) is a warning: direct
               upload is refused, upload through S3 works. For a plain file the zipped size is
               only estimated (deflate) when the file itself is over 50 MB.

Each failed check is a `Finding` with level ``"error"``, the error Lambda would show
(``lambda_error``, as ``<errorType>: <message>``) and the fix. Extensions fail with
``Extension.LaunchError`` / ``Extension.Crash`` where a function fails with
``Runtime.InvalidEntrypoint`` / ``Runtime.ExitError``.

What is scanned: a path is a bootstrap (any executable file), a zip (``*.zip`` or a file that
starts with ``PK``), or a directory. In a directory: ``bootstrap``, ``bootstrap.zip``,
``*/bootstrap``, ``*/bootstrap.zip``, ``extensions/*`` (executables and zips), and the same
inside ``x86_64/`` and ``arm64/`` (rustlambda's multi-target layout). Zip members are read into
memory (spilling to a temporary file over 64 MB), never extracted next to the zip, and not at all
when their header says they are over 250 MB. A zip that cannot be unpacked (a bad CRC, the
encrypted flag, an unknown compression method, corrupt or truncated data) is a ``layout`` error
finding, never an exception.

Public API::

    verify_path(path, *, runtime=Runtime.AL2023, arch=None) -> VerifyReport
    verify_artifacts(paths, *, runtime=Runtime.AL2023, arch=None) -> VerifyReport
    is_zip(path) -> bool                        read as a zip (``*.zip``, or starts with PK)
    VerifyReport.ok / .failures / .to_dict() / .to_json() / .raise_on_failure()
    ArtifactReport.ok / .label / .to_dict()      Finding.ok / .to_dict()

A path that does not exist, or holds no artifact, raises `ArtifactError` (exit 13);
`VerifyReport.raise_on_failure` raises `VerifyError` (exit 15) carrying the report.

Modules: `report` (the report model), `sources` (what a path names, zip reading), `elf_checks`
(format, architecture, linkage, glibc, libraries), `limits` (mode and size).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..errors import ArtifactError
from ..targets import Arch, Runtime
from ..util.fs import file_error
from ..util.hashing import digest_stream
from .report import CHECKS, ArtifactReport, Finding, Level, Linkage, VerifyReport, exec_error

if TYPE_CHECKING:
    from ..elf import ElfInfo
    from . import sources
    from .elf_checks import GLIBC_LIBRARIES, LOADERS, PROVIDED_LIBRARIES
    from .limits import UNZIPPED_LIMIT, ZIPPED_LIMIT
    from .sources import is_zip

#: Names this package re-exports from the modules that check files, imported when first used:
#: a build whose artifacts are unchanged reads only `report` (its cached reports).
_LAZY = {
    "GLIBC_LIBRARIES": "elf_checks",
    "LOADERS": "elf_checks",
    "PROVIDED_LIBRARIES": "elf_checks",
    "UNZIPPED_LIMIT": "limits",
    "ZIPPED_LIMIT": "limits",
    "is_zip": "sources",
    "sources": "sources",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    loaded = importlib.import_module(f"{__name__}.{module}")
    return loaded if name == module else getattr(loaded, name)


__all__ = [
    "GLIBC_LIBRARIES",
    "LOADERS",
    "PROVIDED_LIBRARIES",
    "UNZIPPED_LIMIT",
    "ZIPPED_LIMIT",
    "ArtifactReport",
    "Finding",
    "Level",
    "Linkage",
    "VerifyReport",
    "is_zip",
    "verify_artifacts",
    "verify_path",
]


def verify_path(
    path: Path, *, runtime: Runtime = Runtime.AL2023, arch: Arch | None = None
) -> VerifyReport:
    """Verify a bootstrap, a zip, or a directory of them (see the module docstring)."""
    return verify_artifacts((path,), runtime=runtime, arch=arch)


def verify_artifacts(
    paths: Sequence[Path], *, runtime: Runtime = Runtime.AL2023, arch: Arch | None = None
) -> VerifyReport:
    from . import sources

    if not paths:
        raise ArtifactError("nothing to verify", "pass a bootstrap, a zip or target/lambda")
    found: dict[Path, sources.Source] = {}
    for path in paths:
        for source in sources.discover(Path(path)):
            found.setdefault(source.path.resolve(), source)
    reports: list[ArtifactReport] = []
    for source in found.values():
        try:
            for item in sources.read(source, arch):
                if isinstance(item, ArtifactReport):
                    reports.append(item)
                else:
                    reports.append(_check(*item, runtime))
        except OSError as exc:
            raise file_error(exc, source.path, "read") from exc
    return VerifyReport(tuple(reports), runtime, arch)


def _check(exe: sources.Executable, stream: IO[bytes], runtime: Runtime) -> ArtifactReport:
    """Every check of one executable, read from ``stream`` (seekable)."""
    from .elf_checks import elf_findings

    digest = digest_stream(stream)
    stream.seek(0)
    findings = list(exe.extra)
    info = _read_elf(exe, stream, findings)
    if info is not None:
        findings.extend(elf_findings(exe, info, runtime))
    executable = info is not None and all(f.ok for f in findings if f.check == "elf")
    linkage = Linkage.UNKNOWN
    if info is not None and executable:
        linkage = Linkage.STATIC if info.static else Linkage.DYNAMIC
    return ArtifactReport(
        path=exe.path,
        member=exe.member,
        kind=exe.kind,
        arch=info.arch if info is not None else None,
        expected_arch=exe.expected,
        linkage=linkage,
        interpreter=info.interpreter if info is not None else None,
        max_glibc=info.max_glibc if info is not None else None,
        needed=info.needed if info is not None else (),
        size=digest.size,
        sha256=digest.sha256,
        findings=tuple(sorted(findings, key=lambda f: CHECKS.index(f.check))),
    )


def _read_elf(
    exe: sources.Executable, stream: IO[bytes], findings: list[Finding]
) -> ElfInfo | None:
    """The ELF header and dynamic section, or None with the finding that says why not."""
    from .elf_checks import not_elf_finding

    if stream.read(4) != b"\x7fELF":
        stream.seek(0)
        findings.append(not_elf_finding(exe, stream.read(2) == b"#!"))
        return None
    stream.seek(0)
    from ..elf import read_elf_stream  # pyelftools: only when an ELF is read (~30 ms to import)

    try:
        return read_elf_stream(stream, exe.member or str(exe.path))
    except ArtifactError as exc:
        findings.append(
            Finding(
                "elf",
                "error",
                f"a damaged ELF file: {exc.message}",
                exec_error(exe.kind, exe.run_path, "exec format error"),
                "rebuild it (rustlambda build) and copy it again",
            )
        )
        return None
