"""The Telemetry API (``PUT /2022-07-01/telemetry``) and the Logs API (``PUT /2020-08-15/logs``)
of one instance: extensions subscribe during Init, and the instance's platform events and log
lines are delivered to their listeners as Lambda delivers them — JSON arrays POSTed over HTTP
(or newline-separated JSON over TCP), batched by ``maxItems`` / ``maxBytes`` / ``timeoutMs``.

Sources, checked against ``lambda-extension`` 1.x (``telemetry.rs``, ``logs.rs``,
``requests.rs``), which deserializes what is sent here:

- AWS Lambda developer guide, "Lambda Telemetry API reference" and "Lambda Telemetry API Event
  schema reference": schema versions 2022-07-01, 2022-12-13 and 2025-01-29 (Lambda Managed
  Instances need the latter); event types ``platform.initStart``, ``platform.initRuntimeDone``,
  ``platform.initReport``, ``platform.start``, ``platform.runtimeDone``, ``platform.report``,
  ``platform.extension``, ``platform.telemetrySubscription``, ``function``, ``extension``;
  buffering defaults and bounds (maxItems 1,000 to 10,000, default 1,000; maxBytes 262,144 to
  1,048,576, default 262,144; timeoutMs 25 to 30,000, default 1,000); subscriptions are taken
  during Init only.
- "Lambda Logs API": schema versions 2020-08-15 and 2021-03-18 (which adds
  ``platform.runtimeDone``); records ``platform.start``, ``platform.end``, ``platform.report``,
  ``platform.extension``, ``platform.logsSubscription``, ``function``, ``extension``; an
  extension that subscribed with one of the two APIs gets an error from the other.
- ``sandbox.localdomain`` in a destination is the extension's own sandbox: loopback here.

Events from before a subscription (Init's own) are delivered to it too, as Lambda does for the
platform events of the Init phase an extension subscribes in.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .telemetry_events import Event, render

TELEMETRY_PATH = "/2022-07-01/telemetry"
LOGS_PATH = "/2020-08-15/logs"
TELEMETRY_SCHEMAS = ("2022-07-01", "2022-12-13", "2025-01-29")
LOGS_SCHEMAS = ("2020-08-15", "2021-03-18")
TYPES = ("platform", "function", "extension")
_BOUNDS = {"maxItems": (1_000, 10_000), "maxBytes": (262_144, 1_048_576), "timeoutMs": (25, 30_000)}
_DEFAULTS = {"maxItems": 1_000, "maxBytes": 262_144, "timeoutMs": 1_000}
#: Events kept for subscribers that come later in Init (bounded: Init's events are few).
_HISTORY = 1_000
#: Attempts to deliver one batch before it is dropped.
_ATTEMPTS = 3


class SubscriptionError(Exception):
    """A subscription Lambda would refuse: the message says why."""


@dataclass
class Subscription:
    """One extension's subscription: where to, what, and its batch being filled."""

    api: str  # "telemetry" | "logs"
    extension: str
    schema: str
    protocol: str  # "HTTP" | "TCP"
    host: str
    port: int
    path: str
    types: frozenset[str]
    max_items: int
    max_bytes: int
    timeout_ms: int
    batch: list[bytes] = field(default_factory=list)
    size: int = 0
    timer: asyncio.TimerHandle | None = None
    sending: asyncio.Task[None] | None = None

    def render(self, event: Event) -> bytes | None:
        if event.category not in self.types:
            return None
        rendered = render(self.api, event, self.schema)
        return None if rendered is None else json.dumps(rendered).encode()


def parse_subscription(api: str, extension: str, body: bytes) -> Subscription:
    """A Subscribe request's body, checked as Lambda checks it."""
    try:
        request = json.loads(body or b"{}")
    except ValueError as exc:
        raise SubscriptionError(f"the body is not JSON: {exc}") from exc
    if not isinstance(request, dict):
        raise SubscriptionError("the body must be a JSON object")
    schemas = TELEMETRY_SCHEMAS if api == "telemetry" else LOGS_SCHEMAS
    schema = request.get("schemaVersion", "2020-08-15" if api == "logs" else None)
    if schema not in schemas:
        raise SubscriptionError(f"schemaVersion must be one of {', '.join(schemas)}")
    types = request.get("types")
    if not isinstance(types, list) or not types or any(t not in TYPES for t in types):
        raise SubscriptionError(f"types must be a list of {', '.join(TYPES)}")
    destination = request.get("destination")
    if not isinstance(destination, dict):
        raise SubscriptionError("destination is missing")
    protocol = destination.get("protocol")
    uri = destination.get("URI")
    if protocol not in ("HTTP", "TCP") or not isinstance(uri, str):
        raise SubscriptionError('destination needs protocol "HTTP" or "TCP" and a URI')
    host, port, path = _destination(protocol, uri)
    buffering = request.get("buffering") or {}
    if not isinstance(buffering, dict):
        raise SubscriptionError("buffering must be an object")
    values: dict[str, int] = {}
    for key, (low, high) in _BOUNDS.items():
        value = buffering.get(key, _DEFAULTS[key])
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise SubscriptionError(f"buffering.{key} must be a whole number from {low} to {high}")
        values[key] = value
    return Subscription(
        api,
        extension,
        str(schema),
        protocol,
        host,
        port,
        path,
        frozenset(types),
        values["maxItems"],
        values["maxBytes"],
        values["timeoutMs"],
    )


def _destination(protocol: str, uri: str) -> tuple[str, int, str]:
    parsed = urllib.parse.urlsplit(uri if "://" in uri else f"tcp://{uri}")
    if protocol == "HTTP" and parsed.scheme != "http":
        raise SubscriptionError(
            f"an HTTP destination is http://sandbox.localdomain:PORT/, not {uri}"
        )
    try:
        port = parsed.port
    except ValueError:
        port = None
    if not parsed.hostname or port is None:
        raise SubscriptionError(f"the destination needs a host and a port: {uri}")
    # The extension's own sandbox: here, this machine's loopback.
    host = (
        "127.0.0.1" if parsed.hostname in ("sandbox.localdomain", "localhost") else parsed.hostname
    )
    return host, port, parsed.path or "/"


class TelemetryHub:
    """The subscriptions of one instance and the events they get."""

    def __init__(self, on_problem: Callable[[str], None]) -> None:
        self._on_problem = on_problem
        self.subscriptions: list[Subscription] = []
        self._history: list[Event] = []
        self._keep_history = True

    @property
    def active(self) -> bool:
        """Anyone listening, or Init still going on (whose events a subscriber gets later)."""
        return bool(self.subscriptions) or self._keep_history

    def end_of_init(self) -> None:
        """Subscriptions are taken during Init only: no history is needed after it."""
        self._keep_history = False
        self._history.clear()

    def subscribe(self, subscription: Subscription) -> None:
        other = "logs" if subscription.api == "telemetry" else "telemetry"
        if any(
            s.extension == subscription.extension and s.api == other for s in self.subscriptions
        ):
            raise SubscriptionError(
                f"the extension already subscribed with the {other} API; Lambda refuses a "
                "subscription with the other one"
            )
        # Subscribing again replaces the earlier subscription (Lambda: idempotent).
        self.subscriptions = [
            s
            for s in self.subscriptions
            if not (s.extension == subscription.extension and s.api == subscription.api)
        ]
        self.subscriptions.append(subscription)
        kind = "telemetrySubscription" if subscription.api == "telemetry" else "logsSubscription"
        record = {
            "name": subscription.extension,
            "state": "Subscribed",
            "types": sorted(subscription.types),
        }
        for event in [*self._history, Event(f"platform.{kind}", record)]:
            self._add(subscription, event)

    def emit(self, event_type: str, record: Any, when: float | None = None) -> None:
        event = Event(event_type, record, when if when is not None else time.time())
        if self._keep_history and len(self._history) < _HISTORY:
            self._history.append(event)
        for subscription in self.subscriptions:
            self._add(subscription, event)

    def _add(self, subscription: Subscription, event: Event) -> None:
        data = subscription.render(event)
        if data is None:
            return
        if subscription.batch and subscription.size + len(data) > subscription.max_bytes:
            self._flush(subscription)
        subscription.batch.append(data)
        subscription.size += len(data) + 1
        if len(subscription.batch) >= subscription.max_items:
            self._flush(subscription)
        elif subscription.timer is None:
            loop = asyncio.get_running_loop()
            delay = subscription.timeout_ms / 1000
            subscription.timer = loop.call_later(delay, self._flush, subscription)

    def _flush(self, subscription: Subscription) -> None:
        if subscription.timer is not None:
            subscription.timer.cancel()
            subscription.timer = None
        if not subscription.batch:
            return
        batch, subscription.batch, subscription.size = subscription.batch, [], 0
        previous = subscription.sending
        subscription.sending = asyncio.ensure_future(self._send(subscription, batch, previous))

    async def flush_all(self, timeout: float) -> None:
        """Deliver everything buffered (at Shutdown, before the extensions hear of it)."""
        for subscription in self.subscriptions:
            self._flush(subscription)
        pending = [s.sending for s in self.subscriptions if s.sending is not None]
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    def close(self) -> None:
        for subscription in self.subscriptions:
            if subscription.timer is not None:
                subscription.timer.cancel()
            if subscription.sending is not None:
                subscription.sending.cancel()
        self.subscriptions = []

    async def _send(
        self, subscription: Subscription, batch: list[bytes], previous: asyncio.Task[None] | None
    ) -> None:
        if previous is not None:  # batches arrive in order
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await previous
        if subscription.protocol == "HTTP":
            payload = b"[" + b",".join(batch) + b"]"
        else:
            payload = b"".join(item + b"\n" for item in batch)
        problem = ""
        for attempt in range(_ATTEMPTS):
            try:
                await asyncio.wait_for(_deliver(subscription, payload), 10)
                return
            except (OSError, TimeoutError, _Refused) as exc:
                problem = str(exc) or type(exc).__name__
                await asyncio.sleep(0.05 * (attempt + 1))
        self._on_problem(
            f"{subscription.api} API: {len(batch)} events for {subscription.extension} dropped: "
            f"its listener {subscription.host}:{subscription.port} did not take them ({problem})"
        )


class _Refused(Exception):
    pass


async def _deliver(subscription: Subscription, payload: bytes) -> None:
    reader, writer = await asyncio.open_connection(subscription.host, subscription.port)
    try:
        if subscription.protocol == "TCP":
            writer.write(payload)
            await writer.drain()
            return
        head = (
            f"POST {subscription.path} HTTP/1.1\r\n"
            f"Host: sandbox.localdomain:{subscription.port}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n"
            "Connection: close\r\n\r\n"
        )
        writer.write(head.encode() + payload)
        await writer.drain()
        status_line = await reader.readline()
        parts = status_line.split()
        if len(parts) < 2 or not parts[1].startswith(b"2"):
            raise _Refused(f"answered {status_line.decode(errors='replace').strip() or 'nothing'}")
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
