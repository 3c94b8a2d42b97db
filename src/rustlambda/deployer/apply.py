"""Deploy one function, applying its plan: create (with a role when none is given, retrying
while the role propagates) or update what differs, then publish, alias and URL (see
`rustlambda.deployer.publish`).

Functions deployed at once that need the same role get it from one creator: the others wait
for it (a `RoleRegistry` shared by the deploy's pool)."""

from __future__ import annotations

import json
import time
from functools import partial
from typing import Any

import botocore.exceptions

from ..errors import DeployError
from ..layout import ArtifactKind
from ..reporting import Reporter
from .artifacts import DeployPackage
from .aws import Aws, api, call, error_code, get_or_none
from .function import FunctionPlan, s3_key
from .pool import Once
from .publish import after_code
from .result import Deployment
from .retry import patiently
from .settings import DeploySettings

#: The roles a deploy made or found, by (account session, role name): (ARN, created).
RoleRegistry = Once[tuple[int, str], tuple[str, bool]]

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
_WAIT = {"Delay": 2, "MaxAttempts": 150}


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def apply_function(
    aws: Aws, plan: FunctionPlan, reporter: Reporter, *, roles: RoleRegistry | None = None
) -> Deployment:
    """Carry the plan out; on failure say what was already done (e.g. the role created).
    ``roles``: shared by the functions deployed together (default: this one's own)."""
    done: list[str] = []
    try:
        return _apply(aws, plan, reporter, done, roles if roles is not None else Once())
    except DeployError as exc:
        if done:
            exc.add_context(f" (already done for {plan.settings.name}: {'; '.join(done)})")
        raise


def _apply(
    aws: Aws, plan: FunctionPlan, reporter: Reporter, done: list[str], roles: RoleRegistry
) -> Deployment:
    s, package = plan.settings, plan.package
    # the upload first: a missing bucket or denied PutObject fails before anything changes
    code = _code(aws, plan, done) if plan.create or plan.code_update else {}
    role_created: str | None = None
    config_updated: tuple[str, ...] = ()
    code_updated = False
    if plan.create:
        arn, role_created = _create(aws, plan, code, reporter, done, roles)
    else:
        arn, config_updated, code_updated = _update(aws, plan, code, reporter, done)
    if plan.log_retention_change:
        _set_retention(aws, s)
        done.append(f"set log retention to {s.log_retention} days")
    changed = plan.create or bool(config_updated) or code_updated
    after = after_code(aws, s, changed, reporter, done)
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
        version=after.version,
        alias=s.alias if after.alias_arn else None,
        alias_arn=after.alias_arn,
        url=after.url,
        role_created=role_created,
        actions=tuple(plan.actions()),
    )


def _create(
    aws: Aws,
    plan: FunctionPlan,
    code: dict[str, Any],
    reporter: Reporter,
    done: list[str],
    roles: RoleRegistry,
) -> tuple[str, str | None]:
    """Create the function (and its role when none was given); its ARN and the role created."""
    s, package = plan.settings, plan.package
    role, role_created = plan.role, None
    if role is None:
        name = plan.role_name
        (role, created), mine = roles.get(
            (id(aws), name), partial(_ensure_role, aws, name, reporter)
        )
        if created and mine:
            role_created = role
            done.append(f"created IAM role {role} (it stays; later deploys reuse it)")
    reporter.info(f"creating function {s.name} ({package.arch.value})")
    config = {**plan.config, "Role": role}
    created_fn = _create_with_retry(aws, s, config, code, package, plan.role is None)
    done.append(f"created function {created_fn['FunctionArn']}")
    _wait(aws, "function_active_v2", s.name)
    return str(created_fn["FunctionArn"]), role_created


def _update(
    aws: Aws, plan: FunctionPlan, code: dict[str, Any], reporter: Reporter, done: list[str]
) -> tuple[str, tuple[str, ...], bool]:
    """Update what differs: configuration, code, tags; the ARN and what was updated."""
    s, package, lam = plan.settings, plan.package, aws.lambda_
    assert plan.current is not None
    arn = str(plan.current["FunctionArn"])
    _wait(aws, "function_updated_v2", s.name)
    config_updated: tuple[str, ...] = ()
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
        done.append("updated code")
        _wait(aws, "function_updated_v2", s.name)
    if plan.tags_to_set:
        call("TagResource", s.name, lam.tag_resource, Resource=arn, Tags=plan.tags_to_set)
        done.append("tagged")
    return arn, config_updated, plan.code_update


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
                return dict(patiently(aws.lambda_.create_function, params))
            except botocore.exceptions.ClientError as exc:
                if attempt >= attempts or not _role_not_ready(exc):
                    raise
        _sleep(min(2.0 * attempt, 5.0))
        attempt += 1


def _wait(aws: Aws, waiter: str, name: str) -> None:
    wait = aws.lambda_.get_waiter(waiter).wait  # type: ignore[call-overload]
    call("Waiting until ready", name, wait, FunctionName=name, WaiterConfig=_WAIT)


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
