"""Unit tests never start a process: any real subprocess fails the test that tried it."""

from __future__ import annotations

import asyncio
import os
import subprocess
from typing import Any

import pytest


class RealSubprocessInUnitTest(AssertionError):
    pass


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise RealSubprocessInUnitTest(
        f"a unit test tried to start a real process: {args[:1]!r}; use FakeRunner, or move the "
        "test to tests/integration"
    )


@pytest.fixture(autouse=True)
def _no_real_subprocess(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse)
    for name in ("system", "posix_spawn", "posix_spawnp", "execv", "execve", "execvp", "fork"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, _refuse)
    monkeypatch.setattr(asyncio, "create_subprocess_exec", _refuse)
    monkeypatch.setattr(asyncio, "create_subprocess_shell", _refuse)


@pytest.fixture(autouse=True)
def _private_user_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: Any) -> None:
    """rustlambda's per-user caches (cargo metadata) go to a folder of this test, never to the
    real ~/.cache (tests pass their own environ, so the variable alone would not do)."""
    import rustlambda.cache

    folder = tmp_path_factory.mktemp("user-cache")
    monkeypatch.setattr(rustlambda.cache, "user_cache_dir", lambda environ: folder)
