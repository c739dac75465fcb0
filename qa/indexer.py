"""Bring the index on disk up to date with folders and uploads, embedding only what changed."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qa import annotate
from qa.annotate import ENT_DTYPE
from qa.chunk import make_passages, sentence_spans, split_sentences
from qa.config import Settings
from qa.embed import Embedder
from qa.errors import DocQAError, IndexCorruptError, IndexNotFoundError, IngestError
from qa.index import PASSAGE_DTYPE, SENTENCE_DTYPE, DocInfo, IndexData, index_writer, open_index
from qa.ingest import PARSER_VERSION, check_root, iter_files, parse_document, read_file, sha256
from qa.models import Document
from qa.text import lexical_terms

log = logging.getLogger(__name__)

UPLOAD_ROOT = "upload:"


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
    # Seconds per stage: open (the old index), scan (read, hash, parse), chunk, ner, embed, faiss,
    # lexical, write. `ner` runs in a thread during `embed`; `ner_wait` is what it added after.
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


def _progress(total: int, desc: str) -> Any:
    if total < 64 or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="passage", file=sys.stderr)


def update_index(  # noqa: C901 - the ingest transaction's steps in order; storage rewrite splits it
    settings: Settings,
    embedder: Embedder,
    roots: Sequence[Path] = (),
    uploads: Sequence[tuple[str, bytes]] = (),
    remove: Sequence[str] = (),
    warn: Callable[[str], None] = lambda msg: log.warning(msg),
) -> IngestReport:
    """Add/replace/remove documents and write a new generation if anything changed.

    Unreadable files are skipped with one warning each; the rest still land. An existing index that
    cannot be read is rebuilt from scratch (with a warning).

    Args:
        settings: the index folder and the passage settings.
        embedder: embeds new and changed passages; unchanged documents reuse their stored vectors.
        roots: folders or files to ingest; files gone from an ingested folder are removed.
        uploads: (doc_id, file bytes) pairs.
        remove: ids of documents to delete.
        warn: called with one line per file skipped.

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
        if old is not None and old.manifest.get("settings") != settings_fingerprint(settings):
            old_keep = None  # passage settings changed: every document is re-chunked and re-embedded
        else:
            old_keep = old

        # doc_id -> (Document | None if unchanged-from-old, root)
        current: dict[str, tuple[str, str]] = {}  # doc_id -> (sha, root) for existing docs
        if old is not None:
            for d in old.docs:
                current[d.doc_id] = (d.sha256, d.root)
        fresh: dict[str, Document] = {}
        removed: set[str] = set()
        t1 = time.perf_counter()
        report.timings_s["open"] = t1 - t0

        for root in roots:
            root_key = str(root.resolve())
            seen: set[str] = set()
            for doc_id, path in iter_files(root):
                seen.add(doc_id)
                try:
                    data = read_file(path)  # refuses an over-large file before reading it
                except OSError as e:
                    report.skipped.append((str(path), e.strerror or str(e)))
                    warn(f"warning: skipped {path}: {e.strerror or e}")
                    continue
                except DocQAError as e:
                    report.skipped.append((str(path), str(e)))
                    warn(f"warning: skipped {path}: {e}")
                    continue
                prev = current.get(doc_id)
                if prev is not None and prev[0] == sha256(data) and old_keep is not None:
                    report.unchanged += 1
                    continue
                try:
                    doc = parse_document(doc_id, data, source=root_key)
                except DocQAError as e:
                    report.skipped.append((str(path), str(e)))
                    warn(f"warning: skipped {path}: {e}")
                    continue
                fresh[doc_id] = doc
                report.warnings.extend((doc_id, w) for w in doc.warnings)
            if root.is_dir():
                for doc_id, (_, r) in current.items():
                    if r == root_key and doc_id not in seen:
                        removed.add(doc_id)
        for doc_id, data in uploads:
            doc = parse_document(doc_id, data, source=UPLOAD_ROOT)
            if doc_id in current and current[doc_id][0] == doc.sha256 and old_keep is not None:
                report.unchanged += 1
                continue
            fresh[doc_id] = doc
            report.warnings.extend((doc_id, w) for w in doc.warnings)
        for doc_id in remove:
            if doc_id in current:
                removed.add(doc_id)

        for doc_id in fresh:
            (report.updated if doc_id in current else report.added).append(doc_id)
        report.removed = sorted(d for d in removed if d not in fresh)
        rebuild_all = old is not None and old_keep is None
        report.timings_s["scan"] = time.perf_counter() - t1
        if not report.changed and not rebuild_all:
            if old is not None:
                report.total_documents, report.total_passages = len(old.docs), old.n_passages
            return report
        _write(settings, embedder, old, old_keep, fresh, set(report.removed), report, roots)
    return report


def _stored_vectors(data: IndexData) -> np.ndarray:
    """The embeddings of an index loaded with its vectors, which unchanged documents reuse."""
    if data.vectors is None:  # update_index loads with_vectors=True: only a damaged store gets here
        raise IndexCorruptError(f"{data.path}: the index has no vectors.npy. Re-run `qa ingest` to rebuild it.")
    return data.vectors


def _fill(parts: list[np.ndarray], slots: Sequence[int], new: np.ndarray) -> None:
    """Put the freshly embedded rows `new`, in order, into the placeholder parts at `slots`."""
    pos = 0
    for slot in slots:
        n = len(parts[slot])
        parts[slot] = new[pos : pos + n]
        pos += n


def _chunk(doc_id: str, text: str, chunk_kwargs: dict[str, Any]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(passage spans, sentence spans) of a text, split into sentences once for both."""
    split = split_sentences(text)
    passages = make_passages(doc_id, text, split, **chunk_kwargs)
    return [(p.start, p.end) for p in passages], [(x.start, x.end) for x in split]


def _stored_sentences(data: IndexData, doc: int) -> tuple[list[tuple[int, int]], np.ndarray] | None:
    """Document number `doc`'s stored sentence spans and vectors; None for a generation without them."""
    rows, spans = data.sentence_rows(doc), data.sentence_spans(doc)
    if rows is None or spans is None or data.sentence_vectors is None:
        return None
    return spans, data.sentence_vectors[rows[0] : rows[1]]


def _write(
    settings: Settings,
    embedder: Embedder,
    old: IndexData | None,
    old_keep: IndexData | None,
    fresh: dict[str, Document],
    removed: set[str],
    report: IngestReport,
    roots: Sequence[Path],
) -> None:
    docs: list[DocInfo] = []
    texts: list[str] = []
    rows: list[tuple[int, int, int]] = []
    vec_parts: list[np.ndarray] = []
    terms: list[list[str]] = []
    ents: list[tuple[int, int, int, int]] = []
    to_annotate: list[int] = []  # document numbers whose entities are still to find
    to_embed: list[str] = []
    embed_slots: list[int] = []  # index into vec_parts that each new batch fills
    sent_rows: list[tuple[int, int, int]] = []
    sent_parts: list[np.ndarray] = []
    sent_to_embed: list[str] = []
    sent_slots: list[int] = []

    def add_doc(
        doc_id: str,
        title: str,
        sha: str,
        root: str,
        text: str,
        spans: list[tuple[int, int]],
        vecs: np.ndarray | None,
        old_ents: np.ndarray | None,
        pages: tuple[int, ...],
        sents: Sequence[tuple[int, int]],
        sent_vecs: np.ndarray | None,
    ) -> None:
        d = len(docs)
        if old_ents is None:
            to_annotate.append(d)
        else:
            ents.extend((d, int(r["start"]), int(r["end"]), int(r["label"])) for r in old_ents)
        docs.append(DocInfo(doc_id, title, sha, len(text), root, len(rows), len(spans), pages))
        texts.append(text)
        for s, e in spans:
            rows.append((d, s, e))
            terms.append(lexical_terms(text[s:e]))
        if vecs is None:
            embed_slots.append(len(vec_parts))
            vec_parts.append(np.zeros((len(spans), embedder.dim), dtype=np.float32))
            to_embed.extend(text[s:e] for s, e in spans)
        else:
            vec_parts.append(np.asarray(vecs, dtype=np.float32))
        sent_rows.extend((d, s, e) for s, e in sents)
        if sent_vecs is None:
            sent_slots.append(len(sent_parts))
            sent_parts.append(np.zeros((len(sents), embedder.dim), dtype=np.float32))
            sent_to_embed.extend(text[s:e] for s, e in sents)
        else:
            sent_parts.append(np.asarray(sent_vecs, dtype=np.float32))

    timings = report.timings_s
    t0 = time.perf_counter()
    count_tokens = getattr(embedder, "count_tokens", None)
    chunk_kwargs: dict[str, Any] = dict(
        max_tokens=settings.passage_max_tokens,
        max_sentences=settings.passage_max_sentences,
        overlap=settings.passage_overlap_sentences,
    )
    if count_tokens is not None:
        chunk_kwargs["count_tokens"] = count_tokens

    if old is not None:
        for i, info in enumerate(old.docs):
            if info.doc_id in fresh or info.doc_id in removed:
                continue
            text = old.texts[i]
            stored = _stored_sentences(old, i)
            if old_keep is not None:
                recs = old.passages[info.first : info.first + info.count]
                spans = [(int(r["start"]), int(r["end"])) for r in recs]
                vecs = _stored_vectors(old)[info.first : info.first + info.count]
                sents, sent_vecs = stored if stored is not None else (sentence_spans(text), None)
                add_doc(
                    info.doc_id, info.title, info.sha256, info.root, text, spans, vecs, old.entities_of(i), info.pages,
                    sents, sent_vecs,
                )  # fmt: skip
            else:
                spans, sents = _chunk(info.doc_id, text, chunk_kwargs)
                # The same text split the same way keeps its sentence vectors (the model is the same).
                sent_vecs = stored[1] if stored is not None and stored[0] == sents else None
                add_doc(
                    info.doc_id, info.title, info.sha256, info.root, text, spans, None, old.entities_of(i),
                    info.pages, sents, sent_vecs,
                )  # fmt: skip
    for doc in fresh.values():
        spans, sents = _chunk(doc.doc_id, doc.text, chunk_kwargs)
        add_doc(
            doc.doc_id, doc.title, doc.sha256, doc.source, doc.text, spans, None, None, doc.pages, sents, None
        )  # fmt: skip

    t1 = time.perf_counter()
    timings["chunk"] = t1 - t0

    # NER runs in a thread while the model embeds (torch's matrix products release the GIL). It
    # hides spaCy's time where torch leaves a core idle (a busy machine, or more cores than torch
    # uses well); on an idle two-core machine torch fills both and NER still adds most of its time.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ner") as pool:
        ner = pool.submit(_timed, annotate.entities, [texts[d] for d in to_annotate]) if to_annotate else None
        new_vecs = _embed_all(embedder, to_embed, settings.embed_batch_size)
        t_sent = time.perf_counter()
        timings["embed"] = t_sent - t1
        new_sent_vecs = _embed_all(embedder, sent_to_embed, settings.embed_batch_size)
        t2 = time.perf_counter()
        timings["embed_sentences"] = t2 - t_sent
        if ner is not None:
            found, timings["ner"] = ner.result()
            for d, spans_found in zip(to_annotate, found):
                ents.extend((d, s, e, lab) for s, e, lab in spans_found)
    t3 = time.perf_counter()
    timings["ner_wait"] = t3 - t2
    ents.sort()
    ent_arr = np.array(ents, dtype=ENT_DTYPE) if ents else np.zeros(0, dtype=ENT_DTYPE)
    _fill(vec_parts, embed_slots, new_vecs)
    report.embedded_passages = len(to_embed)
    _fill(sent_parts, sent_slots, new_sent_vecs)
    report.embedded_sentences = len(sent_to_embed)
    sentences = np.array(sent_rows, dtype=SENTENCE_DTYPE) if sent_rows else np.zeros(0, SENTENCE_DTYPE)
    sentence_vectors = np.concatenate(sent_parts) if sent_parts else np.zeros((0, embedder.dim), dtype=np.float32)

    passages = np.array(rows, dtype=PASSAGE_DTYPE) if rows else np.zeros(0, dtype=PASSAGE_DTYPE)
    vectors = np.concatenate(vec_parts) if vec_parts else np.zeros((0, embedder.dim), dtype=np.float32)
    writer = index_writer(settings.storage_backend)
    t4 = time.perf_counter()
    findex = writer.build_vectors(vectors, settings.exact_index_max)
    t5 = time.perf_counter()
    lexical = writer.build_lexical(terms)
    t6 = time.perf_counter()
    timings["faiss"], timings["lexical"] = t5 - t4, t6 - t5
    try:
        writer.write_generation(
            settings.index_dir,
            docs,
            texts,
            passages,
            ent_arr,
            vectors,
            findex,
            lexical,
            embedder.name,
            embedder.dim,
            settings_fingerprint(settings),
            sentences,
            sentence_vectors,
        )
    except OSError as e:
        raise IngestError(
            f"Could not write the index to {settings.index_dir}/ ({e.strerror or e}); the previous index is unchanged."
        ) from e
    timings["write"] = time.perf_counter() - t6
    report.total_documents, report.total_passages = len(docs), len(rows)


def _timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    return fn(*args), time.perf_counter() - t


def _embed_all(embedder: Embedder, texts: list[str], batch_size: int) -> np.ndarray:
    """Embed `texts` in a few large calls, longest first, with a progress bar on a terminal.

    sentence-transformers sorts each call's texts by length so that a batch pads little; sorting
    all of them first gives every call's batches the same little padding as one single call.
    """
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    if not texts:
        return out
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    bar = _progress(len(texts), "embedding")
    step = max(batch_size * 32, 1)
    for i in range(0, len(order), step):
        rows = order[i : i + step]
        out[rows] = embedder.encode([texts[j] for j in rows], batch_size=batch_size)
        if bar is not None:
            bar.update(len(rows))
    if bar is not None:
        bar.close()
    return out
