"""Release optimizations as cargo ``--config`` overrides, never overriding what the user set.

Release builds get strip=symbols, lto=thin, codegen-units=1, panic=abort and a target-cpu for
Lambda's hardware (haswell / neoverse-n1). A setting the user already made (workspace
Cargo.toml profile, a .cargo/config.toml profile, ``CARGO_PROFILE_RELEASE_*``) is left alone.

``target-cpu=native`` never reaches the build, in any profile: native means "this build
machine", and a binary tuned for it can die with SIGILL on Lambda.
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
        if flag == "-C" and i + 1 < len(flags):
            value, step = flags[i + 1], 2
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
    configs = config_files(cwd, environ)

    if optimize:
        already = user_profile_settings(profile, [workspace_manifest], configs, environ)
        for key, value in RELEASE_SETTINGS.items():
            if key in already:
                notes.append(f"keeping your profile.{profile}.{key} from {already[key]}")
            else:
                config.append(f"profile.{profile}.{key}={json.dumps(value)}")

    # rustflags: cargo uses exactly one source, first of: CARGO_ENCODED_RUSTFLAGS, RUSTFLAGS,
    # target.<triple>.rustflags (+ CARGO_TARGET_<T>_RUSTFLAGS), build.rustflags.
    if "CARGO_ENCODED_RUSTFLAGS" in environ or "RUSTFLAGS" in environ:
        env = _environment_rustflags(optimize, targets, environ, notes)
        return CargoOverrides(tuple(config), env, tuple(notes))
    config += _config_rustflags(optimize, targets, configs, environ, notes)
    return CargoOverrides(tuple(config), {}, tuple(notes))


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


def _config_rustflags(
    optimize: bool,
    targets: Sequence[Target],
    configs: Sequence[Path],
    environ: Mapping[str, str],
    notes: list[str],
) -> list[str]:
    """``--config target.<triple>.rustflags=[...]`` values: each target's cpu (the release
    build's, or the baseline instead of native), keeping the rustflags cargo would use."""
    config: list[str] = []
    file_tables = [read_toml(path) for path in configs]
    build_flags: list[str] = []
    for table in file_tables:
        value = _get(table, "build", "rustflags")
        build_flags += value.split() if isinstance(value, str) else list(value or [])
    if "CARGO_BUILD_RUSTFLAGS" in environ:
        build_flags = environ["CARGO_BUILD_RUSTFLAGS"].split()

    for target in targets:
        target_flags: list[str] = []
        for table in file_tables:
            value = _get(table, "target", target.triple, "rustflags")
            target_flags += value.split() if isinstance(value, str) else list(value or [])
        env_var = f"CARGO_TARGET_{target.env_name}_RUSTFLAGS"
        if env_var in environ:
            target_flags += environ[env_var].split()
        wanted_cpu = target.arch.target_cpu if optimize else BASELINE_CPU[target.arch]
        if target_flags:
            # Arrays merge; ours come last and rustc keeps the last -C target-cpu.
            _, removed, has_cpu = _strip_native(target_flags)
            if removed or (optimize and not has_cpu):
                config.append(_rustflags(target, ["-C", f"target-cpu={wanted_cpu}"]))
            if removed:
                notes.append(f"overrode target-cpu=native for {target.triple} with {wanted_cpu}")
            continue
        # target.<triple>.rustflags would shadow build.rustflags: carry those over.
        cleaned, removed, has_cpu = _strip_native(build_flags)
        if removed:
            notes.append("removed target-cpu=native from build.rustflags for the Lambda build")
        if (optimize and not has_cpu) or removed:
            config.append(_rustflags(target, [*cleaned, "-C", f"target-cpu={wanted_cpu}"]))
    return config


def _rustflags(target: Target, flags: Sequence[str]) -> str:
    return f"target.{target.triple}.rustflags={json.dumps(list(flags))}"
