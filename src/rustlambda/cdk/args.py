"""``bundling.extra_build_args`` split as the TypeScript package splits them: rustlambda's own
flags (the ``rustlambda build`` flags of `rustlambda.flags`, from the settings table, which
include cargo's ``--config``, ``-Z``, ``--timings``... that rustlambda hands to cargo) go to
rustlambda, every other argument is cargo's and goes after ``--``, in order; flags the construct
decides (``--bin``, ``--target``...) are refused with the prop to use. And the `BuildOptions` of
a construct's local build.

click (the flag parser) is imported only when there are extra build args to parse.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import ConfigError, RustLambdaError
from ..options import BuildOptions, CompilerSettings
from ..targets import Runtime, Target
from .options import BundlingOptions, LogLevel

#: Flags the construct sets itself, and the prop to use instead.
CONSTRUCT_FLAGS: Mapping[str, str] = {
    "--bin": "binary_name=",
    "--package": "entry= or binary_name=",
    "-p": "entry= or binary_name=",
    "--workspace": "entry= and binary_name= (the construct builds what the app uses)",
    "--example": "binary_name=",
    "--bins": "one construct per binary (binary_name=)",
    "--examples": "one construct per binary (binary_name=)",
    "--exclude": "binary_name= (the construct builds what the app uses)",
    "--target": "architecture= (or bundling target=)",
    "--arm64": "architecture=",
    "--x86-64": "architecture=",
    "--runtime": "runtime=",
    "--manifest-path": "entry=",
    "--lambda-dir": "nothing: the construct copies the binary into the asset",
    "-l": "nothing: the construct copies the binary into the asset",
    "--flatten": "nothing: the asset has the binary as bootstrap",
    "--extension": "RustExtension",
    "--internal": "RustExtension",
    "--json": "nothing",
    "--output-format": "nothing: CDK zips the asset directory",
    "-o": "nothing: CDK zips the asset directory",
    "--include": "command_hooks' after_bundling (copy files into output_dir)",
}


@functools.cache
def rustlambda_flags() -> Mapping[str, bool]:
    """``rustlambda build``'s own flags (not the construct's) → whether each takes a value."""
    import click

    from ..flags import _build_parser

    own: dict[str, bool] = {}
    for param in _build_parser().params:
        if isinstance(param, click.Option):
            takes_value = not (param.is_flag or param.count)
            for name in (*param.opts, *param.secondary_opts):
                if name not in CONSTRUCT_FLAGS:
                    own[name] = takes_value
    return own


def _flag_name(arg: str) -> str:
    if arg.startswith("--"):
        return arg.split("=", 1)[0]
    return arg[:2]  # -j4, -Ffoo, -vv


@dataclass(frozen=True)
class SplitArgs:
    rustlambda: tuple[str, ...]
    cargo: tuple[str, ...]

    def argv(self) -> list[str]:
        """As ``rustlambda build`` takes them: its flags, then ``--`` and cargo's."""
        return [*self.rustlambda, *(("--", *self.cargo) if self.cargo else ())]


def split_build_args(
    args: Sequence[str], what: str, own: Mapping[str, bool] | None = None
) -> SplitArgs:
    """rustlambda's flags (with their values) and cargo's arguments, each in the order given."""
    if not args:
        return SplitArgs((), ())
    own = rustlambda_flags() if own is None else own
    ours: list[str] = []
    cargo: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            cargo += args[index + 1 :]
            break
        name = _flag_name(arg) if arg.startswith("-") else ""
        if name in CONSTRUCT_FLAGS:
            raise ConfigError(
                f"{what}: bundling.extra_build_args may not contain {name}: the construct sets it",
                f"use {CONSTRUCT_FLAGS[name]} instead",
            )
        if name in own:
            ours.append(arg)
            # `--profile x` takes the next word; `--profile=x` and `-j4` carry their value
            if own[name] and arg == name and index + 1 < len(args):
                index += 1
                ours.append(args[index])
        else:
            cargo.append(arg)  # cargo's own flags and their values, in order
        index += 1
    return SplitArgs(tuple(ours), tuple(cargo))


def _parse(split: SplitArgs, what: str) -> BuildOptions:
    if not split.rustlambda and not split.cargo:
        return BuildOptions()
    import click

    from ..flags import parse_build_args

    try:
        return parse_build_args(split.argv())
    except RustLambdaError as exc:  # a value the settings table refuses
        exc.add_context(f" (in {what}'s bundling.extra_build_args)")
        raise
    except click.ClickException as exc:
        raise ConfigError(
            f"{what}: bundling.extra_build_args {list(split.argv())}: {exc.format_message()}",
            "use rustlambda build / cargo lambda build flags (e.g. ['--all-features']); "
            "cargo's own flags pass through to cargo",
        ) from exc


def compiler_of(bundling: BundlingOptions, root: Path, what: str) -> CompilerSettings | None:
    """``package_manager_type`` or ``compiler`` (the settings table's converter); not both."""
    from ..settings import table
    from ..settings.model import Context
    from ..settings.resolve import convert

    chosen = []
    if bundling.package_manager_type is not None:
        chosen.append(bundling.package_manager_type.compiler)
    if bundling.compiler is not None:
        chosen.append(bundling.compiler)
    if not chosen:
        return None
    settings = [
        convert(table.COMPILER, name, Context("bundling.compiler", root, "compiler"))
        for name in chosen
    ]
    if len({s.kind for s in settings}) > 1:
        raise ConfigError(
            f"{what}: bundling package_manager_type={bundling.package_manager_type!r} and "
            f"compiler={bundling.compiler!r} disagree",
            "pass only one of them",
        )
    return settings[0]


def build_options(
    bundling: BundlingOptions,
    root: Path,
    target: Target,
    runtime: Runtime,
    what: str,
    environ: Mapping[str, str] | None = None,
) -> BuildOptions:
    """A local build for one target of the workspace at ``root`` (the binaries are chosen when
    it runs: those the app uses)."""
    split = split_build_args(bundling.extra_build_args, what)
    extra = _parse(split, what)
    compiler = compiler_of(bundling, root, what)
    if compiler is not None and extra.compiler is not None and extra.compiler != compiler:
        raise ConfigError(
            f"{what}: --compiler in bundling.extra_build_args disagrees with "
            "package_manager_type / compiler",
            "pass the compiler once",
        )
    features = (*(extra.features or ()), *bundling.features)
    profile = extra.profile or bundling.profile
    return replace(
        extra,
        manifest_path=root / "Cargo.toml",
        cwd=root,
        workspace=True,
        targets=(target,),
        runtime=runtime,
        release=None if profile is not None else (extra.release or bundling.release),
        profile=profile,
        compiler=compiler or extra.compiler,
        features=tuple(dict.fromkeys(features)) or None,
        environ={**(os.environ if environ is None else environ), **bundling.environment},
        verify=False if extra.verify is False else None,  # None: the CDK's own verification
    )


def docker_build_flags(bundling: BundlingOptions, what: str) -> list[str]:
    """The ``rustlambda build`` flags Docker bundling adds for these props (before ``--``)."""
    split = split_build_args(bundling.extra_build_args, what)
    has_profile = any(_flag_name(a) == "--profile" for a in split.rustlambda)
    flags: list[str] = []
    if bundling.profile is not None and not has_profile:
        flags += ["--profile", bundling.profile]
    elif bundling.release and not has_profile:
        flags.append("--release")
    if bundling.package_manager_type is not None:
        flags += ["--compiler", bundling.package_manager_type.compiler]
    elif bundling.compiler is not None:
        flags += ["--compiler", bundling.compiler]
    if bundling.features:
        flags += ["--features", ",".join(bundling.features)]
    if bundling.log_level is LogLevel.VERBOSE:
        flags.append("-v")
    elif bundling.log_level is LogLevel.SILENT:
        flags.append("-q")
    return [*flags, *split.argv()]
