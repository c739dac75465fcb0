"""Train the second stage (`qa/answerer/rerank.py`) on collections read end to end, as a user's are.

Training-split articles the first stage never trained on (`pool.STAGE2_SAMPLES`) become folders of
documents, one per context, each ingested into its own index. Every question of them is retrieved
and read by the freshly trained first stage; the re-ranker learns each top candidate's F1 from
what that shows. The development samples (`pool.DEV_SAMPLES`, other articles) measure it the same
way. Indexes are kept under the work folder, so a second run re-reads without re-embedding.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Iterable, Iterator, Sequence, Set
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from qa.answerer.answerer import LearnedAnswerer
from qa.answerer.rerank import RERANK_CATEGORICAL, rerank_matrix
from qa.answerer.scorer import confidence, noanswer_vector
from qa.config import Settings
from qa.errors import DocQAError
from qa.ingest import parse_document
from qa.metrics import f1_score, sentence_contains_answer
from qa.training.pool import STAGE2_SAMPLES, DevSample, Record, bucket, dev_samples

log = logging.getLogger("qa.training.stage2")


def doc_name(number: int, context: str) -> str:
    """`NNNN_<sha1-8>.txt`: numbered in first-seen order, the hash makes a changed context a new file."""
    return f"{number:04d}_{hashlib.sha1(context.encode('utf-8')).hexdigest()[:8]}.txt"


@dataclass(frozen=True)
class Read2:
    """One question read end to end: its top candidates' rows, their F1 and whether their sentence holds an answer."""

    sample: str
    answerable: bool
    x: np.ndarray
    f1: np.ndarray
    sentence_ok: np.ndarray
    conf: float = float("nan")  # the first stage's confidence (its no-answer model)
    na: np.ndarray | None = None  # what that no-answer model reads (`scorer.noanswer_vector`)
    qid: str = ""  # the pool question read ("" for an off-topic one)


def write_documents(contexts: Iterable[str], docs_dir: Path) -> dict[str, str]:
    """One .txt per distinct context, its text exactly the context, named by `doc_name` in first-seen
    order; returns context -> file name. Files of an older build are removed, unchanged ones kept as
    they are (their mtime too).

    Raises:
        DocQAError: a context would not come back from `qa ingest` as exactly itself (offsets would drift).
    """
    docs_dir.mkdir(parents=True, exist_ok=True)
    names: dict[str, str] = {}
    for context in contexts:
        if context not in names:
            names[context] = doc_name(len(names), context)
    for context, fname in names.items():
        data = context.encode("utf-8")
        # Ingest decodes and may strip a BOM or refuse NUL bytes: check now that the text survives as is.
        if parse_document(fname, data).text != context:
            raise DocQAError(f"{docs_dir.parent.name}/{fname}: the context does not read back as exactly itself.")
        path = docs_dir / fname
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
    keep = set(names.values())
    for stale in docs_dir.iterdir():
        if stale.name not in keep and stale.is_file():
            stale.unlink()
    return names


def _open(name: str, sample: DevSample, work: Path, model_dir: Path, embedder: Any) -> Any:
    """The sample's documents ingested into `work/<name>/index` (kept: a second run only checks them)
    and loaded with the model at `model_dir`, abstaining never: its live state."""
    from qa.indexer import update_index
    from qa.pipeline import Pipeline

    root = work / name
    write_documents([*sample.contexts, *(q.context for q in sample.questions)], root / "docs")
    settings = replace(Settings(), index_dir=root / "index", model_path=model_dir, abstain_threshold=0.0)
    update_index(settings, embedder, roots=[root / "docs"])
    live = Pipeline(settings, embedder=embedder).load().live
    if not isinstance(live.answerer, LearnedAnswerer):
        raise TypeError(f"the second stage reads with the learned answerer, not {type(live.answerer).__name__}")
    return live


def _first(live: Any, question: str, docs: frozenset[int] | None = None) -> tuple[Any, Any, Any, float] | None:
    """(parsed question, reading, ranked candidates, the first stage's confidence), None if nothing was
    read; `docs`: the document numbers searched (None: all)."""
    settings = Settings()
    answerer = live.answerer
    hits = live.retriever.search(question, k=max(settings.k, settings.answer_depth), docs=docs).hits
    first = answerer.first_stage(question, hits)
    if first is None:
        return None
    pq, reading, ranked = first
    conf = confidence(answerer.variant.noanswer, reading, ranked, pq, live.data.texts, answerer.model.noanswer_columns)
    return pq, reading, ranked, conf


def _read2(
    sample: str, answerable: bool, golds: Sequence[str], first: tuple[Any, ...], texts: Sequence[str], qid: str = ""
) -> Read2:
    """One question's `Read2` from its `_first` reading, scored against `golds` (none: every F1 is 0)."""
    pq, reading, ranked, conf = first
    x = rerank_matrix(ranked, texts)
    na = np.asarray(noanswer_vector(reading, ranked, pq, texts), np.float32)
    spans = [s.cand for s in ranked[: len(x)]]
    f1 = [f1_score(texts[c.doc][c.start : c.end], golds) if golds else 0.0 for c in spans]
    sents = [texts[c.doc][c.sent_start : c.sent_end] for c in spans]
    ok = [bool(golds) and sentence_contains_answer(t, golds) for t in sents]
    return Read2(sample, answerable, x, np.asarray(f1, np.float32), np.asarray(ok, bool), conf, na, qid)


def read_samples(samples: dict[str, DevSample], work: Path, model_dir: Path, embedder: Any) -> list[Read2]:
    """Ingest each sample into `work/<name>/index` and read every question with the model at `model_dir`."""
    out: list[Read2] = []
    for name, sample in samples.items():
        if not sample.questions:
            continue
        t0 = time.time()
        live = _open(name, sample, work, model_dir, embedder)
        texts = live.data.texts
        for q in sample.questions:
            first = _first(live, q.question)
            if first is None:
                continue
            out.append(_read2(name, q.answerable, [a.text for a in q.answers], first, texts, q.id))
        log.info("%s: read %d questions end to end (%.1f min)", name, len(sample.questions), (time.time() - t0) / 60)
    return out


def offtopic_reads(
    samples: dict[str, DevSample], work: Path, model_dir: Path, embedder: Any, per_sample: int = 12, seed: int = 0
) -> list[Read2]:
    """Off-topic questions read end to end: each sample's collection asked `per_sample` questions of
    every other sample (other articles, often another domain), which it cannot answer. A user asks
    such questions too; the unanswerable questions of the pool are all written against their own
    paragraph, so without these neither the threshold nor the gate would ever see one. Each read is
    unanswerable, its sample named "off-topic"."""
    rng = random.Random(seed)
    names = [n for n, s in samples.items() if s.questions]
    asked = {n: [q.question for q in samples[n].questions] for n in names}
    out: list[Read2] = []
    for name in names:
        live = _open(name, samples[name], work, model_dir, embedder)
        texts = live.data.texts
        for other in names:
            if other == name:
                continue
            for question in rng.sample(asked[other], min(per_sample, len(asked[other]))):
                first = _first(live, question)
                if first is None:
                    empty = np.zeros((0, len(RERANK_CATEGORICAL)), np.float32)
                    out.append(Read2(OFFTOPIC, False, empty, np.zeros(0, np.float32), np.zeros(0, bool), 0.0))
                    continue
                out.append(_read2(OFFTOPIC, False, (), first, texts))
    return out


def _answerable(
    samples: dict[str, DevSample], work: Path, model_dir: Path, embedder: Any
) -> Iterator[tuple[str, Any, list[Record]]]:
    """(name, live state, answerable questions) for each sample that has any (`_open`)."""
    for name, sample in samples.items():
        asked = [q for q in sample.questions if q.answerable]
        if asked:
            yield name, _open(name, sample, work, model_dir, embedder), asked


OFFTOPIC = "off-topic"
WITHOUT = "without-its-paragraph"


def without_paragraph_reads(
    samples: dict[str, DevSample], work: Path, model_dir: Path, embedder: Any, share: float = 0.3, seed: int = 0
) -> list[Read2]:
    """On-topic unanswerable questions read end to end: a `share` of each sample's answerable
    questions asked of its collection without their own paragraph (the rest of the article and of
    the sample still searched). A user's question about a topic the documents cover, on a point they
    do not, looks like this: its key words and names match, its answer is missing. The off-topic
    questions teach none of that, and the pool's written-unanswerable ones are few. A question whose
    answer still shows in a candidate's sentence (another paragraph says it too) is left out. Each
    read is unanswerable, its sample named `WITHOUT`, its `qid` the question's."""
    rng = random.Random(seed)
    out: list[Read2] = []
    for _, live, asked in _answerable(samples, work, model_dir, embedder):
        texts = live.data.texts
        doc_of = {texts[d]: d for d in range(len(texts))}
        every = frozenset(range(len(texts)))
        for q in rng.sample(asked, round(share * len(asked))):
            own = doc_of.get(q.context)
            first = _first(live, q.question, docs=every - {own}) if own is not None else None
            if first is None:
                continue
            read = _read2(WITHOUT, False, [a.text for a in q.answers], first, texts, q.id)
            if read.sentence_ok.any() or bool((read.f1 >= 0.5).any()):
                continue
            out.append(replace(read, f1=np.zeros_like(read.f1), sentence_ok=np.zeros_like(read.sentence_ok)))
    return out


@dataclass(frozen=True)
class SentenceRows:
    """One answerable question's retrieved sentences: their `select_matrix` rows (in the blend's
    order) and which of them hold a gold answer."""

    sample: str
    x: np.ndarray
    holds: np.ndarray
    fold: int = 0  # `selector_fold` of its question


def selector_rows(samples: dict[str, DevSample], work: Path, model_dir: Path, embedder: Any) -> list[SentenceRows]:
    """Every answerable question of `samples` retrieved from its sample's index and its sentences
    measured (`LearnedAnswerer.evidence`; no reading, so it is quick), for `fit_selector`."""
    from qa.answerer.select import select_matrix

    settings = Settings()
    out: list[SentenceRows] = []
    for name, live, asked in _answerable(samples, work, model_dir, embedder):
        texts = live.data.texts
        for q in asked:
            hits = live.retriever.search(q.question, k=max(settings.k, settings.answer_depth)).hits
            measured = live.answerer.evidence(q.question, hits)
            if measured is None:
                continue
            pq, evidence = measured
            golds = [a.text for a in q.answers]
            holds = [sentence_contains_answer(texts[e.doc][e.start : e.end], golds) for e in evidence]
            rows = select_matrix(pq, evidence, texts)
            out.append(SentenceRows(name, rows, np.asarray(holds, bool), selector_fold(q)))
    return out


def fit_selector(rows: Sequence[SentenceRows], seed: int = 0) -> Any:
    """Gradient-boosted trees for the probability that a sentence holds the answer, each question
    weighted alike (a long retrieved list would otherwise count for more)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from qa.answerer.select import SELECT_CATEGORICAL

    used = [r for r in rows if len(r.x)]
    x = np.vstack([r.x for r in used])
    y = np.concatenate([r.holds for r in used])
    w = np.concatenate([np.full(len(r.x), 1.0 / len(r.x)) for r in used])
    model = HistGradientBoostingClassifier(
        max_iter=300,
        learning_rate=0.05,
        max_leaf_nodes=31,
        min_samples_leaf=40,
        l2_regularization=1.0,
        categorical_features=SELECT_CATEGORICAL,
        random_state=seed,
        early_stopping=False,
    )
    model.fit(x, y, sample_weight=w * len(w) / w.sum())
    return model


# The second stage's training questions are read with a selector fitted on the other fold's, so its
# re-ranker learns how far to trust the selector's probability on questions the selector never saw.
SELECT_FOLDS = 2


def selector_fold(q: Record) -> int:
    """The fold of `q`, by its context: questions on one paragraph share its sentences."""
    return bucket(q.context, SELECT_FOLDS)


def read_samples_by_fold(
    samples: dict[str, DevSample], work: Path, fold_models: Sequence[Path], embedder: Any
) -> list[Read2]:
    """`read_samples`, each question read with `fold_models[selector_fold(question)]`."""
    out: list[Read2] = []
    for k, model_dir in enumerate(fold_models):
        part = {
            name: DevSample(tuple(q for q in s.questions if selector_fold(q) == k), s.contexts)
            for name, s in samples.items()
        }
        out.extend(read_samples(part, work, model_dir, embedder))
    return out


def selector_recall(rows: Sequence[SentenceRows], model: Any, k: int) -> dict[str, tuple[float, float]]:
    """Per sample: the share of questions with a gold-holding sentence among the `k` read, by the
    blend and by `model`."""
    by: dict[str, list[tuple[bool, bool]]] = {}
    for r in rows:
        if not len(r.x):
            continue
        p = model.predict_proba(r.x)[:, 1]
        picked = np.argsort(-p, kind="stable")[:k]
        by.setdefault(r.sample, []).append((bool(r.holds[:k].any()), bool(r.holds[picked].any())))
    return {n: (float(np.mean([a for a, _ in v])), float(np.mean([b for _, b in v]))) for n, v in by.items()}


# The thresholds tried: 0.05 to 0.50 by 0.01 (the no-answer model's probabilities).
THRESHOLD_GRID = tuple(round(0.05 + 0.01 * n, 2) for n in range(46))


def choose_threshold(
    reads: Sequence[Read2],
    reranker: Any,
    offtopic: Sequence[float],
    max_false_abstain: float = 0.20,
    grid: Sequence[float] = THRESHOLD_GRID,
) -> tuple[float | None, dict[str, dict[str, float]]]:
    """The abstain threshold on the first stage's confidence for a model with this second stage.

    Chosen end to end, on collections read the way a user's are: the best mean, over the samples
    and the off-topic questions as one more set, of each set's score where an answered question
    scores the re-ranked answer's F1, a right abstention 1 and a wrong one 0; among the thresholds
    that keep false-abstain ≤ `max_false_abstain` on every sample (an assistant that turns away a
    fifth of one domain's answerable questions fails its users there). Returns (None, {}) when no
    threshold does, and each set's figures at the one chosen.
    """
    rows = [r for r in reads if len(r.x)]
    if not rows:
        return None, {}
    conf = np.asarray([r.conf for r in rows], np.float64)
    f1 = np.asarray([float(r.f1[int(np.argmax(reranker.predict(r.x)))]) for r in rows], np.float64)
    return pick_threshold(rows, conf, f1, np.asarray(offtopic, np.float64), max_false_abstain, grid)


def pick_threshold(
    rows: Sequence[Read2],
    gate: np.ndarray,
    f1: np.ndarray,
    off: np.ndarray,
    max_false_abstain: float,
    grid: Sequence[float],
) -> tuple[float | None, dict[str, dict[str, float]]]:
    """`choose_threshold`'s rule over given numbers: each read's `gate` value (abstain below the
    threshold) and answered F1, and the off-topic questions' gate values `off`."""
    answerable = np.asarray([r.answerable for r in rows], bool)
    sample = np.asarray([r.sample for r in rows])

    def figures(t: float) -> dict[str, dict[str, float]]:
        keep = gate >= t
        out: dict[str, dict[str, float]] = {}
        for name in dict.fromkeys(sample.tolist()):
            m = sample == name
            a, u = m & answerable, m & ~answerable
            out[name] = {
                "score": float(np.where(answerable, f1 * keep, ~keep)[m].mean()),
                "f1": float((f1 * keep)[a].mean()) if a.any() else float("nan"),
                "false_abstain": float((~keep)[a].mean()) if a.any() else 0.0,
                **({"noanswer_accuracy": float((~keep)[u].mean())} if u.any() else {}),
            }
        if len(off):
            out[OFFTOPIC] = {"score": float((off < t).mean()), "noanswer_accuracy": float((off < t).mean())}
        return out

    best: tuple[float, float] | None = None
    for t in grid:
        f = figures(t)
        if max(v.get("false_abstain", 0.0) for v in f.values()) > max_false_abstain:
            continue
        mean = float(np.mean([v["score"] for v in f.values()]))
        if best is None or mean > best[1] + 1e-12:
            best = (float(t), mean)
    if best is None:
        return None, {}
    return best[0], figures(best[0])


# The gate's thresholds tried: 0.05 to 0.95 by 0.01 (its answerability is a probability of its own).
GATE_GRID = tuple(round(0.05 + 0.01 * n, 2) for n in range(91))


def out_of_fold(
    reads: Sequence[Read2], folds: int = 5, seed: int = 0, paired: Sequence[Read2] = ()
) -> list[np.ndarray]:
    """Each read's re-ranker predictions from a re-ranker fitted without its fold (contiguous blocks,
    so the questions of one article stay together): the gate learns from the second stage's errors
    as they are on questions it never trained on, not from its fit to its own training rows.

    `paired` reads (the same questions asked another way, matched by `qid`) are predicted by their
    question's fold too, and come after `reads` in the result; one whose question is not among
    `reads` gets no prediction (an empty array)."""
    n = len(reads)
    fold = np.arange(n) * folds // max(n, 1)
    fold_of = {r.qid: int(g) for r, g in zip(reads, fold) if r.qid}
    every = [*reads, *paired]
    which = [*(int(g) for g in fold), *(fold_of.get(r.qid, -1) for r in paired)]  # "" is never a key
    out: list[np.ndarray] = [np.zeros(0, np.float64)] * len(every)
    for f in range(folds):
        held = [i for i, g in enumerate(which) if g == f and len(every[i].x)]
        if not held:
            continue
        model = fit_reranker([r for r, g in zip(reads, fold) if g != f], seed)
        for i in held:
            out[i] = np.asarray(model.predict(every[i].x), np.float64)
    return out


def gate_rows(reads: Sequence[Read2], preds: Sequence[np.ndarray]) -> tuple[list[int], np.ndarray, np.ndarray]:
    """(which reads have a row, their `gate_vector`s, the F1 of the answer each would show)."""
    from qa.answerer.gate import gate_vector

    keep, xs, f1 = [], [], []
    for i, (r, p) in enumerate(zip(reads, preds)):
        if not len(r.x) or not len(p) or r.na is None:
            continue
        pick = int(np.argmax(p))
        keep.append(i)
        xs.append(gate_vector(r.x, p, pick, r.conf, r.na))
        f1.append(float(r.f1[pick]) if r.answerable else 0.0)
    width = xs[0].shape[0] if xs else 0
    return keep, np.vstack(xs) if xs else np.zeros((0, width), np.float32), np.asarray(f1, np.float64)


def fit_gate(
    reads: Sequence[Read2], unseen: Sequence[Read2], reranker: Any, seed: int = 0, paired: Sequence[Read2] = ()
) -> Any:
    """The gate (`qa/answerer/gate.py`): two classifiers over `gate_vector`, one for "the answer shown
    is right" (F1 >= 0.5), one for "the question is answerable". Fitted on the second stage's training
    reads (its predictions out of fold), on `paired` reads of those same questions asked another way
    (`without_paragraph_reads`; out of their question's fold) and on `unseen` reads `reranker` never
    trained on (off-topic questions, the written-unanswerable questions of `gate_sample`), read by it."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from qa.answerer.gate import Gate, gate_categorical

    preds = out_of_fold(reads, seed=seed, paired=paired) + [
        np.asarray(reranker.predict(r.x), np.float64) if len(r.x) else np.zeros(0) for r in unseen
    ]
    every = [*reads, *paired, *unseen]
    keep, x, f1 = gate_rows(every, preds)
    answerable = np.asarray([every[i].answerable for i in keep], bool)

    def classifier(y: np.ndarray) -> Any:
        model = HistGradientBoostingClassifier(
            max_iter=300,
            learning_rate=0.03,
            max_leaf_nodes=15,
            min_samples_leaf=30,
            categorical_features=gate_categorical(),
            random_state=seed,
        )
        model.fit(x, y)
        return model

    return Gate(classifier((answerable & (f1 >= 0.5)).astype(int)), classifier(answerable.astype(int)))


def choose_gate_threshold(
    reads: Sequence[Read2],
    offtopic: Sequence[Read2],
    reranker: Any,
    gate: Any,
    max_false_abstain: float = 0.20,
    grid: Sequence[float] = GATE_GRID,
) -> tuple[float | None, dict[str, dict[str, float]]]:
    """The abstain threshold on the gate's answerability, by `choose_threshold`'s rule, on the
    development reads and their off-topic questions (a read with nothing to read abstains)."""

    def judge(rs: Sequence[Read2]) -> tuple[list[Read2], np.ndarray, np.ndarray]:
        preds = [np.asarray(reranker.predict(r.x), np.float64) if len(r.x) else np.zeros(0) for r in rs]
        keep, x, f1 = gate_rows(rs, preds)
        answerability = gate.answerable.predict_proba(x)[:, 1] if len(x) else np.zeros(0)
        return [rs[i] for i in keep], np.asarray(answerability, np.float64), f1

    rows, g, f1 = judge(reads)
    kept, off, _ = judge(offtopic)
    # An off-topic question with nothing to read abstains: it counts with answerability 0.
    off = np.concatenate([off, np.zeros(len(offtopic) - len(kept))])
    if not rows:
        return None, {}
    return pick_threshold(rows, g, f1, off, max_false_abstain, grid)


def fit_reranker(reads: Sequence[Read2], seed: int = 0) -> Any:
    """Gradient-boosted trees predicting each top candidate's F1 from `rerank_matrix`.

    Early stopping is off: with it on (scikit-learn's default above 10,000 rows) a random tenth of
    the rows was set aside to watch for a stop that never came (the trees always ran all 300
    rounds), so the fit lost that tenth and varied with the seed (development F1, every question
    answered, mean of six samples: 0.460-0.469 over three seeds; 0.471 with every row)."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    rows = [r for r in reads if len(r.x)]
    x = np.vstack([r.x for r in rows])
    y = np.concatenate([r.f1 for r in rows])
    # Read without a sentence selector, its columns are NaN throughout, which the trees' binning
    # refuses; a constant column is never split on, and predicting with NaN there goes either way alike.
    x[:, np.isnan(x).all(axis=0)] = 0.0
    model = HistGradientBoostingRegressor(
        max_iter=300,
        learning_rate=0.05,
        max_leaf_nodes=31,
        min_samples_leaf=40,
        categorical_features=RERANK_CATEGORICAL,
        random_state=seed,
        early_stopping=False,
    )
    model.fit(x, y)
    return model


def compare(reads: Sequence[Read2], model: Any) -> dict[str, dict[str, float]]:
    """Per sample, over its answerable questions, answering every one: the top answer's F1 and
    sentence accuracy under the first stage and after re-ranking."""
    out: dict[str, dict[str, float]] = {}
    for name in dict.fromkeys(r.sample for r in reads):
        these = [r for r in reads if r.sample == name and r.answerable and len(r.x)]
        if not these:
            continue
        picks = [int(np.argmax(model.predict(r.x))) for r in these]
        out[name] = {
            "questions": float(len(these)),
            "f1_first": float(np.mean([r.f1[0] for r in these])),
            "f1": float(np.mean([r.f1[i] for r, i in zip(these, picks)])),
            "sentence_first": float(np.mean([r.sentence_ok[0] for r in these])),
            "sentence": float(np.mean([r.sentence_ok[i] for r, i in zip(these, picks)])),
        }
    return out


# Written-unanswerable questions are what the gate most needs and the second stage's samples hold
# few of (110): the pool's others that no part of the model trained on, read end to end with the
# answerable questions of their paragraphs.
GATE_SAMPLE = "gate-squad2"
GATE_SOURCES = frozenset({"squad2.0-dev", "squad2.0-train"})


def gate_sample(train: Sequence[Record], seen: Set[str], limit: int = 2000) -> dict[str, DevSample]:
    """The questions of `train` not in `seen` from the paragraphs that hold an unanswerable one of
    them (SQuAD 2.0; paragraphs in first-seen order, until `limit` questions), those paragraphs the
    collection."""
    free = [r for r in train if r.source in GATE_SOURCES and r.id not in seen]
    wanted = list(dict.fromkeys(r.context for r in free if not r.answerable))
    by_context: dict[str, list[Record]] = {}
    for r in free:
        by_context.setdefault(r.context, []).append(r)
    questions: list[Record] = []
    contexts: list[str] = []
    for c in wanted:
        if len(questions) >= limit:
            break
        contexts.append(c)
        questions.extend(by_context[c])
    return {GATE_SAMPLE: DevSample(tuple(questions), tuple(contexts))} if questions else {}


def samples(train: Sequence[Record], seen: Set[str]) -> tuple[dict[str, DevSample], dict[str, DevSample]]:
    """(the second stage's training samples, the development samples): other articles, unseen questions."""
    dev = dev_samples(train, seen)
    dev_groups = {q.group for s in dev.values() for q in s.questions}
    return dev_samples(train, seen, samples=STAGE2_SAMPLES, exclude_groups=dev_groups), dev
