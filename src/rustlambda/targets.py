"""Target triples, Lambda architectures and runtimes (with the glibc each one provides).

The enums are `StrEnum`s: typed everywhere inside rustlambda, and their value (Lambda's or
Rust's own spelling) is what JSON, the CLI and AWS calls get.
"""

from __future__ import annotations

import enum
import platform
import re
from dataclasses import dataclass

from .errors import ConfigError, UnsupportedTargetError

#: A glibc version, (major, minor): (2, 34).
GlibcVersion = tuple[int, int]


class Arch(enum.StrEnum):
    """A Lambda architecture; the value is Lambda's own name for it."""

    X86_64 = "x86_64"
    ARM64 = "arm64"

    @property
    def rust_arch(self) -> str:
        return "x86_64" if self is Arch.X86_64 else "aarch64"

    @property
    def target_cpu(self) -> str:
        """The CPU Lambda runs this architecture on (cargo-lambda's release tuning)."""
        return "haswell" if self is Arch.X86_64 else "neoverse-n1"

    @property
    def elf_machine(self) -> str:
        """pyelftools' name for the ELF e_machine of this architecture."""
        return "EM_X86_64" if self is Arch.X86_64 else "EM_AARCH64"


class Runtime(enum.StrEnum):
    """An OS-only Lambda runtime; the value is Lambda's runtime identifier."""

    AL2023 = "provided.al2023"
    AL2 = "provided.al2"

    @property
    def glibc(self) -> GlibcVersion:
        return (2, 34) if self is Runtime.AL2023 else (2, 26)

    @classmethod
    def parse(cls, value: str) -> Runtime:
        for runtime in cls:
            if value == runtime.value:
                return runtime
        valid = ", ".join(r.value for r in cls)
        raise ConfigError(
            f"unknown runtime {value!r}",
            f"use one of: {valid} (Rust functions run on an OS-only custom runtime)",
        )


class Libc(enum.StrEnum):
    """The C library of a Linux target, as the triple spells it."""

    GNU = "gnu"
    MUSL = "musl"


_TRIPLE = re.compile(
    r"^(?P<arch>x86_64|aarch64)-unknown-linux-(?P<libc>gnu|musl)"
    r"(?:\.(?P<major>\d+)\.(?P<minor>\d+))?$"
)


@dataclass(frozen=True, order=True)
class Target:
    """A Linux target Lambda can run: x86_64/aarch64, gnu/musl, optionally a pinned glibc."""

    arch: Arch
    libc: Libc
    glibc: GlibcVersion | None = None  # explicit ".2.xx" suffix given by the user

    @property
    def triple(self) -> str:
        """The rustc triple, without any glibc suffix (what cargo names its target dir)."""
        return f"{self.arch.rust_arch}-unknown-linux-{self.libc}"

    @property
    def env_name(self) -> str:
        """The triple as cargo spells it in variable names (``CARGO_TARGET_<NAME>_LINKER``)."""
        return self.triple.upper().replace("-", "_")

    def zig_triple(self, runtime: Runtime) -> str:
        """The cargo-zigbuild triple: gnu targets pinned to the runtime's glibc unless explicit."""
        if self.libc is not Libc.GNU:
            return self.triple
        major, minor = self.glibc or runtime.glibc
        return f"{self.triple}.{major}.{minor}"

    def __str__(self) -> str:
        if self.glibc is None:
            return self.triple
        return f"{self.triple}.{self.glibc[0]}.{self.glibc[1]}"

    @classmethod
    def parse(cls, value: str) -> Target:
        match = _TRIPLE.match(value.strip())
        if match is None:
            raise UnsupportedTargetError(
                f"unsupported target {value!r}: Lambda runs Linux on x86_64 and arm64 only",
                "use --x86-64, --arm64, or one of x86_64-unknown-linux-gnu, "
                "aarch64-unknown-linux-gnu, x86_64-unknown-linux-musl, "
                "aarch64-unknown-linux-musl (gnu targets may carry a glibc suffix like .2.34)",
            )
        arch = Arch.X86_64 if match["arch"] == "x86_64" else Arch.ARM64
        glibc = None
        if match["major"] is not None:
            if match["libc"] != "gnu":
                raise UnsupportedTargetError(
                    f"unsupported target {value!r}: a glibc version suffix only applies to gnu "
                    "targets",
                    f"drop the suffix: {arch.rust_arch}-unknown-linux-musl",
                )
            glibc = (int(match["major"]), int(match["minor"]))
        return cls(arch=arch, libc=Libc(match["libc"]), glibc=glibc)

    @classmethod
    def for_arch(cls, arch: Arch) -> Target:
        return cls(arch=arch, libc=Libc.GNU)


def host_arch() -> Arch | None:
    """The host's Lambda architecture when the host is Linux on x86_64/aarch64, else None."""
    if platform.system() != "Linux":
        return None
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64"):
        return Arch.X86_64
    if machine in ("aarch64", "arm64"):
        return Arch.ARM64
    return None


def default_target() -> Target:
    """Host architecture when the host is Linux x86_64/aarch64, else x86_64."""
    return Target.for_arch(host_arch() or Arch.X86_64)


def version_str(version: GlibcVersion) -> str:
    return f"{version[0]}.{version[1]}"
