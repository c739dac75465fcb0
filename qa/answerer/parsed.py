"""A question parsed once (answer type, wh-word, key words) and passed down every stage."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from qa import question as Q
from qa.text import stem, words


class AnswerType(Enum):
    """What kind of answer the wording asks for (from `qa.question.classify`)."""

    PERSON = Q.PERSON
    ORG = Q.ORG
    PLACE = Q.PLACE
    DATE = Q.DATE
    COUNT = Q.COUNT
    MONEY = Q.MONEY
    AGE = Q.AGE
    DURATION = Q.DURATION
    DISTANCE = Q.DISTANCE
    QUANTITY = Q.QUANTITY
    REASON = Q.REASON
    MANNER = Q.MANNER
    DESCRIPTION = Q.DESCRIPTION
    ENTITY = Q.ENTITY
    THING = Q.THING


ATYPE_CODE = {t: i for i, t in enumerate(AnswerType)}
WH_WORDS = ("what", "which", "who", "whom", "whose", "when", "where", "why", "how", "is", "does", "other")
# Open questions, answered by a clause or a sentence more often than by a short span.
OPEN_TYPES = frozenset({AnswerType.REASON, AnswerType.MANNER, AnswerType.DESCRIPTION})
# Entity labels that fit each answer type (spaCy's OntoNotes labels).
TYPE_LABELS: dict[AnswerType, frozenset[str]] = {
    AnswerType.PERSON: frozenset({"PERSON", "NORP", "ORG"}),
    AnswerType.ORG: frozenset({"ORG", "NORP", "PRODUCT", "WORK_OF_ART"}),
    AnswerType.PLACE: frozenset({"GPE", "LOC", "FAC", "ORG"}),
    AnswerType.DATE: frozenset({"DATE", "TIME"}),
    AnswerType.COUNT: frozenset({"CARDINAL", "QUANTITY", "PERCENT", "MONEY"}),
    AnswerType.MONEY: frozenset({"MONEY", "CARDINAL", "QUANTITY", "PERCENT"}),
    AnswerType.AGE: frozenset({"CARDINAL", "DATE"}),
    AnswerType.DURATION: frozenset({"DATE", "TIME", "CARDINAL"}),
    AnswerType.DISTANCE: frozenset({"QUANTITY", "CARDINAL"}),
    AnswerType.QUANTITY: frozenset({"QUANTITY", "CARDINAL", "PERCENT", "MONEY"}),
}


@dataclass(frozen=True)
class ParsedQuestion:
    """The stand-alone question and what the answerer needs of it."""

    text: str
    atype: AnswerType
    wh: int  # index into WH_WORDS
    target: str
    keyword_stems: tuple[str, ...]
    keyword_weights: tuple[float, ...]  # IDF in the collection, names weighted up
    names: tuple[str, ...]  # stems of capitalised key words
    stems: frozenset[str]  # every stemmed word of the question

    @property
    def is_open(self) -> bool:
        return self.atype in OPEN_TYPES


def parse_question(text: str, idf: Callable[[Q.Keyword], float] | None = None) -> ParsedQuestion:
    """Parse `text` once; `idf` weighs key words by how rare they are in the collection."""
    info = Q.analyze(text)
    atype = AnswerType(info.atype)
    ws = [w.lower() for _, _, w in words(text)]
    wh = next((WH_WORDS.index(w) for w in ws[:4] if w in WH_WORDS), len(WH_WORDS) - 1)
    weights = []
    for k in info.keywords:
        base = idf(k) if idf is not None else 1.0
        weights.append(base * (2.0 if k.word[:1].isupper() else 1.0))
    names = tuple(k.stem for i, k in enumerate(info.keywords) if k.word[:1].isupper())
    return ParsedQuestion(
        text=text,
        atype=atype,
        wh=wh,
        target=info.target,
        keyword_stems=tuple(k.stem for k in info.keywords),
        keyword_weights=tuple(weights),
        names=names,
        stems=frozenset(stem(w) for w in ws),
    )


def default_idf(n_docs: int, df: dict[str, int]) -> Callable[[Q.Keyword], float]:
    """BM25-style IDF from document frequencies keyed by stem (and "~skeleton" for names)."""
    n = max(1, n_docs)

    def idf(kw: Q.Keyword) -> float:
        d = df.get(kw.stem, 0)
        if d == 0 and kw.skeleton:
            d = df.get("~" + kw.skeleton, 0)
        return math.log(1 + (n - d + 0.5) / (d + 0.5))

    return idf
