"""The verification report: one `Finding` per check, one `ArtifactReport` per executable, the
`VerifyReport` of a run, and the errors Lambda would show (``Runtime.*`` / ``Extension.*``)."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..errors import VerifyError
from ..layout import ArtifactKind
from ..targets import Arch, GlibcVersion, Runtime, version_str

Level = Literal["ok", "warning", "error"]

#: The checks in the order a report lists them.
CHECKS = ("layout", "mode", "elf", "arch", "linkage", "glibc", "libraries", "size")


class Linkage(enum.StrEnum):
    STATIC = "static"
    DYNAMIC = "dynamic"
    UNKNOWN = "unknown"  # not a readable ELF executable


@dataclass(frozen=True)
class Finding:
    """The outcome of one check: ``level`` "ok", "warning" (deployable) or "error"."""

    check: str  # one of CHECKS
    level: Level
    message: str
    lambda_error: str | None = None
    fix: str | None = None

    @property
    def ok(self) -> bool:
        return self.level != "error"

    @classmethod
    def from_dict(cls, data: Any) -> Finding:
        """The inverse of `to_dict` (rustlambda's verification cache); KeyError/ValueError/
        TypeError on anything else."""
        if data["level"] not in ("ok", "warning", "error") or data["check"] not in CHECKS:
            raise ValueError(f"not a finding: {data!r}")
        return cls(
            str(data["check"]),
            data["level"],
            str(data["message"]),
            _optional(data["lambda_error"]),
            _optional(data["fix"]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "ok": self.ok,
            "level": self.level,
            "message": self.message,
            "lambda_error": self.lambda_error,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class ArtifactReport:
    """One executable (or the missing one a zip should hold) and every check's finding."""

    path: Path
    member: str | None  # the zip member, None for a plain file (or a zip without executable)
    kind: ArtifactKind
    arch: Arch | None  # the ELF's architecture, None if not a Lambda one
    expected_arch: Arch | None
    linkage: Linkage
    interpreter: str | None
    max_glibc: GlibcVersion | None
    needed: tuple[str, ...]
    size: int  # the executable's size (0 when there is none)
    sha256: str | None
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    @property
    def failures(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.ok)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level == "warning")

    @property
    def label(self) -> str:
        return f"{self.path}:{self.member}" if self.member else str(self.path)

    @classmethod
    def from_dict(cls, data: Any) -> ArtifactReport:
        """The inverse of `to_dict` (rustlambda's verification cache); KeyError/ValueError/
        TypeError on anything else."""
        glibc = data["max_glibc"]
        major, minor = (int(part) for part in str(glibc).split(".")) if glibc else (0, 0)
        return cls(
            path=Path(str(data["path"])),
            member=_optional(data["member"]),
            kind=ArtifactKind(data["kind"]),
            arch=Arch(data["arch"]) if data["arch"] else None,
            expected_arch=Arch(data["expected_arch"]) if data["expected_arch"] else None,
            linkage=Linkage(data["linkage"]),
            interpreter=_optional(data["interpreter"]),
            max_glibc=(major, minor) if glibc else None,
            needed=tuple(str(n) for n in data["needed"]),
            size=int(data["size"]),
            sha256=str(data["sha256"]),
            findings=tuple(Finding.from_dict(f) for f in data["findings"]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "member": self.member,
            "kind": self.kind.value,
            "ok": self.ok,
            "arch": self.arch.value if self.arch else None,
            "expected_arch": self.expected_arch.value if self.expected_arch else None,
            "linkage": self.linkage.value,
            "interpreter": self.interpreter,
            "max_glibc": version_str(self.max_glibc) if self.max_glibc else None,
            "needed": list(self.needed),
            "size": self.size,
            "sha256": self.sha256,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class VerifyReport:
    artifacts: tuple[ArtifactReport, ...]
    runtime: Runtime = Runtime.AL2023
    arch: Arch | None = None

    @property
    def ok(self) -> bool:
        return all(a.ok for a in self.artifacts)

    @property
    def failures(self) -> tuple[tuple[ArtifactReport, Finding], ...]:
        return tuple((a, f) for a in self.artifacts for f in a.failures)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "runtime": self.runtime.value,
            "arch": self.arch.value if self.arch else None,
            "artifacts": [a.to_dict() for a in self.artifacts],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def raise_on_failure(self) -> None:
        """Raise `VerifyError` (exit 15) naming the first failure, all of them in ``details``."""
        failures = self.failures
        if not failures:
            return
        bad = sum(1 for a in self.artifacts if not a.ok)
        artifact, first = failures[0]
        lines = []
        for a, f in failures:
            lines.append(f"{a.label}: {f.check}: {f.message}")
            if f.lambda_error:
                lines.append(f"  Lambda: {f.lambda_error}")
            if f.fix:
                lines.append(f"  fix: {f.fix}")
        raise VerifyError(
            f"{bad} of {len(self.artifacts)} artifact(s) would not start on "
            f"{self.runtime.value}: {artifact.label}: {first.message}",
            first.fix or "",
            details="\n".join(lines),
            report=self,
        )


def exec_error(kind: ArtifactKind, run_path: str, reason: str) -> str:
    """The error Lambda shows when it cannot even start the executable."""
    error = (
        "Extension.LaunchError" if kind is ArtifactKind.EXTENSION else "Runtime.InvalidEntrypoint"
    )
    return f"{error}: fork/exec {run_path}: {reason}"


def crash_error(kind: ArtifactKind, run_path: str, message: str) -> str:
    """The error Lambda shows when the executable starts and dies at once."""
    error = "Extension.Crash" if kind is ArtifactKind.EXTENSION else "Runtime.ExitError"
    return f"{error}: {run_path}: {message}"


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)
