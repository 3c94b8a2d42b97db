"""The row of ``[*.metadata.lambda.build]`` that chooses the shared compile cache (rustlambda's
addition; cargo-lambda has none): see `rustlambda.compilecache`."""

from __future__ import annotations

from ...options import CacheKind
from ..convert import Choice
from ..model import Flag, Scope, Section, Setting
from ._common import BUILDING

CACHE: Setting[CacheKind] = Setting(
    "cache",
    Section.BUILD,
    Choice(CacheKind),
    CacheKind.NONE,
    "none, or sccache: rustc and the C compilers run through sccache, whose backend (local "
    "disk, or S3 with `SCCACHE_BUCKET`, ...) its own `SCCACHE_*` variables choose "
    "(rustlambda's addition)",
    keys=("cache",),
    env_var="RUSTLAMBDA_CACHE",
    flags=(
        Flag(
            ("--cache",),
            "Compile cache: sccache (local disk, or S3 with SCCACHE_BUCKET) or none. "
            "Env: RUSTLAMBDA_CACHE.",
        ),
    ),
    commands=BUILDING,
    scope=Scope.BUILD_WIDE,
)
