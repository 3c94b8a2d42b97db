"""Finding cargo, rustc, zig and cargo-zigbuild, and making sure a target's std is installed."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .cache import CacheFile, fingerprint
from .errors import MissingTargetStdError, ToolNotFoundError, ZigNotFoundError
from .reporting import Reporter
from .util.cmd import CommandRunner, Completed, which


@dataclass(frozen=True)
class Toolchain:
    cargo: str
    rustc: str


def find_toolchain(env: Mapping[str, str]) -> Toolchain:
    """cargo and rustc as cargo itself would pick them (``CARGO``/``RUSTC`` win over PATH)."""
    cargo = env.get("CARGO") or which("cargo", env)
    rustc = env.get("RUSTC") or which("rustc", env)
    if not cargo:
        raise ToolNotFoundError(
            "cargo was not found on PATH",
            "install Rust with rustup (https://rustup.rs) or set CARGO to cargo's path",
        )
    if not rustc:
        raise ToolNotFoundError(
            "rustc was not found on PATH",
            "install Rust with rustup (https://rustup.rs) or set RUSTC to rustc's path",
        )
    return Toolchain(cargo=cargo, rustc=rustc)


def find_zig(env: Mapping[str, str]) -> Path:
    """zig from ``CARGO_ZIGBUILD_ZIG_PATH``, else the ziglang wheel installed with us, else PATH."""
    explicit = env.get("CARGO_ZIGBUILD_ZIG_PATH")
    if explicit:
        if Path(explicit).is_file():
            return Path(explicit)
        raise ZigNotFoundError(
            f"CARGO_ZIGBUILD_ZIG_PATH points at {explicit}, which does not exist",
            "unset CARGO_ZIGBUILD_ZIG_PATH to use the zig installed with rustlambda",
        )
    spec = importlib.util.find_spec("ziglang")
    if spec is not None and spec.origin is not None:
        for name in ("zig", "zig.exe"):
            candidate = Path(spec.origin).parent / name
            if candidate.is_file():
                return candidate
    on_path = which("zig", env)
    if on_path:
        return Path(on_path)
    raise ZigNotFoundError(
        "zig was not found (neither the ziglang package nor zig on PATH)",
        "reinstall rustlambda (`pip install rustlambda` brings ziglang), or `pip install ziglang`, "
        "or build without zig: --compiler cargo",
    )


def zig_from_wheel(zig: Path) -> bool:
    """Whether ``zig`` is the ziglang wheel's, installed for this Python."""
    spec = importlib.util.find_spec("ziglang")
    return spec is not None and spec.origin is not None and zig.parent == Path(spec.origin).parent


def find_cargo_zigbuild(env: Mapping[str, str]) -> str:
    """cargo-zigbuild installed next to this Python (our dependency), else on PATH."""
    for name in ("cargo-zigbuild", "cargo-zigbuild.exe"):
        candidate = Path(sys.executable).parent / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    on_path = which("cargo-zigbuild", env)
    if on_path:
        return on_path
    raise ZigNotFoundError(
        "cargo-zigbuild was not found",
        "reinstall rustlambda (it depends on cargo-zigbuild), or `pip install cargo-zigbuild`, "
        "or build without zig: --compiler cargo",
    )


def std_installed(rustc: str, triple: str, env: Mapping[str, str], runner: CommandRunner) -> bool:
    """Whether ``rustc`` has the standard library for ``triple`` (a libstd-*.rlib)."""
    return _has_std(runner.run([rustc, "--print", "target-libdir", "--target", triple], env=env))


def _has_std(done: Completed) -> bool:
    if done.returncode != 0:
        return False
    libdir = Path(done.stdout.strip())
    return libdir.is_dir() and any(libdir.glob("libstd-*.rlib"))


def raise_if_rustup_has_no_toolchain(text: str, details: str = "") -> None:
    """``text`` (a tool's error output) says rustup's proxy had no toolchain to run: that is
    what the user must fix (exit 9), not the manifest or the target."""
    from .diagnose import rustup_without_toolchain  # the patterns: only for a failure

    known = rustup_without_toolchain(text)
    if known is not None:
        raise known.error(known.message, known.fix, details=details)


def _rustup_toolchain(rustc: str, env: Mapping[str, str]) -> tuple[str, list[str]] | None:
    """(rustup, extra args) when ``rustc`` is managed by rustup, else None."""
    rustup = which("rustup", env)
    if not rustup:
        return None
    rustc_path = Path(rustc if os.path.isabs(rustc) else (which(rustc, env) or rustc))
    try:
        if rustc_path.exists() and os.path.samefile(rustc_path, rustup):
            return rustup, []  # the rustup proxy: the active toolchain
    except OSError:
        return None
    parts = rustc_path.resolve().parts
    if "toolchains" in parts:
        index = parts.index("toolchains")
        if index + 1 < len(parts):
            return rustup, ["--toolchain", parts[index + 1]]
    return None


def std_cache_key(toolchain: Toolchain, triple: str, env: Mapping[str, str], cwd: Path) -> str:
    """The std cache's key: the triple, RUSTC's and cargo's identity, rustup's selection."""
    return fingerprint.key(
        "std", triple, fingerprint.toolchain(toolchain.cargo, toolchain.rustc, env, cwd)
    )


def ensure_target_std(
    toolchain: Toolchain,
    triples: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    runner: CommandRunner,
    reporter: Reporter,
    cache: CacheFile | None = None,
) -> None:
    """Install missing std with rustup when rustc is rustup's; otherwise stop with the fix.

    Never lets a build continue into rustc's E0463 ("can't find crate for `std`"). With a
    ``cache``, a std found once is not looked for again while the toolchain's identity
    (`cache.fingerprint.toolchain`) stays the same.
    """
    for triple in triples:
        key = std_cache_key(toolchain, triple, env, cwd)
        if cache is not None and cache.get(key) is True:
            continue
        probe = runner.run(
            [toolchain.rustc, "--print", "target-libdir", "--target", triple], env=env
        )
        if _has_std(probe):
            if cache is not None:
                cache.put(key, True)
            continue
        raise_if_rustup_has_no_toolchain(probe.stderr)
        rustup = _rustup_toolchain(toolchain.rustc, env)
        rustup_output = ""
        if rustup is not None:
            command = [rustup[0], "target", "add", triple, *rustup[1]]
            reporter.info(f"installing the Rust standard library for {triple}: {' '.join(command)}")
            done = runner.run(command, env=env, cwd=cwd)
            if done.returncode == 0 and std_installed(toolchain.rustc, triple, env, runner):
                continue
            # rustup's error chain, without the stack backtrace RUST_BACKTRACE adds
            rustup_output = (done.stderr or done.stdout).split("Stack backtrace:")[0].strip()
        raise _missing_std(toolchain, triple, rustup is not None, rustup_output, env, runner)


def _missing_std(
    toolchain: Toolchain,
    triple: str,
    rustup_managed: bool,
    rustup_output: str,
    env: Mapping[str, str],
    runner: CommandRunner,
) -> MissingTargetStdError:
    fixes = []
    if rustup_managed:
        fixes.append(f"`rustup target add {triple}` (it failed here; see its output above)")
    else:
        fixes.append(
            f"install {triple}'s std for {toolchain.rustc}, or use a rustup toolchain and "
            f"`rustup target add {triple}`"
        )
    fixes += _other_rustc_fix(toolchain, triple, env, runner)
    return MissingTargetStdError(
        f"the Rust standard library for {triple} is not installed for {toolchain.rustc}",
        "; ".join(fixes),
        details=rustup_output,
    )


def _other_rustcs(current: str, env: Mapping[str, str]) -> list[str]:
    """Other rustc executables on this machine (PATH entries, /usr/bin, /usr/local/bin)."""
    dirs = [*env.get("PATH", "").split(os.pathsep), "/usr/local/bin", "/usr/bin"]
    found: list[str] = []
    for directory in dirs:
        candidate = Path(directory) / "rustc"
        if not directory or not candidate.is_file() or str(candidate) in found:
            continue
        try:
            if Path(current).exists() and os.path.samefile(candidate, current):
                continue
        except OSError:
            continue
        found.append(str(candidate))
    return found


def rustup_toolchain(rustc: str, env: Mapping[str, str]) -> tuple[str, list[str]] | None:
    """(rustup, ``--toolchain NAME`` arguments or none for the active one) when ``rustc`` is
    managed by rustup, else None."""
    return _rustup_toolchain(rustc, env)


def missing_std_fix(
    toolchain: Toolchain, triple: str, env: Mapping[str, str], runner: CommandRunner
) -> str:
    """What to do when ``triple``'s std is missing for ``toolchain.rustc``: rustup's command
    when rustc is rustup's, and another rustc of this machine that has it."""
    if _rustup_toolchain(toolchain.rustc, env) is not None:
        fixes = [f"`rustup target add {triple}`"]
    else:
        fixes = [
            f"install {triple}'s std for {toolchain.rustc}, or use a rustup toolchain and "
            f"`rustup target add {triple}`"
        ]
    return "; ".join(fixes + _other_rustc_fix(toolchain, triple, env, runner))


def _other_rustc_fix(
    toolchain: Toolchain, triple: str, env: Mapping[str, str], runner: CommandRunner
) -> list[str]:
    others = [
        c for c in _other_rustcs(toolchain.rustc, env) if std_installed(c, triple, env, runner)
    ]
    return [f"or use a rustc that has it: RUSTC={others[0]} rustlambda build ..."] if others else []
