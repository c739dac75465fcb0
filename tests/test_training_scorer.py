"""The scorer's training collections: the question's paragraph (alone or beside another), or only paragraphs
that don't answer it, labelled so."""

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
