"""cross: the same cargo arguments, run by ``cross build`` inside its container images."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import ToolNotFoundError
from ..options import Compiler, CompilerSettings
from ..targets import Runtime, Target
from ..toolchain import Toolchain
from ..util.cmd import which
from . import Invocation


class CrossBackend:
    kind = Compiler.CROSS

    def invocation(
        self,
        settings: CompilerSettings,
        targets: Sequence[Target],
        runtime: Runtime,
        toolchain: Toolchain,
        env: Mapping[str, str],
    ) -> Invocation:
        cross = which("cross", env)
        if cross is None:
            raise ToolNotFoundError(
                "cross was not found on PATH",
                "install it (`cargo install cross`) with a container engine (docker or podman), "
                "or use --compiler zig",
            )
        notes = []
        if any(t.glibc for t in targets):
            notes.append("cross builds against its image's glibc; the .2.xx suffix is ignored")
        return Invocation(
            head=(cross, "build"), triples=tuple(t.triple for t in targets), notes=tuple(notes)
        )
