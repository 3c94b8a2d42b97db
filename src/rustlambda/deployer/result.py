"""What a deploy did (or, with ``dry_run``, would do), function by function, for the CLI's text
and JSON output; a function that failed carries its `Failure`; the error of a deploy a signal
stopped."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import Interrupted
from ..layout import ArtifactKind
from ..targets import Arch
from ..util import signals

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
    #: The zip deployed, when it is a file that stays (the build's own zip, or --binary-path);
    #: None when rustlambda zipped the executable into a temporary folder for this deploy.
    zip_path: str | None
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


def stopped_deploying(signum: int, name: str) -> Interrupted:
    """The error for a deploy stopped by a signal while it changed ``name`` on AWS."""
    return signals.interrupted(
        signum,
        f"stopped by {signals.signal_name(signum)} while deploying {name} (a request already "
        "sent to AWS may still take effect)",
        "run the deploy again: it changes only what still differs",
    )


def stopped_pool(
    signum: int, stopped: dict[str, list[str]], finished: list[str], not_started: list[str]
) -> Interrupted:
    """The error for a deploy a signal stopped: the functions it was deploying (``stopped``:
    name → the changes already made), those deployed before (``name (status)``), and those it
    never started."""
    error = signals.interrupted(
        signum,
        f"stopped by {signals.signal_name(signum)} while deploying {', '.join(stopped)} (a "
        "request already sent to AWS may still take effect)"
        if stopped
        else f"stopped by {signals.signal_name(signum)} between two deploys",
        "run the deploy again: it changes only what still differs",
    )
    for name, done in stopped.items():
        if done:
            error.add_context(f" (already done for {name}: {'; '.join(done)})")
    if finished:
        error.add_context(f"; deployed before it: {', '.join(finished)}")
    if not_started:
        error.add_context(f"; not started: {', '.join(not_started)}")
    return error
