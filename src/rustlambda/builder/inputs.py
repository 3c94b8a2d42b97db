"""What decides a build's result besides its command line and environment: `BuildInputs`, for
a front that wants to know, next time, whether running the same build again would change
anything (the CLI's `rustlambda.noop`).

A build is described this way only when every input is a file whose stamp tells a change (see
`describe`); otherwise `describe` returns None and the front always runs the whole build.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..options import Compiler
from ..project import workspace_paths
from ..settings.cargolambda import FILE_NAME as GLOBAL_CONFIG_FILE
from .plan import BuildPlan
from .result import Artifact


@dataclass(frozen=True)
class BuildInputs:
    """One build as it ran, for deciding whether running it again would change anything.

    ``cargo_argv``/``cargo_env``/``cargo_cwd``: the cargo command exactly as run (cargo-zigbuild's
    recorded environment included). ``cargo``/``rustc``: the toolchain's programs (their
    identity: `rustlambda.cache.fingerprint.toolchain`). ``watched``: files and folders whose
    stamps change when a setting or the workspace's shape changes (manifests, the lock file,
    cargo's config files, ``CargoLambda.toml``, rust-toolchain files, folders where a new binary
    or member appears), present or not. ``executables``: what cargo leaves (a relink changes
    their stamps). ``installed``: every file the build installed (bootstraps and zips)."""

    cargo_argv: tuple[str, ...]
    cargo_env: Mapping[str, str]
    cargo_cwd: Path
    cargo: str
    rustc: str
    watched: tuple[Path, ...]
    executables: tuple[Path, ...]
    installed: tuple[Path, ...]


def describe(
    plan: BuildPlan,
    artifacts: Sequence[Artifact],
    warnings: Sequence[str],
    cargo: tuple[Sequence[str], Mapping[str, str]],
) -> BuildInputs | None:
    """The inputs of a build that ran, or None when one of them is not a file with a stamp: a
    compile cache (its statistics are part of the result), cross (a container), zip includes
    and build env files (files read by path, anywhere), or warnings (said on every run)."""
    if (
        plan.cache is not None
        or plan.settings.compiler.kind is Compiler.CROSS
        or plan.settings.build_env
        or any(o.includes for o in plan.outputs)
        or warnings
        or plan.target_dir is None
        or plan.caller_cwd is None
    ):
        return None
    argv, env = cargo
    installed = [a.path for a in artifacts] + [a.zip.path for a in artifacts if a.zip]
    return BuildInputs(
        cargo_argv=tuple(argv),
        cargo_env=dict(env),
        cargo_cwd=plan.cwd,
        cargo=plan.toolchain.cargo,
        rustc=plan.toolchain.rustc,
        watched=tuple(_watched(plan, plan.caller_cwd)),
        executables=tuple(dict.fromkeys(o.source for o in plan.outputs)),
        installed=tuple(installed),
    )


def _watched(plan: BuildPlan, caller_cwd: Path) -> list[Path]:
    workspace = plan.workspace
    paths = workspace_paths(workspace.root, (p.manifest_path for p in workspace.packages))
    folders = dict.fromkeys([*_up(caller_cwd), *_up(workspace.root)])
    for folder in folders:  # a manifest, cargo config or toolchain file that appears above
        paths += [folder / "Cargo.toml", folder / "rust-toolchain", folder / "rust-toolchain.toml"]
        paths += [folder / ".cargo" / "config.toml", folder / ".cargo" / "config"]
    home = plan.env.get("CARGO_HOME") or Path(plan.env.get("HOME") or "~") / ".cargo"
    cargo_home = Path(home).expanduser()
    paths += [cargo_home / "config.toml", cargo_home / "config"]
    paths.append(caller_cwd / GLOBAL_CONFIG_FILE)
    if plan.global_config is not None:
        paths.append(plan.global_config)
    return list(dict.fromkeys(paths))


def _up(folder: Path) -> list[Path]:
    return [folder, *folder.parents]
