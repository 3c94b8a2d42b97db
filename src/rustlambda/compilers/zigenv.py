"""Run cargo directly with the environment cargo-zigbuild would give it, derived once.

On every run cargo-zigbuild probes zig (``zig cc -E -v`` and ``zig c++ -E -v`` through its
wrapper scripts, ``rustc -vV``, ``zig version``: over 100 ms of a no-op build) only to compute
the same linker/CC/CXX/AR/RANLIB/BINDGEN/CMake variables and cargo arguments. We let it compute
them once, with ``CARGO`` pointing at a recorder (a tiny script that saves its arguments and
environment and exits), and afterwards run cargo ourselves with what was recorded.

The recording is keyed on everything cargo-zigbuild reads: its own command line (targets with
their glibc, profile, features, ``--config`` flags, selection), the build variables of the
environment (``RUSTFLAGS``, ``CARGO_*``, ``CC*``, ``PATH``, ...; `fingerprint.build_env`), the
cargo config files that apply, the toolchain's identity, and the stamps of cargo-zigbuild and
zig. It is used only while every file it names (the wrapper scripts in cargo-zigbuild's cache)
still exists. When recording fails for any reason the caller runs cargo-zigbuild as usual.

With a compile cache, `for_compile_cache` makes cargo's environment the same whichever Lambda
targets a build selects (sccache's Rust keys hash every ``CARGO_*`` variable rustc sees).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..cache import CacheFile
from ..cache import fingerprint as fp
from ..optimize import config_files
from ..targets import Arch, Libc, Target
from ..util.cmd import CommandRunner
from .cargo import linker_env_var

RECORD_VAR = "RUSTLAMBDA_ZIGBUILD_RECORD"
_RECORDER = """#!{python} -S
import json, os, sys
with open(os.environ["{var}"], "w", encoding="utf-8") as out:
    json.dump({{"argv": sys.argv[1:], "env": dict(os.environ)}}, out)
"""


@dataclass(frozen=True)
class DirectCommand:
    argv: tuple[str, ...]
    env: Mapping[str, str]
    cached: bool  # False: recorded just now
    key: str  # the record's key in the cache


def cache_key(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path, cargo: str, rustc: str
) -> str:
    zig = env.get("CARGO_ZIGBUILD_ZIG_PATH", "")
    return fp.key(
        "zigbuild-env",
        list(argv),
        fp.build_env(env),
        fp.stamps(config_files(cwd, env)),
        fp.toolchain(cargo, rustc, env, cwd),
        fp.stamps([Path(argv[0]), Path(zig)]),
    )


def direct_command(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    cwd: Path,
    cargo: str,
    rustc: str,
    cache: CacheFile,
    runner: CommandRunner,
) -> DirectCommand | None:
    """The cargo command and environment ``argv`` (a cargo-zigbuild command) amounts to, or None
    when it cannot be derived (then run ``argv`` itself)."""
    key = cache_key(argv, env, cwd, cargo, rustc)
    value = cache.get(key)
    found = _from_entry(value, cargo, env)
    if found is not None:
        return DirectCommand(found[0], found[1], cached=True, key=key)
    entry = _record(argv, env, cwd, cache.path.parent, runner)
    if entry is None:
        return None
    cache.put(key, entry)
    found = _from_entry(entry, cargo, env)
    return None if found is None else DirectCommand(found[0], found[1], cached=False, key=key)


def _from_entry(
    value: Any, cargo: str, env: Mapping[str, str]
) -> tuple[tuple[str, ...], dict[str, str]] | None:
    try:
        args = [str(a) for a in value["argv"]]
        added = {str(k): str(v) for k, v in value["env"].items()}
        removed = [str(k) for k in value["removed"]]
        files = [Path(str(f)) for f in value["files"]]
    except (TypeError, KeyError, AttributeError):
        return None  # missing or malformed
    if not all(f.exists() for f in files):
        return None  # cargo-zigbuild's wrappers were removed: record again
    result = {k: v for k, v in env.items() if k not in removed}
    result.update(added)
    return (cargo, *args), result


def _record(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path, directory: Path, runner: CommandRunner
) -> dict[str, Any] | None:
    """Run cargo-zigbuild with the recorder as its cargo; what it would have run, as an entry."""
    out = directory / f"zigbuild-record-{os.getpid()}.json"
    recorder = directory / "zigbuild-recorder"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        text = _RECORDER.format(python=sys.executable, var=RECORD_VAR)
        if not recorder.is_file() or recorder.read_text(encoding="utf-8") != text:
            tmp = directory / f".zigbuild-recorder-{os.getpid()}"
            tmp.write_text(text, encoding="utf-8")
            tmp.chmod(0o755)
            os.replace(tmp, recorder)
        out.unlink(missing_ok=True)
        done = runner.run(argv, env={**env, "CARGO": str(recorder), RECORD_VAR: str(out)}, cwd=cwd)
        if done.returncode != 0:
            return None
        recorded = json.loads(out.read_text(encoding="utf-8"))
        args = [str(a) for a in recorded["argv"]]
        seen = {str(k): str(v) for k, v in recorded["env"].items()}
    except (OSError, ValueError, TypeError, KeyError):
        return None
    finally:
        with contextlib.suppress(OSError):  # e.g. the target dir is a file: cargo will say so
            out.unlink(missing_ok=True)
    ignore = {"CARGO", RECORD_VAR}
    added = {k: v for k, v in seen.items() if k not in ignore and env.get(k) != v}
    removed = [k for k in env if k not in seen and k not in ignore]
    files = sorted({v for v in added.values() if os.path.isabs(v) and os.path.exists(v)})
    return {"argv": args, "env": added, "removed": removed, "files": files}


_ZIG_TARGET = re.compile(r"^(x86_64|aarch64)-linux-gnu(?P<glibc>\.[0-9.]+)?$")


def _zig_target_var(target: Target) -> str:
    """cargo-zigbuild's name for ``target``'s zig target (``CARGO_ZIGBUILD_TARGET_<triple>``)."""
    return f"CARGO_ZIGBUILD_TARGET_{target.triple.replace('-', '_')}"


def for_compile_cache(
    argv: Sequence[str], env: Mapping[str, str]
) -> tuple[tuple[str, ...], dict[str, str]]:
    """``argv`` and ``env`` (a direct cargo command) rewritten so that rustc sees the same
    ``CARGO_*`` variables whichever Lambda targets are selected.

    sccache hashes every ``CARGO_*`` variable into a Rust crate's key, and cargo-zigbuild names
    each selected target in two of them: ``CARGO_TARGET_<T>_LINKER`` (moved to cargo's
    ``--config target.<t>.linker``, which gives rustc the same ``-C linker``) and
    ``CARGO_ZIGBUILD_TARGET_<t>`` (the zig target for build scripts that do not go through the cc
    crate: set for both Lambda architectures, with the same glibc; the unsuffixed
    ``CARGO_ZIGBUILD_TARGET`` of a one-target build is dropped, as two targets have it); and
    ``CARGO_TARGET_APPLIES_TO_HOST=false``, which it sets when the host's target is selected,
    is set for any Lambda target, so host artifacts are built alike.
    Without this, a build of one architecture and one of both share no Rust entry; with it,
    x86_64's entries are shared (an arm64-only build shares part of its own: README)."""
    args = list(argv)
    out = dict(env)
    if "build" not in args:
        return tuple(args), out
    targets = [Target.parse(args[i + 1]) for i, arg in enumerate(args[:-1]) if arg == "--target"]
    configs: list[str] = []
    for target in targets:
        linker = out.pop(linker_env_var(target), None)
        if linker is not None:
            configs += ["--config", f"target.{target.triple}.linker={json.dumps(linker)}"]
    for target in [t for t in targets if t.libc is Libc.GNU]:
        found = _ZIG_TARGET.match(out.get(_zig_target_var(target), ""))
        if found is None:
            continue
        for arch in Arch:  # both Lambda architectures, with the same glibc
            both = Target.for_arch(arch)
            out.setdefault(
                _zig_target_var(both), f"{arch.rust_arch}-linux-gnu{found['glibc'] or ''}"
            )
    # with one target cargo-zigbuild also sets the unsuffixed name, which two targets do not
    out.pop("CARGO_ZIGBUILD_TARGET", None)
    if "CARGO_TARGET_APPLIES_TO_HOST" in out or any(t.libc is Libc.GNU for t in targets):
        # set when the host's own target is selected: host artifacts (build scripts,
        # proc-macros) are built the same way whichever targets are selected
        out.setdefault("CARGO_TARGET_APPLIES_TO_HOST", "false")
        out.setdefault("CARGO_UNSTABLE_TARGET_APPLIES_TO_HOST", "true")
    at = args.index("build") + 1
    return tuple(args[:at] + configs + args[at:]), out
