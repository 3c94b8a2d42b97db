"""What a deploy did (or, with ``dry_run``, would do), function by function, for the CLI's text
and JSON output; a function that failed carries its `Failure`."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from ..layout import ArtifactKind
from ..targets import Arch

FAILED = "failed"
NOT_STARTED = "not started"


@dataclass(frozen=True)
class Failure:
    """Why one function was not deployed: the error's message (with what was already done for
    it) and fix, the AWS error code when AWS refused, and the error's exit code."""

    message: str
    fix: str
    code: str | None
    exit_code: int


@dataclass(frozen=True)
class Deployment:
    """One function or extension layer.

    ``status``: functions ``created`` / ``updated`` (configuration, code or tags) /
    ``unchanged``; extensions ``published`` / ``unchanged``; with a dry run ``would create`` /
    ``would update`` / ``would publish`` / ``unchanged``; and ``failed`` (see ``failure``) or
    ``not started`` (a deploy of several stopped starting new ones, see README).
    """

    name: str
    kind: ArtifactKind
    arch: Arch
    zip_path: str
    size: int
    sha256: str  # hex
    status: str
    arn: str | None = None
    config_updated: tuple[str, ...] = ()
    code_updated: bool = False
    tags_updated: tuple[str, ...] = ()
    #: The published function version, or the layer version number.
    version: str | None = None
    alias: str | None = None
    alias_arn: str | None = None
    url: str | None = None
    role_created: str | None = None
    compatible_runtimes: tuple[str, ...] = ()
    #: What the plan said to do, in words: with a dry run, what would change.
    actions: tuple[str, ...] = ()
    #: A dry run's whole planned configuration, ``(label, value)``, environment values masked
    #: (`rustlambda.deployer.preview`).
    configuration: tuple[tuple[str, str], ...] = ()
    failure: Failure | None = None
    #: Wall time of this function's deploy (planning included).
    seconds: float | None = None
    #: Refusals waited out (throttled, update in progress) and how many times each.
    retries: tuple[tuple[str, int], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"], data["arch"] = self.kind.value, self.arch.value
        for key in ("config_updated", "tags_updated", "compatible_runtimes", "actions"):
            data[key] = list(data[key])
        data["retries"] = dict(self.retries)
        data["configuration"] = dict(self.configuration)
        if self.seconds is not None:
            data["seconds"] = round(self.seconds, 3)
        return data


@dataclass(frozen=True)
class DeployResult:
    """Every function's outcome, in a stable order (the workspace's), whatever order the pool
    finished them in."""

    deployments: tuple[Deployment, ...]
    dry_run: bool = False
    region: str | None = None
    warnings: tuple[str, ...] = ()
    #: How many functions were deployed at once.
    max_parallel: int = 1

    @property
    def failed(self) -> tuple[Deployment, ...]:
        return tuple(d for d in self.deployments if d.failure is not None)

    @property
    def not_started(self) -> tuple[Deployment, ...]:
        return tuple(d for d in self.deployments if d.status == NOT_STARTED)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_started

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "region": self.region,
            "max_parallel": self.max_parallel,
            "deployments": [d.to_dict() for d in self.deployments],
            "failed": [d.name for d in self.failed],
            "not_started": [d.name for d in self.not_started],
            "warnings": list(self.warnings),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)
