"""Plain values that flow between pipeline stages (ingest → chunk → store → retrieve → answer)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """A source document with its original text; every offset in the system points into `text`."""

    doc_id: str
    title: str
    text: str
    sha256: str
    source: str = ""
    # Where each page begins in `text` (pages[0] == 0), for paged formats (PDF); () otherwise.
    pages: tuple[int, ...] = ()
    # What the user should know about how the text was read (a page without text, another language).
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocumentInfo:
    """One indexed document as listed: `GET /api/documents` returns these fields."""

    doc_id: str
    title: str
    chars: int
    passages: int  # passages (retrieval windows) the document was split into


@dataclass(frozen=True)
class DocumentText:
    """One indexed document with its full text; citation offsets point into `text`."""

    doc_id: str
    title: str
    text: str
    sha256: str = ""  # of the file's bytes: a citation link made before a change can tell
    pages: tuple[int, ...] = ()  # where each page begins in `text` (PDF); () when not paged


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int


@dataclass(frozen=True)
class Passage:
    """A window of whole sentences; `text == document.text[start:end]`."""

    doc_id: str
    start: int
    end: int
    text: str
    page: int | None = None  # the page it begins on (PDF); None when the document is not paged


@dataclass(frozen=True)
class Hit:
    """A retrieved passage with its fused score (0..1) and the scores that produced it."""

    passage: Passage
    score: float
    dense: float = 0.0
    lexical: float = 0.0
    rank: int = 0


@dataclass(frozen=True)
class Citation:
    doc_id: str
    title: str
    start: int
    end: int
    text: str
    sentence: str
    sentence_start: int
    score: float
    page: int | None = None  # the page the span begins on (PDF); None when the document is not paged
    doc_sha256: str = ""  # the document's content hash: a link made from this citation can tell it changed


@dataclass(frozen=True)
class Alternative:
    answer: str
    citations: list[Citation]


@dataclass
class Answer:
    question: str
    answer: str | None
    confidence: float
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[Hit] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    conflicting: bool = False
    alternatives: list[Alternative] = field(default_factory=list)
    resolved_question: str | None = None
    # "span" (a short answer), "sentence" (a whole sentence answers), None when abstaining.
    answer_kind: str | None = None
    # P(the documents answer the question): what the abstain threshold applies to. None: the same
    # number as `confidence` (answerers without a separate judgement of it).
    answerability: float | None = None

    @property
    def gate(self) -> float:
        """The number the abstain threshold applies to: the answerability, else the confidence."""
        return self.confidence if self.answerability is None else self.answerability

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape shared by `qa ask --json` and `POST /api/ask`."""
        return {
            "question": self.question,
            "answer": self.answer,
            "confidence": round(float(self.confidence), 4),
            "abstained": self.abstained,
            "citations": [asdict(c) for c in self.citations],
            "passages": [
                {
                    "doc_id": h.passage.doc_id,
                    "start": h.passage.start,
                    "end": h.passage.end,
                    "text": h.passage.text,
                    "score": round(float(h.score), 4),
                    "page": h.passage.page,
                }
                for h in self.passages
            ],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "conflicting": self.conflicting,
            "alternatives": [
                {"answer": a.answer, "citations": [asdict(c) for c in a.citations]} for a in self.alternatives
            ],
            "resolved_question": self.resolved_question,
            "answer_kind": (self.answer_kind or "span") if self.answer is not None else None,
            "answerability": round(float(self.gate), 4),
        }
