"""A recording CommandRunner and tiny workspaces on disk for unit tests."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rustlambda.compilers.zigenv import RECORD_VAR
from rustlambda.util.cmd import Completed

#: A real ELF executable to stand in for cargo's output (read, never run).
REAL_ELF = Path("/bin/true").read_bytes()


@dataclass
class Call:
    argv: tuple[str, ...]
    env: dict[str, str]
    cwd: Path | None


@dataclass
class FakeRunner:
    """Answers ``cargo metadata``, ``rustc --print target-libdir`` and ``rustup target add``;
    records the build command and, if it succeeds, leaves the binaries cargo would leave."""

    metadata: dict[str, Any]
    std_triples: set[str] = field(
        default_factory=lambda: {"x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"}
    )
    libdir_root: Path | None = None
    rustup_installs: bool = False
    build_code: int = 0
    build_output: Sequence[str] = ("   Compiling demo v0.1.0", "    Finished release")
    produce: Callable[[Sequence[str]], None] | None = None
    calls: list[Call] = field(default_factory=list)
    builds: list[Call] = field(default_factory=list)
    #: the variables cargo-zigbuild adds when it runs rustlambda's recorder (None: it fails)
    zig_record: dict[str, str] | None = None
    recordings: int = 0

    def run(
        self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None
    ) -> Completed:
        self.calls.append(Call(tuple(argv), dict(env), cwd))
        if "metadata" in argv:
            return Completed(tuple(argv), 0, json.dumps(self.metadata), "")
        if "target-libdir" in argv:
            triple = argv[argv.index("--target") + 1]
            assert self.libdir_root is not None
            libdir = self.libdir_root / triple
            libdir.mkdir(parents=True, exist_ok=True)
            if triple in self.std_triples:
                (libdir / "libstd-abc123.rlib").write_bytes(b"")
            return Completed(tuple(argv), 0, f"{libdir}\n", "")
        if "zigbuild" in argv and RECORD_VAR in env:
            return self._record_zigbuild(argv, env)
        if argv[1:3] == ("target", "add") or list(argv[1:3]) == ["target", "add"]:
            if self.rustup_installs:
                self.std_triples.add(argv[3])
                return Completed(tuple(argv), 0, "", "")
            return Completed(tuple(argv), 1, "", "error: could not download component")
        raise AssertionError(f"unexpected command {argv}")

    def _record_zigbuild(self, argv: Sequence[str], env: Mapping[str, str]) -> Completed:
        """What cargo-zigbuild does with rustlambda's recorder as its cargo: the recorder saves
        the cargo command and environment (here: `zig_record`'s additions). Without
        `zig_record`, cargo-zigbuild fails, and rustlambda runs it as such."""
        if self.zig_record is None:
            return Completed(tuple(argv), 1, "", "error: recording not simulated")
        self.recordings += 1
        args = ["build"] + [a.rsplit(".2.", 1)[0] if ".2." in a else a for a in argv[2:]]
        recorded = {"argv": args, "env": {**env, **self.zig_record}}
        Path(env[RECORD_VAR]).write_text(json.dumps(recorded))
        return Completed(tuple(argv), 0, "", "")

    def stream(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path | None = None,
        on_line: Callable[[str], None],
    ) -> int:
        call = Call(tuple(argv), dict(env), cwd)
        self.calls.append(call)
        self.builds.append(call)
        for line in self.build_output:
            on_line(line)
        if self.build_code == 0 and self.produce is not None:
            self.produce(argv)
        return self.build_code


def write_workspace(
    root: Path,
    packages: Mapping[str, Sequence[str]],
    *,
    workspace_toml: str = "",
    package_toml: Mapping[str, str] | None = None,
    examples: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """Write Cargo.toml files and return the ``cargo metadata --no-deps`` JSON for them."""
    members = ", ".join(f'"{name}"' for name in packages)
    (root / "Cargo.toml").write_text(
        f'[workspace]\nmembers = [{members}]\nresolver = "2"\n{workspace_toml}\n'
    )
    pkgs = []
    ws_meta = (
        tomllib.loads((root / "Cargo.toml").read_text()).get("workspace", {}).get("metadata", {})
    )
    for name, bins in packages.items():
        directory = root / name
        directory.mkdir(parents=True, exist_ok=True)
        extra = (package_toml or {}).get(name, "")
        (directory / "Cargo.toml").write_text(
            f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n{extra}\n'
        )
        meta = tomllib.loads((directory / "Cargo.toml").read_text()).get("package", {})
        targets = [
            {"name": b, "kind": ["bin"], "src_path": str(directory / "src/main.rs")} for b in bins
        ]
        targets += [
            {"name": e, "kind": ["example"], "src_path": str(directory / "ex.rs")}
            for e in (examples or {}).get(name, [])
        ]
        if not bins:
            targets.append({"name": name, "kind": ["lib"], "src_path": str(directory / "lib.rs")})
        pkgs.append(
            {
                "name": name,
                "id": f"path+file://{directory}#{name}@0.1.0",
                "manifest_path": str(directory / "Cargo.toml"),
                "targets": targets,
                "metadata": meta.get("metadata"),
            }
        )
    return {
        "packages": pkgs,
        "workspace_members": [p["id"] for p in pkgs],
        "workspace_default_members": [p["id"] for p in pkgs],
        "workspace_root": str(root),
        "target_directory": str(root / "target"),
        "metadata": ws_meta or None,
        "version": 1,
    }


def produce_binaries(target_dir: Path) -> Callable[[Sequence[str]], None]:
    """What cargo leaves: target/<triple>/<profile>/<bin> for every --target and --bin."""

    def produce(argv: Sequence[str]) -> None:
        triples = [argv[i + 1].split(".")[0] for i, a in enumerate(argv) if a == "--target"]
        bins = [argv[i + 1] for i, a in enumerate(argv) if a == "--bin"]
        examples = [argv[i + 1] for i, a in enumerate(argv) if a == "--example"]
        profile = "release" if "--release" in argv else argv[argv.index("--profile") + 1]
        profile_dir = {"dev": "debug", "release": "release"}.get(profile, profile)
        for triple in triples:
            out = target_dir / triple / profile_dir
            for name in bins:
                (out / name).parent.mkdir(parents=True, exist_ok=True)
                (out / name).write_bytes(REAL_ELF)
            for name in examples:
                (out / "examples" / name).parent.mkdir(parents=True, exist_ok=True)
                (out / "examples" / name).write_bytes(REAL_ELF)

    return produce
