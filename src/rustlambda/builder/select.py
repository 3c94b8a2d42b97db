"""Which binaries a build packages: cargo's selection (``--package``, ``--workspace``,
``--exclude``, ``--bin``, ``--example``, ``--bins``, ``--examples``, the default members),
checked against the workspace before anything runs."""

from __future__ import annotations

from ..errors import ConfigError, NoBinaryTargetsError, UnknownBinaryError
from ..options import BuildOptions
from ..project import BinTarget, Workspace


def select_binaries(workspace: Workspace, options: BuildOptions) -> tuple[BinTarget, ...]:
    """The binaries this build packages: exactly what was asked for, nothing stale."""
    if options.workspace and options.packages:
        raise ConfigError(
            "--workspace and --package conflict", "use one: all members, or the listed packages"
        )
    if options.exclude and not options.workspace:
        raise ConfigError(
            "--exclude can only be used together with --workspace (as in cargo)",
            "add --workspace, or select packages with --package",
        )
    for name in (*options.packages, *options.exclude):
        if workspace.package(name) is None:
            known = ", ".join(p.name for p in workspace.packages)
            raise UnknownBinaryError(
                f"no package named {name!r} in the workspace", f"packages: {known}"
            )
    scope = [
        p
        for p in workspace.packages
        if (not options.packages or p.name in options.packages) and p.name not in options.exclude
    ]
    candidates = [b for p in scope for b in p.bins]
    chosen: list[BinTarget] = []
    if options.all_bins:
        chosen += candidates
    if options.all_examples:
        chosen += [e for p in scope for e in p.examples]
    for name in options.bins:
        match = [b for b in candidates if b.name == name]
        if not match:
            known = ", ".join(sorted({b.name for b in candidates})) or "(none)"
            raise UnknownBinaryError(
                f"no binary named {name!r}"
                + (" in the selected packages" if options.packages else ""),
                f"binaries: {known}",
            )
        chosen += match
    for name in options.examples:
        match = [e for e in workspace.examples if e.name == name]
        if not match:
            known = ", ".join(sorted(e.name for e in workspace.examples)) or "(none)"
            raise UnknownBinaryError(f"no example named {name!r}", f"examples: {known}")
        chosen += match
    if not options.bins and not options.examples and not chosen:
        if options.packages or options.workspace:
            chosen = candidates
        else:
            defaults = set(workspace.default_members)
            chosen = [b for p in workspace.packages if p.name in defaults for b in p.bins]
    if not chosen:
        where = ", ".join(options.packages) if options.packages else str(workspace.root)
        raise NoBinaryTargetsError(
            f"no binary targets to build in {where}",
            "a Lambda function is a binary: add src/main.rs or a [[bin]] section, "
            "or select one with --bin, --package or --example",
        )
    return tuple(dict.fromkeys(chosen))
