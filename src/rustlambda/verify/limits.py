"""Mode and size checks: the executable bits Lambda needs and the code size limits.

``mode``: in a zip the Unix mode is ``external_attr >> 16``; Lambda runs the code as a user that
is not the file's owner, so "others" need read and execute (0o755). On disk a file without any
exec bit fails; one executable by its owner only gets a warning (zipped as is, it would fail).
``size``: over 250 MB unzipped (`UNZIPPED_LIMIT`) is a failure; over 50 MB zipped
(`ZIPPED_LIMIT`) is a warning (direct upload refused, upload through S3 works).
"""

from __future__ import annotations

import stat
import zlib
from pathlib import Path

from ..layout import ArtifactKind
from ..package import DIRECT_UPLOAD_LIMIT
from ..package import UNZIPPED_LIMIT as UNZIPPED_CODE_LIMIT
from ..util.hashing import CHUNK
from .report import Finding, exec_error

ZIPPED_LIMIT = DIRECT_UPLOAD_LIMIT
UNZIPPED_LIMIT = UNZIPPED_CODE_LIMIT


def file_mode_finding(mode: int, kind: ArtifactKind, run_path: str) -> Finding:
    """A plain file's permission bits: Lambda runs it as a user that is not its owner."""
    error = exec_error(kind, run_path, "permission denied")
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


def zip_mode_finding(mode: int, kind: ArtifactKind, run_path: str) -> Finding:
    """A zip entry's Unix mode (``external_attr >> 16``); 0 when zipped without one."""
    error = exec_error(kind, run_path, "permission denied")
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


def plain_size_finding(path: Path, size: int) -> Finding:
    """The size of a plain file; zipped size estimated (deflated) only when it matters."""
    if size <= ZIPPED_LIMIT:
        return size_finding(None, size, estimated=True)
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    zipped = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            zipped += len(compressor.compress(chunk))
    zipped += len(compressor.flush())
    return size_finding(zipped, size, estimated=True)


def size_finding(zipped: int | None, unzipped: int, *, estimated: bool) -> Finding:
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
