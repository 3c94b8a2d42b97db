"""What a dry run shows for one function or layer: the whole configuration it would have once
deployed (`configuration`), every value said with where it comes from when it is not asked
for (kept from the live function, or Lambda's default), and the environment's values masked.

What would change against the live function (GetFunction's configuration, read by
`rustlambda.deployer.function`) is the plan's `actions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .artifacts import DeployPackage
from .function import FunctionPlan, s3_key
from .layer import LayerPlan

#: What Lambda gives a function created without them.
DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_S = 3
#: How an environment value shows: never the value itself (it may be a secret).
MASK = "***"


def function_configuration(plan: FunctionPlan) -> tuple[tuple[str, str], ...]:
    """``(label, value)`` in the order a reader checks them, as the function would be."""
    s, pkg, config = plan.settings, plan.package, plan.config
    live = plan.current or {}
    rows: list[tuple[str, str]] = [
        ("architecture", pkg.arch.value),
        ("runtime", s.runtime.value),
        ("memory", _kept(config, live, "MemorySize", DEFAULT_MEMORY_MB, "MB")),
        ("timeout", _kept(config, live, "Timeout", DEFAULT_TIMEOUT_S, "s")),
        ("role", _role(plan)),
        ("environment", _environment(plan)),
        ("layers", _layers(config, live)),
        ("tags", _tags(plan)),
    ]
    if "Description" in config:
        rows.append(("description", str(config["Description"]) or "(empty)"))
    if "TracingConfig" in config:
        rows.append(("tracing", str(config["TracingConfig"]["Mode"])))
    if "VpcConfig" in config:
        vpc = config["VpcConfig"]
        subnets = ", ".join(vpc["SubnetIds"]) or "none"
        groups = ", ".join(vpc["SecurityGroupIds"]) or "none"
        rows.append(("vpc", f"subnets {subnets}; security groups {groups}"))
    if s.log_retention is not None:
        rows.append(("log retention", f"{s.log_retention} days"))
    return (*rows, *_package(pkg, s.s3_bucket and f"s3://{s.s3_bucket}/{s3_key(s)}"))


def layer_configuration(plan: LayerPlan) -> tuple[tuple[str, str], ...]:
    """A layer version's: its name, architecture and runtimes, and the zip."""
    s, pkg = plan.settings, plan.package
    newest = plan.newest_version
    rows = [
        ("layer", s.name + (f" (newest version {newest})" if newest else " (no version yet)")),
        ("architecture", pkg.arch.value),
        ("runtimes", ", ".join(plan.runtimes) or "any"),
    ]
    if s.description is not None:
        rows.append(("description", s.description or "(empty)"))
    return (*rows, *_package(pkg, s.s3_bucket and f"s3://{s.s3_bucket}/{s3_key(s)}"))


def _package(pkg: DeployPackage, upload: str | None) -> list[tuple[str, str]]:
    # a zip made for this deploy lives in a temporary folder: name what it was made from
    where = ("zipped from", str(pkg.source)) if pkg.temporary else ("zip", str(pkg.zip_path))
    rows = [
        where,
        ("zip size", f"{pkg.size:,} bytes"),
        ("sha256", pkg.sha256),
    ]
    if upload:
        rows.append(("uploaded to", upload))
    return rows


def _kept(
    config: Mapping[str, Any], live: Mapping[str, Any], key: str, default: int, unit: str
) -> str:
    if key in config:
        return f"{config[key]} {unit}"
    if key in live:
        return f"{live[key]} {unit} (as it is)"
    return f"{default} {unit} (Lambda's default)"


def _role(plan: FunctionPlan) -> str:
    if plan.role is not None:
        return plan.role
    if plan.current is not None:
        return f"{plan.current.get('Role', '?')} (as it is)"
    return f"{plan.role_name} (created, with AWSLambdaBasicExecutionRole)"


def _environment(plan: FunctionPlan) -> str:
    asked = plan.config.get("Environment")
    live = (plan.current or {}).get("Environment", {}) or {}
    variables = (asked or live).get("Variables", {}) or {}
    shown = ", ".join(f"{name}={MASK}" for name in sorted(variables)) or "none"
    return shown if asked is not None or plan.current is None else f"{shown} (as it is)"


def _layers(config: Mapping[str, Any], live: Mapping[str, Any]) -> str:
    if "Layers" in config:
        return ", ".join(config["Layers"]) or "none"
    arns = [layer["Arn"] for layer in live.get("Layers", []) or []]
    return f"{', '.join(arns) or 'none'} (as it is)" if live else "none"


def _tags(plan: FunctionPlan) -> str:
    """The tags the function would carry: the live ones with the asked ones set over them."""
    tags = {**plan.live_tags, **plan.settings.tags}
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items())) or "none"
