"""What a build produced: `Artifact` per executable, `BuildResult` (``build --json``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..layout import ArtifactKind
from ..targets import Arch, Target

if TYPE_CHECKING:  # imported when used: a no-op build without --cache or zips needs neither
    from ..compilecache import CacheStats
    from ..package import ZipResult
    from ..verify.report import VerifyReport
    from .inputs import BuildInputs


@dataclass(frozen=True)
class Artifact:
    """One bootstrap (or extension executable) in the Lambda layout."""

    function: str
    kind: ArtifactKind
    package: str
    target: Target
    arch: Arch
    path: Path
    size: int
    sha256: str
    env: Mapping[str, str] = field(default_factory=dict)
    include: tuple[str, ...] = ()
    #: The reproducible zip, with ``--output-format zip``.
    zip: ZipResult | None = None

    def to_dict(self) -> dict[str, Any]:
        packed = self.zip
        return {
            "function": self.function,
            "kind": self.kind.value,
            "package": self.package,
            "target": str(self.target),
            "arch": self.arch.value,
            "path": str(self.path),
            "size": self.size,
            "sha256": self.sha256,
            "env": dict(self.env),
            "include": list(self.include),
            "zip": None
            if packed is None
            else {
                "path": str(packed.path),
                "size": packed.size,
                "unzipped_size": packed.unzipped_size,
                "sha256": packed.sha256,
                "entries": list(packed.entries),
            },
        }


@dataclass(frozen=True)
class BuildResult:
    artifacts: tuple[Artifact, ...]
    lambda_dir: Path
    command: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    #: The checks of every artifact against its runtime (None with ``verify=False``).
    verification: VerifyReport | None = None
    #: The compile cache's statistics for this build (``--cache sccache``; else None).
    cache: CacheStats | None = None
    #: What decides whether running this build again would change anything (not part of
    #: the JSON; None when something other than files' stamps does): `builder.inputs`.
    inputs: BuildInputs | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "lambda_dir": str(self.lambda_dir),
            "command": list(self.command),
            "artifacts": [a.to_dict() for a in self.artifacts],
            "warnings": list(self.warnings),
            "verification": self.verification.to_dict() if self.verification else None,
            "cache": self.cache.to_dict() if self.cache else None,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)
