"""The HTTP frame every FastAPI service shares: health, readiness, metrics and request logs."""

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.shared.auth import Authorize
from services.shared.errors import BusinessError
from services.shared.principal import Principal, Role
from services.shared.settings import PlatformSettings

Check = Callable[[], Awaitable[None]]

log = structlog.get_logger()
HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests answered.", ["method", "route", "status"])
HTTP_DURATION = Histogram("http_request_duration_seconds", "Time to answer an HTTP request.", ["method", "route"])
READY_CHECK_TIMEOUT_S = 3.0


def create_app(
    *,
    service: str,
    platform: PlatformSettings,
    checks: Mapping[str, Check],
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
    max_body_bytes: int = 64 * 1024,
    **fastapi_options: Any,
) -> FastAPI:
    """A FastAPI app with /healthz (the process answers), /readyz (every check passes),
    /metrics (for ops and services only), request bodies limited to `max_body_bytes`, and every
    `BusinessError` answered with its status and body."""
    app = FastAPI(title=service, lifespan=lifespan, **fastapi_options)
    app.state.platform = platform
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_exception_handler(BusinessError, _business_error)

    @app.middleware("http")
    async def observe(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        elapsed = time.perf_counter() - started
        route = getattr(request.scope.get("route"), "path", "unmatched")
        HTTP_REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        HTTP_DURATION.labels(request.method, route).observe(elapsed)
        log.info("request", method=request.method, route=route, status=response.status_code,
                 duration_ms=round(elapsed * 1000, 2))
        return response

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
    async def metrics(_: Annotated[Principal, Depends(Authorize(Role.ops, Role.service))]) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


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


class BodyLimit:
    """Answers 413 to a request body over the limit, declared or streamed, before any route reads it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._too_large(send)
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._too_large(send)

    async def _too_large(self, send: Send) -> None:
        response = JSONResponse({"detail": f"request body over {self.max_bytes} bytes"}, 413)
        await send({"type": "http.response.start", "status": 413, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})


class _TooLarge(Exception):
    pass
