"""The sentence selector: what it sees of each retrieved sentence, and that the answerer reads its pick."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from qa.answerer.answerer import LearnedAnswerer
from qa.answerer.features import SentenceEvidence
from qa.answerer.model import load_model
from qa.answerer.parsed import parse_question
from qa.answerer.read import read
from qa.answerer.select import SELECT_CATEGORICAL, SELECT_FEATURES, SentenceSelector, by_selection, select_matrix
from qa.pipeline import Pipeline

TEXT = (
    "The bridge opened to traffic in 1932 after six years of work. "
    "It carries eight lanes. "
    "Its designer, Ruth Ellery, had trained in Glasgow."
)


def _evidence() -> list[SentenceEvidence]:
    starts = [0, TEXT.index("It carries"), TEXT.index("Its designer")]
    ends = [TEXT.index(" It carries"), TEXT.index(" Its designer"), len(TEXT)]
    sims, covs = [0.7, 0.2, 0.5], [0.5, 0.0, 1.0]
    ev = [SentenceEvidence(0, s, e, sim, c, 1.0, 0.04, 0, 0.6, 2.0) for s, e, sim, c in zip(starts, ends, sims, covs)]
    return [replace(e, rank=i) for i, e in enumerate(ev)]


def _col(x: np.ndarray, name: str) -> list[float]:
    return [float(v) for v in x[:, SELECT_FEATURES.index(name)]]


def test_each_sentence_is_described_by_itself_its_neighbours_and_the_best_sentence() -> None:
    pq = parse_question("When did the bridge open?")
    x = select_matrix(pq, _evidence(), [TEXT])
    assert x.shape == (3, len(SELECT_FEATURES)) == (3, len(SELECT_CATEGORICAL))
    assert np.allclose(_col(x, "sim_vs_best"), [0.0, -0.5, -0.2])
    assert _col(x, "sim_rank") == [0.0, 2.0, 1.0] and _col(x, "coverage_rank") == [1.0, 2.0, 0.0]
    # The first sentence has no sentence before it; the middle one sees both of its neighbours.
    assert np.isnan(x[0, SELECT_FEATURES.index("prev_sim")])
    assert np.allclose(_col(x, "prev_sim")[1:], [0.7, 0.2])
    assert _col(x, "next_coverage")[:2] == [0.0, 1.0] and np.isnan(x[2, SELECT_FEATURES.index("next_sim")])
    # What each states: the first a year and two numbers ("1932", "six"), the last a new name and a place.
    assert _col(x, "year") == [1.0, 0.0, 0.0]
    assert _col(x, "figures")[0] == 2.0
    assert _col(x, "new_names")[2] == 3.0  # Ruth, Ellery, Glasgow; "Its" starts the sentence
    assert select_matrix(pq, [], [TEXT]).shape == (0, len(SELECT_FEATURES))


class _ByCoverage:
    """A 'selector model' whose probability is the key-word coverage."""

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        p = x[:, SELECT_FEATURES.index("coverage")]
        return np.column_stack([1 - p, p])


def test_the_selector_orders_by_probability_and_keeps_the_blend_rank() -> None:
    pq = parse_question("Who designed the bridge?")
    annotated = SentenceSelector(_ByCoverage()).annotate(pq, _evidence(), [TEXT])
    assert [e.start for e in annotated] == [e.start for e in _evidence()]  # in the blend's order still
    assert [e.selected for e in annotated] == [0.5, 0.0, 1.0] and [e.select_rank for e in annotated] == [1, 2, 0]
    ordered = by_selection(annotated)
    assert [e.coverage for e in ordered] == [1.0, 0.5, 0.0]
    assert [e.rank for e in ordered] == [2, 0, 1]  # what the scorers were trained on stays as it was


def test_read_reads_the_chosen_sentences() -> None:
    sentences = [f"Sentence {n} says that the value of item {n} is {n * 7} units." for n in range(12)]
    text = " ".join(sentences)
    ev, at = [], 0
    for s in sentences:
        ev.append(SentenceEvidence(0, at, at + len(s), 0.5, 0.5, 1.0, 0.04, 0, 0.5, 1.0, rank=len(ev)))
        at += len(s) + 1
    pq = parse_question("What is the value of item 11?")
    reader = load_model().reader

    def doc_sentences(_: int) -> list[tuple[int, int]]:
        return [(e.start, e.end) for e in ev]

    blend = read(pq, ev, [text], doc_sentences, reader, read_sentences=1)
    picked = read(pq, ev, [text], doc_sentences, reader, read_sentences=1, chosen=[ev[-1]])
    assert {s.evidence.start for s in blend.candidates} <= {ev[0].start, ev[1].start}
    assert {s.evidence.start for s in picked.candidates} <= {ev[-2].start, ev[-1].start}
    assert any("77" in text[s.cand.start : s.cand.end] for s in picked.candidates)
    assert picked.sentences == blend.sentences  # every sentence's evidence is kept, in the blend's order


class _LastFirst:
    """A 'selector model' that prefers the sentences the blend ranks last."""

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        p = x[:, SELECT_FEATURES.index("blend_rank")] / (1.0 + x[:, SELECT_FEATURES.index("blend_rank")].max())
        return np.column_stack([1 - p, p])


def test_the_answerer_reads_what_its_models_selector_picks(answerer_pipeline: Pipeline) -> None:
    live = answerer_pipeline.live
    assert isinstance(live.answerer, LearnedAnswerer)
    question = "Who designed the bridge?"
    hits = live.retriever.search(question, k=8).hits
    plain = LearnedAnswerer(live.data, live.answerer.state.embedder, load_model())
    model = replace(load_model(), selector=SentenceSelector(_LastFirst()))
    chosen = LearnedAnswerer(live.data, live.answerer.state.embedder, model)
    first_plain, first_chosen = plain.first_stage(question, hits), chosen.first_stage(question, hits)
    assert first_plain is not None and first_chosen is not None
    evidence = first_plain[1].sentences
    assert len(evidence) > 8  # enough that the blend's four best and its four worst are apart
    read_plain = {(s.evidence.doc, s.evidence.start) for s in first_plain[1].candidates}
    read_chosen = {(s.evidence.doc, s.evidence.start) for s in first_chosen[1].candidates}
    # The blend's worst sentences are read (with the neighbours in their windows), which it never reads.
    assert {(e.doc, e.start) for e in evidence[-4:]} <= read_chosen
    assert read_chosen - read_plain
