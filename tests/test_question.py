"""Question analysis: the answer type a question asks for, and follow-ups rewritten from history."""

from __future__ import annotations

import pytest

from qa import question as Q


@pytest.mark.parametrize(
    ("question", "atype", "target"),
    [
        ("Who testified at the hearing?", Q.PERSON, ""),
        ("Whose petition did she sign?", Q.PERSON, ""),
        ("Which network did the spokesman speak on?", Q.ORG, "network"),
        ("What party does the mayor belong to?", Q.ORG, "party"),
        ("Which city hosted the forum?", Q.PLACE, "city"),
        ("Where did she testify?", Q.PLACE, ""),
        ("When was the firm fined?", Q.DATE, ""),
        ("In what year did the survey begin?", Q.DATE, "year"),
        ("How many ferries does the authority run?", Q.COUNT, "ferries"),
        ("How many other deputies were summoned?", Q.COUNT, "deputies"),
        ("How much was the fine?", Q.MONEY, "fine"),
        ("How old is the chief executive?", Q.AGE, ""),
        ("How long was the sentence?", Q.DURATION, ""),
        ("How far is the town from the border?", Q.DISTANCE, ""),
        ("Why was the firm fined?", Q.REASON, ""),
        ("How did the soldiers react?", Q.MANNER, ""),
        ("Who is Anna Berg?", Q.DESCRIPTION, ""),
        ("Which storm wrecked the sea wall?", Q.ENTITY, "storm"),
        ("What is the name of the mayor's party?", Q.ORG, "party"),
        ("What did the judge say?", Q.THING, ""),
    ],
)
def test_answer_type(question: str, atype: str, target: str) -> None:
    info = Q.analyze(question)
    assert (info.atype, info.target) == (atype, target)


def test_stranded_preposition_is_noted() -> None:
    assert Q.analyze("Which network did he speak on?").prep == "on"
    assert Q.analyze("Which network aired it?").prep == ""


def test_pronoun_follow_up_takes_the_previous_subject() -> None:
    history = [{"question": "Who is John Kirby?", "answer": "a spokesman"}]
    assert Q.resolve("Which network did he speak on?", history) == "Which network did John Kirby speak on?"
    assert (
        Q.resolve("What did her mother believe?", [{"question": "Where does Anna Berg live?", "answer": "Gdansk"}])
        == "What did Anna Berg's mother believe?"
    )


def test_elliptical_follow_up_swaps_the_phrase_of_the_same_kind() -> None:
    history = [{"question": "Which town in the Kharkiv region did Russian soldiers leave?", "answer": "Izium"}]
    assert (
        Q.resolve("And in the Luhansk region?", history)
        == "Which town in the Luhansk region did Russian soldiers leave?"
    )
    assert (
        Q.resolve(
            "What about Moscow?", [{"question": "How many councilors from St. Petersburg signed?", "answer": "18"}]
        )
        == "How many councilors from Moscow signed?"
    )


def test_follow_ups_chain_through_several_turns() -> None:
    history = [
        {"question": "Who is Anna Berg?", "answer": "a harbour official"},
        {"question": "Where did she testify?", "answer": "Gdansk"},
    ]
    assert Q.resolve("Why did she testify?", history) == "Why did Anna Berg testify?"


def test_stand_alone_questions_are_left_alone() -> None:
    history = [{"question": "Who is John Kirby?", "answer": "a spokesman"}]
    assert Q.resolve("Where does Abbas Gallyamov live?", history) == "Where does Abbas Gallyamov live?"
    assert Q.resolve("Which network did he speak on?", None) == "Which network did he speak on?"
