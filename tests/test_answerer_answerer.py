"""The answer step after scoring: a count question is answered with a number when the model allows it."""

from __future__ import annotations

from dataclasses import fields, replace

from qa.answerer.answerer import prefer_count
from qa.answerer.candidates import Candidate, Kind
from qa.answerer.features import CandidateFeatures, SentenceEvidence
from qa.answerer.parsed import parse_question
from qa.answerer.read import Scored

_EV = SentenceEvidence(0, 0, 100, 0.5, 0.5, 1.0, 1.0, 0, 0.5, 0.5)
_ZERO = CandidateFeatures(**{f.name: 0.0 for f in fields(CandidateFeatures)})


def _scored(start: int, fit: float, score: float) -> Scored:
    cand = Candidate(0, start, start + 5, 0, 100, int(Kind.NOUN_CHUNK))
    return Scored(cand, replace(_ZERO, type_fit=fit), _EV, score)


def test_a_number_scored_at_least_half_as_well_replaces_a_count_answer_without_one() -> None:
    words, number = _scored(0, -1.0, 0.52), _scored(10, 1.0, 0.37)
    ranked = prefer_count([words, _scored(20, -1.0, 0.4), number], parse_question("How many deputies signed it?"))
    assert ranked[0] is number and ranked[1] is words and len(ranked) == 3


def test_a_number_the_model_barely_believes_is_not_taken() -> None:
    words, number = _scored(0, -1.0, 0.6), _scored(10, 1.0, 0.2)
    assert prefer_count([words, number], parse_question("How many deputies signed it?"))[0] is words


def test_other_questions_and_fitting_answers_keep_their_order() -> None:
    a, b = _scored(0, -1.0, 0.6), _scored(10, 1.0, 0.5)
    assert prefer_count([a, b], parse_question("Who signed the petition?"))[0] is a
    fits, other = _scored(0, 0.0, 0.6), _scored(10, 1.0, 0.5)
    assert prefer_count([fits, other], parse_question("How many deputies signed it?"))[0] is fits
    assert prefer_count([], parse_question("How many deputies signed it?")) == []
