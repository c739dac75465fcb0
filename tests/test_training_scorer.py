"""The scorer's training collections look like what retrieval hands the answerer: look-alike paragraphs."""

from __future__ import annotations

import random

from qa.training.pool import Answer, Record
from qa.training.scorer import collections


def _records() -> list[Record]:
    topics = ["volcano eruption lava", "river delta flooding", "railway station trains", "coffee harvest beans"]
    out = []
    for art, topic in enumerate(topics):
        for para in range(6):
            ctx = f"Paragraph {para} about the {topic}. It mentions year {1900 + 10 * art + para} once."
            ans = (Answer(str(1900 + 10 * art + para), ctx.index(str(1900 + 10 * art + para))),)
            out.append(
                Record(f"wiki-{art}-{para}", ctx, f"When was the {topic} in paragraph {para}?", ans, "squad", f"T{art}")
            )
    out.append(Record("un-1", out[0].context, "Who built the volcano observatory?", (), "squad", "T0"))
    return out


def test_an_answerable_collection_holds_its_paragraph_or_is_labelled_unanswerable() -> None:
    recs = _records()
    for rec, docs, answerable in collections(recs, random.Random(3), recs):
        assert docs and len(set(docs)) == len(docs)
        if answerable:
            assert rec.answerable and rec.context in docs
        elif rec.answerable:
            assert rec.context not in docs  # the wrong paragraphs, or off-topic
    unanswerable = [a for r, _, a in collections(recs, random.Random(3), recs) if r.id == "un-1"]
    assert unanswerable == [False]


def test_distractors_are_look_alikes_from_the_same_article_first() -> None:
    recs = _records()
    checked = 0
    sizes = []
    for rec, docs, answerable in collections(recs * 5, random.Random(5), recs):
        others = [d for d in docs if d != rec.context]
        sizes.append(len(docs))
        if answerable and rec.title == "T0" and 0 < len(others) <= 5:
            checked += 1
            # The five other volcano paragraphs share the question's key words: they come before the rest.
            assert all("volcano" in d for d in others), others
    assert checked >= 5
    # Like a retriever's top passages: often several paragraphs, not only the right one.
    assert sum(n >= 4 for n in sizes) >= len(sizes) // 6
    assert sum(n <= 2 for n in sizes) >= len(sizes) // 3  # and often a small one
