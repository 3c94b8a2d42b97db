"""What an ELF executable needs from the machine that runs it (read with pyelftools)."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from elftools.common.exceptions import ELFError
from elftools.construct.core import ConstructError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection
from elftools.elf.segments import InterpSegment

from .errors import ArtifactError
from .targets import Arch, GlibcVersion

_GLIBC = re.compile(r"^GLIBC_(\d+)\.(\d+)(?:\.\d+)?$")


@dataclass(frozen=True)
class ElfInfo:
    machine: str  # pyelftools' e_machine name, e.g. "EM_AARCH64"
    arch: Arch | None
    file_type: str  # "ET_EXEC" | "ET_DYN" | ...
    interpreter: str | None
    needed: tuple[str, ...]
    glibc_versions: tuple[GlibcVersion, ...]
    elf_class: int  # 32 | 64
    little_endian: bool
    osabi: str  # pyelftools' EI_OSABI name
    entry: int  # e_entry
    #: Every symbol version required, as (library, version): ("libc.so.6", "GLIBC_2.34").
    version_needs: tuple[tuple[str, str], ...]

    @property
    def static(self) -> bool:
        return self.interpreter is None and not self.needed

    @property
    def max_glibc(self) -> GlibcVersion | None:
        return max(self.glibc_versions, default=None)


def read_elf(path: Path) -> ElfInfo:
    try:
        with path.open("rb") as fh:
            return _parse(fh, str(path))
    except OSError as exc:
        raise ArtifactError(
            f"{path} is not a readable ELF file: {exc.strerror or exc}",
            "check that it exists and can be read",
        ) from exc


def read_elf_stream(stream: IO[bytes], name: str) -> ElfInfo:
    """Like `read_elf`, from a seekable binary stream (e.g. a zip member copied to memory)."""
    return _parse(stream, name)


def _parse(fh: IO[bytes], name: str) -> ElfInfo:
    try:
        elf = ELFFile(fh)
        machine = str(elf["e_machine"])
        interpreter = None
        needed: list[str] = []
        versions: set[GlibcVersion] = set()
        version_needs: list[tuple[str, str]] = []
        for segment in elf.iter_segments():
            if isinstance(segment, InterpSegment):
                interpreter = segment.get_interp_name()
        for section in elf.iter_sections():
            if isinstance(section, DynamicSection):
                for tag in section.iter_tags():
                    if tag.entry.d_tag == "DT_NEEDED":
                        needed.append(str(tag.needed))  # type: ignore[attr-defined]
            elif isinstance(section, GNUVerNeedSection):
                for verneed, aux in section.iter_versions():
                    for entry in aux:
                        version_needs.append((str(verneed.name), str(entry.name)))
                        match = _GLIBC.match(entry.name)
                        if match:
                            versions.add((int(match[1]), int(match[2])))
        file_type = str(elf["e_type"])
        elf_class = int(elf.elfclass)
        little_endian = bool(elf.little_endian)
        osabi = str(elf.header["e_ident"]["EI_OSABI"])
        entry_point = int(elf["e_entry"])
    except (ELFError, OSError, ConstructError, struct.error, ValueError) as exc:
        raise ArtifactError(
            f"{name} is not a readable ELF file: {exc}",
            "use the executable rustlambda build wrote (target/lambda/<bin>/bootstrap)",
        ) from exc
    arch = {a.elf_machine: a for a in Arch}.get(machine)
    return ElfInfo(
        machine,
        arch,
        file_type,
        interpreter,
        tuple(needed),
        tuple(sorted(versions)),
        elf_class=elf_class,
        little_endian=little_endian,
        osabi=osabi,
        entry=entry_point,
        version_needs=tuple(version_needs),
    )
