"""The environment of a function's processes, as Lambda sets it up."""

from __future__ import annotations

from collections.abc import Mapping

from .model import EmulatorSettings, FunctionSpec

#: Variables Lambda sets itself; a function's own env cannot override them.
RESERVED_ENV = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_LAMBDA_MAX_CONCURRENCY",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)
CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
#: What of the host's environment a function gets (besides credentials and region): the Rust
#: logging and backtrace switches a developer sets for the session, and the endpoint overrides
#: (``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_<SERVICE>``) that point the SDK at a local service.
PASSED_THROUGH = ("RUST_LOG", "RUST_BACKTRACE")
PASSED_THROUGH_PREFIX = "AWS_ENDPOINT_URL"


def host_passthrough(environ: Mapping[str, str]) -> dict[str, str]:
    """The host variables a function gets: RUST_LOG, RUST_BACKTRACE, AWS_ENDPOINT_URL*."""
    return {
        k: v
        for k, v in environ.items()
        if k in PASSED_THROUGH or k.startswith(PASSED_THROUGH_PREFIX)
    }


def process_env(
    spec: FunctionSpec,
    settings: EmulatorSettings,
    api: str,
    log_stream: str,
    credentials: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a function's processes, as Lambda sets it up.

    ``credentials``: what ``settings.credentials()`` gave (None: the host's credential
    variables, if any — the environment link of the chain).
    """
    environ = settings.environ or {}
    task_root = str(spec.bootstrap.resolve().parent)
    env = host_passthrough(environ)
    env.update({k: v for k, v in spec.env.items() if k not in RESERVED_ENV})
    if credentials is None:
        credentials = {k: environ[k] for k in CREDENTIALS if environ.get(k)}
    env.update({k: v for k, v in credentials.items() if k in CREDENTIALS and v})
    env.update(
        {
            "AWS_LAMBDA_RUNTIME_API": api,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": settings.region,
            "AWS_DEFAULT_REGION": settings.region,
            "_HANDLER": "bootstrap",
            "LAMBDA_TASK_ROOT": task_root,
            "LAMBDA_RUNTIME_DIR": "/var/runtime",
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
            "LD_LIBRARY_PATH": f"{task_root}:{task_root}/lib:/lib64:/usr/lib64:/opt/lib",
        }
    )
    if spec.max_concurrency > 1:
        env["AWS_LAMBDA_MAX_CONCURRENCY"] = str(spec.max_concurrency)
    return env
