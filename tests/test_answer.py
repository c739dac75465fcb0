"""The extractive answerer on sentences written for these tests (not the bundled corpus, not the
training pool): the right answer per question type, abstention, merging and conflicts, follow-ups,
exact citations. The learned answerer is the default; the rule answerer it replaced is checked as
the baseline it is (`QA_ANSWERER=rules`)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from qa.answerer.features import counts
from qa.metrics import sentence_contains_answer
from qa.pipeline import Pipeline

CASES = [
    ("How much was the firm fined?", "12,500 euros ($13,100)"),
    ("When was the firm fined?", "March 3, 2021"),
    ("Who testified?", "Anna Berg"),
    ("Which authority did Anna Berg work for?", "Harbour Authority"),
    ("Where did Anna Berg testify?", "Gdansk"),
    ("Why was the firm fined?", "because the permits had lapsed"),
    ("How old is Marek Nowak?", "52"),
    ("How many ferries does the authority operate?", "three"),
    ("Where is the second hearing planned?", "Sopot"),
    ("When is the second hearing?", "next spring"),
]


@pytest.fixture(scope="module")
def rules_pipeline(answerer_pipeline: Pipeline) -> Pipeline:
    return Pipeline(replace(answerer_pipeline.settings, answerer="rules"), embedder=answerer_pipeline.embedder).load()


def test_the_learned_answerer_finds_the_answer_and_cites_it_exactly(answerer_pipeline: Pipeline) -> None:
    right = 0
    for question, expected in CASES:
        ans = answerer_pipeline.ask(question)
        assert ans.answer_kind in ("span", "sentence") or ans.abstained
        if ans.abstained:
            continue
        c = ans.citations[0]
        assert c.text == ans.answer == answerer_pipeline.live.data.text_of(c.doc_id)[c.start : c.end]
        assert c.sentence[c.start - c.sentence_start : c.end - c.sentence_start] == c.text
        assert sentence_contains_answer(c.sentence, [expected]), (question, c.sentence)
        right += sentence_contains_answer(ans.answer, [expected]) or sentence_contains_answer(expected, [ans.answer])
    # A learned model is not a lookup table, but on plain sentences like these it should rarely miss.
    assert right >= 7, right


@pytest.mark.parametrize(("question", "expected"), CASES)
def test_the_rule_baseline_gives_the_shortest_span_of_the_asked_type(
    rules_pipeline: Pipeline, question: str, expected: str
) -> None:
    answerer_pipeline = rules_pipeline
    ans = answerer_pipeline.ask(question)
    assert not ans.abstained
    assert ans.answer == expected
    c = ans.citations[0]
    assert c.text == ans.answer == answerer_pipeline.live.data.text_of(c.doc_id)[c.start : c.end]
    assert c.sentence[c.start - c.sentence_start : c.end - c.sentence_start] == c.text


@pytest.fixture(scope="module")
def spelled_and_digits(tmp_path_factory: pytest.TempPathFactory, answerer_pipeline: Pipeline) -> Pipeline:
    """Two documents giving one count, one in words and one in digits."""
    docs = tmp_path_factory.mktemp("spelled-docs")
    operator = "Ferry crews\n\nThe ferry service employs eighteen deckhands, the operator said.\n"
    union = "Union figures\n\nAccording to the union, the ferry service employs 18 deckhands.\n"
    (docs / "operator.txt").write_text(operator, encoding="utf-8")
    (docs / "union.txt").write_text(union, encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("spelled-index")
    pipe = Pipeline(replace(answerer_pipeline.settings, index_dir=index_dir), embedder=answerer_pipeline.embedder)
    pipe.ingest(roots=[docs])
    return pipe.load()


def test_a_figure_in_words_and_in_digits_is_one_answer_cited_from_both(spelled_and_digits: Pipeline) -> None:
    ans = spelled_and_digits.ask("How many deckhands does the ferry service employ?")
    assert ans.answer is not None and ans.answer.lower() in ("eighteen", "18", "eighteen deckhands", "18 deckhands")
    assert not ans.conflicting
    assert sorted(c.doc_id for c in ans.citations) == ["operator.txt", "union.txt"]


def test_a_count_question_on_the_bundled_corpus_is_answered_with_a_number(pipeline: Pipeline) -> None:
    """Seen in the chat: "How many deputies signed the petition?" was answered "municipal deputies".
    The sentence opens "Eighteen municipal deputies …", and spaCy labels that "Eighteen" DATE."""
    ans = pipeline.ask("How many deputies signed the petition?")
    assert not ans.abstained and ans.answer is not None
    assert counts(ans.answer), ans.answer
    c = ans.citations[0]
    assert c.text == ans.answer == pipeline.live.data.text_of(c.doc_id)[c.start : c.end]


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of Australia?",
        "Who won the football match?",
    ],
)
def test_abstains_when_no_candidate_of_the_type_is_near_the_key_words(
    answerer_pipeline: Pipeline, question: str
) -> None:
    ans = answerer_pipeline.ask(question)
    assert ans.abstained and ans.answer is None and ans.citations == []
    assert ans.passages  # the closest passages are still offered


def test_disagreeing_figures_are_reported_with_both_sources(answerer_pipeline: Pipeline) -> None:
    ans = answerer_pipeline.ask("How many people does the authority employ?")
    assert ans.conflicting
    values = {ans.answer} | {a.answer for a in ans.alternatives}
    assert any("340" in v for v in values) and any("410" in v for v in values)
    docs = {c.doc_id for c in ans.citations} | {c.doc_id for a in ans.alternatives for c in a.citations}
    assert docs == {"berg.txt", "other.txt"}
    for alt in ans.alternatives:
        for c in alt.citations:
            assert c.text == answerer_pipeline.live.data.text_of(c.doc_id)[c.start : c.end]


def test_the_same_answer_in_two_documents_is_merged_and_cites_both(answerer_pipeline: Pipeline) -> None:
    ans = answerer_pipeline.ask("How many ferries does the Harbour Authority operate?")
    assert ans.answer == "three" and not ans.conflicting
    assert {c.doc_id for c in ans.citations} == {"berg.txt", "other.txt"}


def test_follow_up_questions_use_the_history(answerer_pipeline: Pipeline) -> None:
    history = [{"question": "Who is Marek Nowak?", "answer": "Its chief executive"}]
    ans = answerer_pipeline.ask("How old is he?", history=history)
    assert ans.resolved_question == "How old is Marek Nowak?"
    assert ans.answer == "52"
    to_dict = ans.to_dict()
    assert to_dict["resolved_question"] == "How old is Marek Nowak?"


def test_an_answer_never_only_repeats_the_question(answerer_pipeline: Pipeline) -> None:
    ans = answerer_pipeline.ask("Who is Anna Berg?")
    assert ans.answer is None or "Anna Berg" not in ans.answer
