"""The fixed held-out split: whole articles, the user-generated domain never trained on, deterministic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.training.pool import HELDOUT_DOMAIN_SOURCES, SHIPPABLE_SOURCES, Answer, Record, read_records, split


def _records() -> list[Record]:
    out = []
    for src in ("squad2.0-dev", "qed-nq", "tydiqa-goldp-en", "covidqa", "policyqa", "squadshifts-reddit"):
        for art in range(30):
            for para in range(3):
                ctx = f"{src} article {art} paragraph {para} says the answer is blue."
                for q in range(3):
                    ans = (Answer("blue", ctx.index("blue")),) if q < 2 else ()
                    out.append(Record(f"{src}-{art}-{para}-{q}", ctx, f"What colour {q}?", ans, src, f"T{art}"))
    return out


def test_heldout_articles_never_reach_training() -> None:
    recs = _records()
    sp = split(recs)
    train_groups = {r.group for r in sp.train}
    for name, held in sp.heldout.items():
        assert held, name
        assert not {r.group for r in held} & train_groups, name
    assert not any(r.source in HELDOUT_DOMAIN_SOURCES for r in sp.train)
    assert all(r.source in SHIPPABLE_SOURCES for r in sp.train)
    assert sp.domain and all(r.source in HELDOUT_DOMAIN_SOURCES for r in sp.domain)


def test_split_is_deterministic_and_order_free() -> None:
    recs = _records()
    a = split(recs)
    b = split(list(reversed(recs)))
    assert {r.id for r in a.train} == {r.id for r in b.train}
    assert {k: {r.id for r in v} for k, v in a.heldout.items()} == {k: {r.id for r in v} for k, v in b.heldout.items()}


def test_a_misplaced_answer_is_refused_with_file_and_line(tmp_path: Path) -> None:
    bad = {"id": "x", "context": "abc", "question": "q?", "answers": [{"text": "zz", "start": 0}], "source": "s"}
    f = tmp_path / "pool.jsonl"
    f.write_text(json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"pool.jsonl:1"):
        list(read_records([f]))


def test_dev_samples_ask_only_unseen_questions_of_training_articles() -> None:
    from qa.training.pool import dev_samples

    recs = [r for r in _records() if r.source != "squadshifts-reddit"]
    sp = split(recs)
    seen = {r.id for r in sp.train if r.id.endswith("-0")}  # the first question of every paragraph trained on
    dev = dev_samples(sp.train, seen)
    train_ids = {r.id for r in sp.train}
    asked = [q for s in dev.values() for q in s.questions]
    assert asked and all(q.id in train_ids and q.id not in seen for q in asked)
    squad = dev["dev-squad2"]
    # Every context of a chosen article is a document, even one whose questions were all trained on.
    assert {q.context for q in squad.questions} <= set(squad.contexts)
    assert all(c.startswith("squad2.0-dev") for c in squad.contexts)
    assert dev_samples(list(reversed(sp.train)), seen)["dev-nq"].contexts == dev["dev-nq"].contexts

    small = {"d": (frozenset({"qed-nq"}), 4)}  # a few articles, so that others are left
    groups = {q.group for q in dev_samples(sp.train, seen, samples=small)["d"].questions}
    other = dev_samples(sp.train, seen, samples=small, exclude_groups=groups)["d"]
    assert groups and other.questions
    assert not groups & {q.group for q in other.questions}
