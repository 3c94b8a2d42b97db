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
memory (spilling to a temporary file over 64 MB), never extracted next to the zip.

Public API::

    verify_path(path, *, runtime=Runtime.AL2023, arch=None) -> VerifyReport
    verify_artifacts(paths, *, runtime=Runtime.AL2023, arch=None) -> VerifyReport
    VerifyReport.ok / .failures / .to_dict() / .to_json() / .raise_on_failure()
    ArtifactReport.ok / .label / .to_dict()      Finding.ok / .to_dict()

A path that does not exist, or holds no artifact, raises `ArtifactError` (exit 13);
`VerifyReport.raise_on_failure` raises `VerifyError` (exit 15) carrying the report.
"""

from __future__ import annotations

import json
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from .elf import ElfInfo, read_elf_stream
from .errors import ArtifactError, VerifyError
from .package import DIRECT_UPLOAD_LIMIT
from .package import UNZIPPED_LIMIT as UNZIPPED_CODE_LIMIT
from .targets import Arch, Runtime, version_str
from .util.hashing import digest_stream

ZIPPED_LIMIT = DIRECT_UPLOAD_LIMIT
UNZIPPED_LIMIT = UNZIPPED_CODE_LIMIT

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

ARCH_DIRS = {a.value: a for a in Arch}
_LINUX_OSABI = ("ELFOSABI_SYSV", "ELFOSABI_LINUX")
_OPENSSL = ("libssl.so", "libcrypto.so")
_SPOOL = 64 * 1024 * 1024
_CHUNK = 1024 * 1024

Level = Literal["ok", "warning", "error"]

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


@dataclass(frozen=True)
class Finding:
    """The outcome of one check: ``level`` "ok", "warning" (deployable) or "error"."""

    check: str  # "layout" | "mode" | "elf" | "arch" | "linkage" | "glibc" | "libraries" | "size"
    level: Level
    message: str
    lambda_error: str | None = None
    fix: str | None = None

    @property
    def ok(self) -> bool:
        return self.level != "error"

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "ok": self.ok,
            "level": self.level,
            "message": self.message,
            "lambda_error": self.lambda_error,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class ArtifactReport:
    """One executable (or the missing one a zip should hold) and every check's finding."""

    path: Path
    member: str | None  # the zip member, None for a plain file (or a zip without executable)
    kind: str  # "function" | "extension"
    arch: str | None  # Lambda's name of the ELF's architecture, None if not a Lambda one
    expected_arch: str | None
    linkage: str  # "static" | "dynamic" | "unknown" (not a readable ELF)
    interpreter: str | None
    max_glibc: str | None  # "2.34"
    needed: tuple[str, ...]
    size: int  # the executable's size (0 when there is none)
    sha256: str | None
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    @property
    def failures(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.ok)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level == "warning")

    @property
    def label(self) -> str:
        return f"{self.path}:{self.member}" if self.member else str(self.path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "member": self.member,
            "kind": self.kind,
            "ok": self.ok,
            "arch": self.arch,
            "expected_arch": self.expected_arch,
            "linkage": self.linkage,
            "interpreter": self.interpreter,
            "max_glibc": self.max_glibc,
            "needed": list(self.needed),
            "size": self.size,
            "sha256": self.sha256,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class VerifyReport:
    artifacts: tuple[ArtifactReport, ...]
    runtime: Runtime = Runtime.AL2023
    arch: Arch | None = None

    @property
    def ok(self) -> bool:
        return all(a.ok for a in self.artifacts)

    @property
    def failures(self) -> tuple[tuple[ArtifactReport, Finding], ...]:
        return tuple((a, f) for a in self.artifacts for f in a.failures)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "runtime": self.runtime.value,
            "arch": self.arch.value if self.arch else None,
            "artifacts": [a.to_dict() for a in self.artifacts],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def raise_on_failure(self) -> None:
        """Raise `VerifyError` (exit 15) naming the first failure, all of them in ``details``."""
        failures = self.failures
        if not failures:
            return
        bad = sum(1 for a in self.artifacts if not a.ok)
        artifact, first = failures[0]
        lines = []
        for a, f in failures:
            lines.append(f"{a.label}: {f.check}: {f.message}")
            if f.lambda_error:
                lines.append(f"  Lambda: {f.lambda_error}")
            if f.fix:
                lines.append(f"  fix: {f.fix}")
        raise VerifyError(
            f"{bad} of {len(self.artifacts)} artifact(s) would not start on "
            f"{self.runtime.value}: {artifact.label}: {first.message}",
            first.fix or "",
            details="\n".join(lines),
            report=self,
        )


def verify_path(
    path: Path, *, runtime: Runtime = Runtime.AL2023, arch: Arch | None = None
) -> VerifyReport:
    """Verify a bootstrap, a zip, or a directory of them (see the module docstring)."""
    return verify_artifacts((path,), runtime=runtime, arch=arch)


def verify_artifacts(
    paths: Sequence[Path], *, runtime: Runtime = Runtime.AL2023, arch: Arch | None = None
) -> VerifyReport:
    if not paths:
        raise ArtifactError("nothing to verify", "pass a bootstrap, a zip or target/lambda")
    sources: dict[Path, _Source] = {}
    for path in paths:
        for source in _discover(Path(path)):
            sources.setdefault(source.path.resolve(), source)
    reports: list[ArtifactReport] = []
    for source in sources.values():
        try:
            reports.extend(_verify_source(source, runtime, arch))
        except OSError as exc:
            raise ArtifactError(
                f"cannot read {source.path}: {exc}", "check the file's permissions"
            ) from exc
    return VerifyReport(tuple(reports), runtime, arch)


# ---------------------------------------------------------------------------------------------
# discovery


@dataclass(frozen=True)
class _Source:
    """A file to verify: a zip, or an executable (``kind`` says which Lambda role)."""

    path: Path
    kind: str  # "function" | "extension"
    layout_arch: Arch | None = None


def _discover(path: Path) -> tuple[_Source, ...]:
    """The bootstraps, extensions and zips a path names; `ArtifactError` if there are none."""
    if not path.exists():
        raise ArtifactError(
            f"{path} does not exist",
            "build first (rustlambda build), or pass a bootstrap, a zip or target/lambda",
        )
    if path.is_file():
        kind = "extension" if path.parent.name == "extensions" else "function"
        return (_Source(path, kind, _layout_arch(path)),)
    found: list[_Source] = []
    _scan(path, ARCH_DIRS.get(path.name), found)
    if not found:
        raise ArtifactError(
            f"no Lambda artifacts in {path}: looked for bootstrap, bootstrap.zip, "
            "*/bootstrap, */bootstrap.zip and extensions/*, also under x86_64/ and arm64/",
            "build first (rustlambda build), or pass the bootstrap or zip itself",
        )
    return tuple(found)


def _layout_arch(file: Path) -> Arch | None:
    """``<arch>/bootstrap``, ``<arch>/<bin>/bootstrap``, ``<arch>/extensions/<bin>``: only
    where rustlambda's layout puts the folder, so an unrelated ``arm64`` higher up is ignored."""
    for folder in (file.parent, file.parent.parent):
        if folder.name in ARCH_DIRS:
            return ARCH_DIRS[folder.name]
    return None


def _scan(folder: Path, layout_arch: Arch | None, found: list[_Source]) -> None:
    def add(path: Path, kind: str) -> None:
        if path.is_file() and not path.name.startswith("."):
            found.append(_Source(path, kind, layout_arch))

    add(folder / "bootstrap", "function")
    add(folder / "bootstrap.zip", "function")
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        if sub.name in ARCH_DIRS and layout_arch is None:
            _scan(sub, ARCH_DIRS[sub.name], found)
        elif sub.name == "extensions":
            for item in sorted(sub.iterdir()):
                add(item, "extension")
        else:
            add(sub / "bootstrap", "function")
            add(sub / "bootstrap.zip", "function")


# ---------------------------------------------------------------------------------------------
# one file


@dataclass(frozen=True)
class _Executable:
    """Where an executable comes from and how Lambda will see it."""

    path: Path
    member: str | None
    kind: str
    run_path: str  # where Lambda runs it: /var/task/bootstrap, /opt/extensions/<name>, ...
    expected: Arch | None
    expected_from: str  # "" | "the arm64/ folder" | ...
    extra: tuple[Finding, ...] = field(default=())  # layout/mode/size findings


def _verify_source(source: _Source, runtime: Runtime, arch: Arch | None) -> list[ArtifactReport]:
    expected = arch or source.layout_arch
    expected_from = ""
    if arch is None and source.layout_arch is not None:
        expected_from = f"the {source.layout_arch.value}/ folder"
    with source.path.open("rb") as fh:
        head = fh.read(4)
    if source.path.suffix == ".zip" or head[:2] == b"PK":
        return _verify_zip(source, runtime, expected, expected_from)
    mode = stat.S_IMODE(source.path.stat().st_mode)
    size = source.path.stat().st_size
    run_path = (
        f"/opt/extensions/{source.path.name}"
        if source.kind == "extension"
        else "/var/task/bootstrap"
    )
    exe = _Executable(
        source.path,
        None,
        source.kind,
        run_path,
        expected,
        expected_from,
        (_file_mode_finding(mode, source.kind, run_path), _plain_size_finding(source.path, size)),
    )
    with source.path.open("rb") as fh:
        return [_verify_executable(exe, fh, runtime)]


def _verify_zip(
    source: _Source, runtime: Runtime, expected: Arch | None, expected_from: str
) -> list[ArtifactReport]:
    archive_size = source.path.stat().st_size
    try:
        zf = zipfile.ZipFile(source.path)
    except (zipfile.BadZipFile, OSError) as exc:
        finding = Finding(
            "layout",
            "error",
            f"not a readable zip: {exc}",
            "InvalidParameterValueException: Could not unzip uploaded file. Please check your "
            "file, then try to upload again.",
            "rebuild the zip (rustlambda build --output-format zip)",
        )
        return [_empty_report(source, expected, (finding,))]
    with zf:
        files = {i.filename: i for i in zf.infolist() if not i.is_dir()}
        unzipped = sum(i.file_size for i in files.values())
        size_finding = _size_finding(archive_size, unzipped, estimated=False)
        entries: list[tuple[zipfile.ZipInfo, str, str, tuple[Finding, ...]]] = []
        if "bootstrap" in files:
            entries.append((files["bootstrap"], "function", "/var/task/bootstrap", ()))
        for name, info in sorted(files.items()):
            parts = name.split("/")
            if len(parts) == 2 and parts[0] == "extensions" and parts[1]:
                entries.append((info, "extension", f"/opt/{name}", ()))
        if not entries:
            internal = [
                info
                for name, info in sorted(files.items())
                if "/" not in name and _starts_with(zf, info, b"\x7fELF")
            ]
            for info in internal:
                warning = Finding(
                    "layout",
                    "warning",
                    f"no bootstrap at the zip root; {info.filename} is taken as an internal "
                    f"extension (runs as /opt/{info.filename} from a layer)",
                    "Runtime.InvalidEntrypoint: Couldn't find valid bootstrap(s): "
                    "[/var/task/bootstrap /opt/bootstrap]  (if this is a function's zip)",
                    "if it is a function, store the executable as bootstrap at the zip root "
                    "(rustlambda build --output-format zip does)",
                )
                entries.append((info, "extension", f"/opt/{info.filename}", (warning,)))
        if not entries:
            nested = sorted(n for n in files if n.rsplit("/", 1)[-1] == "bootstrap")
            where = (
                f"it is at {nested[0]}, but Lambda only looks at the zip root"
                if nested
                else "the zip has no file named bootstrap"
                + (f" (it holds: {', '.join(sorted(files)[:5])})" if files else " (it is empty)")
            )
            fix = (
                f"zip the bootstrap at the root: cd {nested[0].rsplit('/', 1)[0]} && "
                "zip ../function.zip bootstrap (zip -j does the same)"
                if nested
                else "put the executable at the zip root under the name bootstrap (rustlambda "
                "build --output-format zip does), or at extensions/<name> for an extension"
            )
            finding = Finding(
                "layout",
                "error",
                f"no bootstrap at the zip root: {where}",
                "Runtime.InvalidEntrypoint: Couldn't find valid bootstrap(s): "
                "[/var/task/bootstrap /opt/bootstrap]",
                fix,
            )
            return [_empty_report(source, expected, (finding, size_finding))]
        reports = []
        for info, kind, run_path, layout in entries:
            mode = (info.external_attr >> 16) & 0xFFFF
            exe = _Executable(
                source.path,
                info.filename,
                kind,
                run_path,
                expected,
                expected_from,
                (*layout, _zip_mode_finding(mode, kind, run_path), size_finding),
            )
            with _member_stream(zf, info) as stream:
                reports.append(_verify_executable(exe, stream, runtime))
        return reports


def _starts_with(zf: zipfile.ZipFile, info: zipfile.ZipInfo, magic: bytes) -> bool:
    with zf.open(info) as member:
        return member.read(len(magic)) == magic


@contextmanager
def _member_stream(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[IO[bytes]]:
    """The member as a seekable stream (pyelftools seeks): memory, or a temp file if large."""
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as spool, zf.open(info) as member:
        while chunk := member.read(_CHUNK):
            spool.write(chunk)
        spool.seek(0)
        yield spool


def _empty_report(
    source: _Source, expected: Arch | None, findings: tuple[Finding, ...]
) -> ArtifactReport:
    return ArtifactReport(
        path=source.path,
        member=None,
        kind=source.kind,
        arch=None,
        expected_arch=expected.value if expected else None,
        linkage="unknown",
        interpreter=None,
        max_glibc=None,
        needed=(),
        size=0,
        sha256=None,
        findings=findings,
    )


# ---------------------------------------------------------------------------------------------
# the checks


def _verify_executable(exe: _Executable, stream: IO[bytes], runtime: Runtime) -> ArtifactReport:
    digest = digest_stream(stream)
    stream.seek(0)
    findings = list(exe.extra)
    info: ElfInfo | None = None
    if stream.read(4) != b"\x7fELF":
        stream.seek(0)
        findings.append(_not_elf_finding(exe, stream.read(2) == b"#!"))
    else:
        stream.seek(0)
        try:
            info = read_elf_stream(stream, exe.member or str(exe.path))
        except ArtifactError as exc:
            findings.append(
                Finding(
                    "elf",
                    "error",
                    f"a damaged ELF file: {exc.message}",
                    _exec_error(exe, "exec format error"),
                    "rebuild it (rustlambda build) and copy it again",
                )
            )
    if info is not None:
        findings.extend(_elf_findings(exe, info, runtime))
    executable = info is not None and all(f.ok for f in findings if f.check == "elf")
    linkage = "unknown"
    if info is not None and executable:
        linkage = "static" if info.static else "dynamic"
    max_glibc = info.max_glibc if info is not None else None
    return ArtifactReport(
        path=exe.path,
        member=exe.member,
        kind=exe.kind,
        arch=info.arch.value if info is not None and info.arch else None,
        expected_arch=exe.expected.value if exe.expected else None,
        linkage=linkage,
        interpreter=info.interpreter if info is not None else None,
        max_glibc=version_str(max_glibc) if max_glibc else None,
        needed=info.needed if info is not None else (),
        size=digest.size,
        sha256=digest.sha256,
        findings=tuple(sorted(findings, key=lambda f: _ORDER.index(f.check))),
    )


_ORDER = ("layout", "mode", "elf", "arch", "linkage", "glibc", "libraries", "size")


def _exec_error(exe: _Executable, reason: str) -> str:
    kind = "Extension.LaunchError" if exe.kind == "extension" else "Runtime.InvalidEntrypoint"
    return f"{kind}: fork/exec {exe.run_path}: {reason}"


def _loader_error(exe: _Executable, message: str) -> str:
    kind = "Extension.Crash" if exe.kind == "extension" else "Runtime.ExitError"
    return f"{kind}: {exe.run_path}: {message}"


def _not_elf_finding(exe: _Executable, script: bool) -> Finding:
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
        _exec_error(exe, "exec format error"),
        "use the binary rustlambda build wrote (target/lambda/<bin>/bootstrap), not a source, "
        "text or archive file",
    )


def _elf_findings(exe: _Executable, info: ElfInfo, runtime: Runtime) -> list[Finding]:
    findings = [_format_finding(exe, info), _arch_finding(exe, info)]
    if any(not f.ok for f in findings):
        return findings  # Lambda would not get as far as loading libraries
    findings.append(_linkage_finding(exe, info))
    if not info.static:
        findings.append(_glibc_finding(exe, info, runtime))
        findings.extend(_library_findings(exe, info))
    return findings


def _format_finding(exe: _Executable, info: ElfInfo) -> Finding:
    exec_format = _exec_error(exe, "exec format error")
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
            _loader_error(exe, "the process fails at start (wrong system calls)"),
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
            _loader_error(exe, "the process crashes at start (signal: segmentation fault)"),
            "package the binary target (a [[bin]] with fn main), not the cdylib/dylib",
        )
    return Finding(
        "elf",
        "error",
        f"an ELF {info.file_type} file (an object file or core dump), not an executable",
        exec_format,
        "package the linked binary (target/lambda/<bin>/bootstrap), not an object file",
    )


def _arch_finding(exe: _Executable, info: ElfInfo) -> Finding:
    if info.arch is None:
        return Finding(
            "arch",
            "error",
            f"built for {info.machine}, which Lambda does not run (x86_64 or arm64 only)",
            _exec_error(exe, "exec format error"),
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
            _exec_error(exe, "exec format error"),
            f"rebuild for {exe.expected.value} (rustlambda build {other}), or set the "
            f"function's architecture to {info.arch.value}",
        )
    return Finding("arch", "ok", f"{info.arch.value}, as expected")


def _linkage_finding(exe: _Executable, info: ElfInfo) -> Finding:
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
            _exec_error(exe, "no such file or directory"),
            "link musl binaries statically (remove -C target-feature=-crt-static)"
            if musl
            else f"link with the standard loader: build with rustlambda (zig) or set "
            f"-C link-arg=-Wl,--dynamic-linker={loader}",
        )
    return Finding("linkage", "ok", f"dynamically linked against glibc ({info.interpreter})")


def _glibc_finding(exe: _Executable, info: ElfInfo, runtime: Runtime) -> Finding:
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
        _loader_error(
            exe,
            f"/lib64/{library}: version `GLIBC_{want}' not found (required by {exe.run_path})",
        ),
        fix,
    )


def _library_findings(exe: _Executable, info: ElfInfo) -> list[Finding]:
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
                    _loader_error(
                        exe,
                        f"error while loading shared libraries: {group[0]}: cannot open "
                        "shared object file: No such file or directory",
                    ),
                    fix,
                )
            )
    return findings


def _file_mode_finding(mode: int, kind: str, run_path: str) -> Finding:
    error = (
        "Extension.LaunchError" if kind == "extension" else "Runtime.InvalidEntrypoint"
    ) + f": fork/exec {run_path}: permission denied"
    if not mode & 0o111:
        return Finding(
            "mode",
            "error",
            f"not executable (mode {mode:04o})",
            error,
            "chmod 755 it (rustlambda build writes bootstraps with mode 0755)",
        )
    if mode & 0o005 != 0o005:
        return Finding(
            "mode",
            "warning",
            f"mode {mode:04o}: zipped as is, Lambda (which runs it as another user than the "
            "owner) could not execute it",
            error,
            "chmod 755 it",
        )
    return Finding("mode", "ok", f"executable (mode {mode:04o})")


def _zip_mode_finding(mode: int, kind: str, run_path: str) -> Finding:
    error = (
        "Extension.LaunchError" if kind == "extension" else "Runtime.InvalidEntrypoint"
    ) + f": fork/exec {run_path}: permission denied"
    fix = (
        "zip it with Unix mode 0755: chmod 755 the file and zip it on Linux/macOS, or set "
        "ZipInfo.external_attr = 0o100755 << 16 and create_system = 3 (rustlambda build "
        "--output-format zip does)"
    )
    if mode == 0:
        return Finding(
            "mode",
            "error",
            "the zip entry has no Unix mode (zipped on Windows?): Lambda cannot execute it",
            error,
            fix,
        )
    permissions = stat.S_IMODE(mode)
    if permissions & 0o005 != 0o005:
        reason = (
            "not executable"
            if not permissions & 0o111
            else "not executable by others (Lambda does not run it as the file's owner)"
        )
        return Finding("mode", "error", f"{reason} (zip entry mode {permissions:04o})", error, fix)
    return Finding("mode", "ok", f"executable (zip entry mode {permissions:04o})")


def _plain_size_finding(path: Path, size: int) -> Finding:
    if size <= ZIPPED_LIMIT:
        return _size_finding(None, size, estimated=True)
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    zipped = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            zipped += len(compressor.compress(chunk))
    zipped += len(compressor.flush())
    return _size_finding(zipped, size, estimated=True)


def _size_finding(zipped: int | None, unzipped: int, *, estimated: bool) -> Finding:
    about = "about " if estimated else ""
    zipped_text = f", {about}{_mb(zipped)} zipped" if zipped is not None else ""
    text = f"{_mb(unzipped)} unzipped{zipped_text}"
    if unzipped > UNZIPPED_LIMIT:
        return Finding(
            "size",
            "error",
            f"{text}: over Lambda's {_mb(UNZIPPED_LIMIT)} unzipped limit, however uploaded",
            f"InvalidParameterValueException: Unzipped size must be smaller than "
            f"{UNZIPPED_LIMIT} bytes",
            "make it smaller: release build with strip and lto (rustlambda build --release), "
            "fewer dependencies/features; or deploy a container image (10 GB limit)",
        )
    if zipped is not None and zipped > ZIPPED_LIMIT:
        return Finding(
            "size",
            "warning",
            f"{text}: over the {_mb(ZIPPED_LIMIT)} limit for a direct upload",
            "RequestEntityTooLargeException: Request must be smaller than 69905067 bytes for "
            "the CreateFunction operation",
            "upload the zip to S3 and deploy from there (S3Bucket/S3Key), or make it smaller "
            "(rustlambda build --release)",
        )
    return Finding(
        "size",
        "ok",
        f"{text}: within Lambda's {_mb(ZIPPED_LIMIT)} zipped / {_mb(UNZIPPED_LIMIT)} unzipped "
        "limits",
    )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
