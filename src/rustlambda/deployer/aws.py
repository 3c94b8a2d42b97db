"""boto3 sessions and clients, and AWS errors turned into one clear `DeployError` each.

Credentials, region, profile and endpoint come from boto3's usual chain (environment variables
such as ``AWS_PROFILE``/``AWS_REGION``/``AWS_ENDPOINT_URL``, ``~/.aws/config``, SSO, instance
roles); ``--profile``, ``--region`` and ``--endpoint-url`` override it.

Every call goes through `call` or `get_or_none`, which wait out throttling and updates in
progress (`rustlambda.deployer.retry`). One `Aws` serves every thread of a deploy's pool: boto3
clients are thread-safe, sessions are not, so clients are made one at a time under a lock and
then shared.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
import botocore.config
import botocore.exceptions

from ..errors import AwsCredentialsError, DeployError
from .retry import patiently

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_s3 import S3Client

T = TypeVar("T")

#: What to do about an AWS error code (the error message itself is always shown).
_FIXES = {
    "AccessDeniedException": "the credentials lack a permission this step needs: grant it, or "
    "deploy with a profile that has it (--profile)",
    "AccessDenied": "the credentials lack a permission this step needs: grant it, or deploy "
    "with a profile that has it (--profile)",
    "UnrecognizedClientException": "the access key is not valid in this account/region: check "
    "the credentials (aws sts get-caller-identity)",
    "InvalidClientTokenId": "the access key is not valid: check the credentials",
    "ExpiredTokenException": "the session token expired: refresh it (e.g. aws sso login)",
    "ExpiredToken": "the session token expired: refresh it (e.g. aws sso login)",
    "ResourceConflictException": "another update of this function is in progress: wait for it "
    "and deploy again",
    "TooManyRequestsException": "Lambda kept throttling this account (rustlambda waited it "
    "out, within bounds): deploy again in a moment, with a smaller --max-parallel",
    "Throttling": "AWS kept throttling this account (rustlambda waited it out, within bounds): "
    "deploy again in a moment, with a smaller --max-parallel",
    "CodeStorageExceededException": "the account's 75 GB code storage is full: delete old "
    "versions or layer versions",
    "RequestEntityTooLargeException": "the zip is too large for a direct upload: pass --s3-bucket",
    "InvalidParameterValueException": "fix the value Lambda names in the message",
    "ResourceNotFoundException": "something the request names does not exist (a layer "
    "version, role, bucket or function): check the name or ARN and the region",
    "ValidationException": "fix the value AWS names in the message",
    "NoSuchBucket": "create the S3 bucket (in the function's region) or pass another --s3-bucket",
    "EntityAlreadyExists": "pick another name",
    "LimitExceeded": "an account limit was reached: see the message",
    "ServiceException": "AWS had an internal error: deploy again",
}


@dataclass
class Aws:
    """One boto3 session with lazily made clients, and the endpoint it talks to."""

    session: boto3.Session
    endpoint_url: str | None = None
    retry_attempts: int | None = None
    #: HTTP connections kept per client: at least the threads that share it.
    pool_size: int = 10
    _clients: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def region(self) -> str:
        return str(self.session.region_name)

    def _client(self, service: str) -> Any:
        with self._lock:  # the session is not thread-safe: one client made at a time
            if service not in self._clients:
                retries: dict[str, Any] = {"mode": "standard"}
                if self.retry_attempts is not None:
                    retries["total_max_attempts"] = self.retry_attempts
                config = botocore.config.Config(
                    retries=retries,  # type: ignore[arg-type]
                    user_agent_extra="rustlambda",
                    max_pool_connections=max(10, self.pool_size),
                )
                self._clients[service] = self.session.client(
                    service,  # type: ignore[call-overload]
                    endpoint_url=self.endpoint_url,
                    config=config,
                )
            return self._clients[service]

    @property
    def lambda_(self) -> LambdaClient:
        return self._client("lambda")  # type: ignore[no-any-return]

    @property
    def iam(self) -> IAMClient:
        return self._client("iam")  # type: ignore[no-any-return]

    @property
    def s3(self) -> S3Client:
        return self._client("s3")  # type: ignore[no-any-return]

    @property
    def logs(self) -> CloudWatchLogsClient:
        return self._client("logs")  # type: ignore[no-any-return]


def connect(
    *,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    retry_attempts: int | None,
    session: boto3.Session | None = None,
    environ: Mapping[str, str] | None = None,
    pool_size: int = 10,
) -> Aws:
    """A session with credentials and a region, or `AwsCredentialsError` saying how to get them.

    ``AWS_REGION`` is read as the AWS CLI v2 reads it (over ``AWS_DEFAULT_REGION`` and the
    profile); botocore alone only knows ``AWS_DEFAULT_REGION``.
    """
    if region is None and session is None and environ is not None:
        region = environ.get("AWS_REGION") or None
    try:
        if session is None:
            session = boto3.Session(profile_name=profile, region_name=region)
        elif region is not None:
            session = boto3.Session(
                botocore_session=session._session,
                region_name=region,
            )
        credentials = session.get_credentials()
    except botocore.exceptions.ProfileNotFound as exc:
        raise AwsCredentialsError(
            f"the AWS profile {exc.kwargs.get('profile', profile)!r} does not exist",
            "pass a profile from ~/.aws/config with --profile (or AWS_PROFILE), "
            "or create it with `aws configure --profile NAME`",
        ) from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise AwsCredentialsError(
            f"cannot load the AWS configuration: {exc}",
            "fix ~/.aws/config and ~/.aws/credentials (or the AWS_* variables)",
        ) from exc
    if credentials is None:
        raise AwsCredentialsError(
            "no AWS credentials found",
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, pass --profile (or AWS_PROFILE) "
            "for a profile in ~/.aws, or run `aws sso login` / `aws configure`",
        )
    if not session.region_name:
        raise AwsCredentialsError(
            "no AWS region set",
            "pass --region (e.g. --region us-east-1), set AWS_REGION, or add region = ... "
            "to the profile in ~/.aws/config",
        )
    return Aws(
        session=session,
        endpoint_url=endpoint_url,
        retry_attempts=retry_attempts,
        pool_size=pool_size,
    )


def error_code(exc: BaseException) -> str | None:
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code", "")) or None
    return None


@contextmanager
def api(operation: str, subject: str, *, endpoint: str | None = None) -> Iterator[None]:
    """Turn AWS failures inside the block into one `DeployError` (or credentials error)."""
    try:
        yield
    except botocore.exceptions.ClientError as exc:
        code = error_code(exc) or "Unknown"
        message = exc.response.get("Error", {}).get("Message", "") or str(exc)
        raise DeployError(
            f"{operation} for {subject} failed: {code}: {message}",
            _FIXES.get(code, "see the AWS error above"),
            code=code,
        ) from exc
    except botocore.exceptions.NoCredentialsError as exc:
        raise AwsCredentialsError(
            "no AWS credentials found",
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile",
        ) from exc
    except botocore.exceptions.EndpointConnectionError as exc:
        raise DeployError(
            f"{operation} for {subject} failed: cannot reach {exc.kwargs.get('endpoint_url')}",
            "check the network, --region and --endpoint-url (or AWS_ENDPOINT_URL)",
            code="EndpointConnectionError",
        ) from exc
    except botocore.exceptions.WaiterError as exc:
        raise DeployError(
            f"{operation} for {subject}: {exc}",
            "look at the function in the Lambda console (State/LastUpdateStatusReason)",
            code="WaiterError",
        ) from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise DeployError(
            f"{operation} for {subject} failed: {exc}",
            "check the network and the AWS configuration",
            code=type(exc).__name__,
        ) from exc


def call(operation: str, subject: str, fn: Callable[..., T], /, **kwargs: Any) -> T:
    """``fn(**kwargs)`` under `api`, throttling and updates in progress waited out."""
    with api(operation, subject):
        return patiently(fn, kwargs)


def missing(exc: BaseException, *codes: str) -> bool:
    """Whether a botocore error is one of ``codes`` (default: a not-found one)."""
    wanted = codes or ("ResourceNotFoundException", "NoSuchEntity", "NotFoundException")
    return error_code(exc) in wanted


def get_or_none(
    operation: str,
    subject: str,
    fn: Callable[..., T],
    /,
    *,
    absent: tuple[str, ...] = (),
    **kwargs: Any,
) -> T | None:
    """``fn(**kwargs)``, or None when AWS answers with one of the ``absent`` error codes
    (default: not found); throttling and updates in progress waited out."""
    with api(operation, subject):
        try:
            return patiently(fn, kwargs)
        except botocore.exceptions.ClientError as exc:
            if missing(exc, *absent):
                return None
            raise
