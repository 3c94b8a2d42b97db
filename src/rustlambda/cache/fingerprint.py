"""The parts of a cache key: file stamps, the toolchain's identity, cargo's config files and the
environment variables a build tool reads — all without starting a process.

A file's stamp is (mtime_ns, size, inode), or None when it is missing: replacing, editing,
creating or deleting a file changes it. The toolchain's identity is the stamps of cargo and
rustc as found (and as resolved through symlinks) plus, when rustup is installed, what selects
its toolchain (``RUSTUP_TOOLCHAIN``, ``rust-toolchain[.toml]`` from the working directory up,
rustup's ``settings.toml``) and every installed toolchain's rustc and cargo (``rustup update``
replaces them).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

Stamp = tuple[int, int, int] | None

#: Environment variables that change what cargo, rustc, cargo-zigbuild or a C compiler do.
BUILD_ENV_PREFIXES = (
    "CARGO",
    "RUST",
    "ZIG",
    "CC",
    "CXX",
    "CFLAGS",
    "CXXFLAGS",
    "CPPFLAGS",
    "LDFLAGS",
    "AR",
    "RANLIB",
    "BINDGEN",
    "CMAKE",
    "SDKROOT",
    "MACOSX_DEPLOYMENT_TARGET",
    "TARGET_",
    "HOST_",
    "PKG_CONFIG",
    "__CARGO",
)
#: Whole variables that matter as well (where tools are found, where caches are).
BUILD_ENV_NAMES = ("PATH", "HOME", "XDG_CACHE_HOME")


def stamp(path: Path) -> Stamp:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def stamps(paths: Iterable[Path]) -> list[tuple[str, Stamp]]:
    return [(str(p), stamp(p)) for p in paths]


def build_env(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """The variables of ``environ`` that can change a build, sorted."""
    return sorted(
        (k, v)
        for k, v in environ.items()
        if k in BUILD_ENV_NAMES or k.startswith(BUILD_ENV_PREFIXES)
    )


def _tool(path: str) -> list[Any]:
    resolved = os.path.realpath(path)
    return [path, resolved, stamp(Path(path)), stamp(Path(resolved))]


def toolchain(cargo: str, rustc: str, environ: Mapping[str, str], cwd: Path) -> list[Any]:
    """What identifies the Rust toolchain a build in ``cwd`` uses (see the module docstring)."""
    parts: list[Any] = [_tool(cargo), _tool(rustc)]
    home = Path(environ.get("HOME") or Path.home())
    rustup_home = Path(environ.get("RUSTUP_HOME") or home / ".rustup")
    if rustup_home.is_dir():
        parts.append([environ.get("RUSTUP_TOOLCHAIN"), stamp(rustup_home / "settings.toml")])
        try:
            installed = sorted(os.scandir(rustup_home / "toolchains"), key=lambda e: e.name)
        except OSError:
            installed = []
        for entry in installed:
            bin_dir = Path(entry.path) / "bin"
            parts.append([entry.name, stamp(bin_dir / "rustc"), stamp(bin_dir / "cargo")])
        for directory in (cwd, *cwd.parents):
            parts.append(stamps([directory / "rust-toolchain", directory / "rust-toolchain.toml"]))
    return parts


def key(*parts: Any) -> str:
    """The SHA-256 of ``parts`` as canonical JSON (paths and tuples as strings and lists)."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
