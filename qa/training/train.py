"""`qa train`: reproduce the shipped answerer model from labelled questions.

Pool-format files (SQuAD-style JSON Lines with contexts) are split as `qa.training.pool.split`
says; gold-format files (`eval/gold.jsonl` style, no contexts) need `--index`: each gold answer is
found in its listed documents and the passage holding it becomes the context.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from qa.answerer.scorer import NOANSWER_BASE
from qa.training.pool import Answer, Record, bucket, read_records, split

log = logging.getLogger("qa.training")

LICENCES = {
    "squad2.0-dev": "CC BY-SA 4.0",
    "squad1.1-dev": "CC BY-SA 4.0",
    "squad2.0-train": "CC BY-SA 4.0",
    "squad1.1-train": "CC BY-SA 4.0",
    "squadshifts-newwiki": "CC BY 4.0",
    "tydiqa-goldp-en": "Apache 2.0",
    "qed-nq": "CC BY-SA 3.0",
    "covidqa": "Apache 2.0",
    "policyqa": "MIT",
}


def _is_pool(path: Path) -> bool:
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    for f in files:
        with f.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    return "context" in json.loads(line)
    return True


def gold_records(paths: Sequence[Path], index_dir: Path) -> list[Record]:
    """Gold lines turned into pool records: the passage holding each answer is its context.

    Raises:
        ValueError: a gold line names a document the index lacks.
    """
    from qa.config import Settings
    from qa.embed import MODEL_DIM, MODEL_NAME
    from qa.evaluate import load_gold
    from qa.index import open_index

    data = open_index(Settings.from_env().storage_backend, index_dir, MODEL_NAME, MODEL_DIM)
    out: list[Record] = []
    rng = random.Random(3)
    for path in paths:
        for g in load_gold(path):
            if not g.answerable:
                row = rng.randrange(max(1, data.n_passages))
                p = data.passage(row)
                out.append(Record(g.id, p.text, g.question, (), "gold-unanswerable", p.doc_id))
                continue
            for doc_id in g.sources:
                if doc_id not in data.doc_index:
                    raise ValueError(f"{path}: question {g.id} lists {doc_id!r}, which is not in {index_dir}.")
                text = data.text_of(doc_id)
                found = [(text.find(a), a) for a in g.answers if a and text.find(a) >= 0]
                if not found:
                    continue
                at, ans = min(found)
                d = data.doc_index[doc_id]
                rows = [i for i in range(data.n_passages) if int(data.passages[i]["doc"]) == d]
                for i in rows:
                    p = data.passage(i)
                    if p.start <= at and at + len(ans) <= p.end:
                        out.append(Record(g.id, p.text, g.question, (Answer(ans, at - p.start),), "gold", doc_id))
                        break
                break
    return out


def scorer_sample(
    pool: Sequence[Record], n: int, rng: random.Random, unanswerable_share: float | None
) -> tuple[list[Record], float]:
    """`n` questions for the scorer and the no-answer model, and the unanswerable share of `pool`.

    The human-written unanswerable questions are rare (about one in ten) and are what the no-answer
    model must learn to refuse, so they may be taken first, up to `unanswerable_share` of the sample
    (None: a plain random sample); `prevalence_weights` gives them back their natural share when the
    model is fitted.
    """
    shuffled = list(pool)
    rng.shuffle(shuffled)
    natural = sum(1 for r in shuffled if not r.answerable) / max(1, len(shuffled))
    if unanswerable_share is None:  # a plain random sample (the shipped recipe)
        return shuffled[:n], natural
    unans = [r for r in shuffled if not r.answerable]
    ans = [r for r in shuffled if r.answerable]
    n_un = min(len(unans), max(round(n * natural), int(n * unanswerable_share)))
    chosen = unans[:n_un] + ans[: max(0, n - n_un)]
    rng.shuffle(chosen)
    return chosen, natural


def trained_ids(records: Sequence[Record], model_dir: Path, second_stage: bool = True) -> set[str]:
    """Ids of the pool questions the model in `model_dir` trained on (reader, scorer and no-answer
    model, and its second stage unless `second_stage` is False: a new second stage replaces it).

    The scorer's sample is stored by models trained since it was (`scorer_train_ids.json`); for older
    ones it is drawn again the way `run` drew it with the shipped recipe, from the same pool.
    """

    def ids(name: str) -> set[str]:
        f = model_dir / name
        return set(json.loads(f.read_text())) if f.is_file() else set()

    reader_ids = ids("reader_train_ids.json")
    later = ids("stage2_train_ids.json") if second_stage else set()
    if (model_dir / "scorer_train_ids.json").is_file():
        return reader_ids | ids("scorer_train_ids.json") | later
    manifest = json.loads((model_dir / "manifest.json").read_text())
    train_pool = [r for r in split(records).train if r.id not in reader_ids]
    rest, _ = scorer_sample(train_pool, int(manifest.get("scorer_questions", 5000)), random.Random(11), None)
    return reader_ids | {r.id for r in rest} | later


def run(
    data: Sequence[Path],
    out: Path,
    *,
    no_reader: bool = False,
    index_dir: Path | None = None,
    scorer_questions: int = 5000,
    reader_questions: int = 20000,
    reader_precision: str = "fp32",
    reader_unanswerable: float = 1.0,
    scorer_unanswerable: float | None = None,
    noanswer_fit: str = "split",
    noanswer_features: Sequence[str] = NOANSWER_BASE,
    base_model: Path | None = None,
    heldout_report: bool = True,
    stage2: bool = True,
    gate: bool = True,
    work: Path = Path("build/train"),
) -> dict[str, Any]:
    """Train what ships and write the model folder `out`; returns the figures it printed.

    The reader fine-tunes on `reader_questions` (at most `reader_unanswerable` of the unanswerable
    ones, so that some are left for the no-answer model); the scorer and the no-answer model read
    `scorer_questions` others (`scorer_unanswerable`: up to that share human-written unanswerable
    ones, weighted back to their natural share). `noanswer_fit` "split" (the shipped recipe) fits the
    scorer on 12/20 of them and the no-answer model on its answers to 5/20; "crossfit" fits the
    scorer on 17/20 and the no-answer model on every one's out-of-fold answer. The last 3/20 choose
    the threshold. `noanswer_features` may add `NOANSWER_CONTEXT` to the shipped model's features.

    Raises:
        ValueError: gold-format data without `index_dir`, or data that yields no questions.
    """
    from qa.answerer.model import READER_FILE, Variant, default_model_dir, save_model
    from qa.answerer.reader import SpanReader
    from qa.answerer.scorer import SCORERS, get_scorer
    from qa.embed import MiniLMEmbedder
    from qa.training import fit
    from qa.training import reader as reader_training
    from qa.training.scorer import build_examples, collections

    t0 = time.time()
    pool_paths = [p for p in data if _is_pool(p)]
    gold_paths = [p for p in data if not _is_pool(p)]
    if gold_paths and index_dir is None:
        raise ValueError("Gold-format files have no contexts: give --index DIR so answers can be found in documents.")
    records = list(read_records(pool_paths))
    if gold_paths and index_dir is not None:
        records += gold_records(gold_paths, index_dir)
    if not records:
        raise ValueError("No training questions in " + ", ".join(map(str, data)) + ".")
    sp = split(records)
    user = [r for r in records if r.source.startswith("gold")]
    train_pool = list(sp.train) + [r for r in user if bucket(r.id, 7) != 0]
    work.mkdir(parents=True, exist_ok=True)
    reader_ids: set[str] = set()
    if no_reader:
        reader_onnx = (base_model or default_model_dir()) / READER_FILE
        ids_file = (base_model or default_model_dir()) / "reader_train_ids.json"
        if ids_file.is_file():
            reader_ids = set(json.loads(ids_file.read_text()))
    else:
        chosen = reader_training.sample_questions(train_pool, reader_questions, unanswerable_share=reader_unanswerable)
        reader_ids = {r.id for r in chosen}
        bf16 = None if reader_precision == "auto" else reader_precision == "bf16"
        ckpt = reader_training.train(chosen, work / "reader", bf16=bf16)
        reader_onnx = reader_training.export_onnx(ckpt, work / "reader" / READER_FILE)
    rng = random.Random(11)
    rest, natural = scorer_sample(
        [r for r in train_pool if r.id not in reader_ids], scorer_questions, rng, scorer_unanswerable
    )
    log.info(
        "scorer and no-answer model: %d questions the reader never saw (%d written unanswerable; %.3f of those left)",
        len(rest),
        sum(not r.answerable for r in rest),
        natural,
    )
    embedder = MiniLMEmbedder()
    reader = SpanReader(reader_onnx, threads=2)
    cache = work / f"examples-{_digest(rest, reader_onnx)}.pkl"
    if cache.is_file():  # the same questions read by the same reader: refitting needs no re-reading
        with cache.open("rb") as fh:
            examples = pickle.load(fh)  # noqa: S301 - written by this function, keyed by content
    else:
        examples = build_examples(collections(rest, rng, train_pool), embedder, reader)
        with cache.open("wb") as fh:
            pickle.dump(examples, fh, protocol=pickle.HIGHEST_PROTOCOL)
    by_id = {r.id: r for r in rest}  # readings cached before these fields lack them
    examples = [
        replace(ex, human_unanswerable=not by_id[ex.record_id].answerable, question=by_id[ex.record_id].question)
        for ex in examples
    ]
    part = [bucket(ex.record_id, 20) for ex in examples]
    fitting = [ex for ex, b in zip(examples, part) if b < 17]
    a = [ex for ex, b in zip(examples, part) if b < 12]
    b_ = [ex for ex, b in zip(examples, part) if 12 <= b < 17]
    c = [ex for ex, b in zip(examples, part) if b >= 17]
    variants: dict[str, Variant] = {}
    scorers: dict[str, Any] = {}
    figures: dict[str, Any] = {}
    for name in SCORERS:
        # split (shipped): the scorer fits on `a`, the no-answer model on its answers to `b_`;
        # crossfit: the scorer on both, the no-answer model on every one's out-of-fold answer.
        crossfit = noanswer_fit == "crossfit"
        model = None
        if name != "reader":
            model = fit.fit_scorer(fitting if crossfit else a, use_reader=name == "learned")
        scorer = get_scorer(name, model)
        if model is not None and crossfit:
            na_outs = fit.crossfit_outcomes(fitting, name == "learned")
        else:
            na_outs = fit.outcomes(fitting if crossfit else b_, scorer)
        na_outs = fit.project(na_outs, noanswer_features)
        weights = fit.prevalence_weights(na_outs, natural) if scorer_unanswerable is not None else None
        noanswer = fit.fit_noanswer(na_outs, weights=weights)
        outs_c = fit.project(fit.outcomes(c, scorer), noanswer_features)
        probs_c = fit.probabilities(noanswer, outs_c)
        threshold = fit.choose_threshold(outs_c, probs_c)
        variants[name] = Variant(model, noanswer, threshold)
        scorers[name] = scorer
        figures[name] = {"validation": {"questions": len(c), **fit.scores_at(outs_c, probs_c, threshold)}}
        figures[name]["reliability"] = fit.reliability(outs_c, probs_c)
        print(
            f"[{name}] threshold {threshold:.2f} (chosen on {len(c)} validation questions: best mean of answerable "
            "F1 and no-answer accuracy, false-abstain <= 0.20)"
        )
        print(
            f"[{name}] validation (paragraph given; questions neither model trained on):",
            _fmt(figures[name]["validation"]),
        )
        print(f"[{name}] reliability (confidence bin, questions, mean confidence, share right):")
        for row in figures[name]["reliability"]:
            print("    ", row)
    if heldout_report:
        for set_name, recs in [*sp.heldout.items(), ("reddit-amazon", sp.domain)]:
            if not recs:
                continue
            exs = build_examples([(r, [r.context], r.answerable) for r in recs], embedder, reader)
            for name, scorer in scorers.items():
                outs = fit.project(fit.outcomes(exs, scorer), noanswer_features)
                v = variants[name]
                res = {"questions": len(recs), **fit.scores_at(outs, fit.probabilities(v.noanswer, outs), v.threshold)}
                figures[name][set_name] = res
                print(f"[{name}] held-out {set_name} (paragraph given): {_fmt(res)}")
    sources = sorted({r.source for r in train_pool})
    meta = {
        "trained_on": {s: LICENCES.get(s, "user data") for s in sources},
        "noanswer_features": list(noanswer_features),
        "reader_questions": len(reader_ids),
        "scorer_questions": len(examples),
        "minutes": round((time.time() - t0) / 60, 1),
        "figures": {n: {k: v for k, v in f.items() if k != "reliability"} for n, f in figures.items()},
    }
    second = (
        _second_stage(
            sp.train,
            reader_ids | {r.id for r in rest},
            save_model(work / "stage1-model", reader_onnx, variants, meta),
            meta,
            work,
            embedder,
            heldout_report,
            with_gate=gate,
        )
        if stage2
        else SecondStage(None, [])
    )
    meta["minutes"] = round((time.time() - t0) / 60, 1)
    save_model(out, reader_onnx, variants, meta, second.reranker, second.gate, second.selector)
    _write_ids(out, reader_ids, [r.id for r in rest], second.ids)
    print(f"wrote {out} in {meta['minutes']} min")
    return figures


def _write_ids(out: Path, reader: set[str], scorer: Sequence[str], stage2: Sequence[str]) -> None:
    """Which pool questions each part trained on (`trained_ids` reads them back; none: no file)."""
    for name, ids in (("reader", reader), ("scorer", scorer), ("stage2", stage2)):
        f = out / f"{name}_train_ids.json"
        if ids or name == "reader":
            f.write_text(json.dumps(sorted(ids)))
        elif f.exists():
            f.unlink()


def run_stage2(
    data: Sequence[Path], out: Path, base_model: Path, work: Path, report: bool = True, gate: bool = True
) -> Path:
    """Add a second stage (the sentence selector, the re-ranker and, with `gate`, the gate) to the
    model at `base_model` (its reader and first stage kept byte for byte) and write the result to
    `out`: `qa train --stage2-only`."""

    from qa.answerer.model import (
        GATE_FILE,
        MANIFEST,
        RERANK_FILE,
        SELECT_FILE,
        add_gate,
        add_reranker,
        add_selector,
        load_model,
    )
    from qa.embed import MiniLMEmbedder

    t0 = time.time()
    records = list(read_records([p for p in data if _is_pool(p)]))
    if not records:
        raise ValueError("The second stage trains on pool-format files: none in " + ", ".join(map(str, data)) + ".")
    load_model(base_model)  # checked before anything is read with it
    manifest = json.loads((base_model / MANIFEST).read_text(encoding="utf-8"))
    meta: dict[str, Any] = {"figures": dict(manifest.get("figures", {}))}
    second = _second_stage(
        split(records).train,
        trained_ids(records, base_model, second_stage=False),
        base_model,
        meta,
        work,
        MiniLMEmbedder(),
        report,
        with_gate=gate,
    )
    if second.reranker is None:
        raise ValueError("No training-split articles are left that the model never trained on.")
    _copy_model(base_model, out, leave=(RERANK_FILE, GATE_FILE, SELECT_FILE))
    (out / "stage2_train_ids.json").write_text(json.dumps(sorted(second.ids)))
    minutes = round((time.time() - t0) / 60, 1)
    meta.update(stage2_minutes=minutes)
    _drop_file_entry(out, SELECT_FILE)
    if second.selector is not None:
        add_selector(out, second.selector, {})
    add_reranker(out, second.reranker, meta)
    if second.gate is not None:
        add_gate(out, second.gate[0], second.gate[1], {})
    print(f"wrote {out} in {minutes} min")
    return out


def run_gate(data: Sequence[Path], out: Path, base_model: Path, work: Path) -> Path:
    """Fit the gate for the model at `base_model` (reader, scorer and second stage kept byte for byte)
    and write the result to `out`: `qa train --gate-only`."""
    from qa.answerer.model import GATE_FILE, add_gate, load_model
    from qa.embed import MiniLMEmbedder
    from qa.training import stage2 as s2

    t0 = time.time()
    records = list(read_records([p for p in data if _is_pool(p)]))
    if not records:
        raise ValueError("The gate trains on pool-format files: none in " + ", ".join(map(str, data)) + ".")
    model = load_model(base_model)
    if model.reranker is None:
        raise ValueError(f"The model at {base_model} has no second stage: the gate reads its predictions.")
    # The second stage's own training questions: its samples are drawn from the questions the first
    # stage never saw, as when it was fitted.
    train_samples, dev = s2.samples(split(records).train, trained_ids(records, base_model, second_stage=False))
    embedder = MiniLMEmbedder()
    reads = s2.read_samples(train_samples, work / "stage2", base_model, embedder)
    dev_reads = s2.read_samples(dev, work / "dev", base_model, embedder)
    offtopic_dev = s2.offtopic_reads(dev, work / "dev", base_model, embedder)
    meta: dict[str, Any] = {"figures": {}}
    held = trained_ids(records, base_model) | {q.id for smp in dev.values() for q in smp.questions}
    extra = s2.gate_sample(split(records).train, held)
    fitted = _gate(
        reads,
        train_samples,
        extra,
        dev,
        dev_reads,
        offtopic_dev,
        model.reranker.model,
        base_model,
        work,
        embedder,
        meta,
    )
    if fitted is None:
        raise ValueError("No gate threshold keeps false-abstain within 0.20 on every development sample.")
    _copy_model(base_model, out, leave=(GATE_FILE,))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    figures = {**manifest.get("figures", {}), **meta["figures"]}
    add_gate(out, fitted[0], fitted[1], {"figures": figures, "gate_minutes": round((time.time() - t0) / 60, 1)})
    print(f"wrote {out} in {(time.time() - t0) / 60:.1f} min")
    return out


def _copy_model(base: Path, out: Path, leave: Sequence[str]) -> None:
    """Copy the model folder `base` to `out` (unless they are one), the files named in `leave` left out."""
    import shutil

    if out.resolve() == base.resolve():
        return
    out.mkdir(parents=True, exist_ok=True)
    for f in base.iterdir():
        if f.is_file() and f.name not in leave:
            shutil.copy2(f, out / f.name)


@dataclass(frozen=True)
class SecondStage:
    """What `_second_stage` fitted: the re-ranker (None: no articles left to read end to end), the
    pool ids it trained on, the gate with its threshold and the sentence selector (None: not fitted)."""

    reranker: Any
    ids: list[str]
    gate: tuple[Any, float] | None = None
    selector: Any = None


def _drop_file_entry(folder: Path, name: str) -> None:
    """Forget `name` in the model folder's manifest (a file copied from another model that no longer fits)."""
    mf = folder / "manifest.json"
    manifest = json.loads(mf.read_text(encoding="utf-8"))
    if manifest.get("files", {}).pop(name, None) is not None:
        mf.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _with_selector(first: Path, selector: Any, dest: Path) -> Path:
    """A copy of the model folder `first` at `dest` that reads with `selector` (the second stage is
    trained on what the answerer reads with it; `first` itself is left as it is)."""
    from qa.answerer.model import GATE_FILE, RERANK_FILE, SELECT_FILE, add_selector, forget

    if dest.exists():
        for f in dest.iterdir():
            if f.is_file():
                f.unlink()
    _copy_model(first, dest, leave=(RERANK_FILE, GATE_FILE, SELECT_FILE))
    for name in (RERANK_FILE, GATE_FILE, SELECT_FILE):
        _drop_file_entry(dest, name)
    forget(dest)
    return add_selector(dest, selector, {})


def _second_stage(
    train: Sequence[Record],
    seen: set[str],
    first: Path,
    meta: dict[str, Any],
    work: Path,
    embedder: Any,
    report: bool,
    with_gate: bool = True,
) -> SecondStage:
    """Fit the sentence selector, then the re-ranker on training-split articles read end to end by
    the first stage at `first` with that selector.

    Without `report` or `with_gate` no gate is fitted (its threshold is chosen on the development
    samples); the figures there go into `meta`.
    """
    from qa.answerer.read import READ_SENTENCES
    from qa.training import stage2 as s2

    train_samples, dev = s2.samples(train, seen)
    ids = [q.id for smp in train_samples.values() for q in smp.questions]
    if not ids:
        log.info("second stage: no training-split articles left to read end to end; none trained")
        return SecondStage(None, [])
    rows = s2.selector_rows(train_samples, work / "stage2", first, embedder)
    selector = s2.fit_selector(rows)
    print(f"[select] sentence selector fitted on {len(rows)} questions' retrieved sentences")
    if report:
        recall = s2.selector_recall(s2.selector_rows(dev, work / "dev", first, embedder), selector, READ_SENTENCES)
        meta["figures"]["select_recall"] = {n: {"blend": a, "selector": b} for n, (a, b) in recall.items()}
        for name, (a, b) in recall.items():
            print(f"[select] {name}: a sentence holding the answer among the {READ_SENTENCES} read {a:.3f} -> {b:.3f}")
    # The re-ranker's training questions are read with out-of-fold selectors (`stage2.SELECT_FOLDS`).
    folds = [
        _with_selector(first, s2.fit_selector([r for r in rows if r.fold != k] or rows), work / f"select-model-{k}")
        for k in range(s2.SELECT_FOLDS)
    ]
    reads = s2.read_samples_by_fold(train_samples, work / "stage2", folds, embedder)
    first = _with_selector(first, selector, work / "select-model")
    reranker = s2.fit_reranker(reads)
    print(f"[stage2] re-ranker fitted on {len(reads)} questions read end to end from {len(train_samples)} samples")
    figures: dict[str, Any] = {}
    gate: tuple[Any, float] | None = None
    if report:
        dev_reads = s2.read_samples(dev, work / "dev", first, embedder)
        figures = s2.compare(dev_reads, reranker)
        for name, f in figures.items():
            print(
                f"[stage2] {name} (end to end, every question answered): F1 {f['f1_first']:.3f} -> {f['f1']:.3f}, "
                f"sentence accuracy {f['sentence_first']:.3f} -> {f['sentence']:.3f} ({int(f['questions'])} questions)"
            )
        offtopic_dev = s2.offtopic_reads(dev, work / "dev", first, embedder)
        offtopic = [r.conf for r in offtopic_dev]
        threshold, at = s2.choose_threshold(dev_reads, reranker, offtopic)
        if threshold is not None:
            # With a second stage the model abstains below this one (`model.load_model`), not the
            # first stage's, which was chosen with the paragraph given and no retrieval.
            meta["stage2_threshold"] = threshold
            meta["figures"]["stage2_threshold"] = at
            print(
                f"[stage2] threshold {threshold:.2f} (chosen on the development samples and {len(offtopic)} off-topic "
                "questions, end to end: best mean score with false-abstain <= 0.20 on every sample)"
            )
            for name, f in at.items():
                print(f"[stage2]   {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in f.items()))
        held = seen | set(ids) | {q.id for smp in dev.values() for q in smp.questions}
        if with_gate:
            extra = s2.gate_sample(train, held)
            gate = _gate(
                reads, train_samples, extra, dev, dev_reads, offtopic_dev, reranker, first, work, embedder, meta
            )
    meta["stage2_questions"] = len(ids)
    meta["figures"]["stage2"] = figures
    return SecondStage(reranker, ids, gate, selector)


def _gate(
    reads: Sequence[Any],
    train_samples: dict[str, Any],
    extra: dict[str, Any],
    dev: dict[str, Any],
    dev_reads: Sequence[Any],
    offtopic_dev: Sequence[Any],
    reranker: Any,
    first: Path,
    work: Path,
    embedder: Any,
    meta: dict[str, Any],
) -> tuple[Any, float] | None:
    """Fit the gate on the second stage's training reads, those questions asked without their own
    paragraph, their own off-topic questions and the `extra` samples (`stage2.gate_sample`), and
    choose its threshold on the development reads, theirs asked without their paragraph and their
    off-topic questions (`qa/answerer/gate.py`)."""
    from qa.training import stage2 as s2

    t0 = time.time()
    without = s2.without_paragraph_reads(train_samples, work / "stage2", first, embedder)
    offtopic_train = s2.offtopic_reads(train_samples, work / "stage2", first, embedder, seed=1)
    extra_reads = s2.read_samples(extra, work / "gate", first, embedder)
    gate = s2.fit_gate(reads, [*offtopic_train, *extra_reads], reranker, paired=without)
    without_dev = s2.without_paragraph_reads(dev, work / "dev", first, embedder, seed=1)
    threshold, at = s2.choose_gate_threshold([*dev_reads, *without_dev], offtopic_dev, reranker, gate)
    if threshold is None:
        print("[gate] no threshold keeps false-abstain <= 0.20 on every development sample; no gate")
        return None
    meta["figures"]["gate_threshold"] = at
    print(
        f"[gate] fitted on {len(reads)} questions, {len(without)} of them asked without their paragraph, "
        f"{len(offtopic_train)} off-topic ones and {len(extra_reads)} of paragraphs with written-unanswerable "
        f"questions ({sum(not r.answerable for r in extra_reads)} of them) ({(time.time() - t0) / 60:.1f} min); "
        f"abstains below answerability {threshold:.2f}, chosen on the development samples, {len(without_dev)} "
        f"of their questions without their paragraph and {len(offtopic_dev)} off-topic questions (best mean "
        "score, false-abstain <= 0.20)"
    )
    for name, f in at.items():
        print(f"[gate]   {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in f.items()))
    return gate, threshold


def _digest(records: Sequence[Record], reader_onnx: Path) -> str:
    from qa.training.scorer import READING_VERSION

    h = hashlib.sha1(f"reading-{READING_VERSION}".encode())
    for r in records:
        h.update(r.id.encode("utf-8"))
    h.update(str(reader_onnx.stat().st_size).encode())
    h.update(str(reader_onnx.stat().st_mtime_ns).encode())
    return h.hexdigest()[:12]


def _fmt(d: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in d.items())
