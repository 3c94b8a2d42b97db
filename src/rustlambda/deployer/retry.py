"""Patience with AWS: which refusals a deploy waits out instead of failing, how often and for how
long.

botocore retries every call itself (standard mode: 3 attempts, or ``--retry-attempts``) with a
jittered exponential backoff. When AWS still refuses a step after that, two refusals are worth
waiting out, since nothing is wrong with the request:

- **throttling** (``TooManyRequestsException``, ``Throttling``, ...): Lambda's control-plane
  rate (15 requests per second per account and Region) is shared by every function a pool
  deploys at once, and by whatever else the account runs;
- **an update in progress** (``ResourceConflictException`` saying so): the function's
  ``LastUpdateStatus`` is waited for (``GetFunction`` until it is no longer ``InProgress``),
  then the step is sent again.

Every step gets at most `Patience.attempts` tries within `Patience.seconds`; between tries it
sleeps a "full jitter" backoff, a random time between 0 and ``min(cap, base * 2**n)``, so that
the pool's threads do not come back in lockstep. Any other refusal fails at once.
"""

from __future__ import annotations

import enum
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import botocore.exceptions

T = TypeVar("T")

#: Error codes AWS services answer a throttled request with (botocore's list, minus the codes
#: that mean a quota was reached rather than a rate).
THROTTLING = frozenset(
    {
        "TooManyRequestsException",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "RequestThrottled",
        "RequestLimitExceeded",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)
#: How Lambda words a conflict with an update still running (not "already exists").
_IN_PROGRESS = re.compile(
    r"update is in progress|in progress for resource|currently in the following state"
    r"|concurrent update",
    re.IGNORECASE,
)


class Refusal(enum.StrEnum):
    """A refusal worth waiting out."""

    THROTTLED = "throttled"
    IN_PROGRESS = "update in progress"


@dataclass(frozen=True)
class Patience:
    """How long one step waits out refusals: ``attempts`` tries within ``seconds``."""

    attempts: int = 8
    seconds: float = 180.0
    base: float = 1.0
    cap: float = 20.0

    def backoff(self, retry: int, rng: random.Random) -> float:
        """The sleep before retry number ``retry`` (1, 2, ...): full jitter."""
        return rng.uniform(0.0, min(self.cap, self.base * 2.0 ** (retry - 1)))


PATIENCE = Patience()
_rng = random.Random()
#: The refusals waited out by the function the current thread deploys (see `counting`).
_SEEN: ContextVar[list[Refusal] | None] = ContextVar("rustlambda_refusals", default=None)


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _now() -> float:
    return time.monotonic()


def refusal(exc: BaseException) -> Refusal | None:
    """Whether an AWS error is one to wait out (a waiter's error counts by its last answer)."""
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
    elif isinstance(exc, botocore.exceptions.WaiterError):
        error = (exc.last_response or {}).get("Error", {})
    else:
        return None
    code, message = str(error.get("Code", "")), str(error.get("Message", ""))
    if code in THROTTLING:
        return Refusal.THROTTLED
    if code == "ResourceConflictException" and _IN_PROGRESS.search(message):
        return Refusal.IN_PROGRESS
    return None


@contextmanager
def counting() -> Iterator[list[Refusal]]:
    """Collect the refusals `patiently` waits out in this thread, for one function's result."""
    seen: list[Refusal] = []
    token = _SEEN.set(seen)
    try:
        yield seen
    finally:
        _SEEN.reset(token)


def patiently(
    fn: Callable[..., T], kwargs: Mapping[str, Any], *, patience: Patience = PATIENCE
) -> T:
    """``fn(**kwargs)``, sent again after throttling or an update in progress (bounded by
    ``patience``); any other error, or the last refusal, is raised as it is."""
    start = _now()
    retry = 0
    while True:
        try:
            return fn(**kwargs)
        except (botocore.exceptions.ClientError, botocore.exceptions.WaiterError) as exc:
            why = refusal(exc)
            retry += 1
            if why is None or retry >= patience.attempts:
                raise
            delay = patience.backoff(retry, _rng)
            left = patience.seconds - (_now() - start)
            if delay > left:
                raise
            seen = _SEEN.get()
            if seen is not None:
                seen.append(why)
            if why is Refusal.IN_PROGRESS and _settle(fn, kwargs, _waiter_for(exc), left):
                continue
            _sleep(delay)


def _waiter_for(exc: BaseException) -> str:
    """A function still being created ("currently in the following state: Pending") waits for
    its ``State``; one being updated for its ``LastUpdateStatus``."""
    return "function_active_v2" if "following state" in str(exc) else "function_updated_v2"


def _settle(fn: Callable[..., Any], kwargs: Mapping[str, Any], waiter: str, seconds: float) -> bool:
    """Wait until the function ``fn`` acts on is no longer being created or updated; False
    when that cannot be asked (not a Lambda function call) or the wait failed, and the caller
    sleeps its backoff instead."""
    client = getattr(fn, "__self__", None)  # the boto3 client ``fn`` is a method of
    name = kwargs.get("FunctionName")
    meta = getattr(client, "meta", None)
    if client is None or name is None or meta is None:
        return False
    if meta.service_model.service_name != "lambda":
        return False
    config = {"Delay": 1, "MaxAttempts": max(1, int(seconds))}
    try:
        client.get_waiter(waiter).wait(FunctionName=name, WaiterConfig=config)
    except (botocore.exceptions.ClientError, botocore.exceptions.WaiterError):
        return False
    return True
