"""Uploaded files: allowed names and types, per-file size, and one ingest at a time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Protocol

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from qa.errors import DocQAError, FileTooLargeError, IngestError, UnsupportedFileError
from qa.indexer import IngestReport
from qa.ingest import SUPPORTED_SUFFIXES
from qa.pipeline import Pipeline

ACCEPT = ",".join(SUPPORTED_SUFFIXES)


def upload_name(raw: str | None) -> str:
    """The document id for an uploaded file: its plain name, or an error saying why not.

    Raises:
        IngestError: no name, a folder in the name, a leading '.', or control characters.
        UnsupportedFileError: a suffix docqa cannot read.
    """
    name = (raw or "").strip()
    if not name:
        raise IngestError("An uploaded file has no name; give each file a name such as notes.txt.")
    if (
        "/" in name
        or "\\" in name
        or name.startswith(".")
        or len(name) > 255
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in name)
    ):
        raise IngestError(
            f"The file name {name!r} is not allowed; use a plain name such as notes.txt "
            "(no folders, not starting with '.')."
        )
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFileError(
            f"{name}: unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}."
        )
    return name


async def collect_uploads(form: FormData, max_bytes: int) -> list[tuple[str, bytes]]:
    """(doc_id, bytes) for every file part of a parsed multipart form, whatever its field name.

    Raises:
        HTTPException: 422 when the form holds no file.
        IngestError, UnsupportedFileError: see `upload_name`; also a name sent twice.
        FileTooLargeError: a file over `max_bytes`.
    """
    files = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
    files = [f for f in files if f.filename or f.size]  # a browser sends one empty part for "no file chosen"
    if not files:
        raise HTTPException(
            status_code=422,
            detail="No file was sent: attach one or more files in the multipart/form-data field 'files'.",
        )
    uploads: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    for f in files:
        name = upload_name(f.filename)
        if name in seen:
            raise IngestError(f"The file name {name!r} was sent twice; send each document once.")
        seen.add(name)
        data = await f.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise FileTooLargeError(
                f"{name} is larger than the upload limit of {max_bytes:,} bytes; "
                "raise QA_MAX_UPLOAD_BYTES on the server to accept it."
            )
        uploads.append((name, data))
    return uploads


def _storage_error(e: IngestError) -> HTTPException:
    """507 for an index the server could not write (disk full, read-only folder): not the client's fault."""
    return HTTPException(status_code=507, detail=str(e))


def ingest_uploads(
    pipeline: Pipeline, lock: threading.Lock, uploads: list[tuple[str, bytes]], reload: bool = True
) -> IngestReport:
    """Add or replace the documents in the live index; blocking, so call it in a worker thread.

    Args:
        reload: as for `Pipeline.ingest` (False in the upload worker process, which answers nothing).

    Raises:
        HTTPException: 507 when the index folder cannot be written; the previous index stays live.
    """
    with lock:
        try:
            return pipeline.ingest(uploads=uploads, reload=reload)
        except IngestError as e:
            # A write failure is wrapped around the OSError; a refused file carries no OSError.
            if isinstance(e.__cause__, OSError):
                raise _storage_error(e) from e
            raise


def delete_document(pipeline: Pipeline, lock: threading.Lock, doc_id: str, reload: bool = True) -> IngestReport:
    with lock:
        try:
            return pipeline.delete(doc_id, reload=reload)
        except IngestError as e:
            if isinstance(e.__cause__, OSError):
                raise _storage_error(e) from e
            raise


@dataclass(frozen=True)
class WriteOutcome:
    """What a writer in another process sends back: a report, or the error to raise in the server.

    Errors travel as values, not raised across the process boundary, so the server raises exactly
    the domain error (mapped to its HTTP status in web.app) rather than a wrapper around it; the
    507 travels as its message because an exception's `__cause__` does not survive pickling.
    """

    report: IngestReport | None = None
    error: DocQAError | None = None
    storage_error: str | None = None  # the index folder could not be written: a 507

    def unwrap(self) -> IngestReport:
        """The report, or raise the writer's error here."""
        if self.storage_error is not None:
            raise _storage_error(IngestError(self.storage_error))
        if self.error is not None:
            raise self.error
        if self.report is None:
            raise DocQAError("The index writer sent back neither a report nor an error.")
        return self.report


def outcome_of(change: Callable[[], IngestReport]) -> WriteOutcome:
    """Run `change` (an `ingest_uploads` or `delete_document` call) and catch what it raises as a value."""
    try:
        return WriteOutcome(report=change())
    except HTTPException as e:
        return WriteOutcome(storage_error=str(e.detail))
    except DocQAError as e:
        return WriteOutcome(error=e)


class IndexWrites(Protocol):
    """Where the app's uploads and deletes go: this process (`LocalWrites`) or one writer elsewhere.

    Both raise what `ingest_uploads` and `delete_document` raise, and return once the change is
    live for this app's pipeline.
    """

    async def ingest(self, uploads: Sequence[tuple[str, bytes]]) -> IngestReport: ...

    async def delete(self, doc_id: str) -> IngestReport: ...

    def close(self) -> None:
        """Stop what the writes run on (the app's shutdown calls it); a no-op where nothing runs."""


@dataclass(frozen=True)
class LocalWrites:
    """Writes in this process, under the app's ingest lock, in a worker thread: plain `qa serve`."""

    pipeline: Pipeline
    lock: threading.Lock

    async def ingest(self, uploads: Sequence[tuple[str, bytes]]) -> IngestReport:
        return await run_in_threadpool(ingest_uploads, self.pipeline, self.lock, list(uploads))

    async def delete(self, doc_id: str) -> IngestReport:
        return await run_in_threadpool(delete_document, self.pipeline, self.lock, doc_id)

    def close(self) -> None:
        """Nothing to stop: the writes ran in this process's thread pool."""
