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
from qa.training.stage2 import Read2, choose_threshold, compare, fit_reranker, read_samples

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


def test_stage2_only_keeps_the_first_stage_byte_for_byte(tmp_path: Path) -> None:
    import json
    import shutil

    from qa.answerer.model import RERANK_FILE, SCORER_FILE, SELECT_FILE
    from qa.training.train import run_stage2

    colours = ["blue", "green", "red", "yellow", "white", "black"]
    lines = []
    # 125 articles go to the held-out sample and 200 to the development one (asked one question each);
    # the second stage reads the rest.
    for art in range(360):
        colour = colours[art % len(colours)]
        ctx = f"The flag of town number {art} is {colour}. Its river is called the Brook {art}."
        for q, (question, answer) in enumerate(
            [(f"What colour is the flag of town {art}?", colour), (f"What is the river of town {art} called?", "Brook")]
        ):
            lines.append(
                {
                    "id": f"nq-{art}-{q}",
                    "context": ctx,
                    "question": question,
                    "answers": [{"text": answer, "start": ctx.index(answer)}],
                    "source": "qed-nq",
                    "title": f"Town {art}",
                }
            )
    pool = tmp_path / "pool.jsonl"
    pool.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    base = tmp_path / "base"
    shutil.copytree(default_model_dir(), base)
    (base / "scorer_train_ids.json").write_text(json.dumps([f"nq-{a}-0" for a in range(360)]))

    out = run_stage2([pool], tmp_path / "out", base, tmp_path / "work", report=False)
    model = load_model(out)
    assert model.reranker is not None
    for name in (READER_FILE, SCORER_FILE):
        assert (out / name).read_bytes() == (base / name).read_bytes()
    ids = json.loads((out / "stage2_train_ids.json").read_text())
    assert ids and all(i.endswith("-1") for i in ids)  # only questions the first stage never saw
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stage2_questions"] == len(ids) and RERANK_FILE in manifest["files"]
    # The sentence selector is fitted first, and the second stage reads with it.
    assert model.selector is not None and SELECT_FILE in manifest["files"]
    assert "gate.pkl" not in manifest["files"]


def test_the_selector_learns_which_retrieved_sentences_hold_the_answer(
    tmp_path: Path, embedder: MiniLMEmbedder
) -> None:
    from qa.answerer.select import SELECT_FEATURES
    from qa.training.stage2 import fit_selector, selector_recall, selector_rows

    rows = selector_rows({"news": _sample()}, tmp_path / "work", default_model_dir(), embedder)
    assert len(rows) == 16
    for r in rows:
        assert r.x.shape == (len(r.holds), len(SELECT_FEATURES)) and len(r.holds) > 4
    # Retrieval brings a sentence holding the answer for nearly every question, among many that do not.
    assert np.mean([r.holds.any() for r in rows]) >= 0.9
    assert np.mean([r.holds.mean() for r in rows]) < 0.3
    model = fit_selector(rows * 3)
    blend, learned = selector_recall(rows, model, 4)["news"]
    # Fitted on these very questions, it finds the answer's sentence among four at least as often.
    assert learned >= blend >= 0.5


def test_a_new_second_stage_may_read_what_the_old_one_trained_on(tmp_path: Path) -> None:
    """`qa train --stage2-only` replaces the second stage: its questions are not the new model's."""
    import json

    from qa.training.train import trained_ids

    for name, ids in (("reader", ["a"]), ("scorer", ["b"]), ("stage2", ["c"])):
        (tmp_path / f"{name}_train_ids.json").write_text(json.dumps(ids))
    assert trained_ids([], tmp_path) == {"a", "b", "c"}
    assert trained_ids([], tmp_path, second_stage=False) == {"a", "b"}


class _Identity:
    """A 're-ranker' whose prediction is the first column: the order given."""

    def predict(self, x: np.ndarray) -> np.ndarray:
        return x[:, 0]


def _read(sample: str, answerable: bool, conf: float, f1: float) -> Read2:
    x = np.asarray([[1.0], [0.0]], np.float32)
    return Read2(sample, answerable, x, np.asarray([f1, 0.0], np.float32), np.asarray([f1 > 0, False]), conf)


def test_the_threshold_bounds_false_abstain_in_every_sample() -> None:
    # Sample "a": right answers at confidence 0.4-0.67, unanswerable questions at 0.2-0.335.
    # Sample "b": a domain where the model is unsure of everything: right answers at 0.1-0.19.
    reads = [_read("a", True, 0.4 + 0.03 * i, 1.0) for i in range(10)]
    reads += [_read("a", False, 0.2 + 0.015 * i, 0.0) for i in range(10)]
    reads += [_read("b", True, 0.1 + 0.01 * i, 1.0) for i in range(10)]
    offtopic = [0.01] * 10
    t, at = choose_threshold(reads, _Identity(), offtopic)
    # Without sample "b" the best threshold would be 0.34 (every unanswerable one abstains, no answer is
    # lost); "b" may lose at most 2 of its 10 answers, so the threshold stays at or below 0.12.
    assert t is not None and t <= 0.12
    assert at["b"]["false_abstain"] <= 0.2 and at["off-topic"]["noanswer_accuracy"] == 1.0
    t_a, at_a = choose_threshold([r for r in reads if r.sample == "a"], _Identity(), offtopic)
    assert t_a == 0.34 and at_a["a"]["noanswer_accuracy"] == 1.0 and at_a["a"]["false_abstain"] == 0.0
    # The score counts the re-ranked answer's F1: a wrong top answer scores 0 even when answered.
    assert at_a["a"]["f1"] == 1.0
    # Nothing meets the bound: no threshold rather than a bad one.
    assert choose_threshold(reads, _Identity(), offtopic, grid=(0.5,)) == (None, {})


def _gated(sample: str, answerable: bool, f1: float, signal: float, rng: np.random.Generator) -> Read2:
    """A read with three candidates whose rows and no-answer vector carry `signal` in every column."""
    from qa.answerer.rerank import RERANK_CATEGORICAL
    from qa.answerer.scorer import NOANSWER_FEATURES

    x = rng.random((3, len(RERANK_CATEGORICAL))).astype(np.float32) * 0.1 + signal
    x[:, RERANK_CATEGORICAL] = 0
    na = (rng.random(len(NOANSWER_FEATURES)) * 0.1 + signal).astype(np.float32)
    na[NOANSWER_FEATURES.index("atype")] = 0
    f = np.asarray([f1, 0.0, 0.0], np.float32)
    return Read2(sample, answerable, x, f, f > 0, signal, na)


def test_the_gate_learns_answerability_apart_from_being_right_and_picks_a_threshold() -> None:
    """Questions of a "hard" domain are answerable but their answers are wrong; off-topic questions
    look different. The gate's answerability keeps the hard ones answered while its confidence calls
    them unlikely right, and the threshold it picks turns the off-topic ones away."""
    from qa.answerer.gate import gate_vector
    from qa.training.stage2 import OFFTOPIC, choose_gate_threshold, fit_gate, gate_rows

    rng = np.random.default_rng(0)
    train = [_gated("easy", True, 1.0, 0.9, rng) for _ in range(120)]
    train += [_gated("hard", True, 0.0, 0.5, rng) for _ in range(120)]
    off = [_gated(OFFTOPIC, False, 0.0, 0.1, rng) for _ in range(120)]
    gate = fit_gate(train, off, _Identity())
    hard = train[130]
    p = _Identity().predict(hard.x)
    judged = gate.judge(gate_vector(hard.x, p, int(np.argmax(p)), hard.conf, hard.na))
    assert judged.answerability > 0.8 and judged.confidence < 0.2
    keep, x, f1 = gate_rows(train, [_Identity().predict(r.x) for r in train])
    assert len(keep) == len(train) and x.shape[0] == len(train) and f1[:120].min() >= 0.0

    dev = [_gated("easy", True, 1.0, 0.9, rng) for _ in range(20)] + [
        _gated("hard", True, 0.0, 0.5, rng) for _ in range(20)
    ]
    t, at = choose_gate_threshold(dev, [_gated(OFFTOPIC, False, 0.0, 0.1, rng) for _ in range(20)], _Identity(), gate)
    assert t is not None
    assert at["hard"]["false_abstain"] == 0.0 and at[OFFTOPIC]["noanswer_accuracy"] == 1.0


def test_questions_without_their_paragraph_are_unanswerable_reads(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    """Each question is asked of the collection less its own paragraph: where no other paragraph
    holds its answer, the answer cannot show, and the read is an on-topic unanswerable question."""
    from qa.training.stage2 import WITHOUT, without_paragraph_reads

    sample = _sample()
    reads = without_paragraph_reads({"news": sample}, tmp_path / "work", default_model_dir(), embedder, share=1.0)
    ids = {q.id for q in sample.questions}
    assert reads and all(r.sample == WITHOUT and not r.answerable and r.qid in ids for r in reads)
    assert all(len(r.x) and not r.f1.any() and not r.sentence_ok.any() and r.na is not None for r in reads)
    # Questions whose answer no other paragraph has: with their own paragraph searched, the first
    # stage finds most of them (the test above); without it, none shows, so nearly all are kept.
    only_own = {
        q.id
        for q in sample.questions
        if not any(a.text.lower() in p.lower() for a in q.answers for p in sample.contexts if p != q.context)
    }
    assert len(only_own) >= 5
    assert len(only_own & {r.qid for r in reads}) >= 0.8 * len(only_own)
    fewer = without_paragraph_reads({"news": sample}, tmp_path / "work", default_model_dir(), embedder, share=0.25)
    assert len(fewer) <= 4


def test_paired_reads_are_predicted_by_their_questions_fold() -> None:
    from dataclasses import replace

    from qa.training.stage2 import out_of_fold

    rng = np.random.default_rng(1)
    reads = [replace(_gated("s", True, float(i % 2), 0.5, rng), qid=f"q{i}") for i in range(400)]
    paired = [replace(reads[3], sample="p"), replace(reads[390], sample="p"), replace(reads[5], qid="elsewhere")]
    preds = out_of_fold(reads, paired=paired)
    assert len(preds) == 403
    # The same rows under the same fold's re-ranker: the same predictions as the question's own read.
    np.testing.assert_allclose(preds[400], preds[3])
    np.testing.assert_allclose(preds[401], preds[390])
    assert len(preds[402]) == 0  # its question is not among the reads: no fold, no prediction


def test_out_of_fold_reading_reads_each_question_once_in_its_contexts_fold(
    tmp_path: Path, embedder: MiniLMEmbedder
) -> None:
    from qa.training.stage2 import SELECT_FOLDS, read_samples_by_fold, selector_fold

    sample = _sample()
    folds = [selector_fold(q) for q in sample.questions]
    # A paragraph's questions share its sentences, so they share a fold: one never trains the
    # selector that reads another.
    by_context: dict[str, set[int]] = {}
    for q, k in zip(sample.questions, folds, strict=True):
        by_context.setdefault(q.context, set()).add(k)
    assert all(len(ks) == 1 for ks in by_context.values())
    assert set(folds) <= set(range(SELECT_FOLDS))
    reads = read_samples_by_fold({"news": sample}, tmp_path / "work", [default_model_dir()] * SELECT_FOLDS, embedder)
    assert sorted(r.qid for r in reads) == sorted(q.id for q in sample.questions)
    # Reads come fold by fold, each fold's questions read with its own model.
    assert [selector_fold(next(q for q in sample.questions if q.id == r.qid)) for r in reads] == sorted(folds)
