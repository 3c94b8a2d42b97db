"""The one way rustlambda hashes bytes: SHA-256 over a stream, read in 1 MiB chunks.

Artifacts (bootstraps, zips) are hashed while they are copied or verified, never loaded whole.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

CHUNK = 1 << 20


@dataclass(frozen=True)
class Digest:
    size: int
    sha256: str  # hex


def digest_stream(stream: IO[bytes], *, copy_to: IO[bytes] | None = None) -> Digest:
    """Hash ``stream`` to its end (writing every chunk to ``copy_to`` as well, if given)."""
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if copy_to is not None:
            copy_to.write(chunk)
    return Digest(size, digest.hexdigest())


def digest_file(path: Path) -> Digest:
    with path.open("rb") as stream:
        return digest_stream(stream)
