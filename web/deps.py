"""FastAPI dependencies: the app's Pipeline and Settings, checked document ids, and the API-key check."""

from __future__ import annotations

import hmac
import threading
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from qa.config import Settings
from qa.errors import DocumentNotFoundError
from qa.pipeline import Pipeline
from web.uploads import IndexWrites, LocalWrites

UPLOADS_DISABLED = (
    "Uploads are disabled on this server. To enable them, restart it with the environment variable "
    "QA_API_KEY set to a secret, then send that secret as 'Authorization: Bearer <secret>'."
)


def get_pipeline(request: Request) -> Pipeline:
    """The Pipeline loaded once at start-up (see web.app.create_app)."""
    pipeline: Pipeline = request.app.state.pipeline
    return pipeline


def get_app_settings(request: Request) -> Settings:
    """This app's Settings; each app keeps its own, so tests can run several side by side."""
    settings: Settings = request.app.state.settings
    return settings


def get_ingest_lock(request: Request) -> threading.Lock:
    """One upload or delete at a time: each rewrites the index and swaps it in."""
    lock: threading.Lock = request.app.state.ingest_lock
    return lock


def get_writes(request: Request) -> IndexWrites:
    """Where uploads and deletes go: the app's own (`create_app(writes=...)`), else this process."""
    writes: IndexWrites | None = request.app.state.writes
    return writes if writes is not None else LocalWrites(get_pipeline(request), get_ingest_lock(request))


def checked_doc_id(doc_id: str) -> str:
    """The path's document id, refusing anything path-like: ids are looked up, never opened as files.

    Raises:
        DocumentNotFoundError: for '..', '.', empty segments, absolute or backslash paths.
    """
    parts = doc_id.split("/")
    if doc_id.startswith("/") or "\\" in doc_id or "\x00" in doc_id or any(p in ("", ".", "..") for p in parts):
        raise DocumentNotFoundError(f"No document with id {doc_id!r}.")
    return doc_id


def require_uploads_enabled(settings: Settings) -> None:
    """Raise 403 with how to turn writes on, when no QA_API_KEY is configured."""
    if not settings.api_key:
        raise HTTPException(status_code=403, detail=UPLOADS_DISABLED)


def check_api_key(settings: Settings, given: str | None) -> None:
    """Raise 403 if uploads are off or the key is wrong, 401 if no key was given."""
    expected = settings.api_key
    if not expected:
        raise HTTPException(status_code=403, detail=UPLOADS_DISABLED)
    if not given:
        raise HTTPException(
            status_code=401,
            detail="This needs the server's API key: send it as 'Authorization: Bearer <QA_API_KEY>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    # Constant-time comparison: the key is the only thing guarding writes.
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise HTTPException(status_code=403, detail="The API key is wrong.")


_bearer = HTTPBearer(auto_error=False, description="The server's QA_API_KEY.")


def require_api_key(
    settings: Annotated[Settings, Depends(get_app_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    check_api_key(settings, credentials.credentials if credentials is not None else None)


PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
IngestLockDep = Annotated[threading.Lock, Depends(get_ingest_lock)]
WritesDep = Annotated[IndexWrites, Depends(get_writes)]
DocIdDep = Annotated[str, Depends(checked_doc_id)]
