"""The no-answer model's context evidence: what of the question the top answer's passage and sentence lack."""

from __future__ import annotations

import math

from qa.answerer.candidates import Candidate, Kind
from qa.answerer.features import FEATURE_NAMES, CandidateFeatures, SentenceEvidence
from qa.answerer.parsed import parse_question
from qa.answerer.read import Reading, Scored
from qa.answerer.scorer import NOANSWER_CONTEXT, NOANSWER_FEATURES, context_evidence, noanswer_vector
from qa.chunk import sentence_spans

TEXT = (
    "The company started giving away free receivers in May 1999. "
    "By 2004 it had 7,000,000 subscribers. It did not sell the satellite."
)


def _reading(sentence: int) -> tuple[Reading, Scored]:
    bounds = sentence_spans(TEXT)
    assert len(bounds) == 3
    evidence = tuple(SentenceEvidence(0, a, b, 0.5, 0.5, 1.0, 1.0, 0, 0.5, 0.5) for a, b in bounds)
    a, b = bounds[sentence]
    cand = Candidate(0, a, a + 4, a, b, int(Kind.ENTITY))
    top = Scored(cand, CandidateFeatures(*[0.5] * len(FEATURE_NAMES)), evidence[sentence], 0.9)
    return Reading(evidence, (top,), 1.0), top


def _evidence(question: str, sentence: int) -> dict[str, float]:
    reading, top = _reading(sentence)
    return dict(zip(NOANSWER_CONTEXT, context_evidence(parse_question(question), reading, top, [TEXT])))


def test_a_question_whose_words_and_figures_are_all_there_lacks_nothing() -> None:
    ev = _evidence("When did the company start giving away free receivers?", 0)
    assert ev["ctx_cov"] == 1.0 and ev["sent_missing"] == 0.0 and ev["neg_mismatch"] == 0.0
    assert math.isnan(ev["ctx_numbers"])  # the question has no figure to find
    assert _evidence("When did it reach 7,000,000 subscribers?", 1)["ctx_numbers"] == 1.0


def test_a_swapped_figure_a_missing_word_and_a_dropped_negation_are_seen() -> None:
    assert _evidence("When did it reach 3,222,000 subscribers?", 1)["ctx_numbers"] == 0.0
    swapped = _evidence("When did the company stop giving away free receivers?", 0)
    assert swapped["sent_missing"] > 0.0 and swapped["ctx_cov"] < 1.0
    assert _evidence("Which satellite did it sell?", 2)["neg_mismatch"] == 1.0
    assert _evidence("Which satellite did it not sell?", 2)["neg_mismatch"] == 0.0


def test_without_the_question_the_context_features_are_unknown_not_zero() -> None:
    reading, top = _reading(0)
    vec = noanswer_vector(reading, [top])
    assert len(vec) == len(NOANSWER_FEATURES)
    assert all(math.isnan(v) for v in vec[-len(NOANSWER_CONTEXT) :])


class _Recorder:
    """A no-answer model that remembers what it was given."""

    def __init__(self) -> None:
        self.seen: list[list[float]] = []

    def predict_proba(self, x: object) -> object:
        import numpy as np

        arr = np.asarray(x)
        self.seen.append(arr[0].tolist())
        return np.tile([0.3, 0.7], (len(arr), 1))


def test_a_model_of_the_first_eighteen_features_reads_exactly_those() -> None:
    from qa.answerer.scorer import NOANSWER_BASE, confidence

    reading, top = _reading(1)
    pq = parse_question("When did it reach 3,222,000 subscribers?")
    old, new = _Recorder(), _Recorder()
    assert confidence(old, reading, [top], pq, [TEXT], columns=range(len(NOANSWER_BASE))) == 0.7
    confidence(new, reading, [top], pq, [TEXT])
    assert len(old.seen[0]) == len(NOANSWER_BASE) and len(new.seen[0]) == len(NOANSWER_FEATURES)
    assert old.seen[0] == new.seen[0][: len(NOANSWER_BASE)]
    assert new.seen[0][NOANSWER_FEATURES.index("ctx_numbers")] == 0.0  # the new model sees the swapped figure
