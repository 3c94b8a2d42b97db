"""An HTTP proxy in front of a local AWS endpoint (moto's server) that adds latency and answers
chosen requests with AWS's refusals instead of passing them on: throttling (429
``TooManyRequestsException``), a function update in progress (409 ``ResourceConflictException``).

Used by the deploy tests (injected throttling) and by the deploy bench (a realistic per-call
latency). It counts what it saw: every request, the refusals it made up, and the most requests
it had in flight at once (how many calls a deploy really made concurrently).

Stdlib only. Run by hand::

    python tests/aws_proxy.py http://127.0.0.1:5000 --latency 0.1
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

#: Headers that belong to one connection, not to the request or response passed on.
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


@dataclass(frozen=True)
class Fault:
    """An AWS refusal in the REST-JSON shape Lambda answers with."""

    status: int
    code: str
    message: str

    def body(self) -> bytes:
        return json.dumps({"__type": self.code, "Type": "User", "message": self.message}).encode()


THROTTLED = Fault(429, "TooManyRequestsException", "Rate exceeded")


def in_progress(function: str) -> Fault:
    return Fault(
        409,
        "ResourceConflictException",
        "The operation cannot be performed at this time. An update is in progress for "
        f"resource: arn:aws:lambda:us-east-1:123456789012:function:{function}",
    )


#: Decides, per request (method, path), whether to refuse it; called under the proxy's lock.
Rule = Callable[[str, str], Fault | None]


def is_lambda(path: str) -> bool:
    """Lambda's REST API paths (``/2015-03-31/functions/...``, ``/2021-10-31/...``)."""
    return path.startswith(("/2015-03-31/", "/2018-10-31/", "/2019-09-", "/2020-", "/2021-"))


class AwsProxy:
    """``with AwsProxy(upstream) as proxy:`` serves on ``proxy.url`` (127.0.0.1, a free port)."""

    def __init__(self, upstream: str, *, latency: float = 0.0, rule: Rule | None = None) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.latency = latency
        self.rule = rule
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self.refused: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def reset_counts(self) -> None:
        with self.lock:
            self.requests.clear()
            self.refused.clear()
            self.max_in_flight = self.in_flight

    def __enter__(self) -> AwsProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # --- called by the handler threads ---
    def begin(self, method: str, path: str) -> Fault | None:
        with self.lock:
            self.requests.append((method, path))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            fault = self.rule(method, path) if self.rule is not None else None
            if fault is not None:
                self.refused[fault.code] += 1
            return fault

    def end(self) -> None:
        with self.lock:
            self.in_flight -= 1


def _handler(proxy: AwsProxy) -> type[BaseHTTPRequestHandler]:
    local = threading.local()  # one upstream connection per handler thread (keep-alive)

    def upstream() -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(*proxy.upstream, timeout=120)
            local.conn = conn
        return conn

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?", 1)[0]
            fault = proxy.begin(self.command, path)
            try:
                if proxy.latency:
                    time.sleep(proxy.latency)
                if fault is not None:
                    answer = (fault.status, {"x-amzn-ErrorType": fault.code}, fault.body())
                else:
                    answer = self._forward(body)
            finally:
                # ended before the answer is written: a client holding its answer may send its
                # next request at once, and that one must not count as overlapping this one
                proxy.end()
            self._answer(*answer)

        def _forward(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            for attempt in (1, 2):  # a kept-alive connection the upstream closed: reconnect once
                conn = upstream()
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                    break
                except (ConnectionError, http.client.HTTPException):
                    conn.close()
                    local.conn = None
                    if attempt == 2:
                        raise
            kept = {
                k: v
                for k, v in response.getheaders()
                if k.lower() not in _HOP_BY_HOP | {"content-length"}
            }
            return response.status, kept, data

        def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            if "content-type" not in {k.lower() for k in headers}:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _any

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("upstream", help="e.g. http://127.0.0.1:5000 (moto_server)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    args = parser.parse_args()
    with AwsProxy(args.upstream, latency=args.latency) as proxy:
        print(proxy.url, flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
