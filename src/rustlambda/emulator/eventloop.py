"""The event loop the emulator runs on: uvloop where it is installed (Linux and macOS), else
asyncio's own.

uvloop (libuv under asyncio's API) runs the emulator's per-invoke work — three HTTP exchanges,
TCP accepts, futures and callbacks — in about two thirds of the CPU time of asyncio's selector
loop (BENCHMARKS.md, W5). Nothing in the emulator depends on which loop it gets.
"""

from __future__ import annotations

import asyncio


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # Windows, or a trimmed install: asyncio's loop works the same
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
