"""cargo-zigbuild with the zig from the ziglang wheel: cross-links, and pins gnu targets' glibc."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

from ..options import Compiler, CompilerSettings
from ..targets import Runtime, Target
from ..toolchain import Toolchain, find_cargo_zigbuild, find_zig, zig_from_wheel
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
        # cargo-zigbuild runs $CARGO; point it (and zig) at what we resolved. Left alone it
        # prefers `python3 -m ziglang` from PATH (another Python's zig, a process start per call:
        # about half a second of every no-op build); CARGO_ZIGBUILD_ZIG_COMMAND (0.24+) runs our
        # zig directly, and the Python fallback of older versions is this interpreter.
        tool_env = {
            "CARGO_ZIGBUILD_ZIG_COMMAND": str(zig),
            "CARGO_ZIGBUILD_ZIG_PATH": str(zig),
            "CARGO": toolchain.cargo,
        }
        if zig_from_wheel(zig):
            tool_env["CARGO_ZIGBUILD_PYTHON_PATH"] = sys.executable
        return Invocation(
            head=(zigbuild, "zigbuild"),
            triples=tuple(t.zig_triple(runtime) for t in targets),
            env=tool_env,
        )
