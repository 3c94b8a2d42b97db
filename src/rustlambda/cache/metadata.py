"""The ``cargo metadata --no-deps`` cache: the workspace as cargo described it, reused while
nothing that shapes that description changed.

Per-user (the target dir is one of the things cargo metadata tells), one file per manifest.
The key: the manifest's path, cargo's and rustc's identity (`fingerprint.toolchain`), the build
variables of the environment (``CARGO_TARGET_DIR``, ``CARGO_BUILD_*``, ...), the cargo config
files that apply, and every ``Cargo.toml`` from the manifest's folder up (a workspace root can
appear above). Stored with the value, and compared on every use, are the stamps of what cargo
read or discovered: the workspace's ``Cargo.toml`` and ``Cargo.lock``, each package's manifest,
its folder, ``src/``, ``src/bin/`` and ``examples/`` (their modification time changes when a
file is added, removed or renamed in them: a new ``src/bin/x.rs``, a new ``build.rs``), and the
folders that hold the packages (a new member next to the others, matched by a glob).

The folder keeps the `KEEP` most recently used files: a workspace that is gone (a temporary
folder, an old checkout) would otherwise leave its file forever. They are pruned only when a new
file is written (a first build of a workspace, which runs ``cargo metadata`` anyway), never on a
hit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..optimize import config_files
from . import CacheFile, prune
from . import fingerprint as fp

#: Files kept (one per manifest, each holding at most 4 descriptions of it). 64 is far more than
#: the checkouts and worktrees one builds in turn, so a live workspace is practically never
#: pruned, while the folder stays bounded (64 x 4 descriptions) however many temporary
#: workspaces are built; a pruned workspace costs one ``cargo metadata`` run, then it is back.
#: (The same bound as `rustlambda.noop.KEEP`, for the same reason.)
KEEP = 64
#: The files `KEEP` counts (and the only ones pruning removes).
PATTERN = "metadata-*.json"


def _cache(manifest: Path, env: Mapping[str, str]) -> CacheFile:
    name = hashlib.sha256(str(manifest).encode()).hexdigest()[:16]
    return CacheFile.per_user(f"metadata-{name}", env)  # matches PATTERN


def _key(manifest: Path, cargo: str, rustc: str, env: Mapping[str, str]) -> str:
    folders = (manifest.parent, *manifest.parent.parents)
    return fp.key(
        "metadata",
        str(manifest),
        fp.toolchain(cargo, rustc, env, manifest.parent),
        fp.build_env(env),
        fp.stamps(config_files(manifest.parent, env)),
        fp.stamps(folder / "Cargo.toml" for folder in folders),
    )


def watched_paths(data: Mapping[str, Any]) -> list[Path]:
    """What the description depends on besides the key (see the module docstring)."""
    from ..project import workspace_paths

    manifests = (Path(package["manifest_path"]) for package in data["packages"])
    return workspace_paths(Path(data["workspace_root"]), manifests)


def lookup(manifest: Path, cargo: str, rustc: str, env: Mapping[str, str]) -> dict[str, Any] | None:
    """The cached ``cargo metadata`` JSON for ``manifest``, or None."""
    value = _cache(manifest, env).get(_key(manifest, cargo, rustc, env))
    try:
        data = value["data"]
        recorded = [(str(path), stamp) for path, stamp in value["stamps"]]
        current = [[str(p), fp.stamp(p)] for p in watched_paths(data)]
    except (TypeError, KeyError, ValueError):
        return None
    if [[p, list(s) if s else None] for p, s in recorded] != [
        [p, list(s) if s else None] for p, s in current
    ]:
        return None
    return data if isinstance(data, dict) else None


def store(
    manifest: Path, cargo: str, rustc: str, env: Mapping[str, str], data: Mapping[str, Any]
) -> None:
    try:
        stamps = [[str(p), fp.stamp(p)] for p in watched_paths(data)]
    except (TypeError, KeyError):
        return
    cache = _cache(manifest, env)
    cache.max_entries = 4
    new = cache.enabled and not cache.path.exists()
    cache.put(_key(manifest, cargo, rustc, env), {"data": data, "stamps": stamps})
    if new:
        prune(cache.path.parent, PATTERN, KEEP)
