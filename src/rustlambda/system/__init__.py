"""``rustlambda system``: what this machine has for building and running Lambda functions, and
the workspace's merged settings with where each value came from. The library gathers a typed
`SystemReport`; it never prints (``cli/system.py`` renders it, as text or JSON).

    __init__.py  the report's types, `PROBES` and `system_report`
    tools.py     the probes: Rust and the Lambda targets' std, zig, emulation, containers
    settings.py  the merged build, watch and deploy settings and their sources

Adding a section: write a probe, ``def my_probe(probe: Probe) -> ReportSection``, anywhere
(e.g. ``system/cache.py``), and add it to `PROBES` where the report should show it. A probe runs
tools only through ``probe.run`` / ``probe.version`` (`rustlambda.util.cmd`), never raises for
a missing tool (that is an `Item` with ``status=MISSING`` and a ``fix``), and keeps its items'
values JSON-friendly strings.
"""

from __future__ import annotations

import enum
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..util.cmd import CommandRunner, Completed, SubprocessRunner


class Status(enum.StrEnum):
    OK = "ok"
    #: Needed for what rustlambda does by default, and not there.
    MISSING = "missing"
    #: Not there (or not working), needed only for some uses (``fix`` says which).
    OPTIONAL = "optional"
    #: A fact worth showing (a setting, where something comes from).
    INFO = "info"


@dataclass(frozen=True)
class Item:
    """One checked thing: a tool, a target's std, a sysroot."""

    name: str
    status: Status
    version: str | None = None
    path: str | None = None
    #: How it was found: ``RUSTC``, ``PATH``, ``rustup toolchain stable-...``, ...
    found_by: str | None = None
    detail: str | None = None
    #: What to do when it is missing (or what it is needed for).
    fix: str | None = None


@dataclass(frozen=True)
class ReportSection:
    key: str  # the JSON key: "rust", "targets", "zig", ...
    title: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class SettingValue:
    """One setting's merged value and where it came from."""

    section: str  # build, watch, deploy (or lambda for env)
    key: str  # cargo-lambda's metadata key (or the row's name when it has none)
    value: Any  # JSON-friendly
    source: str  # "[package.metadata.lambda.build] of api", "CARGO_LAMBDA_COMPILER", "default"
    kind: str  # command line, environment, metadata, config file, default
    path: str | None = None  # the file the value was read from


@dataclass(frozen=True)
class SettingsReport:
    """The workspace's merged settings (for one function when one is selected)."""

    manifest: str | None
    #: The function whose tables were merged (None: the workspace's own tables only).
    function: str | None
    values: tuple[SettingValue, ...] = ()
    #: The global configuration file read, and the context.
    config_file: str | None = None
    context: str | None = None
    warnings: tuple[str, ...] = ()
    #: Configuration errors (each with its fix), instead of raising: the report still shows.
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class SystemReport:
    sections: tuple[ReportSection, ...]
    settings: SettingsReport | None = None
    #: Why there are no settings (no Cargo.toml, cargo missing, ...).
    settings_note: str | None = None

    @property
    def ok(self) -> bool:
        """Nothing needed is missing and the settings have no problems."""
        missing = any(i.status is Status.MISSING for s in self.sections for i in s.items)
        return not missing and not (self.settings and self.settings.problems)

    def section(self, key: str) -> ReportSection:
        return next(s for s in self.sections if s.key == key)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": self.ok}
        for section in self.sections:
            out[section.key] = [
                {k: v for k, v in asdict(item).items() if v is not None} for item in section.items
            ]
        if self.settings is not None:
            out["settings"] = asdict(self.settings)
        if self.settings_note is not None:
            out["settings_note"] = self.settings_note
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)


@dataclass
class Probe:
    """What a probe may use: the environment (never ``os.environ`` itself), the runner, the
    working directory."""

    environ: Mapping[str, str]
    runner: CommandRunner
    cwd: Path

    def run(self, argv: Sequence[str]) -> Completed | None:
        """``argv`` run to completion; None when the program cannot be started."""
        from ..errors import RustLambdaError

        try:
            return self.runner.run(argv, env=self.environ, cwd=self.cwd)
        except (RustLambdaError, OSError):
            return None

    def version(self, argv: Sequence[str]) -> str | None:
        """The first line a ``--version``-like command prints (None when it fails)."""
        done = self.run(argv)
        if done is None or done.returncode != 0:
            return None
        lines = (done.stdout or done.stderr).strip().splitlines()
        return lines[0].strip() if lines else None


@dataclass(frozen=True)
class SystemOptions:
    """What ``rustlambda system`` looks at: the workspace (and a package or binary of it) and
    the global configuration, as `BuildOptions` names them."""

    manifest_path: Path | None = None
    package: str | None = None
    binary: str | None = None
    cwd: Path | None = None
    global_config: Path | None = None
    context: str | None = None
    admerge: bool | None = None
    #: The environment to read instead of ``os.environ`` (never modified).
    environ: Mapping[str, str] | None = None
    #: Leave the settings out (tools only).
    settings: bool = True


from . import cache, tools  # noqa: E402  (their probes use the types above)

#: The report's sections, in order: each a probe. Add one here (see the module docstring).
PROBES: list[Callable[[Probe], ReportSection]] = [
    tools.rust,
    tools.targets,
    tools.zig,
    tools.emulation,
    tools.containers,
    cache.cache,
]


def system_report(
    options: SystemOptions | None = None, *, runner: CommandRunner | None = None
) -> SystemReport:
    """Every probe's section, then the merged settings of the workspace ``options`` names."""
    from .settings import merged_settings

    options = options or SystemOptions()
    environ = dict(options.environ if options.environ is not None else os.environ)
    cwd = (options.cwd or Path.cwd()).resolve()
    probe = Probe(environ, runner or SubprocessRunner(), cwd)
    sections = tuple(make(probe) for make in PROBES)
    if not options.settings:
        return SystemReport(sections)
    settings, note = merged_settings(options, probe)
    return SystemReport(sections, settings, note)
