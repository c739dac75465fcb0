"""ASGI middleware: security headers on every response, and request-body size limits."""

from __future__ import annotations

from collections.abc import Collection

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script or style anywhere: htmx is told not to inject its indicator <style> (see base.html).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


class SecurityHeadersMiddleware:
    """Adds the CSP and friends to every HTTP response, errors and static files included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


class BodyTooLarge(HTTPException):
    """Raised from `receive`, so it reaches the app's HTTPException handler like any other error."""

    def __init__(self, limit: int, upload: bool) -> None:
        if upload:
            detail = (
                f"The upload is larger than the limit of {_megabytes(limit)}; "
                "send fewer or smaller files, or raise QA_MAX_UPLOAD_BYTES on the server."
            )
        else:
            detail = f"The request body is larger than the limit of {_megabytes(limit)}."
        super().__init__(status_code=413, detail=detail)


class BodyLimitMiddleware:
    """Refuses oversized request bodies: by Content-Length before reading a byte, and by counting.

    Args:
        app: the wrapped ASGI app.
        upload_paths: paths whose POST bodies may hold uploads.
        upload_limit: the upload limit users are told about (QA_MAX_UPLOAD_BYTES).
        upload_overhead: extra bytes allowed for multipart boundaries and part headers.
        default_limit: the limit for every other request body (JSON questions, form posts).
    """

    def __init__(
        self, app: ASGIApp, upload_paths: Collection[str], upload_limit: int, upload_overhead: int, default_limit: int
    ) -> None:
        self.app = app
        self.upload_paths = frozenset(upload_paths)
        self.upload_limit = upload_limit
        self.upload_overhead = upload_overhead
        self.default_limit = default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope["method"] == "POST" and scope["path"] in self.upload_paths
        limit = self.upload_limit + self.upload_overhead if upload else self.default_limit
        error = BodyTooLarge(self.upload_limit if upload else limit, upload)
        declared = _content_length(scope)
        received = 0
        started = False

        async def receive_limited() -> Message:
            nonlocal received
            # The declared length is checked on the first read, so a route that refuses the request
            # for another reason (say, a missing API key) answers that instead, still unread.
            if declared is not None and declared > limit:
                raise error
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise error
            return message

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive_limited, send_tracking)
        except BodyTooLarge as e:
            # Normally the app's handler has already answered; this covers a read outside a route.
            if started:
                raise
            await JSONResponse({"detail": e.detail}, status_code=413)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    raw = Headers(scope=scope).get("content-length")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None
