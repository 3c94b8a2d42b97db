"""Every failure a user can fix, one class each, with its exit code and the fix.

The CLI prints ``error: <message>`` and ``fix: <fix>`` and exits with ``exit_code``; the
library raises these and never prints. Exit codes are part of the documented interface
(README, "Exit codes"): never renumber one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .deployer.result import DeployResult
    from .verify import VerifyReport


class RustLambdaError(Exception):
    """Base class: a message saying what went wrong, and the fix."""

    exit_code = 1

    def __init__(self, message: str, fix: str = "", *, details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        #: Tool output worth showing with the error (e.g. cargo's diagnostics).
        self.details = details

    def __str__(self) -> str:
        # A front that shows only the exception's text (a CDK synth, a Python traceback, a
        # log line) must still show the fix. The CLI prints ``message`` and ``fix`` itself.
        return f"{self.message}\nfix: {self.fix}" if self.fix else self.message

    def add_context(self, context: str) -> None:
        """Append ``context`` to the message, e.g. what was already done when this failed."""
        self.message += context
        self.args = (self.message,)


class ConfigError(RustLambdaError):
    """Conflicting flags, invalid option values, bad metadata values."""

    exit_code = 2


class ManifestNotFoundError(RustLambdaError):
    exit_code = 3


class ManifestError(RustLambdaError):
    """A Cargo.toml that cargo (or TOML) cannot read."""

    exit_code = 4


class NoBinaryTargetsError(RustLambdaError):
    exit_code = 5


class UnknownBinaryError(RustLambdaError):
    """A --bin, --package, --example or --flatten name the workspace does not have."""

    exit_code = 6


class UnsupportedTargetError(RustLambdaError):
    exit_code = 7


class UnknownCompilerError(RustLambdaError):
    exit_code = 8


class ToolNotFoundError(RustLambdaError):
    """cargo, rustc, cross or a linker that the build needs is missing."""

    exit_code = 9


class MissingTargetStdError(RustLambdaError):
    exit_code = 10


class ZigNotFoundError(RustLambdaError):
    exit_code = 11


class CompileError(RustLambdaError):
    exit_code = 12


class ArtifactError(RustLambdaError):
    """A built binary that cannot be found or copied into the Lambda layout."""

    exit_code = 13


class IncludeError(RustLambdaError):
    """An --include (or build.include) path that cannot go into the zip as asked."""

    exit_code = 14


class VerifyError(RustLambdaError):
    """An artifact Lambda would refuse or fail to start (see ``rustlambda.verify``)."""

    exit_code = 15

    def __init__(
        self, message: str, fix: str = "", *, details: str = "", report: VerifyReport
    ) -> None:
        super().__init__(message, fix, details=details)
        #: The full `rustlambda.verify.VerifyReport` (every artifact and finding).
        self.report = report


class EmulatorError(RustLambdaError):
    """The local emulator cannot start a function: missing qemu, a bad bootstrap, bad settings."""

    exit_code = 16


class AddressInUseError(RustLambdaError):
    """The emulator's invoke address or port cannot be bound."""

    exit_code = 17


class UnknownExampleError(RustLambdaError):
    """``--data-example`` names no example event shipped with rustlambda."""

    exit_code = 18


class InvokeConnectionError(RustLambdaError):
    """``rustlambda invoke`` found no emulator listening (start ``rustlambda watch``)."""

    exit_code = 19


class FunctionError(RustLambdaError):
    """The invoked function answered with an error (``X-Amz-Function-Error``)."""

    exit_code = 20


class InvokeRequestError(RustLambdaError):
    """The emulator refused the invoke request (unknown function, payload too large...)."""

    exit_code = 21


class AwsCredentialsError(RustLambdaError):
    """``rustlambda deploy`` has no AWS credentials, no region, or an unknown profile."""

    exit_code = 22


class DeployError(RustLambdaError):
    """AWS refused or failed a deploy step; ``code`` is the AWS error code. Raised by
    ``deploy`` when any function failed: ``result`` then holds every function's outcome."""

    exit_code = 23

    def __init__(
        self,
        message: str,
        fix: str = "",
        *,
        details: str = "",
        code: str | None = None,
        result: DeployResult | None = None,
    ) -> None:
        super().__init__(message, fix, details=details)
        self.code = code
        self.result = result


class ProjectPathError(RustLambdaError):
    """``rustlambda new``/``init`` cannot put the project there: ``new`` found a non-empty
    directory, ``init`` found a Cargo.toml, or the path is a file (files that cannot be
    written are an `ArtifactError`, exit 13, as everywhere)."""

    exit_code = 24


class Interrupted(RustLambdaError):
    """SIGINT (Ctrl-C) stopped rustlambda; the tools it was running were stopped first."""

    exit_code = 130  # 128 + SIGINT, as a shell reports a process ended by it

    def __init__(self, message: str, fix: str = "", *, details: str = "", signum: int = 2) -> None:
        super().__init__(message, fix, details=details)
        self.signum = signum


class Terminated(Interrupted):
    """SIGTERM (a supervisor, ``kill``, ``Popen.terminate()``) stopped rustlambda, likewise."""

    exit_code = 143  # 128 + SIGTERM


class CacheError(RustLambdaError):
    """The compile cache (``--cache sccache``) could not start: its server refused the
    ``SCCACHE_*`` settings or cannot reach its storage."""

    exit_code = 25


def error_classes() -> list[type[RustLambdaError]]:
    """Every error class with its own exit code, the base class (exit 1) first, by exit code."""
    found: list[type[RustLambdaError]] = [RustLambdaError]
    for cls in found:  # grows while it is walked: subclasses of subclasses too
        found.extend(sub for sub in cls.__subclasses__() if sub not in found)
    return sorted(found, key=lambda cls: cls.exit_code)
