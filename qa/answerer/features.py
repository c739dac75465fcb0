"""Features of a candidate answer: what the rules used to weigh by hand, as numbers a model learns.

Everything here is general English and general structure (answer types, parse kinds, overlaps,
similarities, reader scores, retrieval evidence); nothing names a word of any document.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from dataclasses import dataclass, fields
from functools import lru_cache

import numpy as np

from qa.annotate import LABEL_ID
from qa.answerer.candidates import Candidate, Kind
from qa.answerer.parsed import ATYPE_CODE, TYPE_LABELS, AnswerType, ParsedQuestion
from qa.text import SCALE_WORDS, STOPWORDS, TEN_WORDS, UNIT_WORDS, stem, words

# Entity labels coded as the index stores them (0: none).
_LABEL_CODE = LABEL_ID
# Plain ints: IntFlag arithmetic is slow, and features run for every candidate of every question.
_BITS = {k.name or "": int(k.value) for k in Kind}


# A span that says how long names a unit of time; a calendar date or a clock time does not.
_TIME_UNIT = re.compile(
    r"\b(seconds?|minutes?|hours?|days?|nights?|weeks?|fortnights?|months?|years?|decades?"
    r"|centur(y|ies)|millenni(um|a)|lifetimes?|generations?)\b",
    re.IGNORECASE,
)
# "how many dollars" asks for a sum of money; otherwise "how many" counts things and money does not fit.
_MONEY_UNITS = frozenset(
    {"dollar", "dollars", "euro", "euros", "pound", "pounds", "cent", "cents", "yen", "rupee", "rupees", "franc"}
    | {"francs", "ruble", "rubles", "rouble", "roubles", "yuan", "peso", "pesos", "shilling", "shillings"}
)


# A spelled-out number or a word that stands for one ("dozens", "several"): a count without digits.
_NUMBER_WORD = re.compile(
    r"\b("
    + "|".join((*UNIT_WORDS, *TEN_WORDS))
    + r"|(?:"
    + "|".join((*SCALE_WORDS, "trillion"))
    + r")s?|dozens?|scores|several|numerous|handful|couple)\b",
    re.IGNORECASE,
)
COUNTING = frozenset({AnswerType.COUNT, AnswerType.QUANTITY})


def counts(span: str) -> bool:
    """Whether `span` states a number: digits, a spelled-out number or a word standing for one."""
    return any(c.isdigit() for c in span) or _NUMBER_WORD.search(span) is not None


def type_fit(pq: ParsedQuestion, label: str, span: str) -> float:
    """1 when the entity label fits the asked type, -1 when it does not, 0 when either is unknown.

    The label alone is too coarse for common cases: spaCy labels "23 May 1895" and "five months"
    both DATE, but only one says how long; it labels "fifteen shillings" MONEY, which answers
    "how much", not "how many copies"; it labels a sentence-initial "Eighteen" DATE; and a span with
    no label and no number at all ("municipal deputies") cannot answer "how many"."""
    if pq.atype in COUNTING and not counts(span):
        return -1.0
    if not label or pq.atype not in TYPE_LABELS:
        return 0.0
    if label not in TYPE_LABELS[pq.atype]:
        # A spelled-out count that spaCy took for a date ("Eighteen", "five years" for "how many years").
        if pq.atype in COUNTING and label in ("DATE", "TIME") and _counts_without_date(span, pq.target):
            return 1.0
        return -1.0
    if pq.atype is AnswerType.DURATION and label in ("DATE", "TIME") and not _TIME_UNIT.search(span):
        return -1.0
    if pq.atype is AnswerType.COUNT and label == "MONEY" and pq.target.lower() not in _MONEY_UNITS:
        return -1.0
    return 1.0


def _counts_without_date(span: str, target: str) -> bool:
    """A DATE/TIME-labelled span that counts: a number word and no digits (no year, no clock time),
    or a count of the unit the question asks about ("five years" for "how many years")."""
    digits = any(c.isdigit() for c in span)
    if not digits and _NUMBER_WORD.search(span) is not None:
        return True
    unit = target.lower().rstrip("s")
    return len(unit) > 2 and any(w.lower().rstrip("s") == unit for w in span.split()[1:])


@dataclass(frozen=True)
class SentenceEvidence:
    """One sentence the answerer reads, with the evidence that it answers the question."""

    doc: int
    start: int
    end: int
    sim: float  # cosine of question and sentence vectors
    coverage: float  # IDF-weighted share of the question's key words in the sentence
    names: float  # share of the question's names in the sentence or the one before it
    passage_score: float  # fused retrieval score of the passage it came from
    passage_rank: int
    dense: float
    lexical: float
    rank: int = 0  # rank by relevance among the sentences read
    selected: float = math.nan  # the sentence selector's probability that it holds the answer (NaN: none)
    select_rank: float = math.nan  # its rank under the selector


@dataclass(frozen=True)
class CandidateFeatures:
    """One candidate as numbers; NaN where a value is unknown (the trees handle it).

    Passage-level retrieval scores are kept out: the training contexts come without a retrieval
    step, so a model fitted on them would see values it never met at question time.
    """

    reader: float  # start + end logit of the span
    reader_vs_null: float  # reader minus the window's no-answer score
    reader_vs_best: float  # reader minus the best reader span of the question
    reader_rank: float
    from_reader: float
    k_entity: float
    k_noun_chunk: float
    k_number: float
    k_prep: float
    k_clause: float
    k_object: float
    k_appositive: float
    k_quote: float
    k_sentence: float
    k_subject: float
    k_predicate: float
    k_list: float
    label: float
    type_fit: float
    has_digit: float
    words: float
    sentence_share: float  # candidate length over its sentence's
    position: float  # where in the sentence it starts (0..1)
    echo: float  # share of the candidate's content words that the question already has
    local: float  # IDF-weighted key words within a few words of the candidate
    gap: float  # words between the candidate and the nearest key word
    sent_sim: float
    sent_cov: float
    sent_names: float
    sent_rank: float
    atype: float
    wh: float
    q_words: float
    open_question: float
    null_best: float  # the best window's no-answer margin (max reader span minus null)

    def vector(self) -> list[float]:
        return [float(getattr(self, n)) for n in FEATURE_NAMES]


FEATURE_NAMES = tuple(f.name for f in fields(CandidateFeatures))
CATEGORICAL = tuple(name in ("label", "atype", "wh") for name in FEATURE_NAMES)


@lru_cache(maxsize=65_536)
def content_words(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, stem) of the content words; sentences and spans recur across candidates."""
    return tuple((a, b, stem(w)) for a, b, w in words(text) if w.lower() not in STOPWORDS)


@lru_cache(maxsize=4096)
def _keywords(stems: tuple[str, ...], weights: tuple[float, ...]) -> tuple[dict[str, float], float]:
    """The question's key words with their weights, and the weights' total (never 0)."""
    return dict(zip(stems, weights)), sum(weights) or 1.0


@lru_cache(maxsize=65_536)
def _sentence_keys(sentence: str, keyword_stems: tuple[str, ...]) -> tuple[list[int], tuple[tuple[int, int, str], ...]]:
    """Where the sentence's content words start, and (index, start, stem) of those that are key
    words: the same for every candidate in the sentence, so worked out once."""
    content = content_words(sentence)
    keys = set(keyword_stems)
    return [a for a, _, _ in content], tuple((i, a, s) for i, (a, _, s) in enumerate(content) if s in keys)


@lru_cache(maxsize=65_536)
def _n_words(text: str) -> int:
    return len(words(text))


def featurize(
    pq: ParsedQuestion,
    cand: Candidate,
    ev: SentenceEvidence,
    text: str,
    reader: float | None,
    null: float | None,
    best_reader: float,
    reader_rank: int | None,
    null_best: float,
) -> CandidateFeatures:
    """Features of `cand` (a span of `text`, the document) read from sentence `ev`."""
    span = text[cand.start : cand.end]
    sent_len = ev.end - ev.start
    cw = content_words(span)
    echo = sum(1 for _, _, s in cw if s in pq.stems) / len(cw) if cw else 1.0
    kw, total = _keywords(pq.keyword_stems, pq.keyword_weights)
    starts, keys = _sentence_keys(text[ev.start : ev.end], pq.keyword_stems)
    rel_a, rel_b = cand.start - ev.start, cand.end - ev.start
    local_hits: dict[str, float] = {}
    gap = math.inf
    # Distance in content words from a key word to the candidate: to its nearer end, or to where it sits.
    first = bisect_left(starts, rel_a)  # content words before the candidate; the first one inside
    last = bisect_left(starts, rel_b) - 1  # the last one inside (< first: none inside)
    for i, a, s in keys:
        if rel_a <= a < rel_b:
            continue
        d = min(abs(i - first), abs(i - last)) if last >= first else abs(first - i)
        gap = min(gap, d)
        if d <= 6:
            local_hits[s] = kw[s]
    fit = type_fit(pq, cand.label, span)
    k = int(cand.kinds)
    n_words = _n_words(span)
    return CandidateFeatures(
        reader=math.nan if reader is None else reader,
        reader_vs_null=math.nan if reader is None or null is None else reader - null,
        reader_vs_best=math.nan if reader is None else reader - best_reader,
        reader_rank=math.nan if reader_rank is None else float(reader_rank),
        from_reader=float(bool(k & _BITS["READER"])),
        k_entity=float(bool(k & _BITS["ENTITY"])),
        k_noun_chunk=float(bool(k & _BITS["NOUN_CHUNK"])),
        k_number=float(bool(k & _BITS["NUMBER"])),
        k_prep=float(bool(k & _BITS["PREP_PHRASE"])),
        k_clause=float(bool(k & _BITS["CLAUSE"])),
        k_object=float(bool(k & _BITS["OBJECT"])),
        k_appositive=float(bool(k & _BITS["APPOSITIVE"])),
        k_quote=float(bool(k & _BITS["QUOTE"])),
        k_sentence=float(bool(k & _BITS["SENTENCE"])),
        k_subject=float(bool(k & _BITS["SUBJECT"])),
        k_predicate=float(bool(k & _BITS["PREDICATE"])),
        k_list=float(bool(k & _BITS["LIST_ITEM"])),
        label=float(_LABEL_CODE.get(cand.label, 0)),
        type_fit=fit,
        has_digit=float(any(c.isdigit() for c in span)),
        words=float(n_words),
        sentence_share=len(span) / max(1, sent_len),
        position=rel_a / max(1, sent_len),
        echo=echo,
        local=sum(local_hits.values()) / total,
        gap=float(gap) if gap != math.inf else 99.0,
        sent_sim=ev.sim,
        sent_cov=ev.coverage,
        sent_names=ev.names,
        sent_rank=float(ev.rank),
        atype=float(ATYPE_CODE[pq.atype]),
        wh=float(pq.wh),
        q_words=float(len(pq.stems)),
        open_question=float(pq.is_open),
        null_best=null_best,
    )


def matrix(feats: list[CandidateFeatures]) -> np.ndarray:
    return np.asarray([f.vector() for f in feats], dtype=np.float32).reshape(len(feats), len(FEATURE_NAMES))
