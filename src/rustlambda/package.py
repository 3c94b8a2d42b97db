"""Lambda zip artifacts: byte-reproducible zips of a bootstrap or an extension, plus includes.

This module owns what goes into a zip and how it is written; `rustlambda.layout` says where
zips go and where the executable sits inside one; the caller decides what to do about their
size.

Public API::

    ZipEntry(name, source, mode)            one entry; ``source=None`` is a directory
    ZipResult(path, size, unzipped_size, sha256, entries)
    include_entries(specs, root) -> list[ZipEntry]
        parse ``PATH`` / ``DEST:SRC`` specs (``--include``, ``build.include``), check them and
        walk directories; raises IncludeError
    function_zip_entries(bootstrap, includes) -> list[ZipEntry]
        ``bootstrap`` at the zip root, mode 0755, plus the includes
    extension_zip_entries(binary, name, *, internal, includes=()) -> list[ZipEntry]
        ``extensions/<name>`` (external) or ``<name>`` (internal), mode 0755, plus the includes
    write_zip(dest, entries, *, environ) -> ZipResult
        the zip, atomically (temp file in dest's folder, then os.replace)
    zip_date_time(environ) -> the timestamp every entry gets

Reproducibility: the same executable and included files give the same zip bytes whatever the
files' mtimes, owners, umask or directory listing order. Every entry is a hand-built
``ZipInfo`` (never ``ZipFile.write``, which copies the mtime): the timestamp comes from
``SOURCE_DATE_EPOCH`` in the ``environ`` passed in (clamped to the zip range 1980..2107, UTC,
rounded down to the 2 seconds a zip can store) or is 1980-01-01 00:00:00; ``create_system`` is
3 (Unix); the mode is 0100755 for files with any exec bit (and always for the executable),
0100644 for other files, 040755 for directories; no extra fields; files are deflated at level
6 (level 9 costs twice the time for 0.3% smaller zips); the archive comment names the writer
(`ZIP_COMMENT`). The bytes also depend on zlib's deflate implementation (Python's ``zlib``
module), which is the same stock zlib on the machines we build on; a Python linked against
zlib-ng may compress differently. A zip already at the destination that matches byte for byte
is kept (see `ZIP_COMMENT`), so a no-op build does not deflate again.

Directory entries: every directory in the zip gets its own entry (``config/``), whether it was
included (empty ones too) or is implied by a file under it (``extensions/``, as cargo-lambda
writes). Entries are sorted by path components, so a directory comes right before its
contents.

Includes, like cargo-lambda's: ``PATH`` lands at its relative path (``--include config`` puts
``config/...`` in the zip), ``DEST:SRC`` puts SRC at DEST (``.:static`` puts static's contents
at the root). Sources are relative to the project root and must stay inside it; symlinks
inside the project are followed (a linked file is stored as a regular file, a linked directory
is walked) unless they point outside the project or back into a directory being walked.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .errors import ArtifactError, ConfigError, IncludeError
from .layout import ArtifactKind, entry_name
from .util.hashing import digest_file

MB = 1024 * 1024
#: Lambda's limit for a zip uploaded directly (CreateFunction/UpdateFunctionCode ZipFile).
DIRECT_UPLOAD_LIMIT = 50 * MB
#: Lambda's limit for the unzipped function (with its layers).
UNZIPPED_LIMIT = 250 * MB

EXECUTABLE = 0o755
REGULAR = 0o644
COMPRESS_LEVEL = 6
#: Names the writer and its settings. A zip at the destination with this comment and the same
#: entries (names, modes, timestamps, and contents compared byte for byte) is exactly what
#: `write_zip` would write, so it is kept: a no-op build does not deflate again.
ZIP_COMMENT = b"rustlambda zip 1 (deflate 6)"

_DateTime = tuple[int, int, int, int, int, int]
_ZIP_MIN: _DateTime = (1980, 1, 1, 0, 0, 0)
_ZIP_MIN_EPOCH = int(datetime(1980, 1, 1, tzinfo=UTC).timestamp())
_ZIP_MAX_EPOCH = int(datetime(2107, 12, 31, 23, 59, 58, tzinfo=UTC).timestamp())
_UNIX = 3  # ZipInfo.create_system
_MSDOS_DIRECTORY = 0x10
_CHUNK = 1 << 20
# ZipInfo's compression level attribute is private before 3.13.
_LEVEL_ATTR = "compress_level" if sys.version_info >= (3, 13) else "_compresslevel"


@dataclass(frozen=True)
class ZipEntry:
    """One entry: ``name`` is its posix path in the zip (no leading or trailing slash)."""

    name: str
    source: Path | None  # None: a directory entry
    mode: int = REGULAR

    def __post_init__(self) -> None:
        parts = self.name.split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"not a normalized relative zip path: {self.name!r}")
        if self.mode not in (EXECUTABLE, REGULAR) or (self.is_dir and self.mode != EXECUTABLE):
            raise ValueError(f"mode {self.mode:o} of {self.name!r}: use 0o755 or 0o644")

    @property
    def is_dir(self) -> bool:
        return self.source is None

    @property
    def arcname(self) -> str:
        """The name as stored in the zip (directories end with ``/``)."""
        return self.name + "/" if self.is_dir else self.name


@dataclass(frozen=True)
class ZipResult:
    path: Path
    size: int
    unzipped_size: int
    sha256: str
    entries: tuple[str, ...]  # arcnames, in the zip's order


def _directory(name: str) -> ZipEntry:
    return ZipEntry(name, None, EXECUTABLE)


# --- includes ------------------------------------------------------------------------------


def include_entries(specs: Sequence[str], root: Path) -> list[ZipEntry]:
    """The entries ``--include`` specs add, checked and sorted (directories walked)."""
    root_real = Path(os.path.realpath(root))
    found: list[ZipEntry] = []
    for spec in specs:
        try:
            found.extend(_spec_entries(spec, root_real))
        except OSError as exc:  # unreadable folders, files that vanish while we look
            raise IncludeError(
                f"--include {spec}: cannot read {exc.filename}: {exc.strerror or exc}",
                "check the permissions of the included files",
            ) from exc
    return _layout(found)


def _spec_entries(spec: str, root: Path) -> Iterator[ZipEntry]:
    dest_text, src_text = spec.split(":", 1) if ":" in spec else (None, spec)
    if not src_text:
        raise IncludeError(
            f"--include {spec!r} names no file", "write --include PATH or --include DEST:SRC"
        )
    if dest_text is None and os.path.isabs(src_text):
        raise IncludeError(
            f"--include {spec}: an absolute path has no place in the zip",
            f"give a path relative to {root}, or say where it goes: --include DEST:{spec}",
        )
    dest = _dest_parts(spec, src_text if dest_text is None else dest_text)
    candidate = root / src_text
    if not os.path.lexists(candidate):
        raise IncludeError(
            f"--include {spec}: {candidate} does not exist",
            f"include paths are relative to the project root {root}; check the spelling, "
            "or create the file before building",
        )
    real = _resolve(candidate, spec, root)
    mode = os.stat(real).st_mode
    if stat.S_ISDIR(mode):
        yield from _walk(real, dest, root, spec, ())
    elif stat.S_ISREG(mode):
        if not dest:
            raise IncludeError(
                f"--include {spec}: a file needs a name in the zip, not its root",
                f"give it one: --include NAME:{src_text}",
            )
        yield _file_entry(dest, real, mode, spec)
    else:
        raise _not_regular(candidate, spec)


def _dest_parts(spec: str, dest: str) -> tuple[str, ...]:
    """A destination as path components; an empty tuple is the zip root."""
    if dest.startswith("/"):
        raise IncludeError(
            f"--include {spec}: the destination {dest} is absolute; it would land outside "
            "the zip root",
            "give a destination relative to the zip root, e.g. --include config:SRC",
        )
    parts = tuple(p for p in dest.split("/") if p not in ("", "."))
    if ".." in parts:
        raise IncludeError(
            f"--include {spec}: {dest} contains '..', which would land outside the zip root",
            "include files from inside the project; to choose where they land in the zip "
            "use --include DEST:SRC with a DEST without '..'",
        )
    return parts


def _resolve(path: Path, spec: str, root: Path) -> Path:
    """Where ``path`` really is: it must exist and be inside the project."""
    try:
        real = Path(os.path.realpath(path, strict=True))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise IncludeError(
                f"--include {spec}: {path} is a symlink loop",
                "remove the link or point it at a real file",
            ) from exc
        raise IncludeError(
            f"--include {spec}: {path} is a symlink to something that does not exist "
            f"({os.readlink(path) if os.path.islink(path) else exc.strerror})",
            "fix or remove the broken link",
        ) from exc
    if not real.is_relative_to(root):
        raise IncludeError(
            f"--include {spec}: {path} resolves to {real}, outside the project root {root}",
            "include only files inside the project: copy the file into it, or replace the "
            "symlink with the file itself",
        )
    return real


def _walk(
    directory_path: Path,
    dest: tuple[str, ...],
    root: Path,
    spec: str,
    ancestors: tuple[Path, ...],
) -> Iterator[ZipEntry]:
    """``directory_path`` (a real path) and everything under it, symlinks followed safely."""
    ancestors = (*ancestors, directory_path)
    if dest:
        yield _directory(_zip_name(dest, directory_path, spec))
    with os.scandir(directory_path) as listing:
        children = sorted(listing, key=lambda child: child.name)
    for child in children:
        path = Path(child.path)
        real = _resolve(path, spec, root) if child.is_symlink() else path
        mode = os.stat(real).st_mode
        if stat.S_ISDIR(mode):
            if any(a.is_relative_to(real) for a in ancestors):
                raise IncludeError(
                    f"--include {spec}: {path} links to {real}, which contains it; following "
                    "it would recurse forever",
                    "remove the link, or include the directory it points to explicitly",
                )
            yield from _walk(real, (*dest, child.name), root, spec, ancestors)
        elif stat.S_ISREG(mode):
            yield _file_entry((*dest, child.name), real, mode, spec)
        else:
            raise _not_regular(path, spec)


def _file_entry(dest: tuple[str, ...], source: Path, mode: int, spec: str) -> ZipEntry:
    executable = mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return ZipEntry(_zip_name(dest, source, spec), source, EXECUTABLE if executable else REGULAR)


def _zip_name(dest: tuple[str, ...], source: Path, spec: str) -> str:
    name = "/".join(dest)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise IncludeError(
            f"--include {spec}: the name of {source!s} is not valid UTF-8, which a zip needs",
            "rename the file",
        ) from exc
    return name


def _not_regular(path: Path, spec: str) -> IncludeError:
    return IncludeError(
        f"--include {spec}: {path} is neither a regular file nor a directory "
        "(a FIFO, socket or device)",
        "include only regular files and directories",
    )


# --- layouts -------------------------------------------------------------------------------


def function_zip_entries(bootstrap: Path, includes: Sequence[ZipEntry] = ()) -> list[ZipEntry]:
    """A function zip: the executable as ``bootstrap`` at the root, mode 0755, then includes."""
    entry = ZipEntry(entry_name("", ArtifactKind.FUNCTION), bootstrap, EXECUTABLE)
    return _with_executable(entry, includes, entry.name)


def extension_zip_entries(
    binary: Path, name: str, *, internal: bool, includes: Sequence[ZipEntry] = ()
) -> list[ZipEntry]:
    """An extension zip: ``extensions/<name>`` (external, runs from /opt/extensions) or
    ``<name>`` at the root (internal), mode 0755, then includes."""
    if "/" in name or name in ("", ".", ".."):
        raise ValueError(f"not an extension name: {name!r}")
    entry = ZipEntry(
        entry_name(name, ArtifactKind.EXTENSION, internal=internal), binary, EXECUTABLE
    )
    return _with_executable(entry, includes, "extension executable")


def _with_executable(
    executable: ZipEntry, includes: Sequence[ZipEntry], what: str
) -> list[ZipEntry]:
    for entry in includes:
        if entry.name == executable.name or entry.name.startswith(executable.name + "/"):
            raise IncludeError(
                f"an include would be stored as {entry.arcname} ({entry.source or 'a folder'}), "
                f"which collides with the {what} {executable.name} in the zip",
                "put it somewhere else with --include DEST:SRC",
            )
    return _layout([executable, *includes])


def _layout(entries: Sequence[ZipEntry]) -> list[ZipEntry]:
    """Entries deduplicated, with every parent directory, sorted; conflicts refused."""
    by_name: dict[str, ZipEntry] = {}

    def add(entry: ZipEntry) -> None:
        old = by_name.setdefault(entry.name, entry)
        if old == entry or (old.is_dir and entry.is_dir):
            return
        if old.is_dir or entry.is_dir:
            file = entry if old.is_dir else old
            raise IncludeError(
                f"{entry.name} would be both a file ({file.source}) and a folder in the zip",
                "give one of them another destination with --include DEST:SRC",
            )
        raise IncludeError(
            f"two files would be stored as {entry.name} in the zip: {old.source} and "
            f"{entry.source}",
            "give one of them another destination with --include DEST:SRC",
        )

    for entry in entries:
        add(entry)
    for name in list(by_name):
        parts = name.split("/")
        for end in range(1, len(parts)):
            add(_directory("/".join(parts[:end])))
    return sorted(by_name.values(), key=lambda entry: entry.name.split("/"))


# --- writing -------------------------------------------------------------------------------


def zip_date_time(environ: Mapping[str, str]) -> _DateTime:
    """Every entry's timestamp: ``SOURCE_DATE_EPOCH`` in UTC, clamped to what a zip can hold."""
    raw = environ.get("SOURCE_DATE_EPOCH", "")
    if not raw:
        return _ZIP_MIN
    if not (raw.isascii() and raw.isdigit()):
        raise ConfigError(
            f"SOURCE_DATE_EPOCH={raw!r} is not a number of seconds since 1970-01-01 UTC",
            "set it to a whole number like $(git log -1 --format=%ct), or unset it",
        )
    # Long digit strings would overflow datetime (and int() refuses very long ones).
    seconds = _ZIP_MAX_EPOCH if len(raw) > 12 else int(raw)
    moment = datetime.fromtimestamp(min(max(seconds, _ZIP_MIN_EPOCH), _ZIP_MAX_EPOCH), tz=UTC)
    return (
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second - moment.second % 2,
    )


def write_zip(dest: Path, entries: Sequence[ZipEntry], *, environ: Mapping[str, str]) -> ZipResult:
    """Write ``entries`` to ``dest`` reproducibly and atomically; a previous zip survives a
    failure untouched and no temporary file is left behind."""
    date_time = zip_date_time(environ)
    layout = _layout(entries)
    kept = _unchanged(dest, layout, date_time)
    if kept is not None:
        return kept
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    except OSError as exc:
        raise _write_error(dest, exc) from exc
    tmp = Path(tmp_name)
    try:
        try:
            unzipped = 0
            with os.fdopen(fd, "wb") as out, zipfile.ZipFile(out, "w") as archive:
                for entry in layout:
                    unzipped += _write_entry(archive, entry, date_time, dest)
                archive.comment = ZIP_COMMENT
            os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the zip from other users
            written = digest_file(tmp)
            os.replace(tmp, dest)
        except OSError as exc:
            raise _write_error(dest, exc) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return ZipResult(dest, written.size, unzipped, written.sha256, tuple(e.arcname for e in layout))


def _unchanged(dest: Path, layout: Sequence[ZipEntry], date_time: _DateTime) -> ZipResult | None:
    """The zip at ``dest`` if it is byte-for-byte what writing ``layout`` would give, else None.

    Inflating and comparing costs a fraction of deflating again; anything unexpected (another
    writer, an unreadable or changed source) means "write it".
    """
    try:
        with zipfile.ZipFile(dest) as archive:
            infos = archive.infolist()
            if archive.comment != ZIP_COMMENT or [i.filename for i in infos] != [
                e.arcname for e in layout
            ]:
                return None
            unzipped = 0
            for info, entry in zip(infos, layout, strict=True):
                if info.date_time != date_time or info.create_system != _UNIX:
                    return None
                if entry.source is None:
                    if info.external_attr != ((stat.S_IFDIR | entry.mode) << 16) | _MSDOS_DIRECTORY:
                        return None
                    continue
                if (
                    info.external_attr != (stat.S_IFREG | entry.mode) << 16
                    or info.compress_type != zipfile.ZIP_DEFLATED
                    or not _same_content(archive, info, entry.source)
                ):
                    return None
                unzipped += info.file_size
        kept = digest_file(dest)
    except (OSError, zipfile.BadZipFile, ValueError, EOFError, zlib.error):
        return None
    return ZipResult(dest, kept.size, unzipped, kept.sha256, tuple(e.arcname for e in layout))


def _same_content(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: Path) -> bool:
    fd = os.open(source, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as plain:
        status = os.fstat(plain.fileno())
        if not stat.S_ISREG(status.st_mode) or status.st_size != info.file_size:
            return False
        with archive.open(info) as packed:
            while True:
                chunk = plain.read(_CHUNK)
                if packed.read(len(chunk)) != chunk:
                    return False
                if not chunk:
                    return True


def _write_entry(
    archive: zipfile.ZipFile, entry: ZipEntry, date_time: _DateTime, dest: Path
) -> int:
    """Add one entry; returns its uncompressed size."""
    info = zipfile.ZipInfo(entry.arcname, date_time)
    info.create_system = _UNIX
    if entry.source is None:
        info.external_attr = ((stat.S_IFDIR | entry.mode) << 16) | _MSDOS_DIRECTORY
        info.compress_type = zipfile.ZIP_STORED
        info.file_size = info.compress_size = info.CRC = 0
        archive.mkdir(info)
        return 0
    info.external_attr = (stat.S_IFREG | entry.mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    setattr(info, _LEVEL_ATTR, COMPRESS_LEVEL)
    try:
        # O_NONBLOCK: a FIFO put in a file's place must not hang the build.
        fd = os.open(entry.source, os.O_RDONLY | os.O_NONBLOCK)
        source = os.fdopen(fd, "rb")
    except OSError as exc:
        raise ArtifactError(
            f"cannot read {entry.source} for {entry.name} in {dest.name}: {exc.strerror or exc}",
            "check that the file exists and is readable (was it removed during the build?), "
            "then build again",
        ) from exc
    with source:
        status = os.fstat(source.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise ArtifactError(
                f"{entry.source} (for {entry.name} in {dest.name}) is not a regular file",
                "package regular files only",
            )
        info.file_size = status.st_size  # lets zipfile choose ZIP64 up front for huge files
        with archive.open(info, "w") as out:
            shutil.copyfileobj(source, out, _CHUNK)
    return info.file_size


def _write_error(dest: Path, exc: OSError) -> ArtifactError:
    return ArtifactError(
        f"cannot write {dest}: {exc.strerror or exc}",
        f"check that {dest.parent} is writable and the disk has space",
    )
