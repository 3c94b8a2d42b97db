"""Release optimizations as cargo ``--config`` overrides, never overriding what the user set.

Release builds get strip=symbols, lto=thin, codegen-units=1, panic=abort and a target-cpu for
Lambda's hardware (haswell / neoverse-n1). A setting the user already made (workspace
Cargo.toml profile, a .cargo/config.toml profile, ``CARGO_PROFILE_RELEASE_*``) is left alone.

``target-cpu=native`` never reaches the build, in any profile: native means "this build
machine", and a binary tuned for it can die with SIGILL on Lambda. The same holds for C code
built by ``*-sys`` crates: ``-march=native`` / ``-mcpu=native`` / ``-mtune=native`` are taken out
of the C flags the cc crate (and aws-lc-sys, cmake) read — ``CFLAGS``, ``CXXFLAGS``,
``CFLAGS_<target>``, ``TARGET_CFLAGS``, ... from the environment or a config ``[env]`` table.
(cargo-zigbuild turns rustc's target-cpu into zig cc's ``-mcpu``, so cleaning rustflags also
cleans the zig wrapper.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .project import read_toml
from .targets import Arch, Target

#: profile key → the value release builds get unless the user set the key
RELEASE_SETTINGS: Mapping[str, Any] = {
    "strip": "symbols",
    "lto": "thin",
    "codegen-units": 1,
    "panic": "abort",
}

BASELINE_CPU = {Arch.X86_64: "x86-64", Arch.ARM64: "generic"}
#: A CPU name rustc accepts for both architectures: the reset for a ``target.'cfg(...)'`` table,
#: which may apply to either.
NEUTRAL_CPU = "generic"
#: C compiler flags that mean "the build machine's CPU" (``-mcpu=native+crc`` counts too).
NATIVE_C_FLAGS = frozenset({"-march=native", "-mcpu=native", "-mtune=native"})


@dataclass(frozen=True)
class CargoOverrides:
    config: tuple[str, ...]  # values for repeated ``--config``
    env: Mapping[str, str]  # environment replacements (sanitized RUSTFLAGS)
    notes: tuple[str, ...]  # what was skipped or changed, for the reporter

    def args(self) -> list[str]:
        return [arg for value in self.config for arg in ("--config", value)]


def config_files(start: Path, environ: Mapping[str, str]) -> list[Path]:
    """Cargo's config files that apply to a build run in ``start``, lowest precedence first."""
    found: list[Path] = []
    for directory in (start, *start.parents):
        for name in ("config.toml", "config"):
            candidate = directory / ".cargo" / name
            if candidate.is_file():
                found.append(candidate)
                break
    cargo_home = Path(environ.get("CARGO_HOME") or Path.home() / ".cargo")
    for name in ("config.toml", "config"):
        candidate = cargo_home / name
        if candidate.is_file() and candidate not in found:
            found.append(candidate)
            break
    return list(reversed(found))


def _get(table: Mapping[str, Any], *keys: str) -> Any:
    node: Any = table
    for key in keys:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def _profile_env(profile: str, key: str) -> str:
    return f"CARGO_PROFILE_{profile.upper().replace('-', '_')}_{key.upper().replace('-', '_')}"


def user_profile_settings(
    profile: str, manifests: Sequence[Path], configs: Sequence[Path], environ: Mapping[str, str]
) -> dict[str, str]:
    """profile key → where the user sets it (for the keys we would override)."""
    found: dict[str, str] = {}
    for source in [*manifests, *configs]:
        section = _get(read_toml(source), "profile", profile) or {}
        for key in RELEASE_SETTINGS:
            if key in section:
                found[key] = str(source)
    for key in RELEASE_SETTINGS:
        var = _profile_env(profile, key)
        if var in environ:
            found[key] = var
    return found


def _strip_native(flags: Sequence[str]) -> tuple[list[str], bool, bool]:
    """(flags without target-cpu=native, whether native was removed, whether a cpu remains)."""
    out: list[str] = []
    removed = has_cpu = False
    i = 0
    while i < len(flags):
        flag = flags[i]
        value = None
        if flag in ("-C", "--codegen") and i + 1 < len(flags):
            value, step = flags[i + 1], 2
        elif flag.startswith("--codegen="):
            value, step = flag[len("--codegen=") :], 1
        elif flag.startswith("-C") and len(flag) > 2:
            value, step = flag[2:], 1
        else:
            step = 1
        if value is not None and value.replace(" ", "").startswith("target-cpu="):
            if value.split("=", 1)[1].strip() == "native":
                removed = True
                i += step
                continue
            has_cpu = True
        out.extend(flags[i : i + step])
        i += step
    return out, removed, has_cpu


def is_c_flags_var(name: str) -> bool:
    """CFLAGS, CXXFLAGS, CFLAGS_<target>, TARGET_CFLAGS, AWS_LC_SYS_CFLAGS, ASMFLAGS, ..."""
    upper = name.upper()
    return any(kind in upper for kind in ("CFLAGS", "CXXFLAGS", "ASMFLAGS"))


def strip_native_c_flags(value: str) -> tuple[str, list[str]]:
    """(the flags without host-CPU flags, the flags removed)."""
    kept: list[str] = []
    removed: list[str] = []
    for flag in value.split():
        (removed if flag.split("+", 1)[0] in NATIVE_C_FLAGS else kept).append(flag)
    return " ".join(kept), removed


def _c_flag_overrides(
    environ: Mapping[str, str], file_tables: Sequence[tuple[Path, Mapping[str, Any]]]
) -> tuple[list[str], dict[str, str], list[str]]:
    """Host-CPU C flags taken out of the environment and of config ``[env]`` tables.

    Returns (``--config`` values, environment replacements, notes). An ``[env]`` entry is
    overridden with a ``--config`` of the same shape (cargo refuses an inline table there);
    one that cargo would not apply because the variable is set and not forced is left alone.
    """
    config: list[str] = []
    env: dict[str, str] = {}
    notes: list[str] = []
    for name in sorted(environ):
        if not is_c_flags_var(name):
            continue
        cleaned, removed = strip_native_c_flags(environ[name])
        if removed:
            env[name] = cleaned
            notes.append(
                f"removed {' '.join(removed)} from {name}: Lambda's CPU is not this machine's"
            )
    effective: dict[str, tuple[Path, Any]] = {}
    for path, table in file_tables:  # lowest precedence first: the last definition wins
        for name, entry in (_get(table, "env") or {}).items():
            effective[name] = (path, entry)
    for name, (path, entry) in sorted(effective.items()):
        value = entry.get("value") if isinstance(entry, Mapping) else entry
        if not is_c_flags_var(name) or not isinstance(value, str):
            continue
        forced = isinstance(entry, Mapping) and bool(entry.get("force"))
        cleaned, removed = strip_native_c_flags(value)
        if not removed or (name in environ and not forced):
            continue
        key = f"env.{json.dumps(name)}" + (".value" if isinstance(entry, Mapping) else "")
        config.append(f"{key}={json.dumps(cleaned)}")
        notes.append(
            f"removed {' '.join(removed)} from [env] {name} of {path}: "
            "Lambda's CPU is not this machine's"
        )
    return config, env, notes


def _cfg_table_overrides(file_tables: Sequence[tuple[Path, Mapping[str, Any]]]) -> list[str]:
    """``target.'cfg(...)'.rustflags`` with target-cpu=native: a reset appended to that table.

    cargo puts cfg tables' flags after ``target.<triple>``'s, so an override there would come
    too early for rustc; arrays merge, so a ``--config`` for the same table lands after the
    native. cargo-zigbuild, which turns target-cpu into zig cc's ``-mcpu``, does not see that
    one but takes ``target.<triple>``'s cpu first: the caller sets that too.
    """
    keys: dict[str, None] = {}
    for _, table in file_tables:
        for key, value in (_get(table, "target") or {}).items():
            flags = value.get("rustflags") if isinstance(value, Mapping) else None
            if not key.startswith("cfg(") or flags is None:
                continue
            flags = flags.split() if isinstance(flags, str) else list(flags)
            if _strip_native(flags)[1]:
                keys[key] = None
    return [
        f"target.{json.dumps(key)}.rustflags={json.dumps(['-C', f'target-cpu={NEUTRAL_CPU}'])}"
        for key in keys
    ]


def plan_overrides(
    *,
    optimize: bool,
    profile: str,
    targets: Sequence[Target],
    workspace_manifest: Path,
    cwd: Path,
    environ: Mapping[str, str],
) -> CargoOverrides:
    config: list[str] = []
    notes: list[str] = []
    env: dict[str, str] = {}
    configs = config_files(cwd, environ)
    file_tables = [(path, read_toml(path)) for path in configs]

    if optimize:
        already = user_profile_settings(profile, [workspace_manifest], configs, environ)
        for key, value in RELEASE_SETTINGS.items():
            if key in already:
                notes.append(f"keeping your profile.{profile}.{key} from {already[key]}")
            else:
                config.append(f"profile.{profile}.{key}={json.dumps(value)}")

    c_config, c_env, c_notes = _c_flag_overrides(environ, file_tables)
    config += c_config
    env.update(c_env)
    notes += c_notes

    # rustflags: cargo uses exactly one source, first of: CARGO_ENCODED_RUSTFLAGS, RUSTFLAGS,
    # target.<triple>.rustflags (+ CARGO_TARGET_<T>_RUSTFLAGS) and target.'cfg(..)'.rustflags,
    # build.rustflags.
    if "CARGO_ENCODED_RUSTFLAGS" in environ or "RUSTFLAGS" in environ:
        env.update(_environment_rustflags(optimize, targets, environ, notes))
        return CargoOverrides(tuple(config), env, tuple(notes))

    file_config, file_notes = _file_rustflags_overrides(optimize, targets, file_tables, environ)
    return CargoOverrides(tuple(config + file_config), env, tuple(notes + file_notes))


def _environment_rustflags(
    optimize: bool, targets: Sequence[Target], environ: Mapping[str, str], notes: list[str]
) -> dict[str, str]:
    """RUSTFLAGS (or CARGO_ENCODED_RUSTFLAGS) without target-cpu=native, plus the target's cpu
    for a one-target release build: the replacement variable, if anything changed."""
    var = "CARGO_ENCODED_RUSTFLAGS" if "CARGO_ENCODED_RUSTFLAGS" in environ else "RUSTFLAGS"
    raw = environ[var]
    flags = raw.split("\x1f") if var == "CARGO_ENCODED_RUSTFLAGS" else raw.split()
    flags = [f for f in flags if f]
    cleaned, removed, has_cpu = _strip_native(flags)
    if removed:
        notes.append(f"removed target-cpu=native from {var}: Lambda's CPU is not this machine's")
    if optimize and not has_cpu:
        if len(targets) == 1:
            cleaned += ["-C", f"target-cpu={targets[0].arch.target_cpu}"]
        else:
            notes.append(f"{var} is set, so no per-architecture target-cpu is added")
    if removed or cleaned != flags:
        sep = "\x1f" if var == "CARGO_ENCODED_RUSTFLAGS" else " "
        return {var: sep.join(cleaned)}
    return {}


def _file_rustflags_overrides(
    optimize: bool,
    targets: Sequence[Target],
    file_tables: Sequence[tuple[Path, Mapping[str, Any]]],
    environ: Mapping[str, str],
) -> tuple[list[str], list[str]]:
    """(``--config`` values, notes) for rustflags from config files and CARGO_* variables."""
    config: list[str] = []
    notes: list[str] = []
    cfg_resets = _cfg_table_overrides(file_tables)
    if cfg_resets:
        notes.append(
            "overrode target-cpu=native in target.'cfg(...)'.rustflags with "
            f"target-cpu={NEUTRAL_CPU}; to tune for Lambda set it per triple instead"
        )
    build_flags: list[str] = []
    for _, table in file_tables:
        value = _get(table, "build", "rustflags")
        build_flags += value.split() if isinstance(value, str) else list(value or [])
    if "CARGO_BUILD_RUSTFLAGS" in environ:
        build_flags = environ["CARGO_BUILD_RUSTFLAGS"].split()

    for target in targets:
        target_flags: list[str] = []
        for _, table in file_tables:
            value = _get(table, "target", target.triple, "rustflags")
            target_flags += value.split() if isinstance(value, str) else list(value or [])
        env_var = f"CARGO_TARGET_{target.env_name}_RUSTFLAGS"
        if env_var in environ:
            target_flags += environ[env_var].split()
        wanted_cpu = target.arch.target_cpu if optimize else BASELINE_CPU[target.arch]
        if target_flags:
            # Arrays merge; ours come last and rustc keeps the last -C target-cpu.
            _, removed, has_cpu = _strip_native(target_flags)
            if removed or (optimize and not has_cpu) or cfg_resets:
                config.append(_rustflags(target, ["-C", f"target-cpu={wanted_cpu}"]))
            if removed:
                notes.append(f"overrode target-cpu=native for {target.triple} with {wanted_cpu}")
            continue
        # target.<triple>.rustflags would shadow build.rustflags: carry those over.
        cleaned, removed, has_cpu = _strip_native(build_flags)
        if removed:
            notes.append("removed target-cpu=native from build.rustflags for the Lambda build")
        if (optimize and not has_cpu) or removed or cfg_resets:
            config.append(_rustflags(target, [*cleaned, "-C", f"target-cpu={wanted_cpu}"]))
    return config + cfg_resets, notes


def _rustflags(target: Target, flags: Sequence[str]) -> str:
    return f"target.{target.triple}.rustflags={json.dumps(list(flags))}"
