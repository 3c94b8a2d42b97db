"""Deploy one function: plan against what Lambda has (read-only calls), then apply.

Idempotent: configuration is updated only where it differs, code only when the zip's SHA-256
differs from the deployed ``CodeSha256`` (or the architecture changes), a version is published
only when something changed since the newest one, and alias, URL and permissions only when they
are not already as asked.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions

from .. import layout
from ..errors import DeployError
from ..layout import ArtifactKind
from ..reporting import Reporter
from .artifacts import DeployPackage
from .aws import Aws, api, call, error_code, get_or_none
from .result import Deployment
from .settings import DeploySettings, UrlChange

BASIC_EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
_TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
#: CreateFunction attempts while a new role propagates through IAM (about 40 s in all).
ROLE_ATTEMPTS = 10
#: The function URL's public-access statements (both are needed for AuthType NONE since 2025).
URL_STATEMENTS = ("FunctionURLAllowPublicAccess", "FunctionURLAllowInvokeAction")
_WAIT = {"Delay": 2, "MaxAttempts": 150}
#: Configuration fields a published version is compared on ($LATEST vs the newest version).
_VERSION_FIELDS = (
    "CodeSha256",
    "Runtime",
    "Handler",
    "MemorySize",
    "Timeout",
    "Role",
    "Environment",
    "TracingConfig",
    "Layers",
    "VpcConfig",
    "Architectures",
    "EphemeralStorage",
)


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


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
                out.append(f"update {name}: {_show(old)} → {_show(new)}")
            if self.code_update:
                arch = list(self.current.get("Architectures", ["x86_64"]))  # type: ignore[union-attr]
                change = f"CodeSha256 → {self.package.code_sha256}"
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


def role_name_for(function: str) -> str:
    name = f"rustlambda-{function}"
    if len(name) <= 64:
        return name
    digest = hashlib.sha256(function.encode()).hexdigest()[:8]
    return f"{name[:55]}-{digest}"


def s3_key(settings: DeploySettings) -> str:
    return settings.s3_key or settings.name


# --- planning (read-only) -----------------------------------------------------------------


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
    if settings.log_retention is not None:
        plan.log_retention_change = _retention(aws, name) != settings.log_retention
    return plan


def _role_arn(aws: Aws, role: str) -> str:
    if role.startswith("arn:"):
        return role
    with api("GetRole", role):
        return aws.iam.get_role(RoleName=role)["Role"]["Arn"]


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


def _comparable(config: Mapping[str, Any], key: str) -> Any:
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
        old = _comparable(current, key)
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
    with api("DescribeLogGroups", group):
        found = aws.logs.describe_log_groups(logGroupNamePrefix=group).get("logGroups", [])
    for entry in found:
        if entry.get("logGroupName") == group:
            return entry.get("retentionInDays")
    return None


def _show(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"Variables"}:
        return "{" + ", ".join(sorted(value["Variables"])) + "}"  # names only: values may be secret
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else str(value)


# --- applying ----------------------------------------------------------------------------


def apply_function(aws: Aws, plan: FunctionPlan, reporter: Reporter) -> Deployment:
    """Carry the plan out; on failure say what was already done (e.g. the role created)."""
    done: list[str] = []
    try:
        return _apply(aws, plan, reporter, done)
    except DeployError as exc:
        if done:
            exc.add_context(f" (already done for {plan.settings.name}: {'; '.join(done)})")
        raise


def _apply(aws: Aws, plan: FunctionPlan, reporter: Reporter, done: list[str]) -> Deployment:
    s, package = plan.settings, plan.package
    lam = aws.lambda_
    role_created: str | None = None
    config_updated: tuple[str, ...] = ()
    code_updated = False
    # the upload first: a missing bucket or denied PutObject fails before anything changes
    code = _code(aws, plan, done) if plan.create or plan.code_update else {}
    if plan.create:
        role = plan.role
        if role is None:
            role, created = _ensure_role(aws, plan.role_name, reporter)
            if created:
                role_created = role
                done.append(f"created IAM role {role} (it stays; later deploys reuse it)")
        reporter.info(f"creating function {s.name} ({package.arch.value})")
        config = {**plan.config, "Role": role}
        created_fn = _create_with_retry(aws, s, config, code, package, plan.role is None)
        done.append(f"created function {created_fn['FunctionArn']}")
        _wait(aws, "function_active_v2", s.name)
        arn = created_fn["FunctionArn"]
    else:
        assert plan.current is not None
        arn = plan.current["FunctionArn"]
        _wait(aws, "function_updated_v2", s.name)
        if plan.config_changes:
            reporter.info(f"updating {s.name}: {', '.join(plan.config_changes)}")
            update = {key: plan.config[key] for key in plan.config_changes}
            call(
                "UpdateFunctionConfiguration",
                s.name,
                lam.update_function_configuration,
                FunctionName=s.name,
                **update,
            )
            config_updated = tuple(plan.config_changes)
            done.append(f"updated configuration ({', '.join(config_updated)})")
            _wait(aws, "function_updated_v2", s.name)
        if plan.code_update:
            reporter.info(f"updating the code of {s.name} ({package.arch.value})")
            call(
                "UpdateFunctionCode",
                s.name,
                lam.update_function_code,
                FunctionName=s.name,
                Architectures=[package.arch.value],
                **code,
            )
            code_updated = True
            done.append("updated code")
            _wait(aws, "function_updated_v2", s.name)
        if plan.tags_to_set:
            call("TagResource", s.name, lam.tag_resource, Resource=arn, Tags=plan.tags_to_set)
            done.append("tagged")
    if plan.log_retention_change:
        _set_retention(aws, s)
        done.append(f"set log retention to {s.log_retention} days")
    changed = plan.create or bool(config_updated) or code_updated
    version = None
    if s.publish:
        version = _publish(aws, s, changed, reporter)
        done.append(f"version {version}")
    alias_arn = _alias(aws, s, version, reporter) if s.alias and version else None
    url = _function_url(aws, s, reporter)
    status = (
        "created" if plan.create else ("updated" if changed or plan.tags_to_set else "unchanged")
    )
    return Deployment(
        name=s.name,
        kind=ArtifactKind.FUNCTION,
        arch=package.arch,
        zip_path=str(package.zip_path),
        size=package.size,
        sha256=package.sha256,
        status=status,
        arn=arn,
        config_updated=config_updated,
        code_updated=code_updated or plan.create,
        tags_updated=tuple(plan.tags_to_set),
        version=version,
        alias=s.alias if alias_arn else None,
        alias_arn=alias_arn,
        url=url,
        role_created=role_created,
        actions=tuple(plan.actions()),
    )


def _ensure_role(aws: Aws, name: str, reporter: Reporter) -> tuple[str, bool]:
    """The role rustlambda creates for functions deployed without one: reuse it if it exists."""
    iam = aws.iam
    existing = get_or_none("GetRole", name, iam.get_role, RoleName=name)
    if existing is not None:
        return existing["Role"]["Arn"], False
    reporter.info(f"creating IAM role {name}")
    role = call(
        "CreateRole",
        name,
        iam.create_role,
        RoleName=name,
        AssumeRolePolicyDocument=_TRUST_POLICY,
        Description="Execution role created by rustlambda deploy",
    )["Role"]["Arn"]
    try:
        call(
            "AttachRolePolicy",
            name,
            iam.attach_role_policy,
            RoleName=name,
            PolicyArn=BASIC_EXECUTION_POLICY,
        )
    except DeployError as exc:
        exc.add_context(f" (the role {role} was created without it)")
        raise
    return role, True


def code_source(aws: Aws, s: DeploySettings, package: DeployPackage) -> dict[str, Any]:
    """The ``Code``/``Content`` of a request: the zip's bytes, or its S3 copy (uploaded now)."""
    if s.s3_bucket is None:
        return {"ZipFile": package.zip_path.read_bytes()}
    key = s3_key(s)
    with package.zip_path.open("rb") as body:
        call(
            "PutObject",
            f"s3://{s.s3_bucket}/{key}",
            aws.s3.put_object,
            Bucket=s.s3_bucket,
            Key=key,
            Body=body,
        )
    return {"S3Bucket": s.s3_bucket, "S3Key": key}


def _code(aws: Aws, plan: FunctionPlan, done: list[str]) -> dict[str, Any]:
    code = code_source(aws, plan.settings, plan.package)
    if "S3Key" in code:
        done.append(f"uploaded s3://{code['S3Bucket']}/{code['S3Key']}")
    return code


def _role_not_ready(exc: BaseException) -> bool:
    if error_code(exc) != "InvalidParameterValueException":
        return False
    message = str(exc).lower()
    return "role" in message and ("assume" in message or "not authorized" in message)


def _create_with_retry(
    aws: Aws,
    s: DeploySettings,
    config: dict[str, Any],
    code: dict[str, Any],
    package: DeployPackage,
    new_role: bool,
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "FunctionName": s.name,
        **config,
        "Code": code,
        "Architectures": [package.arch.value],
        "PackageType": "Zip",
    }
    if s.tags:
        params["Tags"] = dict(s.tags)
    attempts = ROLE_ATTEMPTS if new_role else 3
    attempt = 1
    while True:
        with api("CreateFunction", s.name):
            try:
                return dict(aws.lambda_.create_function(**params))
            except botocore.exceptions.ClientError as exc:
                if attempt >= attempts or not _role_not_ready(exc):
                    raise
        _sleep(min(2.0 * attempt, 5.0))
        attempt += 1


def _wait(aws: Aws, waiter: str, name: str) -> None:
    with api("Waiting until ready", name):
        aws.lambda_.get_waiter(waiter).wait(  # type: ignore[call-overload]
            FunctionName=name, WaiterConfig=_WAIT
        )


def _set_retention(aws: Aws, s: DeploySettings) -> None:
    group = f"/aws/lambda/{s.name}"
    get_or_none(
        "CreateLogGroup",
        group,
        aws.logs.create_log_group,
        absent=("ResourceAlreadyExistsException",),
        logGroupName=group,
    )
    assert s.log_retention is not None
    call(
        "PutRetentionPolicy",
        group,
        aws.logs.put_retention_policy,
        logGroupName=group,
        retentionInDays=s.log_retention,
    )


def _publish(aws: Aws, s: DeploySettings, changed: bool, reporter: Reporter) -> str:
    lam = aws.lambda_
    if not changed:
        existing = _matching_version(aws, s.name)
        if existing is not None:
            return existing
    reporter.info(f"publishing a version of {s.name}")
    params: dict[str, Any] = {"FunctionName": s.name}
    if s.description is not None:
        params["Description"] = s.description
    return str(call("PublishVersion", s.name, lam.publish_version, **params)["Version"])


def _matching_version(aws: Aws, name: str) -> str | None:
    """The newest published version if it equals $LATEST (code and configuration)."""
    latest: Mapping[str, Any] | None = None
    newest: Mapping[str, Any] | None = None
    with api("ListVersionsByFunction", name):
        for page in aws.lambda_.get_paginator("list_versions_by_function").paginate(
            FunctionName=name
        ):
            for version in page.get("Versions", []):
                number = version.get("Version", "")
                if number == "$LATEST":
                    latest = version
                elif number.isdigit() and (newest is None or int(number) > int(newest["Version"])):
                    newest = version
    if latest is None or newest is None:
        return None
    same = all(_comparable(latest, key) == _comparable(newest, key) for key in _VERSION_FIELDS)
    return str(newest["Version"]) if same else None


def _alias(aws: Aws, s: DeploySettings, version: str, reporter: Reporter) -> str:
    lam = aws.lambda_
    assert s.alias is not None
    subject = f"{s.name}:{s.alias}"
    current = get_or_none("GetAlias", subject, lam.get_alias, FunctionName=s.name, Name=s.alias)
    if current is None:
        reporter.info(f"creating alias {subject} → version {version}")
        made = call(
            "CreateAlias",
            subject,
            lam.create_alias,
            FunctionName=s.name,
            Name=s.alias,
            FunctionVersion=version,
        )
        return str(made["AliasArn"])
    if current["FunctionVersion"] != version:
        reporter.info(f"pointing alias {subject} at version {version}")
        call(
            "UpdateAlias",
            subject,
            lam.update_alias,
            FunctionName=s.name,
            Name=s.alias,
            FunctionVersion=version,
        )
    return str(current["AliasArn"])


def _function_url(aws: Aws, s: DeploySettings, reporter: Reporter) -> str | None:
    """Enable/disable the URL (on the alias when there is one); returns the URL if enabled."""
    lam = aws.lambda_
    qualifier: dict[str, Any] = {"Qualifier": s.alias} if s.alias else {}
    subject = f"{s.name}:{s.alias}" if s.alias else s.name
    current: Mapping[str, Any] | None = get_or_none(
        "GetFunctionUrlConfig",
        subject,
        lam.get_function_url_config,
        FunctionName=s.name,
        **qualifier,
    )
    if s.function_url is None:
        return str(current["FunctionUrl"]) if current else None
    if s.function_url is UrlChange.DISABLE:
        if current is not None:
            reporter.info(f"disabling the function URL of {subject}")
            call(
                "DeleteFunctionUrlConfig",
                subject,
                lam.delete_function_url_config,
                FunctionName=s.name,
                **qualifier,
            )
            _url_permissions(aws, s, qualifier, public=False)
        return None
    auth = s.function_url_auth.value
    if current is None:
        reporter.info(f"enabling the function URL of {subject} (AuthType {auth})")
        current = call(
            "CreateFunctionUrlConfig",
            subject,
            lam.create_function_url_config,
            FunctionName=s.name,
            AuthType=auth,
            **qualifier,
        )
    elif current.get("AuthType") != auth:
        current = call(
            "UpdateFunctionUrlConfig",
            subject,
            lam.update_function_url_config,
            FunctionName=s.name,
            AuthType=auth,
            **qualifier,
        )
    _url_permissions(aws, s, qualifier, public=auth == "NONE")
    return str(current["FunctionUrl"])


def _url_permissions(
    aws: Aws, s: DeploySettings, qualifier: dict[str, Any], *, public: bool
) -> None:
    """AuthType NONE needs a resource policy letting anyone invoke through the URL."""
    lam = aws.lambda_
    subject = f"{s.name}:{s.alias}" if s.alias else s.name
    found = get_or_none("GetPolicy", subject, lam.get_policy, FunctionName=s.name, **qualifier)
    policy = json.loads(found["Policy"]) if found else {}
    present = {st.get("Sid", "") for st in policy.get("Statement", [])}
    if not public:
        for sid in URL_STATEMENTS:
            if sid in present:
                call(
                    "RemovePermission",
                    subject,
                    lam.remove_permission,
                    FunctionName=s.name,
                    StatementId=sid,
                    **qualifier,
                )
        return
    statements: dict[str, dict[str, Any]] = {
        URL_STATEMENTS[0]: {
            "Action": "lambda:InvokeFunctionUrl",
            "FunctionUrlAuthType": "NONE",
        },
        URL_STATEMENTS[1]: {"Action": "lambda:InvokeFunction", "InvokedViaFunctionUrl": True},
    }
    for sid, extra in statements.items():
        if sid in present:
            continue
        get_or_none(
            "AddPermission",
            subject,
            lam.add_permission,
            absent=("ResourceConflictException",),  # added meanwhile: fine
            FunctionName=s.name,
            StatementId=sid,
            Principal="*",
            **extra,
            **qualifier,
        )
