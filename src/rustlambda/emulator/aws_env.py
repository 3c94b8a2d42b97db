"""The user's AWS environment as a function gets it on Lambda: credentials resolved through the
user's own chain (boto3/botocore does the resolving: environment, profile and shared files, SSO,
assume-role, process credentials, container and instance roles) and the region.

On Lambda a function's process gets the execution role's temporary credentials as
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN``, and the region as
``AWS_REGION`` / ``AWS_DEFAULT_REGION``; no profile, no config files. The emulator does the
same with the credentials the user's chain yields, so an SDK in the function works unchanged
(``aws-config``'s default chain reads those variables first) — including credentials that
exist only in a profile, or SSO.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import EmulatorError

#: When neither a flag, the environment nor the profile names a region (Lambda always has one).
DEFAULT_REGION = "us-east-1"
#: Where botocore finds the user's configuration: the variable that moves it, the default.
_CONFIG_FILES = {
    "config_file": ("AWS_CONFIG_FILE", "~/.aws/config"),
    "credentials_file": ("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
}


@dataclass(frozen=True)
class AwsEnvironment:
    """The region, and a way to get the credentials when an instance starts (they may be
    temporary and refreshed, e.g. SSO or an assumed role)."""

    region: str
    #: Returns ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN`` (when
    #: the credentials have one); empty when the chain found none. May block (IMDS, SSO).
    credentials: Callable[[], dict[str, str]]
    #: Where the region came from: "flag", "environment", "profile <name>" or "default".
    region_source: str = "default"


def resolve_aws_environment(
    profile: str | None = None,
    region: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> AwsEnvironment:
    """The region and credentials chain of ``profile`` (default: ``AWS_PROFILE`` or the
    default profile) as ``environ`` (default: this process's environment) configures them.

    Raises EmulatorError for a profile that does not exist. Credentials are only looked up
    when ``credentials()`` is called, so starting costs nothing when the function needs none.
    """
    import botocore.credentials
    import botocore.exceptions

    env = dict(os.environ if environ is None else environ)
    session = _session(env)
    chosen = profile or env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE")
    if chosen and chosen not in session.available_profiles:
        raise EmulatorError(
            f"no AWS profile named {chosen!r} in the AWS config or credentials file",
            "pass an existing profile (aws configure list-profiles), or none",
        )
    if profile:
        session.set_config_variable("profile", profile)
    resolved, source = _region(session, region, env, chosen)
    resolver = botocore.credentials.create_credential_resolver(session)
    # The chain's first link reads the environment: the one given, not this process's. As in
    # the SDKs, a profile asked for by name (--profile) outranks credential variables; one
    # named by AWS_PROFILE does not.
    providers = [p for p in resolver.providers if p.METHOD != "env"]
    if profile is None:
        providers.insert(0, botocore.credentials.EnvProvider(environ=env))
    resolver.providers = providers

    def credentials() -> dict[str, str]:
        try:
            found = resolver.load_credentials()
            frozen = found.get_frozen_credentials() if found is not None else None
        except botocore.exceptions.BotoCoreError as exc:
            raise EmulatorError(
                f"the AWS credentials of {'profile ' + chosen if chosen else 'this machine'} "
                f"could not be resolved: {exc}",
                "refresh them (aws sso login, or check the profile), or pass another --profile",
            ) from exc
        return _as_env(frozen)

    return AwsEnvironment(resolved, credentials, source)


def _session(env: Mapping[str, str]) -> Any:
    """A botocore session whose settings come from ``env`` rather than this process's
    environment (its config store is built as botocore builds the default one)."""
    import botocore.configprovider as config
    import botocore.session

    session = botocore.session.Session()
    chains = config.ConfigChainFactory(session=session, environ=dict(env))
    mapping = {
        name: chains.create_config_chain(
            instance_name=name,
            env_var_names=spec[1],
            config_property_names=spec[0],
            default=spec[2],
            conversion_func=spec[3],
        )
        for name, spec in config.BOTOCORE_DEFAUT_SESSION_VARIABLES.items()
    }
    session.register_component("config_store", config.ConfigValueStore(mapping=mapping))
    for variable, (name, default) in _CONFIG_FILES.items():
        session.set_config_variable(variable, env.get(name) or default)
    return session


def _region(
    session: Any, region: str | None, env: Mapping[str, str], profile: str | None
) -> tuple[str, str]:
    if region:
        return region, "flag"
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if env.get(name):
            return env[name], "environment"
    configured = session.get_scoped_config().get("region")
    if configured:
        return str(configured), f"profile {profile or 'default'}"
    return DEFAULT_REGION, "default"


def _as_env(frozen: Any) -> dict[str, str]:
    if frozen is None or not frozen.access_key or not frozen.secret_key:
        return {}
    env = {"AWS_ACCESS_KEY_ID": frozen.access_key, "AWS_SECRET_ACCESS_KEY": frozen.secret_key}
    if frozen.token:
        env["AWS_SESSION_TOKEN"] = frozen.token
    return env
