"""The one way an operating-system error on a file becomes a user's error: what failed, on which
path, and the fix for that errno (a full disk, a read-only filesystem, a file where a folder
should be...), never "check the permissions" for everything.

    file_error(exc, path, doing, *, hint="") -> ArtifactError      (exit 13)
    human_size(size) -> str                                        ("1.2 MiB")
"""

from __future__ import annotations

import errno
from pathlib import Path

from ..errors import ArtifactError


def file_error(exc: OSError, path: Path, doing: str, *, hint: str = "") -> ArtifactError:
    """``cannot <doing> <path>: <reason>`` with the fix for ``exc``'s errno.

    ``path`` is what rustlambda was working on; the path the system call failed on
    (``exc.filename``, e.g. a parent folder being created) is named too when it differs.
    ``hint`` is the caller's way out (``--lambda-dir``, ``TMPDIR``...), added to the fix.
    """
    failed = Path(exc.filename) if isinstance(exc.filename, str) else path
    where = "" if failed == path else f" ({failed})"
    reason = exc.strerror or str(exc)
    code = exc.errno
    folder = failed if failed.is_dir() else failed.parent
    if code in (errno.ENOSPC, errno.EDQUOT):
        reason = "no space left on device"
        fix = f"the disk (or quota) holding {folder} is full: free space there (df -h {folder})"
    elif code == errno.EROFS:
        reason = "read-only file system"
        fix = f"{folder} is on a read-only file system: use a writable location"
    elif code in (errno.EACCES, errno.EPERM):
        fix = f"you may not write there: check the permissions of {folder}"
    elif code in (errno.ENOTDIR, errno.EEXIST):
        fix = (
            f"a file is where a folder is needed on the way to {failed}: remove or rename it, "
            "or choose another location"
        )
    elif code == errno.EISDIR:
        fix = f"{failed} is a folder where a file goes: remove or rename it"
    elif code == errno.ENOENT:
        fix = f"{failed} does not exist (was it removed while rustlambda ran?)"
    else:
        fix = f"check that {folder} is writable and its disk has space"
    if hint:
        fix += f"; or {hint}"
    return ArtifactError(f"cannot {doing} {path}{where}: {reason}", fix)


def human_size(size: int) -> str:
    """``size`` bytes as people read them: ``512 B``, ``1.2 MiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
