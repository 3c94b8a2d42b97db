"""Compiler backends (zig, cargo, cross) behind one Protocol.

A backend turns the build-wide settings into the head of the cargo command line, the target
triples to pass, and the environment additions it needs. It checks that its tools exist; it
never runs the build itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ..options import Compiler, CompilerSettings
from ..targets import Runtime, Target
from ..toolchain import Toolchain


@dataclass(frozen=True)
class Invocation:
    """What a backend contributes to the cargo command."""

    head: tuple[str, ...]  # e.g. ("cargo-zigbuild", "zigbuild") or ("cargo", "build")
    triples: tuple[str, ...]  # one per target, as this backend spells it
    env: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


class CompilerBackend(Protocol):
    kind: Compiler

    def invocation(
        self,
        settings: CompilerSettings,
        targets: Sequence[Target],
        runtime: Runtime,
        toolchain: Toolchain,
        env: Mapping[str, str],
    ) -> Invocation: ...


def backend_for(kind: Compiler) -> CompilerBackend:
    from .cargo import CargoBackend
    from .cross import CrossBackend
    from .zig import ZigBackend

    backends: dict[Compiler, CompilerBackend] = {
        Compiler.ZIG: ZigBackend(),
        Compiler.CARGO: CargoBackend(),
        Compiler.CROSS: CrossBackend(),
    }
    return backends[kind]
