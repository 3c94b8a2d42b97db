"""The Extensions API (2020-01-01) of one instance, and the Telemetry and Logs API
subscriptions it takes: registration (names, events, accountId), ``event/next``, init and exit
errors. A mixin of routes.SandboxApi, whose state (the phase, the Init error) it shares.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from . import protocol
from .httpserver import Request, Response
from .invocation import Invocation
from .telemetry import SubscriptionError, TelemetryHub, parse_subscription

_JSON = {"Content-Type": "application/json"}
ACCEPTED = Response.json(202, {"status": "OK"})
#: ``log(source, text, invocation)``: a platform line for the instance's log.
LogLine = Callable[[str, str, "Invocation | None"], None]


@dataclass
class Extension:
    """A registered extension (external: one of the instance's extension processes)."""

    id: str
    name: str
    events: frozenset[str]
    external: bool
    queue: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    waiting: bool = False

    @property
    def idle(self) -> bool:
        return self.waiting and self.queue.empty()


class ExtensionsApi:
    """The Extensions API handlers (mixed into SandboxApi, which sets these attributes)."""

    phase: str
    function_name: str
    account_id: str
    external_names: tuple[str, ...]
    extensions: dict[str, Extension]
    init_error: tuple[str, bytes] | None
    telemetry: TelemetryHub
    _notify: Callable[[], None]
    _log: LogLine

    @property
    def extensions_idle(self) -> bool:
        """Every registered extension is in ``event/next`` with nothing queued."""
        return not self.extensions or all(e.idle for e in self.extensions.values())

    @property
    def external_registered(self) -> int:
        return len({e.name for e in self.extensions.values() if e.external})

    @property
    def has_external(self) -> bool:
        return any(e.external for e in self.extensions.values())

    def broadcast(self, event_type: str, event: dict[str, object]) -> None:
        """Queue an INVOKE or SHUTDOWN event for the extensions subscribed to it."""
        if not self.extensions:
            return
        raw = json.dumps(event).encode()
        for ext in self.extensions.values():
            # Internal extensions cannot subscribe to SHUTDOWN.
            if event_type in ext.events and not (event_type == "SHUTDOWN" and not ext.external):
                ext.queue.put_nowait(raw)

    # ----------------------------------------------------------------- routing

    async def _register(self, request: Request) -> Response:
        raw = await request.read()
        name = request.header("lambda-extension-name") or ""
        if not name:
            return error(403, "Extension.InvalidExtensionName", "Empty extension name")
        if self.phase not in ("extensions-init", "runtime-init"):
            return error(403, "Extension.RegistrationClosed", "Extension registration closed")
        if len(self.extensions) >= protocol.MAX_EXTENSIONS:
            return error(403, "Extension.TooManyExtensions", "Extension limit (10) reached")
        try:
            events = json.loads(raw or b"{}").get("events", [])
            if not isinstance(events, list) or any(e not in ("INVOKE", "SHUTDOWN") for e in events):
                raise ValueError(events)
        except (ValueError, AttributeError):
            return error(
                403, "InvalidRequestFormat", "events must be a list of INVOKE and SHUTDOWN"
            )
        if self.phase == "extensions-init" and name not in self.external_names:
            return self._misnamed(name)
        external = self.phase == "extensions-init"
        if any(e.name == name for e in self.extensions.values()):
            message = f"an extension named {name!r} is already registered"
            return error(403, "Extension.InvalidExtensionState", message)
        ext = Extension(str(uuid.uuid4()), name, frozenset(events), external)
        self.extensions[ext.id] = ext
        if self.telemetry.active:
            record = {"name": name, "state": "Ready", "events": sorted(events)}
            self.telemetry.emit("platform.extension", record)
        self._notify()
        body = {
            "functionName": self.function_name,
            "functionVersion": "$LATEST",
            "handler": "bootstrap",
        }
        features = request.header("lambda-extension-accept-feature") or ""
        if "accountId" in (f.strip() for f in features.split(",")):
            body["accountId"] = self.account_id
        return Response.json(200, body, {"Lambda-Extension-Identifier": ext.id})

    def _misnamed(self, name: str) -> Response:
        """An extension process registered under a name other than its file's.

        Lambda knows an external extension by its file name (``Lambda-Extension-Name`` is
        "equal to executable basename" for external extensions in AWS's Runtime Interface
        Emulator, rapi/handler/constants.go); another name is taken for an internal extension,
        which cannot register before the runtime starts, and the file-named one never
        registers, so Init would wait for it until it timed out. Fail Init now, saying why.
        """
        files = ", ".join(repr(n) for n in self.external_names)
        message = (
            f"an extension registered as {name!r}, but Lambda names an external extension "
            f"after its file ({files}): rename the file to {name!r}, or register under the "
            "file's name (lambda-extension: drop with_extension_name)"
        )
        self._log("platform", message, None)
        self.init_error = (
            "Extension.InvalidExtensionName",
            protocol.error_body("Extension.InvalidExtensionName", message),
        )
        self._notify()
        return error(403, "Extension.InvalidExtensionName", message)

    async def _subscribe(self, request: Request, api: str) -> Response:
        """A Telemetry API or Logs API subscription (during Init, as on Lambda)."""
        body = await request.read()
        ext = self._extension(request)
        if ext is None:
            return _unknown_extension()
        if self.phase not in ("extensions-init", "runtime-init"):
            return error(403, "InvalidStateTransition", "subscriptions are taken during Init")
        try:
            self.telemetry.subscribe(parse_subscription(api, ext.name, body))
        except SubscriptionError as exc:
            self._log("platform", f"{api} API: {ext.name} subscription refused: {exc}", None)
            return error(400, "ValidationError", str(exc))
        return Response(200, b"OK", {"Content-Type": "text/plain"})

    def _extension(self, request: Request) -> Extension | None:
        return self.extensions.get(request.header("lambda-extension-identifier") or "")

    async def _extension_next(self, request: Request) -> Response:
        await request.read()
        ext = self._extension(request)
        if ext is None:
            return _unknown_extension()
        ext.waiting = True
        self._notify()
        try:
            event = await ext.queue.get()
        finally:
            ext.waiting = False
            self._notify()
        return Response(
            200, event, {**_JSON, "Lambda-Extension-Event-Identifier": str(uuid.uuid4())}
        )

    async def _extension_error(self, request: Request, kind: str) -> Response:
        body = await request.read()
        ext = self._extension(request)
        if ext is None:
            return _unknown_extension()
        error_type = request.header("lambda-extension-function-error-type") or "Extension.Unknown"
        self._log("platform", f"extension {ext.name} reported {kind} error {error_type}", None)
        if kind == "init" and self.phase != "ready":
            self.init_error = (error_type, body or protocol.error_body(error_type, ""))
            self._notify()
        return ACCEPTED


def error(status: int, error_type: str, message: str) -> Response:
    return Response.json(status, {"errorMessage": message, "errorType": error_type})


def _unknown_extension() -> Response:
    return error(403, "Extension.InvalidExtensionIdentifier", "unknown extension identifier")
