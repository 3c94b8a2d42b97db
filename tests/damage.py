"""Damaged zips, made byte by byte as a broken download, disk or zip tool would leave them:
a bad CRC, the encrypted flag, an unknown compression method, corrupt deflate data, a file
cut in half, and a header claiming more than Lambda's 250 MB unzipped limit."""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

_NAME = "bootstrap"
_DATA = 30 + len(_NAME)  # where the only entry's data starts (no extra field)


def _central(data: bytearray) -> int:
    """Offset of the (only) central directory entry, from the end-of-central-directory record."""
    return int(struct.unpack_from("<I", data, data.rfind(b"PK\x05\x06") + 16)[0])


def _crc(data: bytearray) -> None:
    data[_DATA + 100] ^= 0xFF  # a stored entry: its bytes change, its recorded CRC does not


def _encrypted(data: bytearray) -> None:
    data[6] |= 1  # general purpose flag bit 0, local header and central directory
    data[_central(data) + 8] |= 1


def _method(data: bytearray) -> None:
    struct.pack_into("<H", data, 8, 99)  # compression method 99 (AES, which zipfile lacks)
    struct.pack_into("<H", data, _central(data) + 10, 99)


def _deflate(data: bytearray) -> None:
    data[_DATA : _DATA + 64] = b"\xff" * 64


def _truncated(data: bytearray) -> None:
    del data[len(data) // 2 :]


def _huge(data: bytearray) -> None:
    huge = 300 * 1024 * 1024  # the uncompressed size the headers claim
    struct.pack_into("<I", data, 22, huge)
    struct.pack_into("<I", data, _central(data) + 24, huge)


#: kind -> (how the bytes are damaged, what verify's finding says)
DAMAGES: dict[str, tuple[Callable[[bytearray], None], str]] = {
    "crc": (_crc, "is damaged: Bad CRC-32"),
    "encrypted": (_encrypted, "is encrypted"),
    "method": (_method, "compression method that cannot be unpacked"),
    "deflate": (_deflate, "is damaged: Error -3 while decompressing"),
    "truncated": (_truncated, "not a readable zip"),
}


def write_zip(path: Path, bootstrap: bytes, *, stored: bool = False) -> bytearray:
    """A function zip holding ``bootstrap`` (mode 0755); its bytes, to damage."""
    info = zipfile.ZipInfo(_NAME, (1980, 1, 1, 0, 0, 0))
    info.external_attr, info.create_system = 0o100755 << 16, 3
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(info, bootstrap)
    return bytearray(path.read_bytes())


def damaged_zip(path: Path, bootstrap: bytes, kind: str) -> Path:
    """A zip of ``bootstrap`` damaged as ``kind`` (a key of `DAMAGES`, or ``"huge"``)."""
    data = write_zip(path, bootstrap, stored=kind == "crc")
    (_huge if kind == "huge" else DAMAGES[kind][0])(data)
    path.write_bytes(data)
    return path
