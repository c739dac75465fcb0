"""The second stage learns from collections read end to end: real indexes, the shipped first stage."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qa.answerer.features import FEATURE_NAMES
from qa.answerer.model import READER_FILE, default_model_dir, load_model, save_model
from qa.answerer.rerank import RERANK_EXTRA
from qa.embed import MiniLMEmbedder
from qa.evaluate import load_gold
from qa.training.pool import Answer, DevSample, Record
from qa.training.stage2 import compare, fit_reranker, read_samples

REPO = Path(__file__).resolve().parent.parent


def _sample() -> DevSample:
    """Bundled-corpus paragraphs as the collection, asked the gold questions they answer."""
    paragraphs = [
        p.strip() for f in sorted((REPO / "corpus").glob("*.txt")) for p in f.read_text().split("\n\n") if len(p) > 200
    ]
    asked: list[Record] = []
    for g in load_gold(REPO / "eval" / "gold.jsonl"):
        if not g.answerable or len(asked) >= 16:
            continue
        for para in paragraphs:
            found = next((a for a in g.answers if a in para), None)
            if found:
                asked.append(Record(g.id, para, g.question, (Answer(found, para.index(found)),), "gold", "news"))
                break
    return DevSample(tuple(asked), tuple(paragraphs))


def test_read_fit_and_ship_a_second_stage(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    sample = _sample()
    assert len(sample.questions) == 16
    reads = read_samples({"news": sample}, tmp_path / "work", default_model_dir(), embedder)
    assert len(reads) == 16
    for r in reads:
        assert r.x.shape[1] == len(FEATURE_NAMES) + len(RERANK_EXTRA)
        assert len(r.x) == len(r.f1) == len(r.sentence_ok) > 0
        assert ((r.f1 >= 0.0) & (r.f1 <= 1.0)).all()
    # The shipped first stage finds most of these answers among its top candidates.
    assert np.mean([r.f1.max() >= 0.5 for r in reads]) >= 0.75
    assert (tmp_path / "work" / "news" / "index").is_dir()  # kept: a second run re-reads without re-embedding

    model = fit_reranker(reads * 4)  # enough rows for the trees' minimum leaf size
    figures = compare(reads, model)["news"]
    assert figures["questions"] == 16 and 0.0 <= figures["f1"] <= 1.0
    # Fitted on these very questions, the second stage's top answer is at least as good as the first's.
    assert figures["f1"] >= figures["f1_first"]

    out = save_model(tmp_path / "model", default_model_dir() / READER_FILE, load_model().variants, {}, model)
    assert load_model(out).reranker is not None
