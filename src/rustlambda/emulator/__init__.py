"""A local Lambda: the Runtime and Extensions APIs, the Invoke API, and the instance supervisor.

Use it from Python in-process::

    from rustlambda.emulator import FunctionSpec, EmulatorSettings, running

    with running([FunctionSpec("hello", Path("target/lambda/hello/bootstrap"))],
                 EmulatorSettings(port=0)) as emu:
        boto3.client("lambda", endpoint_url=emu.url, ...).invoke(FunctionName="hello")
        emu.invoke("hello", b'{"x": 1}').body

or asynchronously with ``Emulator`` (``await start()``, ``await stop()``). ``rustlambda watch``
is this plus builds and reloads.
"""

from __future__ import annotations

from .background import RunningEmulator, running
from .model import EmulatorSettings, FunctionSpec, LogRecord, Outcome
from .protocol import Report
from .service import Emulator

__all__ = [
    "Emulator",
    "EmulatorSettings",
    "FunctionSpec",
    "LogRecord",
    "Outcome",
    "Report",
    "RunningEmulator",
    "running",
]
