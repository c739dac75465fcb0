"""Candidates from the parse: the structures a question can ask for, inside one sentence, never cut
inside an abbreviation."""

from __future__ import annotations

from qa.answerer.candidates import PARSES, Candidate, Kind, sentence_candidates

TEXT = (
    "The council met on Monday. Maria Lind, a lawyer from St. Petersburg, was fined 4,000 euros "
    'because she missed the hearing. She said "the rules are unfair" and left for the U.S. '
    "Ferries, buses and trams stopped."
)


def _cands(sentence: str) -> list[Candidate]:
    start = TEXT.index(sentence)
    parsed = PARSES.parse_many([sentence])[0]
    return sentence_candidates(0, TEXT, start, start + len(sentence), parsed)


def _texts(cands: list[Candidate], kind: Kind | None = None) -> set[str]:
    return {TEXT[c.start : c.end] for c in cands if kind is None or c.kinds & kind}


def test_structures_of_a_sentence_become_candidates() -> None:
    sent = "Maria Lind, a lawyer from St. Petersburg, was fined 4,000 euros because she missed the hearing."
    cands = _cands(sent)
    texts = _texts(cands)
    assert "Maria Lind" in _texts(cands, Kind.ENTITY)
    assert "4,000 euros" in texts
    assert "because she missed the hearing" in _texts(cands, Kind.CLAUSE)
    assert "she missed the hearing" in texts  # the clause without its marker
    assert any(t.startswith("a lawyer") for t in _texts(cands, Kind.APPOSITIVE))
    assert sent.rstrip(".") in _texts(cands, Kind.SENTENCE)


def test_no_candidate_crosses_its_sentence_or_ends_inside_an_abbreviation() -> None:
    sent = "Maria Lind, a lawyer from St. Petersburg, was fined 4,000 euros because she missed the hearing."
    start = TEXT.index(sent)
    for c in _cands(sent):
        assert start <= c.start < c.end <= start + len(sent)
        span = TEXT[c.start : c.end]
        assert not span.endswith(" St"), span
        assert span == span.strip()
    quote = 'She said "the rules are unfair" and left for the U.S.'
    texts = _texts(_cands(quote))
    assert "the rules are unfair" in texts  # quoted speech
    assert not any(t.endswith("U.S") for t in texts)  # "U.S." keeps its period


def test_list_items_and_offsets_are_exact() -> None:
    sent = "Ferries, buses and trams stopped."
    cands = _cands(sent)
    assert {"buses", "trams"} <= _texts(cands)
    for c in cands:
        assert TEXT[c.sent_start : c.sent_end] == sent


def test_a_title_before_a_name_is_a_candidate_description_of_the_person() -> None:
    sentence = "The agency's chief economist Helen Marsh expects lower prices."
    parsed = PARSES.parse_many([sentence])[0]
    cands = sentence_candidates(0, sentence, 0, len(sentence), parsed)
    described = {sentence[c.start : c.end] for c in cands if c.kinds & Kind.APPOSITIVE}
    assert "The agency's chief economist" in described, described
    officer = "Harbour Safety Board press officer Anna Berg declined to comment."
    parsed = PARSES.parse_many([officer])[0]
    cands = sentence_candidates(0, officer, 0, len(officer), parsed)
    assert "Harbour Safety Board press officer" in {
        officer[c.start : c.end] for c in cands if c.kinds & Kind.APPOSITIVE
    }
