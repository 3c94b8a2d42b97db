"""The emulator as a service: the Invoke API server in front of one pool of instances per
function, started, updated (after a rebuild) and stopped as a whole."""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import quote, unquote

from ..errors import AddressInUseError, EmulatorError
from . import protocol
from .client import endpoint_for
from .environment import RESERVED_ENV, process_env
from .http_messages import Body
from .httpserver import Request, Response, serve
from .invocation import Invocation, ResponseStream
from .invoke_api import InvokeApi
from .model import EmulatorSettings, FunctionSpec, LogRecord, Outcome
from .pool import FunctionPool
from .protocol import Report

_log = logging.getLogger("rustlambda.emulator")
#: Lambda's limit on a function's own environment variables, all together.
ENV_SIZE_LIMIT = 4096


def _default_log(record: LogRecord) -> None:
    _log.info("[%s#%d] %s", record.function, record.instance, record.text)


def _default_report(report: Report) -> None:
    pass


def _default_notice(message: str) -> None:
    _log.info("%s", message)


class Emulator:
    """Serves functions on the Invoke API; each function gets a pool of instances."""

    def __init__(
        self,
        functions: Sequence[FunctionSpec],
        settings: EmulatorSettings | None = None,
        *,
        aliases: Mapping[str, str] | None = None,
        on_log: Callable[[LogRecord], None] | None = None,
        on_report: Callable[[Report], None] | None = None,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings or EmulatorSettings()
        if self.settings.concurrency < 1:
            raise EmulatorError(
                f"concurrency must be at least 1, not {self.settings.concurrency}",
                "pass --concurrency 1 or more",
            )
        self._on_log = on_log or _default_log
        self._on_report = on_report or _default_report
        #: One line about something the servers did on their own (e.g. refused a malformed
        #: request); never a traceback.
        self._on_notice = on_notice or _default_notice
        #: Things worth telling the user (reserved variables ignored, env over 4 KB...).
        self.warnings: list[str] = []
        self._pools: dict[str, FunctionPool] = {}
        self._check_names(functions)
        for spec in functions:
            self._pools[spec.name] = self._pool(spec)
        #: Other names that route to a served function (e.g. ``hello`` → ``hello-arm64``).
        self.aliases: dict[str, str] = {}
        self._set_aliases(aliases or {})
        self._servers: list[asyncio.Server] = []
        self._port = 0
        #: While the functions are still being built (`hold`): how invocations are answered.
        self.pending: Pending | None = None

    @staticmethod
    def _check_names(functions: Sequence[FunctionSpec]) -> None:
        seen: set[str] = set()
        for spec in functions:
            if spec.name in seen:
                raise EmulatorError(
                    f"two functions are named {spec.name!r}",
                    "give every function a distinct name",
                )
            seen.add(spec.name)

    def _pool(self, spec: FunctionSpec) -> FunctionPool:
        if spec.timeout <= 0:
            raise EmulatorError(
                f"{spec.name}: timeout must be positive, not {spec.timeout}",
                "pass --timeout in seconds (Lambda allows 1 to 900)",
            )
        reserved = sorted(k for k in spec.env if k in RESERVED_ENV)
        if reserved:
            self.warnings.append(
                f"{spec.name}: Lambda reserves {', '.join(reserved)}; the emulator sets them "
                "itself and ignores the function's values (a deploy would be refused)"
            )
        size = sum(len(k) + len(v) for k, v in spec.env.items())
        if size > ENV_SIZE_LIMIT:
            self.warnings.append(
                f"{spec.name}: its environment variables take {size} bytes; Lambda allows "
                f"{ENV_SIZE_LIMIT} in total and would refuse to deploy it"
            )
        return FunctionPool(spec, self.settings, self._on_log, self._on_report)

    def _set_aliases(self, aliases: Mapping[str, str]) -> None:
        for alias, target in aliases.items():
            if target not in self._pools:
                raise EmulatorError(
                    f"alias {alias!r} names {target!r}, which is not served",
                    f"route it to one of: {', '.join(self._pools)}",
                )
        self.aliases = dict(aliases)

    def resolve(self, name: str) -> str | None:
        """The served function ``name`` stands for (itself or through an alias)."""
        if name in self._pools:
            return name
        return self.aliases.get(name)

    @property
    def function_names(self) -> list[str]:
        return list(self._pools)

    @property
    def functions(self) -> list[FunctionSpec]:
        return [pool.spec for pool in self._pools.values()]

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return endpoint_for(self.settings.address, self._port)

    @property
    def urls(self) -> list[str]:
        """Every address listened on (``url`` first; [::1] too by default)."""
        return [
            endpoint_for(str(server.sockets[0].getsockname()[0]), self._port)
            for server in self._servers
            if server.sockets
        ]

    def hold(self, *, wait: bool) -> None:
        """The functions are being built (watch's first build): until `update` serves them,
        an invocation waits for them (``wait``) or is answered as Lambda answers one for a
        function whose state is Pending."""
        self.pending = Pending(wait)

    async def fail_pending(self, reason: str) -> None:
        """The build the held invocations waited for failed: answer each of them with
        ``reason`` (bounded: at most 5 s for their answers to go out)."""
        pending, self.pending = self.pending, None
        if pending is not None:
            await pending.fail(reason)

    async def start(self) -> None:
        """Listen on the invoke address (instances start on their first invocation)."""
        api = InvokeApi(self)
        addresses = self.settings.listen_addresses
        port = self.settings.port
        for index, address in enumerate(addresses):
            try:
                server = await serve(
                    api.handle,
                    address,
                    port,
                    on_error=self._server_error,
                    cancel_on_disconnect=False,
                )
            except OSError as exc:
                if index == 0:
                    await self._close_servers()
                    raise _listen_error(address, port, exc) from exc
                # An extra loopback (IPv6 missing here?) is a convenience, not a requirement.
                self._on_notice(f"not listening on {endpoint_for(address, port)}: {exc.strerror}")
                continue
            self._servers.append(server)
            if index == 0:
                port = self._port = server.sockets[0].getsockname()[1]
        for name, pool in self._pools.items():
            self._open_lambda_apis(name, pool)

    def _open_lambda_apis(self, name: str, pool: FunctionPool) -> None:
        """Only-Lambda-APIs mode: the function's Runtime API, listening before the user starts
        the runtime."""
        if self.settings.only_lambda_apis and self._servers:
            # With the scheme, as cargo lambda watch gives it: lambda_runtime parses the value
            # as a URI, and host:port followed by a path is none ("InvalidFormat").
            pool.user_runtime_api = f"{self.url}/.rt/{quote(name, safe='')}"
            pool.lambda_apis_instance()

    def _server_error(self, message: str) -> None:
        self._on_notice(f"Invoke API: {message}")

    async def _close_servers(self) -> None:
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()

    async def lambda_api_request(self, request: Request, rest: str) -> Response:
        """A Runtime/Extensions API request to ``/.rt/<function>/...`` (only-Lambda-APIs mode)."""
        name, _, path = rest.partition("/")
        resolved = self.resolve(unquote(name))
        pool = self._pools.get(resolved) if resolved is not None else None
        if not self.settings.only_lambda_apis or pool is None:
            message = (
                f"no Runtime API for {unquote(name)!r} here (only-Lambda-APIs mode serves one)"
            )
            return Response.json(404, {"errorType": "InvalidRequest", "errorMessage": message})
        instance = pool.lambda_apis_instance()
        request.path = "/" + path
        request.cancel_on_disconnect = True  # a runtime that went away stops waiting for events
        return await instance.routes.handle(request)

    def lambda_api_environment(self, function: str, *, credentials: bool = True) -> dict[str, str]:
        """Only-Lambda-APIs mode: the variables to export before starting ``function``'s
        bootstrap yourself (e.g. under a debugger). Asks for the AWS credentials now, unless
        ``credentials`` is False (a runtime started from the user's shell has their chain)."""
        resolved = self.resolve(function)
        pool = self._pools.get(resolved) if resolved is not None else None
        if pool is None or pool.user_runtime_api is None:
            raise EmulatorError(
                f"no function named {function!r} is served in only-Lambda-APIs mode",
                f"use one of: {', '.join(self._pools) or 'none'}",
            )
        found: Mapping[str, str] | None = {}
        if credentials:
            found = self.settings.credentials() if self.settings.credentials else None
        env = process_env(
            pool.spec,
            self.settings,
            pool.user_runtime_api,
            protocol.log_stream_name(),
            found,
        )
        # Where the binary runs is the user's business: their PATH, libraries and directory.
        for name in ("PATH", "LD_LIBRARY_PATH", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "LANG"):
            env.pop(name, None)
        return env

    async def invoke_async(
        self,
        name: str,
        payload: Body,
        client_context: str | None = None,
        cognito_identity: str | None = None,
        *,
        stream: ResponseStream | None = None,
        wait_report: bool = True,
        request_id: str | None = None,
    ) -> Outcome:
        """Invoke ``name`` synchronously (RequestResponse) and return what the caller gets."""
        resolved = self.resolve(name)
        pool = self._pools.get(resolved) if resolved is not None else None
        if pool is None:
            raise EmulatorError(
                f"no function named {name!r} is being served",
                f"use one of: {', '.join(self._pools) or 'none'}",
            )
        inv = Invocation(
            payload,
            request_id=request_id,
            client_context=_header_json(client_context, "the client context"),
            cognito_identity=_header_json(cognito_identity, "the Cognito identity"),
            stream=stream,
        )
        return await pool.invoke(inv, wait_report=wait_report)

    async def update(
        self, functions: Sequence[FunctionSpec], *, aliases: Mapping[str, str] | None = None
    ) -> list[str]:
        """Serve these functions from now on; returns the names whose instances restart."""
        self._check_names(functions)
        wanted = {spec.name: spec for spec in functions}
        changed: list[str] = []
        for name in [n for n in self._pools if n not in wanted]:
            pool = self._pools.pop(name)
            await pool.stop()
            changed.append(name)
        for name, spec in wanted.items():
            existing = self._pools.get(name)
            if existing is None:
                self._pools[name] = pool = self._pool(spec)
                self._open_lambda_apis(name, pool)
                changed.append(name)
            elif existing.spec != spec:
                self._pool(spec)  # validate and warn as for a new function
                existing.replace(spec)
                changed.append(name)
        self._set_aliases(
            aliases
            if aliases is not None
            else {a: t for a, t in self.aliases.items() if t in self._pools}
        )
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.release()
        return changed

    async def stop(self) -> None:
        """Shut every instance down, then stop listening."""
        await asyncio.gather(*(pool.stop() for pool in self._pools.values()))
        await self._close_servers()


class Pending:
    """Invocations that arrive while the functions are still being built."""

    def __init__(self, wait: bool) -> None:
        self.wait = wait
        self._done = asyncio.Event()
        self._failure: str | None = None
        self._waiting = 0

    async def settle(self) -> str | None:
        """Wait for the build (with ``wait``); None when the functions are served, else why
        the invocation cannot run ("Pending: ..." or "Failed: ...")."""
        if not self.wait:
            return "Pending: rustlambda watch is still building the functions"
        self._waiting += 1
        try:
            await self._done.wait()
        finally:
            self._waiting -= 1
        return None if self._failure is None else f"Failed: {self._failure}"

    def release(self) -> None:
        self._done.set()

    async def fail(self, reason: str) -> None:
        self._failure = reason
        self._done.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5.0
        while self._waiting and loop.time() < deadline:
            await asyncio.sleep(0.01)
        for _ in range(3):  # the woken handlers write their answers
            await asyncio.sleep(0)


def _header_json(text: str | None, what: str) -> str | None:
    if text is None:
        return None
    try:
        return protocol.header_json(text)
    except ValueError as exc:
        raise EmulatorError(f"{what} is not JSON: {exc}", f"pass {what} as a JSON object") from exc


def _listen_error(address: str, port: int, exc: OSError) -> AddressInUseError:
    where = endpoint_for(address, port).removeprefix("http://")
    if exc.errno == errno.EADDRINUSE:
        return AddressInUseError(
            f"cannot listen on {where}: the port is already in use",
            "stop the other server (another rustlambda watch?) or pass another --invoke-port",
        )
    return AddressInUseError(
        f"cannot listen on {where}: {exc.strerror or exc}",
        "pass an address this machine has with --invoke-address (e.g. 127.0.0.1)",
    )
