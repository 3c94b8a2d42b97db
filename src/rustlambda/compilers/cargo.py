"""Plain cargo with each target's system linker (e.g. aarch64-linux-gnu-gcc for arm64)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import ConfigError, ToolNotFoundError
from ..options import Compiler, CompilerSettings
from ..targets import Arch, Runtime, Target, host_arch
from ..toolchain import Toolchain
from ..util.cmd import which
from . import Invocation


def linker_env_var(target: Target) -> str:
    return f"CARGO_TARGET_{target.env_name}_LINKER"


def default_linker(target: Target) -> str:
    return f"{target.arch.rust_arch}-linux-{target.libc}-gcc"


def c_compiler_env(target: Target, linker: str, env: Mapping[str, str]) -> dict[str, str]:
    """``CC_<triple>`` / ``CXX_<triple>`` for the cc crate (ring, aws-lc-sys, ...): the gcc that
    links also compiles the target's C, unless the user chose a C compiler already."""
    suffix = target.triple.replace("-", "_")
    chosen = [f"{var}_{target.triple}" for var in ("CC", "CXX")]
    chosen += [f"{var}_{suffix}" for var in ("CC", "CXX")] + ["TARGET_CC", "TARGET_CXX"]
    if any(env.get(var) for var in chosen) or not linker.endswith("gcc"):
        return {}
    found = {f"CC_{suffix}": linker}
    cxx = linker[: -len("gcc")] + "g++"
    if which(cxx, env) is not None:
        found[f"CXX_{suffix}"] = cxx
    return found


class CargoBackend:
    kind = Compiler.CARGO

    def invocation(
        self,
        settings: CompilerSettings,
        targets: Sequence[Target],
        runtime: Runtime,
        toolchain: Toolchain,
        env: Mapping[str, str],
    ) -> Invocation:
        pinned = [str(t) for t in targets if t.glibc]
        if pinned:
            raise ConfigError(
                f"the cargo compiler cannot pin glibc ({', '.join(pinned)})",
                "drop the .2.xx suffix, or use --compiler zig to link against that glibc",
            )
        host = host_arch() or Arch.X86_64
        extra_env: dict[str, str] = {}
        for target in targets:
            if target.arch is host:
                continue  # the host's cc links natively
            var = linker_env_var(target)
            linker = env.get(var) or default_linker(target)
            if which(linker, env) is None:
                raise ToolNotFoundError(
                    f"linking for {target.triple} with the cargo compiler needs {linker}, "
                    "which was not found",
                    f"install it (Debian/Ubuntu: apt-get install gcc-{target.arch.rust_arch}-"
                    f"linux-{target.libc}), set {var}, or use --compiler zig",
                )
            extra_env[var] = linker
            extra_env.update(c_compiler_env(target, linker, env))
        subcommand = settings.subcommand or ("build",)
        return Invocation(
            head=(toolchain.cargo, *subcommand),
            triples=tuple(t.triple for t in targets),
            env=extra_env,
        )
