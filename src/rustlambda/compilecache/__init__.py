"""The shared compile cache (``--cache sccache``): rustc, and the C compilers the cc crate runs,
go through sccache, with sccache's own backends — local disk by default (rustlambda's cache
directory, or ``SCCACHE_DIR``), or S3 and the others its ``SCCACHE_*`` variables select.

    sccache.py  find sccache, plan its environment, run one private server per build
    stats.py    its statistics, typed; the last cached build's record for ``system``

Nothing else about the build changes: the same cargo command and arguments, so the same
artifacts, byte for byte.
"""

from __future__ import annotations

from .sccache import (
    INSTALL_FIX,
    CachePlan,
    CacheSession,
    find_sccache,
    plan_cache,
    sccache_server,
)
from .stats import (
    CacheStats,
    LastBuild,
    parse_stats,
    read_last_build,
    rustlambda_cache_dir,
    write_last_build,
)

__all__ = [
    "INSTALL_FIX",
    "CachePlan",
    "CacheSession",
    "CacheStats",
    "LastBuild",
    "find_sccache",
    "parse_stats",
    "plan_cache",
    "read_last_build",
    "rustlambda_cache_dir",
    "sccache_server",
    "write_last_build",
]
