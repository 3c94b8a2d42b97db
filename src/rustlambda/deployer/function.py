"""Deploy one function, the plan: what Lambda has (read-only calls) against what is asked.

Idempotent: configuration is updated only where it differs, code only when the zip's SHA-256
differs from the deployed ``CodeSha256`` (or the architecture changes). `rustlambda.deployer.apply`
carries a plan out; `rustlambda.deployer.publish` does what comes after the code (version,
alias, function URL).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import layout
from .artifacts import DeployPackage
from .aws import Aws, call, get_or_none
from .settings import DeploySettings, UrlChange


@dataclass
class FunctionPlan:
    settings: DeploySettings
    package: DeployPackage
    current: Mapping[str, Any] | None  # GetFunction's Configuration, None if absent
    role: str | None  # the role ARN to create with (None: create one)
    role_name: str  # the role rustlambda creates when none is given
    config: dict[str, Any]  # the desired configuration in API terms
    config_changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    code_update: bool = False
    tags_to_set: dict[str, str] = field(default_factory=dict)
    log_retention_change: bool = False
    #: The function's tags on Lambda (GetFunction's), none for a new function.
    live_tags: dict[str, str] = field(default_factory=dict)

    @property
    def create(self) -> bool:
        return self.current is None

    def actions(self) -> list[str]:
        s, out = self.settings, []
        if self.create:
            if self.role is None:
                out.append(f"create IAM role {self.role_name} (AWSLambdaBasicExecutionRole)")
            out.append(
                f"create function {s.name} ({self.package.arch.value}, {s.runtime.value}, "
                f"{self.package.size} byte zip)"
            )
        else:
            for name, (old, new) in self.config_changes.items():
                if name == "Environment":  # names only: values may be secret
                    change = env_change(old["Variables"], new["Variables"])
                    out.append(f"update Environment: {change} (values not shown)")
                    continue
                out.append(f"update {name}: {_show(old)} → {_show(new)}")
            if self.code_update:
                arch = list(self.current.get("Architectures", ["x86_64"]))  # type: ignore[union-attr]
                live = self.current.get("CodeSha256", "?")  # type: ignore[union-attr]
                change = f"CodeSha256 {live} → {self.package.code_sha256}"
                if arch != [self.package.arch.value]:
                    change += f", architecture {arch[0]} → {self.package.arch.value}"
                out.append(f"update code ({change})")
            for key, value in self.tags_to_set.items():
                out.append(f"tag {key}={value}")
        if s.s3_bucket and (self.create or self.code_update):
            out.append(f"upload the zip to s3://{s.s3_bucket}/{s3_key(s)}")
        if self.log_retention_change:
            out.append(f"set log retention of /aws/lambda/{s.name} to {s.log_retention} days")
        if s.publish:
            out.append("publish a version (if anything changed since the newest one)")
        if s.alias:
            out.append(f"point alias {s.alias} at that version")
        if s.function_url is UrlChange.ENABLE:
            out.append(f"enable the function URL (AuthType {s.function_url_auth.value})")
        elif s.function_url is UrlChange.DISABLE:
            out.append("disable the function URL")
        if not out:
            out.append("nothing: the function is already as asked")
        return out


def env_change(before: Mapping[str, str], after: Mapping[str, str]) -> str:
    """``add B; change A; remove C``: names only (values may be secret)."""
    parts = []
    added = sorted(set(after) - set(before))
    changed = sorted(k for k in set(after) & set(before) if after[k] != before[k])
    removed = sorted(set(before) - set(after))
    for verb, names in (("add", added), ("change", changed), ("remove", removed)):
        if names:
            parts.append(f"{verb} {', '.join(names)}")
    return "; ".join(parts) or "no change"


def role_name_for(function: str) -> str:
    name = f"rustlambda-{function}"
    if len(name) <= 64:
        return name
    digest = hashlib.sha256(function.encode()).hexdigest()[:8]
    return f"{name[:55]}-{digest}"


def s3_key(settings: DeploySettings) -> str:
    return settings.s3_key or settings.name


def plan_function(aws: Aws, settings: DeploySettings, package: DeployPackage) -> FunctionPlan:
    name = settings.name
    found = get_or_none("GetFunction", name, aws.lambda_.get_function, FunctionName=name)
    current: Mapping[str, Any] | None = found["Configuration"] if found else None
    tags: Mapping[str, str] = found.get("Tags", {}) if found else {}
    role = _role_arn(aws, settings.role) if settings.role else None
    plan = FunctionPlan(
        settings=settings,
        package=package,
        current=current,
        role=role,
        role_name=role_name_for(name),
        config=desired_config(settings, role, current),
    )
    if current is not None:
        plan.config_changes = config_changes(current, plan.config)
        plan.code_update = current.get("CodeSha256") != package.code_sha256 or list(
            current.get("Architectures", ["x86_64"])
        ) != [package.arch.value]
        plan.tags_to_set = {k: v for k, v in settings.tags.items() if tags.get(k) != v}
        plan.live_tags = dict(tags)
    if settings.log_retention is not None:
        plan.log_retention_change = _retention(aws, name) != settings.log_retention
    return plan


def _role_arn(aws: Aws, role: str) -> str:
    if role.startswith("arn:"):
        return role
    return call("GetRole", role, aws.iam.get_role, RoleName=role)["Role"]["Arn"]


def desired_config(
    settings: DeploySettings, role: str | None, current: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The configuration asked for, in Lambda's terms; what nobody set is left out."""
    config: dict[str, Any] = {"Runtime": settings.runtime.value, "Handler": layout.BOOTSTRAP}
    if role is not None:
        config["Role"] = role
    if settings.memory is not None:
        config["MemorySize"] = settings.memory
    if settings.timeout is not None:
        config["Timeout"] = settings.timeout
    if settings.env is not None:
        variables = dict(settings.env)
        if settings.merge_env and current is not None:
            variables = {**_env_of(current), **variables}
        config["Environment"] = {"Variables": variables}
    if settings.tracing is not None:
        config["TracingConfig"] = {"Mode": settings.tracing.value}
    if settings.description is not None:
        config["Description"] = settings.description
    if settings.layers is not None:
        config["Layers"] = list(settings.layers)
    if settings.subnet_ids is not None or settings.security_group_ids is not None:
        vpc: dict[str, Any] = {
            "SubnetIds": list(settings.subnet_ids or ()),
            "SecurityGroupIds": list(settings.security_group_ids or ()),
        }
        if settings.ipv6_allowed_for_dual_stack is not None:
            vpc["Ipv6AllowedForDualStack"] = settings.ipv6_allowed_for_dual_stack
        config["VpcConfig"] = vpc
    return config


def _env_of(config: Mapping[str, Any]) -> dict[str, str]:
    return dict(config.get("Environment", {}).get("Variables", {}) or {})


def comparable(config: Mapping[str, Any], key: str) -> Any:
    """A deployed configuration field, shaped like `desired_config`'s."""
    if key == "Environment":
        return {"Variables": _env_of(config)}
    if key == "TracingConfig":
        return {"Mode": config.get("TracingConfig", {}).get("Mode", "PassThrough")}
    if key == "Layers":
        return [layer["Arn"] for layer in config.get("Layers", []) or []]
    if key == "Description":
        return config.get("Description", "")
    if key == "VpcConfig":
        vpc = config.get("VpcConfig", {}) or {}
        return {
            "SubnetIds": sorted(vpc.get("SubnetIds", []) or []),
            "SecurityGroupIds": sorted(vpc.get("SecurityGroupIds", []) or []),
            "Ipv6AllowedForDualStack": vpc.get("Ipv6AllowedForDualStack", False),
        }
    return config.get(key)


def config_changes(
    current: Mapping[str, Any], desired: Mapping[str, Any]
) -> dict[str, tuple[Any, Any]]:
    changes: dict[str, tuple[Any, Any]] = {}
    for key, value in desired.items():
        old = comparable(current, key)
        new = value
        if key == "VpcConfig":
            new = {
                "SubnetIds": sorted(value["SubnetIds"]),
                "SecurityGroupIds": sorted(value["SecurityGroupIds"]),
                "Ipv6AllowedForDualStack": value.get(
                    "Ipv6AllowedForDualStack", old["Ipv6AllowedForDualStack"]
                ),
            }
        if old != new:
            changes[key] = (old, value)
    return changes


def _retention(aws: Aws, name: str) -> int | None:
    group = f"/aws/lambda/{name}"
    described = call(
        "DescribeLogGroups", group, aws.logs.describe_log_groups, logGroupNamePrefix=group
    )
    for entry in described.get("logGroups", []):
        if entry.get("logGroupName") == group:
            return entry.get("retentionInDays")
    return None


def _show(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"Variables"}:
        return "{" + ", ".join(sorted(value["Variables"])) + "}"  # names only: values may be secret
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else str(value)
