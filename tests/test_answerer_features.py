"""Type fit: whether a span's entity label and wording fit the type of answer the question asks for."""

from __future__ import annotations

import pytest

from qa.answerer.features import type_fit
from qa.answerer.parsed import parse_question


@pytest.mark.parametrize(
    ("question", "label", "span", "fit"),
    [
        ("How long did the siege last?", "DATE", "five months", 1.0),
        ("How long did the siege last?", "DATE", "23 May 1895", -1.0),
        ("How long did the meeting take?", "TIME", "three hours", 1.0),
        ("How long did the meeting take?", "TIME", "10:30 am", -1.0),
        ("How many soldiers were killed?", "CARDINAL", "forty", 1.0),
        ("How many soldiers were killed?", "CARDINAL", "1,250", 1.0),
        ("How many copies were printed?", "MONEY", "fifteen shillings", -1.0),
        ("How many dollars did the ticket cost?", "MONEY", "five dollars", 1.0),
        ("How much did the ticket cost?", "MONEY", "five dollars", 1.0),
        ("How many deputies signed the letter?", "DATE", "Eighteen", 1.0),
        ("How many deputies signed the letter?", "", "municipal deputies", -1.0),
        ("How many deputies signed the letter?", "", "Eighteen municipal deputies", 0.0),
        ("How many deputies signed the letter?", "", "dozens", 0.0),
        ("How many years did he serve?", "DATE", "five years", 1.0),
        ("How many years did he serve?", "DATE", "10 years", 1.0),
        ("How many years did he serve?", "DATE", "1895", -1.0),
        ("How many people were at the meeting?", "TIME", "10:30 am", -1.0),
        ("When was the treaty signed?", "DATE", "in 1648", 1.0),
        ("When was the treaty signed?", "PERSON", "John Smith", -1.0),
        ("When was the treaty signed?", "", "the treaty", 0.0),
        ("Why was the treaty signed?", "DATE", "in 1648", 0.0),
    ],
)
def test_type_fit(question: str, label: str, span: str, fit: float) -> None:
    assert type_fit(parse_question(question), label, span) == fit
