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
    matching_zip(path, entries, *, environ) -> ZipResult | None
        the zip at ``path`` when it is byte for byte what write_zip would write (used as is)
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

from .entries import (
    EXECUTABLE,
    REGULAR,
    ZipEntry,
    ZipResult,
    extension_zip_entries,
    function_zip_entries,
)
from .includes import include_entries
from .writer import COMPRESS_LEVEL, ZIP_COMMENT, matching_zip, write_zip, zip_date_time

MB = 1024 * 1024
#: Lambda's limit for a zip uploaded directly (CreateFunction/UpdateFunctionCode ZipFile).
DIRECT_UPLOAD_LIMIT = 50 * MB
#: Lambda's limit for the unzipped function (with its layers).
UNZIPPED_LIMIT = 250 * MB

__all__ = [
    "COMPRESS_LEVEL",
    "DIRECT_UPLOAD_LIMIT",
    "EXECUTABLE",
    "REGULAR",
    "UNZIPPED_LIMIT",
    "ZIP_COMMENT",
    "ZipEntry",
    "ZipResult",
    "extension_zip_entries",
    "function_zip_entries",
    "include_entries",
    "matching_zip",
    "write_zip",
    "zip_date_time",
]
