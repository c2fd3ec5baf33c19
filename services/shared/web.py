"""The HTTP frame every FastAPI service shares: health, readiness, metrics, request logs, the
request bodies any service can hold, and the security headers of every answer."""

import asyncio
import hashlib
import json
import math
import re
import time
from base64 import b64encode
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.shared.auth import Authorize
from services.shared.errors import BusinessError
from services.shared.principal import Principal, Role
from services.shared.settings import Environment, PlatformSettings

Check = Callable[[], Awaitable[None]]

log = structlog.get_logger()
HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests answered.", ["method", "route", "status"])
HTTP_DURATION = Histogram("http_request_duration_seconds", "Time to answer an HTTP request.", ["method", "route"])
READY_CHECK_TIMEOUT_S = 3.0
# Label values must be few: any other method a client invents is counted as "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# An API answer loads nothing and may be framed by no one; a page says what it runs (html_page).
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The interactive API documentation (development only) loads Swagger UI and ReDoc from their CDN.
DOCS_POLICY = "frame-ancestors 'none'"


def create_app(
    *,
    service: str,
    platform: PlatformSettings,
    checks: Mapping[str, Check],
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
    max_body_bytes: int = 64 * 1024,
    expositions: Sequence[Callable[[], Iterable[bytes]]] = (),
    **fastapi_options: Any,
) -> FastAPI:
    """A FastAPI app with /healthz (the process answers), /readyz (every check passes),
    /metrics (for ops, services and the metrics scraper only: the registry's metrics, then the text
    each of `expositions` writes itself, for families too large for the registry), request bodies limited to
    `max_body_bytes` and to what any service can hold, every `BusinessError` answered with its
    status and body, security headers on every answer, and no API documentation in production."""
    if platform.env is Environment.production:
        fastapi_options |= {"docs_url": None, "redoc_url": None, "openapi_url": None}
    app = FastAPI(title=service, lifespan=lifespan, **fastapi_options)
    app.state.platform = platform
    app.add_middleware(RequestBody, max_bytes=max_body_bytes)
    app.add_exception_handler(BusinessError, _business_error)

    app.add_middleware(Observe)
    docs = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url} - {None}
    app.add_middleware(SecurityHeaders, docs_paths=frozenset(docs))

    @app.get("/healthz", tags=["operations"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz", tags=["operations"], summary="Every dependency (database, Kafka) is reachable")
    async def readyz() -> JSONResponse:
        results = await asyncio.gather(*(_run(check) for check in checks.values()))
        report = dict(zip(checks, results, strict=True))
        ready = all(result == "ok" for result in results)
        return JSONResponse({"status": "ready" if ready else "not ready", "checks": report}, 200 if ready else 503)

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics", response_class=Response)
    async def metrics(_: Annotated[Principal, Depends(Authorize(Role.ops, Role.service, Role.metrics))]) -> Response:
        chunks = [generate_latest(), *(chunk for exposition in expositions for chunk in exposition())]
        return StreamingResponse(_pieces(chunks), media_type=CONTENT_TYPE_LATEST)

    return app


async def _pieces(chunks: Iterable[bytes], size: int = 2**20) -> AsyncIterator[bytes]:
    """The chunks sent joined into pieces of about `size`: an exposition of tens of MB (the analytics
    worker's at 500 stores) is not copied whole into one body, and then again into the send buffer."""
    piece: list[bytes] = []
    length = 0
    for chunk in chunks:
        piece.append(chunk)
        length += len(chunk)
        if length >= size:
            yield b"".join(piece)
            piece, length = [], 0
    yield b"".join(piece)


async def _business_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, BusinessError)
    return JSONResponse(error.body(), error.status_code)


async def _run(check: Check) -> str:
    try:
        async with asyncio.timeout(READY_CHECK_TIMEOUT_S):
            await check()
    except Exception as error:  # noqa: BLE001 - any failure means not ready; the name says which
        return f"unavailable: {type(error).__name__}"
    return "ok"


def html_page(html: str, headers: Mapping[str, str] | None = None, *, status: int = 200,
              posts_to_self: bool = False) -> HTMLResponse:
    """A page shipped with a service. Its policy lets the browser run only the page's own inline
    <script> and <style> blocks, by their hashes, so markup injected into it runs nothing, and send
    its forms nowhere, or (`posts_to_self`) only back to this service."""
    digests = {"script": [], "style": []}
    for tag, content in _INLINE.findall(html):
        digests[tag.lower()].append(f"'sha256-{b64encode(hashlib.sha256(content.encode()).digest()).decode()}'")
    policy = "; ".join([
        "default-src 'none'", *(f"{tag}-src {' '.join(found)}" for tag, found in digests.items() if found),
        "connect-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'", "base-uri 'none'",
        "form-action 'self'" if posts_to_self else "form-action 'none'",
    ])
    return HTMLResponse(html, status_code=status, headers={**(headers or {}), "Content-Security-Policy": policy})


_INLINE = re.compile(r"<(script|style)\b[^>]*>(.*?)</\1>", re.DOTALL | re.IGNORECASE)


class Observe:
    """Counts, times and logs every answered request by its method, route and status. A plain ASGI
    middleware: Starlette's BaseHTTPMiddleware (`@app.middleware("http")`) runs each request in a task
    group with a memory stream, which cost the complaints API 9% of its CPU per filing. A request
    that fails with no answer is not counted, as before: the server's error handler answers it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, sending)
        elapsed = time.perf_counter() - started
        method = scope["method"] if scope["method"] in METHODS else "other"
        route = getattr(scope.get("route"), "path", "unmatched")
        HTTP_REQUESTS.labels(method, route, str(status)).inc()
        HTTP_DURATION.labels(method, route).observe(elapsed)
        log.info("request", method=method, route=route, status=status, duration_ms=round(elapsed * 1000, 2))


class SecurityHeaders:
    """Adds the security headers to every answer; a page's own Content-Security-Policy is kept."""

    def __init__(self, app: ASGIApp, docs_paths: frozenset[str]) -> None:
        self.app, self.docs_paths = app, docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        policy = DOCS_POLICY if scope["path"] in self.docs_paths else API_POLICY

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=list(message["headers"]))
                for name, value in {**SECURITY_HEADERS, "Content-Security-Policy": policy}.items():
                    headers.setdefault(name, value)
                message = {**message, "headers": headers.raw}
            await send(message)

        await self.app(scope, receive, secured)


class RequestBody:
    """Reads a request's body before any route does, and answers 413 to a body over the limit
    (declared or streamed) and 422 to a JSON body that no service can hold: a number that is not
    finite (NaN, Infinity, 1e400) or an integer past 64 bits, a lone surrogate, which is not a
    character and cannot be encoded, or a NUL, which PostgreSQL cannot store."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._too_large(send)
        body, last = b"", await receive()
        while last["type"] == "http.request":
            body += last.get("body", b"")
            if len(body) > self.max_bytes:
                return await self._too_large(send)
            if not last.get("more_body", False):
                break
            last = await receive()
        if body and _is_json(headers.get(b"content-type")) and (problem := _unholdable(body)):
            loc, message = problem
            detail = [{"type": "value_error", "loc": ["body", *loc], "msg": message}]
            return await JSONResponse({"detail": detail}, 422)(scope, receive, send)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {**last, "body": body, "more_body": False} if last["type"] == "http.request" else last

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        response = JSONResponse({"detail": f"request body over {self.max_bytes} bytes"}, 413)
        await send({"type": "http.response.start", "status": 413, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})


def _is_json(content_type: bytes | None) -> bool:
    """As FastAPI decides it: no content type, application/json or application/*+json."""
    if content_type is None:
        return True
    media = content_type.split(b";")[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


_INT64 = 2**63
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


def _unholdable(body: bytes) -> tuple[list[str | int], str] | None:
    """Where in the document the first value no service can hold is, and why; None when all can be
    held or the body is not JSON at all (FastAPI answers that itself)."""
    try:
        document = json.loads(body)  # decodes UTF-8 with surrogatepass, so raw surrogates show up too
    except (ValueError, RecursionError):
        return None
    pending: list[tuple[list[str | int], Any]] = [([], document)]
    while pending:
        loc, value = pending.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return loc, "not a finite number: JSON numbers must be finite (no NaN, Infinity or overflowing exponents)"
        if isinstance(value, int) and not -_INT64 <= value < _INT64:
            return loc, "integer outside the 64-bit range"
        if isinstance(value, str) and (problem := _text_problem(value)):
            return loc, problem
        if isinstance(value, dict):
            for key, item in value.items():
                if problem := _text_problem(key):
                    return loc, f"a field name: {problem}"
                pending.append(([*loc, key], item))
        if isinstance(value, list):
            pending.extend(([*loc, index], item) for index, item in enumerate(value))
    return None


def _text_problem(text: str) -> str | None:
    found = _NOT_TEXT.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "text holds a NUL character (\\u0000)"
    return "text holds a lone surrogate (\\ud800-\\udfff), which is not a character"
