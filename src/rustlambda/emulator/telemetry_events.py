"""Telemetry events: what the instance reports (platform events with their records, log
lines), and how each API and schema version writes them — the shapes ``lambda-extension`` 1.x
deserializes (``LambdaTelemetryRecord`` in telemetry.rs, ``LambdaLogRecord`` in logs.rs) and the
AWS Lambda developer guide's "Lambda Telemetry API Event schema reference" and "Lambda Logs API"
describe. See telemetry.py for the subscriptions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .invocation import Invocation
from .protocol import Report


def iso_time(epoch: float) -> str:
    """``2022-10-12T00:00:15.064Z``: the ``time`` of every record."""
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))
    return f"{seconds}.{int(epoch * 1000) % 1000:03d}Z"


@dataclass(frozen=True)
class Event:
    """One telemetry event, in the Telemetry API 2022-12-13 shape (``type`` and ``record``)."""

    type: str
    record: Any
    time: float = field(default_factory=time.time)

    @property
    def category(self) -> str:
        return "platform" if self.type.startswith("platform.") else self.type


_TELEMETRY_TYPES = {
    "function",
    "extension",
    "platform.initStart",
    "platform.initRuntimeDone",
    "platform.initReport",
    "platform.start",
    "platform.runtimeDone",
    "platform.report",
    "platform.extension",
    "platform.telemetrySubscription",
    "platform.logsDropped",
}


def for_telemetry(event: Event, schema: str) -> dict[str, Any] | None:
    if event.type not in _TELEMETRY_TYPES:
        return None
    record = event.record
    if schema == "2022-07-01" and isinstance(record, dict):
        # The first schema had no spans (2022-12-13 added them), and initRuntimeDone no phase;
        # initReport has its phase in both (lambda-extension requires it).
        record = {k: v for k, v in record.items() if k != "spans"}
        if event.type == "platform.initRuntimeDone":
            record.pop("phase", None)
    return {"time": iso_time(event.time), "type": event.type, "record": record}


_LOGS_TYPES = {
    "function",
    "extension",
    "platform.start",
    "platform.end",
    "platform.report",
    "platform.runtimeDone",
    "platform.extension",
    "platform.logsSubscription",
    "platform.fault",
}


def for_logs(event: Event, schema: str) -> dict[str, Any] | None:
    if event.type not in _LOGS_TYPES:
        return None
    if event.type == "platform.runtimeDone" and schema == "2020-08-15":
        return None
    record = event.record
    if isinstance(record, dict):
        keep = {
            "platform.start": ("requestId", "version"),
            "platform.end": ("requestId",),
            "platform.report": ("requestId", "metrics"),
            "platform.runtimeDone": ("requestId", "status"),
        }.get(event.type)
        if keep is not None:
            record = {k: record[k] for k in keep if k in record}
    return {"time": iso_time(event.time), "type": event.type, "record": record}


# The records of the platform events, built from what the instance knows.

_STATUS = {"success": "success", "error": "error", "timeout": "timeout", "crash": "failure"}


def _tracing(trace_id: str) -> dict[str, str]:
    return {"type": "X-Amzn-Trace-Id", "value": trace_id}


def init_start() -> dict[str, Any]:
    return {"initializationType": "on-demand", "phase": "init"}


def init_done(status: str, error_type: str | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "initializationType": "on-demand",
        "phase": "init",
        "status": status,
        "spans": [],
    }
    if error_type:
        record["errorType"] = error_type
    return record


def init_report(status: str, duration_ms: float, error_type: str | None) -> dict[str, Any]:
    record = init_done(status, error_type)
    record["metrics"] = {"durationMs": round(duration_ms, 3)}
    return record


def start(request_id: str, trace_id: str) -> dict[str, Any]:
    return {"requestId": request_id, "version": "$LATEST", "tracing": _tracing(trace_id)}


def runtime_done(
    request_id: str,
    trace_id: str,
    status: str,
    error_type: str | None,
    duration_ms: float,
    produced_bytes: int,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "requestId": request_id,
        "status": _STATUS.get(status, status),
        "metrics": {"durationMs": round(duration_ms, 3), "producedBytes": produced_bytes},
        "spans": [],
        "tracing": _tracing(trace_id),
    }
    if error_type and status != "success":
        record["errorType"] = error_type
    return record


def report(
    request_id: str,
    trace_id: str,
    status: str,
    error_type: str | None,
    metrics: dict[str, Any],
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "requestId": request_id,
        "status": _STATUS.get(status, status),
        "metrics": metrics,
        "spans": [],
        "tracing": _tracing(trace_id),
    }
    if error_type and status != "success":
        record["errorType"] = error_type
    return record


def render(api: str, event: Event, schema: str) -> dict[str, Any] | None:
    """``event`` as the ``api`` ("telemetry" or "logs") writes it in ``schema``; None if that
    API has no such event."""
    return for_telemetry(event, schema) if api == "telemetry" else for_logs(event, schema)


def invocation_end(inv: Invocation, end: Report) -> list[tuple[str, dict[str, Any], float]]:
    """``platform.runtimeDone``, ``platform.end`` (Logs API) and ``platform.report`` of an
    invocation: (type, record, time)."""
    status, body, error_type = inv.result.result()
    runtime_ms = (inv.finished - inv.started) * 1000
    metrics: dict[str, Any] = {
        "durationMs": round(end.duration_ms, 3),
        "billedDurationMs": end.billed_duration_ms,
        "memorySizeMB": end.memory_size,
        "maxMemoryUsedMB": end.max_memory_used_mb,
    }
    if end.init_duration_ms is not None:
        metrics["initDurationMs"] = round(end.init_duration_ms, 3)
    rid, trace = inv.request_id, inv.trace_id
    now = time.time()
    return [
        (
            "platform.runtimeDone",
            runtime_done(rid, trace, status, error_type, runtime_ms, len(body)),
            inv.finished_wall,
        ),
        ("platform.end", {"requestId": rid}, now),
        ("platform.report", report(rid, trace, status, error_type, metrics), now),
    ]
