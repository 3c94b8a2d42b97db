"""What a verification reads: the artifacts a path names (a bootstrap, a zip, a lambda dir) and
the executables inside each one, as seekable streams with the layout, mode and size findings
that come from where they were found.

Zip members are read into memory (spilling to a temporary file over 64 MB, in TMPDIR), never
extracted next to the zip, and never when their header says they are over Lambda's 250 MB
unzipped limit. A zip that cannot be unpacked (damaged, truncated, encrypted, an unknown
compression method) is a finding, like one without a bootstrap, never an exception.
"""

from __future__ import annotations

import contextlib
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .. import layout
from ..errors import ArtifactError
from ..layout import ArtifactKind
from ..targets import Arch
from ..util.fs import file_error
from ..util.hashing import CHUNK
from .limits import (
    UNZIPPED_LIMIT,
    file_mode_finding,
    plain_size_finding,
    size_finding,
    zip_mode_finding,
)
from .report import CHECKS, ArtifactReport, Finding, Linkage

_SPOOL = 64 * 1024 * 1024
#: What reading a damaged zip raises: a bad CRC or header (BadZipFile), the encrypted flag
#: (RuntimeError), an unknown compression method (NotImplementedError), corrupt deflate data
#: (zlib.error), truncated data (EOFError), impossible offsets (ValueError).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    RuntimeError,
    NotImplementedError,
    zlib.error,
    EOFError,
    ValueError,
)
_NO_BOOTSTRAP = (
    "Runtime.InvalidEntrypoint: Couldn't find valid bootstrap(s): "
    "[/var/task/bootstrap /opt/bootstrap]"
)


@dataclass(frozen=True)
class Source:
    """A file to verify: a zip, or an executable (``kind`` says which Lambda role)."""

    path: Path
    kind: ArtifactKind
    layout_arch: Arch | None = None


@dataclass(frozen=True)
class Executable:
    """Where an executable comes from and how Lambda will see it."""

    path: Path
    member: str | None
    kind: ArtifactKind
    run_path: str  # where Lambda runs it: /var/task/bootstrap, /opt/extensions/<name>, ...
    expected: Arch | None
    expected_from: str  # "" | "the arm64/ folder" | ...
    extra: tuple[Finding, ...] = field(default=())  # layout/mode/size findings


def discover(path: Path) -> tuple[Source, ...]:
    """The bootstraps, extensions and zips a path names; `ArtifactError` if there are none."""
    if not path.exists():
        raise ArtifactError(
            f"{path} does not exist",
            "build first (rustlambda build), or pass a bootstrap, a zip or target/lambda",
        )
    if path.is_file():
        return (Source(path, layout.kind_of(path), layout.folder_arch(path)),)
    if not path.is_dir():
        raise ArtifactError(
            f"{path} is neither a file nor a folder (a FIFO, socket or device)",
            "pass a bootstrap, a zip or a folder of them (target/lambda)",
        )
    try:
        found = [Source(f.path, f.kind, f.arch) for f in layout.scan(path)]
    except OSError as exc:
        raise file_error(exc, path, "read the folder") from exc
    if not found:
        raise ArtifactError(
            f"no Lambda artifacts in {path}: looked for {layout.SCANNED}",
            "build first (rustlambda build), or pass the bootstrap or zip itself",
        )
    return tuple(found)


Item = tuple[Executable, IO[bytes]] | ArtifactReport


def is_zip(path: Path) -> bool:
    """Whether ``path`` is to be read as a zip: named ``*.zip``, or starting with ``PK`` (a
    damaged or truncated zip too, which is then reported as such, not as a bad executable)."""
    if path.suffix == layout.ZIP_SUFFIX:
        return True
    with path.open("rb") as fh:
        return fh.read(2) == b"PK"


def read(source: Source, arch: Arch | None) -> Iterator[Item]:
    """Each executable of ``source`` with a stream of its bytes (valid until the next item), or
    the report of a zip that holds none. ``arch`` is the architecture asked for; without it,
    the one the layout's folder names is expected."""
    expected = arch or source.layout_arch
    expected_from = ""
    if arch is None and source.layout_arch is not None:
        expected_from = f"the {source.layout_arch.value}/ folder"
    if is_zip(source.path):
        yield from _read_zip(source, expected, expected_from)
        return
    status = source.path.stat()
    mode = stat.S_IMODE(status.st_mode)
    run_path = layout.run_path(source.path.name, source.kind, in_zip=False)
    exe = Executable(
        source.path,
        None,
        source.kind,
        run_path,
        expected,
        expected_from,
        (
            file_mode_finding(mode, source.kind, run_path),
            plain_size_finding(source.path, status.st_size),
        ),
    )
    with source.path.open("rb") as fh:
        yield exe, fh


def _read_zip(source: Source, expected: Arch | None, expected_from: str) -> Iterator[Item]:
    try:
        zf = zipfile.ZipFile(source.path)
    except _ZIP_ERRORS as exc:
        yield _report(source, None, expected, (_damaged(exc, None),))
        return
    with zf:
        files = {i.filename: i for i in zf.infolist() if not i.is_dir()}
        unzipped = sum(i.file_size for i in files.values())
        size = size_finding(source.path.stat().st_size, unzipped, estimated=False)
        try:
            entries = _zip_entries(zf, files)
        except _ZIP_ERRORS as exc:
            yield _report(source, None, expected, (_damaged(exc, None), size))
            return
        if not entries:
            yield _report(source, None, expected, (_no_bootstrap_finding(files), size))
            return
        for info, kind, found in entries:
            run_path = layout.run_path(info.filename, kind, in_zip=True)
            mode = (info.external_attr >> 16) & 0xFFFF
            extra = (*found, zip_mode_finding(mode, kind, run_path), size)
            exe = Executable(
                source.path, info.filename, kind, run_path, expected, expected_from, extra
            )
            if info.file_size > UNZIPPED_LIMIT:  # never inflate what Lambda refuses anyway
                yield _report(source, exe, expected, (*extra, _not_unpacked(info)))
                continue
            with contextlib.ExitStack() as stack:
                try:
                    stream = stack.enter_context(_member_stream(zf, info, source.path))
                except _ZIP_ERRORS as exc:
                    damaged = _damaged(exc, info.filename)
                    yield _report(source, exe, expected, (*extra, damaged))
                    continue
                yield exe, stream


def _zip_entries(
    zf: zipfile.ZipFile, files: dict[str, zipfile.ZipInfo]
) -> list[tuple[zipfile.ZipInfo, ArtifactKind, tuple[Finding, ...]]]:
    """The executables where Lambda looks for them; else ELF files at the root, taken as
    internal extensions with a warning (cargo-lambda's ``--extension --internal`` zips)."""
    entries: list[tuple[zipfile.ZipInfo, ArtifactKind, tuple[Finding, ...]]] = []
    if layout.BOOTSTRAP in files:
        entries.append((files[layout.BOOTSTRAP], ArtifactKind.FUNCTION, ()))
    for name, info in sorted(files.items()):
        if layout.entry_kind(name) is ArtifactKind.EXTENSION:
            entries.append((info, ArtifactKind.EXTENSION, ()))
    if entries:
        return entries
    for name, info in sorted(files.items()):
        if "/" in name or not _starts_with(zf, info, b"\x7fELF"):
            continue
        warning = Finding(
            "layout",
            "warning",
            f"no bootstrap at the zip root; {name} is taken as an internal extension (runs as "
            f"{layout.run_path(name, ArtifactKind.EXTENSION, in_zip=True)} from a layer)",
            f"{_NO_BOOTSTRAP}  (if this is a function's zip)",
            "if it is a function, store the executable as bootstrap at the zip root "
            "(rustlambda build --output-format zip does)",
        )
        entries.append((info, ArtifactKind.EXTENSION, (warning,)))
    return entries


def _no_bootstrap_finding(files: dict[str, zipfile.ZipInfo]) -> Finding:
    nested = sorted(n for n in files if n.rsplit("/", 1)[-1] == layout.BOOTSTRAP)
    if nested:
        where = f"it is at {nested[0]}, but Lambda only looks at the zip root"
        fix = (
            f"zip the bootstrap at the root: cd {nested[0].rsplit('/', 1)[0]} && "
            "zip ../function.zip bootstrap (zip -j does the same)"
        )
    else:
        held = f" (it holds: {', '.join(sorted(files)[:5])})" if files else " (it is empty)"
        where = "the zip has no file named bootstrap" + held
        fix = (
            "put the executable at the zip root under the name bootstrap (rustlambda "
            "build --output-format zip does), or at extensions/<name> for an extension"
        )
    return Finding("layout", "error", f"no bootstrap at the zip root: {where}", _NO_BOOTSTRAP, fix)


def _starts_with(zf: zipfile.ZipFile, info: zipfile.ZipInfo, magic: bytes) -> bool:
    with zf.open(info) as member:
        return member.read(len(magic)) == magic


@contextlib.contextmanager
def _member_stream(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> Iterator[IO[bytes]]:
    """The member as a seekable stream (pyelftools seeks): memory, or a temp file if large."""
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as spool, zf.open(info) as member:
        while chunk := member.read(CHUNK):
            try:
                spool.write(chunk)
            except OSError as exc:
                raise file_error(
                    exc,
                    Path(tempfile.gettempdir()),
                    f"unpack {info.filename} of {path} into a temporary file in",
                    hint="set TMPDIR to a folder on a disk with space",
                ) from exc
        spool.seek(0)
        yield spool


def _damaged(exc: BaseException, member: str | None) -> Finding:
    """A zip (or one of its members) that cannot be unpacked: what is wrong, in words."""
    what = f"{member} in the zip" if member else "the zip"
    fix = "rebuild the zip (rustlambda build --output-format zip) and copy it again"
    if isinstance(exc, RuntimeError) and "encrypted" in str(exc):
        reason = f"{what} is encrypted (password-protected)"
        fix = "zip it without a password (rustlambda build --output-format zip does)"
    elif isinstance(exc, NotImplementedError):
        reason = f"{what} uses a compression method that cannot be unpacked ({exc})"
        fix = "zip it with deflate (rustlambda build --output-format zip does)"
    elif isinstance(exc, EOFError):
        reason = f"{what} is cut short (truncated): {exc}"
    else:
        reason = f"{what} is damaged: {exc}"
    return Finding(
        "layout",
        "error",
        f"not a readable zip: {reason}",
        "InvalidParameterValueException: Could not unzip uploaded file. Please check your "
        "file, then try to upload again.",
        fix,
    )


def _not_unpacked(info: zipfile.ZipInfo) -> Finding:
    return Finding(
        "elf",
        "warning",
        f"not unpacked: its header says {info.file_size / 1024 / 1024:.1f} MB unzipped, over "
        "Lambda's limit, so the ELF checks were skipped",
    )


def _report(
    source: Source,
    exe: Executable | None,
    expected: Arch | None,
    findings: tuple[Finding, ...],
) -> ArtifactReport:
    """The report of an executable that could not be read (or of a zip without one)."""
    return ArtifactReport(
        path=source.path,
        member=exe.member if exe else None,
        kind=exe.kind if exe else source.kind,
        arch=None,
        expected_arch=expected,
        linkage=Linkage.UNKNOWN,
        interpreter=None,
        max_glibc=None,
        needed=(),
        size=0,
        sha256=None,
        findings=tuple(sorted(findings, key=lambda f: CHECKS.index(f.check))),
    )
