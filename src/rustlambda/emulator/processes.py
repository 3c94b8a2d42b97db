"""The processes of one instance — its runtime and external extensions — each under its
supervisor (process.py, reaper.py): started, their output pumped as log lines (split as Lambda
splits long ones), their exits watched, their memory measured, and ended at Shutdown."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .logs import LineSplitter
from .process import Launch, PeakMemory, Supervised, spawn_supervised

#: How long to wait for a process's supervisor after asking it to end everything.
_KILL_WAIT = 5.0
#: How long an exited process's output may take to drain (its pipe closes with it).
_DRAIN = 1.0


@dataclass
class InstanceProcess:
    role: str  # "runtime" | "extension"
    name: str
    process: Supervised
    memory: PeakMemory
    pump: asyncio.Task[None] | None = None
    watch: asyncio.Task[None] | None = None

    @property
    def proc(self) -> asyncio.subprocess.Process:
        """The supervisor: it exits with the program's status once every process has ended."""
        return self.process.supervisor

    @property
    def source(self) -> str:
        """Its log lines' source: "function" or "extension:<name>"."""
        return "function" if self.role == "runtime" else f"extension:{self.name}"


class ProcessSet:
    def __init__(
        self,
        cwd: Path,
        *,
        on_line: Callable[[str, str], None],
        on_exit: Callable[[InstanceProcess, int], None],
    ) -> None:
        """``on_line(source, text)``: each line of output; ``on_exit(process, code)``: a
        process ended (its output drained)."""
        self._cwd = cwd
        self._on_line = on_line
        self._on_exit = on_exit
        self.processes: list[InstanceProcess] = []

    async def spawn(self, role: str, name: str, launch: Launch, env: Mapping[str, str]) -> None:
        supervised = await spawn_supervised(launch, env=env, cwd=self._cwd, limit=1 << 16)
        entry = InstanceProcess(role, name, supervised, PeakMemory(supervised.pid))
        self.processes.append(entry)
        entry.pump = asyncio.ensure_future(self._pump(entry))
        entry.watch = asyncio.ensure_future(self._watch(entry))

    def alive(self) -> list[InstanceProcess]:
        return [p for p in self.processes if p.proc.returncode is None]

    def memory_kib(self) -> int:
        """The peak resident memory (VmHWM) of the live processes, added up."""
        return sum(p.memory.kib() or 0 for p in self.alive())

    async def end(self, alive: list[InstanceProcess], budget: float) -> None:
        """Wait ``budget`` seconds for ``alive`` to exit, then end each with all it started."""
        if alive:
            waits = {asyncio.ensure_future(p.proc.wait()): p for p in alive}
            _, pending = await asyncio.wait(waits, timeout=budget)
            for task in pending:
                waits[task].process.kill_all()
            if pending:
                _, pending = await asyncio.wait(pending, timeout=_KILL_WAIT)
            for task in pending:  # a supervisor that did not answer: its group, at least
                waits[task].process.kill_group()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        for p in self.processes:
            if p.pump is not None:
                with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(asyncio.shield(p.pump), _DRAIN)
                p.pump.cancel()
            if p.watch is not None and p.watch is not asyncio.current_task():
                p.watch.cancel()

    async def _pump(self, entry: InstanceProcess) -> None:
        """Every byte a process writes, as log lines (long lines in pieces, as Lambda splits)."""
        stream = entry.proc.stdout
        assert stream is not None
        splitter = LineSplitter()
        while chunk := await stream.read(1 << 16):
            for line in splitter.feed(chunk):
                self._on_line(entry.source, line)
        for line in splitter.finish():
            self._on_line(entry.source, line)

    async def _watch(self, entry: InstanceProcess) -> None:
        code = await entry.proc.wait()
        entry.memory.close()
        if entry.pump is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(entry.pump), _DRAIN)
        self._on_exit(entry, code)
