"""Plain `qa serve`'s uploads and deletes, ingested in one worker process off the request path.

Embedding an upload takes the CPU for seconds; in a thread of the server it competes with every
question (the GIL, and torch's threads on the same cores). The worker is a separate process at a
lower CPU priority, with its own Pipeline and embedder (the weights load at its first write, so
start-up stays fast), and the only writer, one change at a time. When it has written a generation,
the server loads it (`Pipeline.refresh`) before the response goes out: the next question sees it.

A worker that dies is replaced at the next write. A write it took and did not finish fails with
503 and changes nothing: a generation only becomes current once it is completely written.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool

from qa.config import Settings
from qa.indexer import IngestReport
from qa.pipeline import Pipeline
from web.uploads import WriteOutcome, outcome_of

WORKER_NICE = 10  # on a 2-core box this, not the process boundary alone, keeps questions fast
STARTED = "started"  # the worker's receipt for a request: after it, a lost worker means a lost write
STOP_WAIT_S = 10.0


@dataclass(frozen=True)
class Ingest:
    uploads: list[tuple[str, bytes]]


@dataclass(frozen=True)
class Delete:
    doc_id: str


Request = Ingest | Delete


class WriterStoppedError(Exception):
    """The worker ended before it sent a receipt: nothing was written, so a fresh one may take it."""


def die_with_parent(poll_s: float = 1.0) -> None:
    """End this worker when the server dies, even mid-change (a half-written generation never
    becomes current), rather than embedding on for nobody; a watcher thread notices the new parent."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(0)

    threading.Thread(target=watch, name="docqa-parent-watch", daemon=True).start()


def run_worker(conn: Connection, settings: Settings, nice: int) -> None:
    """The worker's loop: one request at a time until the server closes its end of the pipe."""
    from qa.cli import _quiet

    if nice:
        os.nice(nice)  # first, so torch's threads, made later, inherit it
    die_with_parent()
    _quiet()
    pipeline = Pipeline(settings)  # no index loaded: it only writes; the weights load at the first encode
    lock = threading.Lock()
    from web.uploads import delete_document, ingest_uploads

    while True:
        try:
            request: Request | None = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        conn.send(STARTED)
        if isinstance(request, Ingest):
            change = partial(ingest_uploads, pipeline, lock, request.uploads, reload=False)
        else:
            change = partial(delete_document, pipeline, lock, request.doc_id, reload=False)
        conn.send(outcome_of(change))


class ProcessWrites:
    """`IndexWrites` for plain `qa serve`: each change in the worker process, then live here.

    Not a frozen dataclass: it owns the worker, which it starts on the first write and replaces when
    it has died.
    """

    def __init__(self, settings: Settings, pipeline: Pipeline, nice: int = WORKER_NICE) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.nice = nice
        self._lock = threading.Lock()  # one change at a time, and one worker
        self._proc: BaseProcess | None = None
        self._conn: Connection | None = None

    @property
    def worker_pid(self) -> int | None:
        """The worker's process id; None before the first write or once it has stopped."""
        proc = self._proc
        return proc.pid if proc is not None and proc.is_alive() else None

    async def ingest(self, uploads: Sequence[tuple[str, bytes]]) -> IngestReport:
        return await run_in_threadpool(self._write, Ingest(list(uploads)))

    async def delete(self, doc_id: str) -> IngestReport:
        return await run_in_threadpool(self._write, Delete(doc_id))

    def close(self) -> None:
        """Stop the worker: asked when idle, killed when a change is still running after STOP_WAIT_S.

        A killed change leaves the index as it was (its request gets the 503 of `_send`).
        """
        if self._lock.acquire(timeout=STOP_WAIT_S):
            try:
                self._stop(wait=STOP_WAIT_S)
            finally:
                self._lock.release()
            return
        proc = self._proc
        if proc is not None:
            proc.kill()

    def _write(self, request: Request) -> IngestReport:
        """Send `request` to the worker, then load the generation it wrote; blocking, so in a thread.

        Raises:
            HTTPException: 503 when the worker died during the change (nothing was changed), 507
                for an index folder it could not write.
            DocQAError: what the change raised in the worker, as the same class and message.
        """
        with self._lock:
            outcome = self._send(request)
            report = outcome.unwrap()
            if report.changed:
                self.pipeline.refresh()  # live before the response: the next question sees it
            return report

    def _send(self, request: Request) -> WriteOutcome:
        for _ in range(2):  # a worker found dead before it took the request: once more, with a fresh one
            conn = self._connect()
            try:
                conn.send(request)
                receipt = conn.recv()
            except (EOFError, OSError):
                self._stop()
                continue
            if receipt != STARTED:
                self._stop()
                raise HTTPException(status_code=503, detail="The upload worker sent an unexpected reply; try again.")
            try:
                outcome: WriteOutcome = conn.recv()
            except (EOFError, OSError) as e:
                self._stop()
                raise HTTPException(
                    status_code=503,
                    detail="The upload worker stopped before it finished this change; the index is as it was. "
                    "Send it again.",
                ) from e
            return outcome
        raise HTTPException(status_code=503, detail="The upload worker could not be started; see the server log.")

    def _connect(self) -> Connection:
        """The pipe to a live worker, starting one if there is none (or it has died)."""
        if self._proc is not None and self._conn is not None and self._proc.is_alive():
            return self._conn
        self._stop()
        ctx = multiprocessing.get_context("spawn")  # no fork of a process that holds threads and torch
        ours, theirs = ctx.Pipe()
        proc = ctx.Process(
            target=run_worker, args=(theirs, self.settings, self.nice), name="docqa-upload-worker", daemon=True
        )
        proc.start()
        theirs.close()  # so that our recv sees EOF if the worker dies
        self._proc, self._conn = proc, ours
        return ours

    def _stop(self, wait: float = 0.0) -> None:
        """Stop the worker (asking first when `wait`), and forget it."""
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            if wait and proc is not None and proc.is_alive():
                with contextlib.suppress(OSError):
                    conn.send(None)
            conn.close()
        if proc is not None:
            proc.join(timeout=wait)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=STOP_WAIT_S)
