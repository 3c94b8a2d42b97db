"""CORS on the function-URL front, as ``cargo lambda watch`` answers browsers unless given
``--disable-cors``: a page served from another origin (a front end on localhost:3000) may call
the function. A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) is answered
without invoking the function, allowing the origin, method and headers asked for, credentials
included; an answer to a request that has an ``Origin`` gets the origin allowed. Requests
without an ``Origin`` (curl, SDKs) are not touched.

A deployed function URL does this only as its CORS configuration says; the emulator is
permissive because it serves one developer's machine (``EmulatorSettings.cors``).
"""

from __future__ import annotations

from collections.abc import Mapping

from .http_messages import Headers, Request, Response, StreamResponse

_VARY = ("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")


def preflight(request: Request) -> Response | None:
    """The answer to a CORS preflight, or None when ``request`` is not one."""
    origin = request.headers.get("origin")
    method = request.headers.get("access-control-request-method")
    if request.method != "OPTIONS" or origin is None or method is None:
        return None
    headers = [
        ("Access-Control-Allow-Origin", origin),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Allow-Methods", method),
        _VARY,
    ]
    asked = request.headers.get("access-control-request-headers")
    if asked:
        headers.append(("Access-Control-Allow-Headers", asked))
    return Response(200, b"", headers)


def allow(response: Response | StreamResponse, request: Request) -> Response | StreamResponse:
    """``response`` allowing the request's origin (unless the function itself answered
    with CORS headers: its own choice stands)."""
    origin = request.headers.get("origin")
    if origin is None:
        return response
    pairs = _pairs(response.headers)
    if any(name.lower() == "access-control-allow-origin" for name, _ in pairs):
        return response
    pairs += [
        ("Access-Control-Allow-Origin", origin),
        ("Access-Control-Allow-Credentials", "true"),
        _VARY,
    ]
    response.headers = pairs
    return response


def _pairs(headers: Headers) -> list[tuple[str, str]]:
    return list(headers.items()) if isinstance(headers, Mapping) else list(headers)
