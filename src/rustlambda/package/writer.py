"""Writing a zip: reproducibly (fixed timestamps, modes, order and compression) and atomically,
keeping a zip already at the destination when it is byte for byte what would be written."""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from ..errors import ArtifactError, ConfigError
from ..util.fs import file_error
from ..util.hashing import CHUNK as _CHUNK
from ..util.hashing import digest_file
from .entries import ZipEntry, ZipResult, arrange

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
# ZipInfo's compression level attribute is private before 3.13.
_LEVEL_ATTR = "compress_level" if sys.version_info >= (3, 13) else "_compresslevel"


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


def write_zip(
    dest: Path, entries: Sequence[ZipEntry], *, environ: Mapping[str, str], hint: str = ""
) -> ZipResult:
    """Write ``entries`` to ``dest`` reproducibly and atomically; a previous zip survives a
    failure untouched and no temporary file is left behind. ``hint``: the caller's way out
    when ``dest`` cannot be written (added to the error's fix)."""
    date_time = zip_date_time(environ)
    layout = arrange(entries)
    kept = _unchanged(dest, layout, date_time)
    if kept is not None:
        return kept
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    except OSError as exc:
        raise file_error(exc, dest, "write", hint=hint) from exc
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
            raise file_error(exc, dest, "write", hint=hint) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return ZipResult(dest, written.size, unzipped, written.sha256, tuple(e.arcname for e in layout))


def matching_zip(
    path: Path, entries: Sequence[ZipEntry], *, environ: Mapping[str, str]
) -> ZipResult | None:
    """The zip at ``path`` if it is byte for byte what `write_zip` would write for ``entries``
    (so it can be used as it is, without writing anything), else None."""
    return _unchanged(path, arrange(entries), zip_date_time(environ))


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
