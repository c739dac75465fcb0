"""The FastAPI app factory: routers, static files, middleware and the error handlers."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from qa import __version__
from qa.config import Settings
from qa.errors import (
    ConfigError,
    DocQAError,
    DocumentNotFoundError,
    FileTooLargeError,
    IndexCorruptError,
    IndexNotFoundError,
    IngestError,
    InvalidQuestionError,
    UnknownDocumentsError,
    UnsupportedFileError,
)
from qa.pipeline import Pipeline
from web import api, pages
from web.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from web.settings import MAX_FORM_BYTES, MULTIPART_OVERHEAD_BYTES, get_settings
from web.templating import STATIC_DIR, templates
from web.uploads import IndexWrites

UPLOAD_PATHS = ("/api/documents", "/upload")

# The HTTP status of each domain error (qa/ knows nothing of HTTP). A subclass not listed takes its
# nearest listed base's status; a DocQAError nothing here covers is a client error (400).
STATUS_CODES: dict[type[DocQAError], int] = {
    InvalidQuestionError: 422,
    IndexNotFoundError: 503,  # the server is up but has nothing to answer from yet
    IndexCorruptError: 503,
    DocumentNotFoundError: 404,
    UnknownDocumentsError: 422,  # a question's `doc_ids` naming documents the index lacks
    UnsupportedFileError: 415,
    FileTooLargeError: 413,
    IngestError: 400,  # a refused file; web.uploads turns a failed index write into 507
    ConfigError: 500,
}


def status_code_for(exc: DocQAError) -> int:
    """The HTTP status for a domain error: its class's entry in STATUS_CODES, else its nearest base's.

    Args:
        exc: the error raised by the core.

    Returns:
        The status code; 400 when no class in the error's hierarchy is listed.
    """
    for cls in type(exc).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return 400


def create_app(
    settings: Settings | None = None, pipeline: Pipeline | None = None, writes: IndexWrites | None = None
) -> FastAPI:
    """Build the app. Pass a loaded `pipeline` to share it (tests, `qa serve`); else one loads at start-up.

    Args:
        settings: index folder, API key, upload limit; defaults to the environment (`get_settings()`).
        pipeline: a Pipeline already loaded over `settings.index_dir`.
        writes: where uploads and deletes go, closed at shutdown; None: a thread of this process,
            under `app.state.ingest_lock` (plain `qa serve` passes a `ProcessWrites`, its upload
            worker process; `qa serve --replicas` sends them to its one writer).

    Returns:
        The app; `uvicorn web.app:create_app --factory` also works.
    """
    settings = settings if settings is not None else get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.pipeline is None:
            app.state.pipeline = Pipeline(settings).load()
        try:
            yield
        finally:
            if app.state.writes is not None:
                app.state.writes.close()  # e.g. the upload worker process of plain `qa serve`

    app = FastAPI(
        title="docqa",
        version=__version__,
        summary="Offline question answering over your documents, with verbatim answers and exact citations.",
        docs_url=None,  # served by web.pages from local files: the default one loads from a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.pipeline = pipeline
    app.state.ingest_lock = threading.Lock()
    app.state.writes = writes

    app.include_router(api.router)
    app.include_router(api.health_router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    app.add_middleware(
        BodyLimitMiddleware,
        upload_paths=UPLOAD_PATHS,
        upload_limit=settings.max_upload_bytes,
        upload_overhead=MULTIPART_OVERHEAD_BYTES,
        default_limit=MAX_FORM_BYTES,
    )
    app.add_middleware(SecurityHeadersMiddleware)  # outermost, so error responses carry the headers too

    @app.exception_handler(DocQAError)
    async def docqa_error(request: Request, exc: DocQAError) -> Response:
        return error_response(request, status_code_for(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, 422, describe_validation_errors(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return error_response(request, exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(ClientDisconnect)
    async def client_gone(request: Request, exc: ClientDisconnect) -> Response:
        # The client hung up mid-body (an upload cancelled): nobody is left to answer, and it is no
        # server error, so no traceback in the log. 400 is what a proxy logging the request sees.
        return Response(status_code=400)

    return app


def wants_html(request: Request) -> bool:
    """Pages and htmx get HTML errors; the API, and any client not asking for HTML, gets JSON."""
    path = request.url.path
    if path.startswith("/api/") or path == "/healthz":
        return False
    return pages.is_htmx(request) or "text/html" in request.headers.get("accept", "")


def error_response(
    request: Request, status_code: int, detail: str, headers: Mapping[str, str] | None = None
) -> Response:
    if wants_html(request):
        name = "partials/error.html" if pages.is_htmx(request) else "error.html"
        return templates.TemplateResponse(
            request, name, {"status_code": status_code, "detail": detail}, status_code=status_code, headers=headers
        )
    return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)


def describe_validation_errors(errors: Sequence[Any]) -> str:
    """Pydantic's error list as one readable sentence, e.g. "k: Input should be less than or equal to 20"."""
    parts: list[str] = []
    for err in errors:
        if err.get("type") == "json_invalid":
            reason = (err.get("ctx") or {}).get("error", "")
            parts.append(
                f"The request body is not valid JSON ({reason})." if reason else "The request body is not valid JSON."
            )
            continue
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form", "header")]
        where = ".".join(loc) if loc else "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "The request is invalid."
