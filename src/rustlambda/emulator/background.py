"""An Emulator on its own event loop thread, for synchronous callers (tests, scripts, CDK)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from .eventloop import new_event_loop
from .model import EmulatorSettings, FunctionSpec, LogRecord, Outcome
from .protocol import Report
from .service import Emulator


class RunningEmulator:
    """An Emulator running on its own event loop thread, driven from synchronous code."""

    def __init__(self, emulator: Emulator, loop: asyncio.AbstractEventLoop) -> None:
        self.emulator = emulator
        self._loop = loop

    @property
    def url(self) -> str:
        """The endpoint to give boto3 (``endpoint_url``) or the AWS CLI (``--endpoint-url``)."""
        return self.emulator.url

    @property
    def port(self) -> int:
        return self.emulator.port

    def _call(self, coro: Any, timeout: float | None) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def invoke(
        self,
        name: str,
        payload: bytes | str | object = b"{}",
        *,
        client_context: str | None = None,
        timeout: float | None = None,
    ) -> Outcome:
        if isinstance(payload, str):
            payload = payload.encode()
        elif not isinstance(payload, bytes):
            payload = json.dumps(payload).encode()
        coro = self.emulator.invoke_async(name, payload, client_context)
        return self._call(coro, timeout)  # type: ignore[no-any-return]

    def update(self, functions: Sequence[FunctionSpec]) -> list[str]:
        return self._call(self.emulator.update(functions), None)  # type: ignore[no-any-return]

    def lambda_api_environment(self, function: str) -> dict[str, str]:
        """Only-Lambda-APIs mode: the variables to start ``function``'s bootstrap with."""

        async def on_loop() -> dict[str, str]:
            return self.emulator.lambda_api_environment(function)

        return self._call(on_loop(), None)  # type: ignore[no-any-return]


@contextlib.contextmanager
def running(
    functions: Sequence[FunctionSpec],
    settings: EmulatorSettings | None = None,
    *,
    aliases: Mapping[str, str] | None = None,
    on_log: Callable[[LogRecord], None] | None = None,
    on_report: Callable[[Report], None] | None = None,
    on_notice: Callable[[str], None] | None = None,
) -> Iterator[RunningEmulator]:
    """Start an emulator on a background thread; stop it (instances included) on exit."""
    loop = new_event_loop()
    started = threading.Event()
    failure: list[BaseException] = []
    emulator_box: list[Emulator] = []
    stop_event: list[asyncio.Event] = []

    async def main() -> None:
        try:
            emulator = Emulator(
                functions,
                settings,
                aliases=aliases,
                on_log=on_log,
                on_report=on_report,
                on_notice=on_notice,
            )
            await emulator.start()
        except BaseException as exc:
            failure.append(exc)
            started.set()
            return
        emulator_box.append(emulator)
        stop_event.append(asyncio.Event())
        started.set()
        try:
            await stop_event[0].wait()
        finally:
            await emulator.stop()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    started.wait()
    if failure:
        thread.join()
        loop.close()
        raise failure[0]
    try:
        yield RunningEmulator(emulator_box[0], loop)
    finally:
        loop.call_soon_threadsafe(stop_event[0].set)
        thread.join(timeout=30)
        if not thread.is_alive():
            loop.close()
