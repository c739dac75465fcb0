"""Stage 1 of ingest: decide, by content hash, what is new, changed, unchanged or removed.

Planning reads and parses only what changed; the expensive rest (chunking, NER, embedding) is
`qa.ingest.process`, a pure map over the plan's work that any engine (in process, Ray) can run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.errors import DocQAError, IndexCorruptError
from qa.index import IndexData
from qa.ingest import iter_files, parse_document, read_file, sha256
from qa.models import Document

UPLOAD_ROOT = "upload:"


Span = tuple[int, int]


@dataclass(frozen=True)
class Work:
    """One document to process, with what the old generation lets it reuse (None: compute it)."""

    document: Document
    # Stored (start, end, label) entity rows of an old document (ENT_DTYPE); None: run NER.
    entities: np.ndarray | None = None
    # Stored passage spans and vectors of an unchanged document; None: chunk and embed.
    passages: tuple[Span, ...] | None = None
    passage_vectors: np.ndarray | None = None
    # Stored sentence spans and vectors: kept when the document's split gives the same spans.
    sentences: tuple[Span, ...] | None = None
    sentence_vectors: np.ndarray | None = None

    @property
    def needs_model(self) -> bool:
        """Whether processing it embeds or annotates anything (else it is stored data, reshaped)."""
        return self.entities is None or self.passage_vectors is None or self.sentence_vectors is None


@dataclass(frozen=True)
class Plan:
    """What an ingest changes, in the order the new generation lists documents.

    `work` lists every document of the new generation in its order: the old generation's that stay
    (reused as stored, or re-chunked when the passage settings changed), then new and changed ones.
    """

    work: tuple[Work, ...]
    added: tuple[str, ...]
    updated: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]  # ids of files and uploads whose content is already indexed
    skipped: tuple[tuple[str, str], ...]
    # (doc_id, message): documents read imperfectly (Document.warnings).
    warnings: tuple[tuple[str, str], ...]
    rebuild_all: bool  # the passage settings changed: every document is re-chunked

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def plan(
    old: IndexData | None,
    reusable: bool,
    roots: Sequence[Path] = (),
    uploads: Sequence[tuple[str, bytes]] = (),
    remove: Sequence[str] = (),
    warn: Callable[[str], None] = lambda msg: None,
) -> Plan:
    """Compare the files and uploads with the old generation by content hash.

    Args:
        old: the live generation, or None (no index, or an unusable one).
        reusable: the old generation's passages and vectors may be reused (same passage settings).
        roots: folders or files; files gone from an ingested folder are removed.
        uploads: (doc_id, file bytes) pairs.
        remove: ids of documents to delete.
        warn: called with one line per file skipped.

    Raises:
        DocQAError: an upload that cannot be read (files under `roots` are skipped with a warning).
    """
    current: dict[str, tuple[str, str]] = {}  # doc_id -> (sha, root) of the old generation
    if old is not None:
        current = {d.doc_id: (d.sha256, d.root) for d in old.docs}
    fresh: dict[str, Document] = {}
    removed: set[str] = set()
    skipped: list[tuple[str, str]] = []
    warnings: list[tuple[str, str]] = []
    unchanged: list[str] = []

    def skip(path: Path, message: str) -> None:
        skipped.append((str(path), message))
        warn(f"warning: skipped {path}: {message}")

    for root in roots:
        root_key = str(root.resolve())
        seen: set[str] = set()
        for doc_id, path in iter_files(root):
            seen.add(doc_id)
            try:
                data = read_file(path)  # refuses an over-large file before reading it
            except OSError as e:
                skip(path, e.strerror or str(e))
                continue
            except DocQAError as e:
                skip(path, str(e))
                continue
            prev = current.get(doc_id)
            if prev is not None and prev[0] == sha256(data) and reusable:
                unchanged.append(doc_id)
                continue
            try:
                doc = parse_document(doc_id, data, source=root_key)
            except DocQAError as e:
                skip(path, str(e))
                continue
            fresh[doc_id] = doc
            warnings.extend((doc_id, w) for w in doc.warnings)
        if root.is_dir():
            removed.update(d for d, (_, r) in current.items() if r == root_key and d not in seen)
    for doc_id, data in uploads:
        doc = parse_document(doc_id, data, source=UPLOAD_ROOT)
        if doc_id in current and current[doc_id][0] == doc.sha256 and reusable:
            unchanged.append(doc_id)
            continue
        fresh[doc_id] = doc
        warnings.extend((doc_id, w) for w in doc.warnings)
    removed.update(d for d in remove if d in current)

    gone = removed | set(fresh)
    work: list[Work] = []
    if old is not None:
        work = [_restored(old, i, reusable) for i, d in enumerate(old.docs) if d.doc_id not in gone]
    work.extend(Work(d) for d in fresh.values())
    return Plan(
        work=tuple(work),
        added=tuple(d for d in fresh if d not in current),
        updated=tuple(d for d in fresh if d in current),
        removed=tuple(sorted(d for d in removed if d not in fresh)),
        unchanged=tuple(unchanged),
        skipped=tuple(skipped),
        warnings=tuple(warnings),
        rebuild_all=old is not None and not reusable,
    )


def _restored(old: IndexData, i: int, reusable: bool) -> Work:
    """Old document number `i` as work: its stored text, entities, sentences and (if `reusable`)
    passages and vectors."""
    info = old.docs[i]
    doc = Document(info.doc_id, info.title, old.texts[i], info.sha256, info.root, info.pages)
    passages: tuple[Span, ...] | None = None
    vectors = None
    if reusable:
        if old.vectors is None:  # opened with its vectors: only a damaged store gets here
            raise IndexCorruptError(f"{old.path}: the index has no vectors.npy. Re-run `qa ingest` to rebuild it.")
        recs = old.passages[info.first : info.first + info.count]
        passages = tuple(zip(recs["start"].tolist(), recs["end"].tolist()))
        vectors = old.vectors[info.first : info.first + info.count]
    rows, spans = old.sentence_rows(i), old.sentence_spans(i)
    sentences: tuple[Span, ...] | None = None
    sentence_vectors = None
    if rows is not None and spans is not None and old.sentence_vectors is not None:
        sentences, sentence_vectors = tuple(spans), old.sentence_vectors[rows[0] : rows[1]]
    return Work(doc, old.entities_of(i), passages, vectors, sentences, sentence_vectors)
