"""Project templates for ``rustlambda new`` and ``rustlambda init``, shipped with the package.

Pure generation: `TemplateOptions` says what to make, `new_project` / `init_project` write it
(atomically) and return a `ScaffoldResult` listing the files. Nothing here prints or prompts;
the CLI (``rustlambda.commands.scaffold``) does that.
"""

from __future__ import annotations

from .catalog import CRATE_VERSIONS, EVENT_TYPES, JSON, EventType, parse_event_type
from .options import HttpFeature, Processor, TemplateKind, TemplateOptions, check_name
from .render import ProjectFile, dependencies, render
from .write import ScaffoldResult, init_project, new_project

__all__ = [
    "CRATE_VERSIONS",
    "EVENT_TYPES",
    "JSON",
    "EventType",
    "HttpFeature",
    "Processor",
    "ProjectFile",
    "ScaffoldResult",
    "TemplateKind",
    "TemplateOptions",
    "check_name",
    "dependencies",
    "init_project",
    "new_project",
    "parse_event_type",
    "render",
]
