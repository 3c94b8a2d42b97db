"""Verification of the CDK's bootstraps, skipped for bytes already verified.

A synth bundles every asset again (assets are hashed from their output), and an unchanged
bootstrap needs no second check: what was verified is remembered in ``<lambda dir>/.verified.json``
per sha256 of the executable, runtime, architecture and kind, under the rustlambda version that
checked it (a new version may check more). Anything else that changes the verdict changes one
of those. Warnings found the first time are reported again on every synth; failures are never
remembered.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..builder.result import Artifact
from ..reporting import Reporter
from ..targets import Runtime

CACHE_NAME = ".verified.json"


def _key(artifact: Artifact, runtime: Runtime) -> str:
    return f"{artifact.sha256}:{runtime.value}:{artifact.arch.value}:{artifact.kind.value}"


def _load(path: Path) -> dict[str, list[str]]:
    try:
        data: Any = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != __version__:
        return {}
    checked = data.get("checked")
    return checked if isinstance(checked, dict) else {}


def _save(path: Path, checked: dict[str, list[str]]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".verified-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump({"version": __version__, "checked": checked}, out, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def verify_cached(
    artifacts: Sequence[Artifact], runtime: Runtime, lambda_dir: Path, reporter: Reporter
) -> int:
    """Verify the artifacts not verified before (raising `VerifyError` on a failure); report
    every artifact's warnings. Returns how many were checked now."""
    cache = lambda_dir / CACHE_NAME
    checked = _load(cache)
    todo = [a for a in artifacts if _key(a, runtime) not in checked]
    for arch in dict.fromkeys(a.arch for a in todo):
        from ..verify import verify_artifacts

        same = [a for a in todo if a.arch is arch]
        report = verify_artifacts([a.path for a in same], runtime=runtime, arch=arch)
        report.raise_on_failure()
        by_path = {r.path.resolve(): r for r in report.artifacts}
        for artifact in same:
            found = by_path.get(artifact.path.resolve())
            if found is not None:
                checked[_key(artifact, runtime)] = [f.message for f in found.warnings]
    for artifact in artifacts:
        for message in checked.get(_key(artifact, runtime), []):
            reporter.warning(f"{artifact.path}: {message}")
    if todo:
        _save(cache, checked)
    return len(todo)
