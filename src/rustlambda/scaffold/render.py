"""Turn `TemplateOptions` into the project's files, in memory: nothing is written here.

Templates are Jinja2 files shipped as package data (``scaffold/templates``), rendered with
`StrictUndefined` so a missing variable is an error, never an empty string in generated code.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from .catalog import CRATE_VERSIONS, HTTP_EXAMPLES
from .options import HttpFeature, Processor, TemplateKind, TemplateOptions

if TYPE_CHECKING:
    import jinja2


@dataclass(frozen=True)
class ProjectFile:
    """One file of a generated project: where it goes (relative, POSIX) and its text."""

    path: PurePosixPath
    text: str


#: How wide rustfmt (1.95, max_width 100) lets a `use` get, measured: the whole statement on one
#: line, or each line of its wrapped list.
_ONE_LINE_USE = 98
_USE_LIST_LINE = 99


def rust_use(path: str, names: list[str]) -> str:
    """A ``use path::{...};`` as rustfmt writes it: names sorted (letters only: no version
    sorting of numbers), on one line if it fits, else wrapped."""
    names = sorted(set(names))
    line = f"use {path}::{{{', '.join(names)}}};"
    if len(line) <= _ONE_LINE_USE:
        return line
    lines = [f"use {path}::{{"]
    current = "   "
    for name in names:
        if len(current) + 1 + len(name) + 1 > _USE_LIST_LINE:
            lines.append(current)
            current = "   "
        current += f" {name},"
    lines += [current, "};"]
    return "\n".join(lines)


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2  # only when rendering: every other rustlambda command starts without it

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("rustlambda.scaffold", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # Rust, TOML, Markdown and Python: nothing is HTML
    )
    env.filters["rust_use"] = rust_use
    return env


def _inline(fields: dict[str, Any]) -> str:
    """A TOML inline table from simple values (strings, booleans, lists of strings)."""
    parts = [f"{key} = {json.dumps(value)}" for key, value in fields.items()]
    return "{ " + ", ".join(parts) + " }"


def _dependency(name: str, fields: dict[str, Any] | None = None) -> tuple[str, str]:
    version = CRATE_VERSIONS[name]
    if not fields:
        return name, json.dumps(version)
    return name, _inline({"version": version, **fields})


def dependencies(options: TemplateOptions) -> list[tuple[str, str]]:
    """The ``[dependencies]`` lines of the project's Cargo.toml: (name, TOML value)."""
    kind = options.kind
    deps: list[tuple[str, str]] = []
    if kind is TemplateKind.HTTP:
        if options.http_features:
            # lambda_http's `tracing` feature gives init_default_subscriber (a default feature).
            features = [f.value for f in HttpFeature if f in options.http_features] + ["tracing"]
            fields = {"default-features": False, "features": features}
            deps.append(_dependency("lambda_http", fields))
        else:
            deps.append(_dependency("lambda_http"))
    elif kind is TemplateKind.EXTENSION and not options.internal:
        deps.append(_dependency("lambda-extension"))
    else:
        deps.append(_dependency("lambda_runtime"))
        if options.internal:
            deps.append(_dependency("lambda-extension"))
    if options.event_type is not None:
        features = list(options.event_type.features)
        deps.append(
            _dependency("aws_lambda_events", {"default-features": False, "features": features})
        )
    if not options.is_external_extension:
        deps.append(_dependency("serde", {"features": ["derive"]}))
    deps.append(_dependency("serde_json"))
    deps.append(_dependency("tokio", {"features": ["macros", "rt-multi-thread"]}))
    deps.append(_dependency("tracing"))
    return deps


def invoke_command(options: TemplateOptions) -> str | None:
    """How the generated README (and ``rustlambda new``) suggests invoking the function."""
    if options.is_external_extension:
        return None
    base = f"rustlambda invoke {options.binary}"
    event = options.event_type
    if event is not None and event.example is not None:
        return f"{base} --data-example {event.example}"
    if event is not None and event.sample_file is not None:
        return f"{base} --data-file events/{event.sample_file}"
    if options.kind is TemplateKind.HTTP:
        return f"{base} --data-example {http_examples(options)[0]}"
    if options.kind is TemplateKind.STREAMING:
        return f"{base} --data-ascii '{{\"lines\": 5}}'"
    return f'{base} --data-ascii \'{{"name": "Ada"}}\''


def http_examples(options: TemplateOptions) -> list[str]:
    """The bundled example events an HTTP template can answer (its services' events)."""
    services = [f.value for f in options.http_features] or list(HTTP_EXAMPLES)
    return [HTTP_EXAMPLES[s] for s in services]


def _main_template(options: TemplateOptions) -> str:
    if options.kind is TemplateKind.FUNCTION:
        return f"function/{options.event_type.key if options.event_type else 'json'}.rs.j2"
    if options.kind is TemplateKind.HTTP:
        return "http/main.rs.j2"
    if options.kind is TemplateKind.STREAMING:
        return "streaming/main.rs.j2"
    return "extension/internal.rs.j2" if options.internal else "extension/external.rs.j2"


def _context(options: TemplateOptions, command: str) -> dict[str, Any]:
    stack = "".join(part.capitalize() for part in options.package.replace("_", "-").split("-"))
    services = ", ".join(f.value for f in options.http_features) or (
        "API Gateway REST, HTTP and WebSocket APIs, ALB, VPC Lattice, function URLs"
    )
    return {
        "package": options.package,
        "binary": options.binary,
        "crate": options.crate_name,
        "kind": options.kind.value,
        "event": options.event_type,
        "internal": options.internal,
        "external_extension": options.is_external_extension,
        "processors": [p.value for p in Processor if p in options.processor_set],
        "http_services": services,
        "cdk": options.cdk,
        "description": options.description[0].upper() + options.description[1:],
        "command": command,
        "dependencies": dependencies(options),
        "invoke_command": invoke_command(options) or "",
        "http_examples": http_examples(options) if options.kind is TemplateKind.HTTP else [],
        "sample_file": options.event_type.sample_file if options.event_type else None,
        "stack_class": f"{stack}Stack",
    }


def render(options: TemplateOptions, *, command: str = "new") -> tuple[ProjectFile, ...]:
    """Every file of the project ``options`` describes, rendered; ``command`` (new or init)
    only appears in the README."""
    env = _environment()
    context = _context(options, command)
    files = [
        ("Cargo.toml", "Cargo.toml.j2"),
        ("src/main.rs", _main_template(options)),
        ("README.md", "README.md.j2"),
        (".gitignore", "gitignore.j2"),
    ]
    if options.cdk:
        files += [
            ("cdk/app.py", "cdk/app.py.j2"),
            ("cdk/cdk.json", "cdk/cdk.json.j2"),
            ("cdk/requirements.txt", "cdk/requirements.txt.j2"),
        ]
    rendered = [
        ProjectFile(PurePosixPath(path), env.get_template(template).render(context))
        for path, template in files
    ]
    sample = options.event_type.sample_file if options.event_type else None
    if sample is not None:
        from importlib import resources

        text = (resources.files(__package__) / "templates" / "events" / sample).read_text()
        rendered.append(ProjectFile(PurePosixPath("events") / sample, text))
    return tuple(rendered)
