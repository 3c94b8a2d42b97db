"""Which binaries each shared build makes: the ones the app uses, in one cargo run.

Constructs declare the binary they need when they are created (`BuildPlanner.want`); bundling
happens after the whole app is declared (see `rustlambda.cdk.deferred`), so the first asset of a
workspace, target and settings builds every binary the app wants from it in one run and the
others copy theirs. A binary wanted after that build (a construct created later) gets a build of
its own; a ``before_bundling`` hook marks the build stale, so the next asset runs it again for
the binaries not yet delivered (cargo has nothing to do unless the hook changed something).

Pure bookkeeping, no processes: the build itself is a callable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from ..errors import ArtifactError, RustLambdaError
from ..targets import Runtime, Target

A = TypeVar("A")


@dataclass(frozen=True)
class BuildKey:
    """What makes two assets share a build: workspace, target, runtime and every setting."""

    root: Path
    target: Target
    runtime: Runtime
    fingerprint: str


@dataclass
class _Shared(Generic[A]):
    wanted: dict[str, None] = field(default_factory=dict)  # ordered set
    built: dict[str, A] = field(default_factory=dict)
    delivered: set[str] = field(default_factory=set)
    stale: bool = False
    error: RustLambdaError | None = None
    runs: list[tuple[str, ...]] = field(default_factory=list)


class BuildPlanner(Generic[A]):
    """The app's shared builds: per `BuildKey`, what is wanted, built and delivered.

    ``A`` is what a build yields per binary (an `Artifact`).
    """

    def __init__(self) -> None:
        self._builds: dict[BuildKey, _Shared[A]] = {}

    def want(self, key: BuildKey, binary: str) -> None:
        """A construct of the app will need ``binary`` from the build ``key``."""
        self._builds.setdefault(key, _Shared()).wanted[binary] = None

    def stale(self, key: BuildKey) -> None:
        """Something may have changed the inputs (a before_bundling hook ran)."""
        self._builds.setdefault(key, _Shared()).stale = True

    def artifact(
        self,
        key: BuildKey,
        binary: str,
        build: Callable[[Sequence[str]], Mapping[str, A]],
    ) -> A:
        """``binary``'s output, running ``build(binaries)`` when it is missing or stale.

        A run builds every wanted binary not yet delivered to an asset (``binary`` included);
        a failed run fails every asset of the key with the same error.
        """
        shared = self._builds.setdefault(key, _Shared())
        if shared.error is not None:
            raise shared.error
        shared.wanted[binary] = None
        if binary not in shared.built or shared.stale:
            names = tuple(b for b in shared.wanted if b not in shared.delivered)
            shared.runs.append(names)
            try:
                outputs = build(names)
            except RustLambdaError as exc:
                shared.error = exc
                raise
            shared.built.update(outputs)
            shared.stale = False
            if binary not in shared.built:
                built = ", ".join(sorted(outputs)) or "nothing"
                raise ArtifactError(
                    f"the build made {built}, not {binary}",
                    "pass binary_name= one of the binaries built",
                )
        shared.delivered.add(binary)
        return shared.built[binary]

    def runs(self, key: BuildKey) -> list[tuple[str, ...]]:
        """The binaries of each build of ``key`` so far (for tests and diagnostics)."""
        found = self._builds.get(key)
        return list(found.runs) if found else []

    def all_runs(self) -> dict[BuildKey, list[tuple[str, ...]]]:
        return {key: list(shared.runs) for key, shared in self._builds.items()}
