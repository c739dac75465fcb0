"""Composes the stages: one embedder per process, one live index generation swapped atomically."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from qa.answerer import LearnedAnswerer, load_model
from qa.config import RULES_THRESHOLD, Settings
from qa.embed import Embedder, MiniLMEmbedder
from qa.errors import DocumentNotFoundError, InvalidQuestionError, UnknownDocumentsError
from qa.index import IndexData, live_generation, open_index
from qa.indexer import IngestReport, update_index
from qa.ingest.engine import Engine
from qa.models import Answer, DocumentInfo, DocumentText
from qa.question import resolve
from qa.retrieve import Retriever
from qa.rule_answerer import Answerer


@dataclass(frozen=True)
class _Live:
    """Everything derived from one index generation; replaced as a whole, never mutated."""

    data: IndexData
    retriever: Retriever
    answerer: Answerer | LearnedAnswerer


def validate_question(question: object, max_chars: int) -> str:
    """Check a question before any work is spent on it.

    Args:
        question: what the caller sent (anything: the API and the CLI pass user input through).
        max_chars: the longest question accepted.

    Returns:
        The question with surrounding white space removed.

    Raises:
        InvalidQuestionError: not a string, empty or blank, over `max_chars`, or not encodable text.
    """
    if not isinstance(question, str) or not question.strip():
        raise InvalidQuestionError("The question is empty; type a question.")
    if len(question) > max_chars:
        raise InvalidQuestionError(f"The question is {len(question):,} characters long; the limit is {max_chars:,}.")
    try:
        question.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InvalidQuestionError(
            "The question contains characters that are not valid text (unpaired surrogates)."
        ) from e
    return question.strip()


def effective_threshold(settings: Settings) -> float:
    """`settings.abstain_threshold`, or the default of the answerer the settings choose.

    Raises:
        ModelError: the learned answerer's model is missing or damaged.
    """
    if settings.abstain_threshold is not None:
        return settings.abstain_threshold
    if settings.answerer == "rules":
        return RULES_THRESHOLD
    return load_model(settings.model_path).variant(settings.scorer).threshold


class Pipeline:
    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder: Embedder = embedder if embedder is not None else MiniLMEmbedder()
        self._live: _Live | None = None
        self._swap = threading.Lock()
        self._refresh = threading.Lock()

    # ---------------------------------------------------------------- index lifecycle

    def load(self) -> Pipeline:
        """Load (or reload) the current index generation and make it the live one.

        Returns:
            This pipeline, so `Pipeline(settings).load()` reads as one step.

        Raises:
            IndexNotFoundError: no index at `settings.index_dir`.
            IndexCorruptError: the index is damaged or was built with another model or format.
        """
        self._load()
        return self

    def _load(self) -> _Live:
        data = open_index(self.settings.storage_backend, self.settings.index_dir, self.embedder.name, self.embedder.dim)
        live = self._make_live(data)
        with self._swap:
            self._live = live
        return live

    def refresh(self) -> bool:
        """Load the current generation if another process switched `CURRENT` since ours was loaded.

        Cheap when nothing changed (one small file read), so a server with several processes over
        one index folder (`qa serve --replicas`) calls it per request: a document another process
        added is answerable here at once. Questions in flight keep the generation they started on.

        Returns:
            True when a newer generation was loaded.

        Raises:
            IndexNotFoundError, IndexCorruptError: see `Pipeline.load`.
        """
        if self._is_current(self._live):
            return False
        with self._refresh:  # one reload at a time; the others wait for it, then find it done
            if self._is_current(self._live):
                return False
            self._load()
            return True

    def _is_current(self, live: _Live | None) -> bool:
        """Whether `live` is the generation the backend says is live now."""
        if live is None:
            return False
        return live_generation(self.settings.storage_backend, self.settings.index_dir) == live.data.path.name

    def _make_live(self, data: IndexData) -> _Live:
        retriever = Retriever(data, self.embedder, depth=self.settings.fusion_depth, rrf_k=self.settings.rrf_k)
        answerer: Answerer | LearnedAnswerer
        if self.settings.answerer == "rules":
            answerer = Answerer(data, self.embedder, abstain_threshold=self.threshold)
        else:
            answerer = LearnedAnswerer(
                data, self.embedder, load_model(self.settings.model_path), self.threshold, self.settings.scorer
            )
        return _Live(data, retriever, answerer)

    @property
    def threshold(self) -> float:
        """The abstention threshold in force: the setting, else the model's own (or the rules')."""
        return effective_threshold(self.settings)

    @property
    def live(self) -> _Live:
        live = self._live
        return live if live is not None else self._load()

    def warm_up(self, background: bool = True) -> threading.Thread | None:
        """Pre-compute the answerer's sentence and word vectors (small collections only)."""
        answerer = self.live.answerer
        if not background:
            answerer.warm_up()
            return None
        thread = threading.Thread(target=answerer.warm_up, name="docqa-warm-up", daemon=True)
        thread.start()
        return thread

    def ingest(
        self,
        roots: Sequence[Path] = (),
        uploads: Sequence[tuple[str, bytes]] = (),
        remove: Sequence[str] = (),
        warn: Any = None,
        reload: bool = True,
        engine: Engine | None = None,
    ) -> IngestReport:
        """Add, replace or remove documents, then make the new index generation live.

        Args:
            roots: folders or files to ingest; document ids are paths relative to each.
            uploads: (doc_id, file bytes) pairs, as the web upload sends them.
            remove: ids of documents to delete.
            warn: called with one line per file skipped; the default logs a warning.
            reload: make the new generation live here (a one-shot `qa ingest` has no use for it).
            engine: where documents are chunked, annotated and embedded (`qa.ingest.engine`); None:
                in this process with this pipeline's model.

        Returns:
            What was added, replaced, removed and skipped.

        Raises:
            IngestError: a root that does not exist, or an index folder that cannot be written.
            UnsupportedFileError: a root that is a file of a type docqa cannot read.
        """
        kwargs: dict[str, Any] = {"roots": roots, "uploads": uploads, "remove": remove, "engine": engine}
        if warn is not None:
            kwargs["warn"] = warn
        report = update_index(self.settings, self.embedder, **kwargs)
        if reload and (report.changed or self._live is None):
            self.load()
        return report

    def delete(self, doc_id: str, reload: bool = True) -> IngestReport:
        """Remove one document from the index.

        Args:
            doc_id: the document to remove.
            reload: as for `ingest`; False (an upload worker process, which answers no questions)
                checks the id against the current generation on disk, not a loaded one.

        Raises:
            DocumentNotFoundError: no document with that id.
        """
        missing = DocumentNotFoundError(f"No document with id {doc_id!r}.")
        if reload and doc_id not in self.live.data.doc_index:
            raise missing
        report = self.ingest(remove=[doc_id], reload=reload)
        if not reload and doc_id not in report.removed:
            raise missing
        return report

    # ---------------------------------------------------------------- questions

    def ask(
        self,
        question: str,
        k: int | None = None,
        history: Sequence[dict[str, Any]] | None = None,
        doc_ids: Sequence[str] | None = None,
    ) -> Answer:
        """Answer one question; `history` lets follow-ups ("which network did he speak on?") resolve.

        Args:
            question: the question, at most `settings.max_question_chars` characters.
            k: passages to return, 1-50; `settings.k` when None.
            history: earlier turns, `[{"question": ..., "answer": ...}]`, oldest first.
            doc_ids: answer from these documents only (None or empty: from all of them).

        Returns:
            The answer with its citations, or an abstention that still lists the closest passages.

        Raises:
            InvalidQuestionError: an empty or over-long question, or k out of range.
            UnknownDocumentsError: `doc_ids` names documents the index does not hold.
            IndexNotFoundError, IndexCorruptError: the index could not be loaded.
        """
        t0 = time.perf_counter()
        question = validate_question(question, self.settings.max_question_chars)
        k = k or self.settings.k
        if not 1 <= k <= 50:
            raise InvalidQuestionError(f"k must be between 1 and 50, got {k}.")
        live = self.live  # one consistent generation for the whole question
        allowed = self._allowed(live, doc_ids)
        resolved = resolve(question, history)
        t1 = time.perf_counter()
        # The answerer reads a few more passages than are shown: an answer often sits just outside the top k.
        found = live.retriever.search(resolved, k=max(k, self.settings.answer_depth), docs=allowed)
        t2 = time.perf_counter()
        ans = live.answerer.answer(question, found.hits, history=history, resolved=resolved)
        ans.passages = ans.passages[:k]
        t3 = time.perf_counter()
        ans.timings_ms = {
            "retrieve": (t2 - t1) * 1000,
            "answer": (t3 - t2) * 1000,
            "total": (t3 - t0) * 1000,
            **{f"retrieve_{k_}": v for k_, v in found.timings_ms.items()},
        }
        return ans

    @staticmethod
    def _allowed(live: _Live, doc_ids: Sequence[str] | None) -> frozenset[int] | None:
        """Document numbers to answer from, or None for all; unknown ids are refused by name."""
        if not doc_ids:
            return None
        index = live.data.doc_index
        missing = sorted({d for d in doc_ids if d not in index})
        if missing:
            raise UnknownDocumentsError(missing)
        return frozenset(index[d] for d in doc_ids)

    # ---------------------------------------------------------------- documents

    def documents(self) -> list[DocumentInfo]:
        """The indexed documents, in index order."""
        data = self.live.data
        return [DocumentInfo(d.doc_id, d.title, d.chars, d.count) for d in data.docs]

    def document(self, doc_id: str) -> DocumentText:
        """One document's full text.

        Args:
            doc_id: the id `documents()` lists (a path relative to the ingested folder).

        Returns:
            The document's id, title, text, content hash and page starts.

        Raises:
            DocumentNotFoundError: no document with that id.
        """
        data = self.live.data
        if doc_id not in data.doc_index:
            raise DocumentNotFoundError(f"No document with id {doc_id!r}.")
        doc = data.document(doc_id)
        return DocumentText(doc.doc_id, doc.title, doc.text, doc.sha256, doc.pages)


@lru_cache(maxsize=1)
def load_pipeline(settings: Settings) -> Pipeline:
    """A loaded Pipeline for `settings`, kept for the next call with equal settings.

    One pipeline is kept (new settings replace it); `load_pipeline.cache_clear()` drops it.
    Long-lived callers (the web app, the CLI) build and hold their own `Pipeline(settings).load()`.

    Args:
        settings: where the index is and how to answer; `Settings` is frozen, so it is the cache key.

    Returns:
        The loaded pipeline.

    Raises:
        IndexNotFoundError, IndexCorruptError: see `Pipeline.load`.
    """
    return Pipeline(settings).load()
