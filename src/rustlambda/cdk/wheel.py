"""The wheel of the rustlambda this CDK app runs, for Docker bundling: packed from the imported
package's own files and its installed metadata, so the container builds with exactly this code
— a pinned version, an unreleased checkout (editable install) or an offline machine alike.

Packed here rather than with ``pip wheel``: that would run the project's build backend (which
needs setuptools, and with build isolation an index) and write build files into the checkout.
A pure-Python wheel is a zip with the package, ``METADATA``, ``WHEEL`` and ``RECORD`` (PEP 427);
this one is byte-reproducible. Cached per version and source hash under
``$XDG_CACHE_HOME/rustlambda/docker/`` (``~/.cache``), next to the default image's Dockerfile:
that directory is the default image's build context and the mount of a custom image.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from .. import __version__
from ..errors import ConfigError

# zipfile, importlib.metadata and base64 are imported when a wheel is made: the constructs
# import this module for `wheel_name`.

#: PEP 427 fixes no date; 1980-01-01 is the zip format's earliest.
_EPOCH = (1980, 1, 1, 0, 0, 0)
DOCKERFILE = Path(__file__).with_name("docker") / "Dockerfile"


def wheel_name(version: str = __version__) -> str:
    return f"rustlambda-{version}-py3-none-any.whl"


def package_dir() -> Path:
    """The directory of the rustlambda package this process imported."""
    import rustlambda

    return Path(rustlambda.__file__).resolve().parent


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            yield path


def source_digest(root: Path, dist_files: Mapping[str, str]) -> str:
    """The package's files (names and bytes) and its metadata (the dependencies): what the
    cache is keyed on, with the version."""
    digest = hashlib.sha256()
    for path in _files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    for name, text in sorted(dist_files.items()):
        digest.update(f"{name}\0{text}\0".encode())
    return digest.hexdigest()[:16]


def _record_hash(data: bytes) -> str:
    import base64

    raw = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={raw}"


def _dist_files(version: str) -> dict[str, str]:
    """METADATA and entry_points.txt of the installed distribution (the dependencies)."""
    from importlib import metadata

    try:
        dist = metadata.distribution("rustlambda")
    except metadata.PackageNotFoundError:
        raise ConfigError(
            "Docker bundling installs this rustlambda in the container, but it is not "
            "installed as a distribution (no rustlambda dist-info on sys.path)",
            "install it with pip (pip install rustlambda, or pip install -e <checkout>)",
        ) from None
    files = {"WHEEL": f"Wheel-Version: 1.0\nGenerator: rustlambda {version}\n"
             "Root-Is-Purelib: true\nTag: py3-none-any\n"}  # fmt: skip
    for name in ("METADATA", "entry_points.txt"):
        text = dist.read_text(name)
        if text is not None:
            files[name] = text
    return files


def write_wheel(
    dest: Path, root: Path, dist_files: Mapping[str, str], version: str = __version__
) -> Path:
    """A wheel at ``dest`` holding the package at ``root`` (written to a temp file, renamed)."""
    import zipfile

    info = f"rustlambda-{version}.dist-info"
    entries: list[tuple[str, bytes, int]] = [
        (f"rustlambda/{p.relative_to(root).as_posix()}", p.read_bytes(), p.stat().st_mode)
        for p in _files(root)
    ]
    entries += [(f"{info}/{name}", text.encode(), 0o644) for name, text in dist_files.items()]
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data, _ in entries)
    entries.append((f"{info}/RECORD", (record + f"{info}/RECORD,,\n").encode(), 0o644))
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".wheel-", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data, mode in entries:
                item = zipfile.ZipInfo(name, _EPOCH)
                item.external_attr = (0o755 if mode & 0o111 else 0o644) << 16
                item.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(item, data)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def cache_root(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_CACHE_HOME") or str(Path(environ.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "rustlambda" / "docker"


def bundle_dir(environ: Mapping[str, str] | None = None) -> Path:
    """A directory with this rustlambda's wheel and the default image's Dockerfile, made once
    per version and source hash."""
    environ = os.environ if environ is None else environ
    root = package_dir()
    dist_files = _dist_files(__version__)
    directory = cache_root(environ) / f"{__version__}-{source_digest(root, dist_files)}"
    wheel = directory / wheel_name()
    if not wheel.is_file():
        write_wheel(wheel, root, dist_files)
    dockerfile = directory / "Dockerfile"
    if not dockerfile.is_file():
        fd, tmp = tempfile.mkstemp(prefix=".Dockerfile-", dir=directory)
        os.close(fd)
        shutil.copyfile(DOCKERFILE, tmp)
        os.replace(tmp, dockerfile)
    return directory
