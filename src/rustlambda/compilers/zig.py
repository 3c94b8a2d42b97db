"""cargo-zigbuild with the zig from the ziglang wheel: cross-links, and pins gnu targets' glibc."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..config import Compiler, CompilerSettings
from ..targets import Runtime, Target
from ..toolchain import Toolchain, find_cargo_zigbuild, find_zig
from . import Invocation


class ZigBackend:
    kind = Compiler.ZIG

    def invocation(
        self,
        settings: CompilerSettings,
        targets: Sequence[Target],
        runtime: Runtime,
        toolchain: Toolchain,
        env: Mapping[str, str],
    ) -> Invocation:
        zig = find_zig(env)
        zigbuild = find_cargo_zigbuild(env)
        return Invocation(
            head=(zigbuild, "zigbuild"),
            triples=tuple(t.zig_triple(runtime) for t in targets),
            # cargo-zigbuild runs $CARGO; point it (and zig) at what we resolved.
            env={"CARGO_ZIGBUILD_ZIG_PATH": str(zig), "CARGO": toolchain.cargo},
        )
