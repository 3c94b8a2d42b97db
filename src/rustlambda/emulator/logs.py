"""Cutting a process's output into log lines as Lambda does, without losing a byte.

Lambda sends each line a function or extension writes (stdout and stderr) to CloudWatch Logs
as one log event, and an event holds at most 256 KB: 262,144 bytes including 26 bytes of
overhead per event (CloudWatch Logs quotas, "Event size"; PutLogEvents counts "the sum of all
event messages in UTF-8, plus 26 bytes for each log event"). A longer line is not cut off but
split into several events of at most 262,144 - 26 = 262,118 bytes: that is where Lambda's
pieces of one long line end, as measured on Lambda and reported in "Why are my AWS Cloudwatch
logs splitting up JSON strings into two lines?" (Stack Overflow question 77175643: the split
"seems to be 2^18 - 26"). CloudWatch raised the event limit to 1 MB in April 2025; whether
Lambda's own log delivery follows is not documented, so the emulator keeps the measured size.
The Telemetry and Logs APIs' smallest ``maxBytes`` (262,144) is also what one such piece needs.
"""

from __future__ import annotations

#: The largest piece of one line that becomes one log record.
MAX_LINE_BYTES = 262_144 - 26


def _cut(data: bytes | bytearray, limit: int) -> int:
    """Where to cut ``data`` (longer than ``limit``) so no UTF-8 character is split."""
    cut = limit
    # A continuation byte (0b10xxxxxx) at the cut: the character began up to 3 bytes earlier.
    while cut > limit - 3 and (data[cut] & 0xC0) == 0x80:
        cut -= 1
    return limit if (data[cut] & 0xC0) == 0x80 else cut  # not UTF-8: cut at the limit


class LineSplitter:
    """Feed raw output; get complete lines (without their newline), long lines in pieces."""

    def __init__(self, limit: int = MAX_LINE_BYTES) -> None:
        self.limit = limit
        self._pending = bytearray()

    def feed(self, data: bytes) -> list[str]:
        self._pending += data
        lines: list[str] = []
        start = 0
        pending = self._pending
        while True:
            end = pending.find(b"\n", start)
            if end < 0 or end - start > self.limit:
                if len(pending) - start <= self.limit:
                    break
                cut = start + _cut(pending[start:], self.limit)
                lines.append(pending[start:cut].decode(errors="replace"))
                start = cut
                continue
            lines.append(_text(pending[start:end]))
            start = end + 1
        del pending[:start]
        return lines

    def finish(self) -> list[str]:
        """What is left after the last newline (the process ended without one)."""
        rest, self._pending = self._pending, bytearray()
        return [_text(rest)] if rest else []


def _text(line: bytes | bytearray) -> str:
    if line.endswith(b"\r"):
        line = line[:-1]
    return line.decode(errors="replace")
