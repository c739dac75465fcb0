"""Bring the index on disk up to date with folders and uploads, embedding only what changed."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.config import Settings
from qa.embed import Embedder
from qa.errors import IndexCorruptError, IndexNotFoundError, IngestError
from qa.index import index_writer, open_index
from qa.ingest import PARSER_VERSION, check_root
from qa.ingest.engine import Engine, LocalEngine
from qa.ingest.plan import UPLOAD_ROOT, plan
from qa.ingest.write import write_records

__all__ = ["UPLOAD_ROOT", "IngestReport", "settings_fingerprint", "update_index", "writer_lock"]

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # (doc_id, message): documents that were added but read imperfectly (Document.warnings).
    warnings: list[tuple[str, str]] = field(default_factory=list)
    embedded_passages: int = 0
    embedded_sentences: int = 0  # sentences embedded at ingest, so a new question embeds only itself
    total_documents: int = 0
    total_passages: int = 0
    # Seconds per stage: open (the old index), scan (plan: read, hash, parse), chunk, ner, embed,
    # embed_sentences (the local engine; `ner` runs in a thread during `embed`, `ner_wait` is what it
    # added after) or ray_init, ray_process (the Ray engine), then faiss, lexical, write.
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged, {len(self.skipped)} skipped, {len(self.warnings)} "
            f"{'warning' if len(self.warnings) == 1 else 'warnings'}; index has "
            f"{self.total_documents} documents, {self.total_passages} passages "
            f"({self.embedded_passages} passages embedded)."
        )


@contextlib.contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """One writer at a time per index folder, across processes."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fh = (index_dir / ".lock").open("a+")
    except OSError as e:
        raise IngestError(f"Cannot write to the index folder {index_dir}/ ({e.strerror}).") from e
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def settings_fingerprint(settings: Settings) -> dict[str, Any]:
    """What, if changed, invalidates stored passages and vectors (the parser too: a newer one may
    read the same file into another text, title or pages)."""
    return {
        "parser_version": PARSER_VERSION,
        "passage_max_tokens": settings.passage_max_tokens,
        "passage_max_sentences": settings.passage_max_sentences,
        "passage_overlap_sentences": settings.passage_overlap_sentences,
    }


def update_index(
    settings: Settings,
    embedder: Embedder,
    roots: Sequence[Path] = (),
    uploads: Sequence[tuple[str, bytes]] = (),
    remove: Sequence[str] = (),
    warn: Callable[[str], None] = lambda msg: log.warning(msg),
    engine: Engine | None = None,
) -> IngestReport:
    """Add/replace/remove documents and write a new generation if anything changed.

    Unreadable files are skipped with one warning each; the rest still land. An existing index that
    cannot be read is rebuilt from scratch (with a warning). The steps: `plan` (by content hash),
    `process` (chunk, NER, embed) on the engine, then `write_records` here, under the writer lock.

    Args:
        settings: the index folder and the passage settings.
        embedder: embeds new and changed passages; unchanged documents reuse their stored vectors.
        roots: folders or files to ingest; files gone from an ingested folder are removed.
        uploads: (doc_id, file bytes) pairs.
        remove: ids of documents to delete.
        warn: called with one line per file skipped.
        engine: where `process` runs; the default is this process, with `embedder`.

    Returns:
        The changes made, and the totals of the index now live.

    Raises:
        IngestError: a root that does not exist, or an index folder that cannot be written.
        UnsupportedFileError: a root that is a file of an unsupported type.
    """
    for root in roots:
        check_root(root)
    index_dir = settings.index_dir
    report = IngestReport()
    with writer_lock(index_dir):
        t0 = time.perf_counter()
        try:
            old = open_index(settings.storage_backend, index_dir, embedder.name, embedder.dim, with_vectors=True)
        except IndexNotFoundError:
            old = None
        except IndexCorruptError as e:
            warn(f"warning: the existing index is unusable ({e}); rebuilding it from scratch.")
            old = None
        # Changed passage settings: every document is re-chunked and re-embedded.
        reusable = old is not None and old.manifest.get("settings") == settings_fingerprint(settings)
        t1 = time.perf_counter()
        report.timings_s["open"] = t1 - t0
        todo = plan(old, reusable, roots, uploads, remove, warn)
        report.added, report.updated, report.removed = list(todo.added), list(todo.updated), list(todo.removed)
        report.unchanged, report.skipped, report.warnings = len(todo.unchanged), list(todo.skipped), list(todo.warnings)
        report.timings_s["scan"] = time.perf_counter() - t1
        if not todo.changed and not todo.rebuild_all:
            if old is not None:
                report.total_documents, report.total_passages = len(old.docs), old.n_passages
            return report
        runner = engine if engine is not None else LocalEngine(embedder)
        writer = index_writer(settings.storage_backend)
        written = write_records(
            index_dir,
            writer,
            runner.run(todo.work, settings, report.timings_s),
            embedder.name,
            embedder.dim,
            settings.exact_index_max,
            settings_fingerprint(settings),
        )
        report.timings_s.update(written.timings_s)
        report.embedded_passages, report.embedded_sentences = written.embedded_passages, written.embedded_sentences
        report.total_documents, report.total_passages = written.documents, written.passages
    return report
