"""rustlambda's own caches: what a no-op build would otherwise recompute on every run.

Each cache is one small JSON file of entries ``{key: value}``; a key is the SHA-256 of
everything that changes the value (`Fingerprint`). Nothing here is trusted blindly:

* a file is written to a temporary name and renamed into place (never half-written);
* a missing, unreadable or corrupt file, or one written by another rustlambda version, reads as
  empty (a miss), never as an error;
* every key includes what changes the result (file stamps, environment variables, tool
  identities) — see `rustlambda.cache.fingerprint` for the parts and the caches' users for what
  each one adds.

Where the files live: `CacheFile.in_target_dir` (``<target-dir>/rustlambda/cache/``: removed
by ``cargo clean`` with what it describes) or `CacheFile.per_user` (``$RUSTLAMBDA_CACHE_DIR``,
else ``$XDG_CACHE_HOME/rustlambda``, else ``~/.cache/rustlambda``) for what is read before the
target dir is known. A per-user cache that writes one file per thing it describes (a
workspace, a command line) bounds its folder with `prune`, called when it writes a new file.
``RUSTLAMBDA_NO_CACHE=1`` turns every cache off (every lookup misses and nothing is written).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import __version__

#: Entries kept per file (the most recent); enough for a few target/selection combinations.
MAX_ENTRIES = 16


def disabled(environ: Mapping[str, str]) -> bool:
    return environ.get("RUSTLAMBDA_NO_CACHE", "") not in ("", "0")


def user_cache_dir(environ: Mapping[str, str]) -> Path:
    explicit = environ.get("RUSTLAMBDA_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path(environ.get("HOME") or Path.home()) / ".cache"
    return base / "rustlambda"


def prune(folder: Path, pattern: str, keep: int) -> None:
    """Remove all but the ``keep`` (>= 1) most recently used files of ``folder`` whose names
    match ``pattern`` (e.g. ``"metadata-*.json"``; nothing else is touched, nothing below).

    "Used" is the later of the last write (modification time) and the last read (access time:
    a hit reads the file and writes nothing; with ``relatime``, Linux's default, a read updates
    it at most once a day, with ``noatime`` never, and then this is the last write). Never
    raises: a file that vanishes or cannot be read or removed is skipped (another rustlambda
    may be pruning the same folder), an unreadable folder is left as it is.
    """
    try:
        found = list(folder.glob(pattern))
    except OSError:
        return
    if len(found) <= keep:
        return
    used: list[tuple[int, str]] = []
    for path in found:
        try:
            st = path.stat()
        except OSError:
            continue  # gone already
        used.append((max(st.st_atime_ns, st.st_mtime_ns), str(path)))
    used.sort(reverse=True)
    for _, stale in used[keep:]:
        with contextlib.suppress(OSError):
            os.unlink(stale)


class CacheFile:
    """One cache: entries ``{key: value}`` (JSON values) in one file, at most `MAX_ENTRIES`."""

    def __init__(self, path: Path, *, enabled: bool = True, max_entries: int = MAX_ENTRIES) -> None:
        self.path = path
        self.enabled = enabled
        self.max_entries = max_entries
        self._entries: dict[str, Any] | None = None
        self._dirty = False

    @classmethod
    def in_target_dir(
        cls,
        target_dir: Path,
        name: str,
        environ: Mapping[str, str],
        max_entries: int = MAX_ENTRIES,
    ) -> CacheFile:
        path = target_dir / "rustlambda" / "cache" / f"{name}.json"
        return cls(path, enabled=not disabled(environ), max_entries=max_entries)

    @classmethod
    def per_user(cls, name: str, environ: Mapping[str, str]) -> CacheFile:
        return cls(user_cache_dir(environ) / f"{name}.json", enabled=not disabled(environ))

    def _load(self) -> dict[str, Any]:
        if self._entries is None:
            self._entries = {}
            if self.enabled:
                try:
                    data = json.loads(self.path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    data = None  # missing or corrupt: a miss
                if (
                    isinstance(data, dict)
                    and data.get("version") == __version__
                    and isinstance(data.get("entries"), dict)
                ):
                    self._entries = data["entries"]
        return self._entries

    def get(self, key: str) -> Any:
        """The value stored under ``key``, or None."""
        return self._load().get(key)

    def put(self, key: str, value: Any, *, save: bool = True) -> None:
        """Store ``value`` under ``key`` and, with ``save``, write the file (temp + rename);
        failures to write are ignored (the cache is only ever an optimisation)."""
        if not self.enabled:
            return
        entries = self._load()
        entries.pop(key, None)
        entries[key] = value
        while len(entries) > self.max_entries:
            entries.pop(next(iter(entries)))
        self._dirty = True
        if save:
            self.write()

    def discard(self, key: str) -> None:
        if self.enabled and self._load().pop(key, None) is not None:
            self._dirty = True
            self.write()

    def write(self) -> None:
        """Write the entries if anything changed since they were read or written."""
        if not self.enabled or not self._dirty:
            return
        self._dirty = False
        text = json.dumps({"version": __version__, "entries": self._load()})
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}-", dir=self.path.parent)
        except OSError:
            return
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(tmp, self.path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)
