"""Offline evaluation: answer a gold file through the `qa ask` code path, score it, compare with baselines.

The system is run once with an abstention threshold of 0, so every question records its candidate
answer, confidence and answerability; the real threshold is applied afterwards (abstain iff
answerability < threshold, as `Answerer.answer` does; an answerer without a separate answerability
thresholds its confidence). That one run gives the headline metrics and the whole threshold curve.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa import metrics as M
from qa.chunk import split_sentences
from qa.config import MAX_QUESTION_CHARS
from qa.embed import Embedder
from qa.errors import DocQAError
from qa.models import Answer, Passage
from qa.retrieve import Retriever
from qa.text import content_words

if TYPE_CHECKING:  # the pipeline (and the answerer) load only when a run starts
    from qa.pipeline import Pipeline

SYSTEM = "system"
BASELINES = ("bm25", "dense")  # name → retrieval mode below
_MODES = {"bm25": "lexical", "dense": "dense"}
WARM_UP = "Who is mentioned in these documents?"  # not a gold question, so no gold query hits a cache
RANK_DEPTH = 10  # recall@10 needs ten ranked passages whatever k is
METRIC_KEYS = (
    "n",
    "n_answerable",
    "recall_at_1",
    "recall_at_5",
    "recall_at_10",
    "mrr",
    "exact_match",
    "f1",
    "no_answer_accuracy",
    "false_abstain_rate",
    "citation_accuracy",
    "sentence_accuracy",
    "latency_ms_p50",
    "latency_ms_p95",
)
REPORT_KEYS = (*METRIC_KEYS, "by_kind", "baselines")


class GoldFileError(DocQAError):
    """A gold file that cannot be read or has a malformed line (the message names file:line)."""


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    answers: tuple[str, ...]
    sources: tuple[str, ...]
    answerable: bool
    kind: str
    line: int


@dataclass(frozen=True)
class Run:
    """One system's threshold-free output on one question."""

    answer: str | None  # the system's candidate (from a threshold-0 run) or a baseline's sentence
    confidence: float | None  # None for baselines: they never abstain
    citation: dict[str, Any] | None  # first citation: doc_id, start, end, text
    citation_exact: bool  # citation text == document text[start:end]
    ranked_docs: tuple[str, ...]  # documents of the top RANK_DEPTH passages, duplicates kept
    latency_ms: float
    sentence: str | None = None  # the first citation's sentence; a baseline's answer is its sentence
    answerability: float | None = None  # what the threshold applies to; None: the confidence

    @property
    def gate(self) -> float | None:
        """The number `qa ask` compares with its threshold (None for baselines)."""
        return self.confidence if self.answerability is None else self.answerability

    def answer_at(self, threshold: float) -> str | None:
        """The answer `qa ask` gives at `threshold`: None (abstain) iff no candidate or `gate` < threshold."""
        gate = self.gate
        if self.answer is None or (gate is not None and gate < threshold):
            return None
        return self.answer


@dataclass(frozen=True)
class Record:
    gold: GoldItem
    runs: dict[str, Run]  # SYSTEM and every name in BASELINES


@dataclass(frozen=True)
class Score:
    answer: str | None
    abstained: bool
    em: float
    f1: float
    first_rank: int | None
    citation_ok: bool
    correct: bool
    sentence_ok: bool = False  # answered, and the cited sentence contains a gold answer


# ---------------------------------------------------------------------------------------------- gold


def _fail(path: Path, line: int, what: str) -> GoldFileError:
    return GoldFileError(f"{path}:{line}: {what}")


def _str_list(path: Path, line: int, obj: dict[str, Any], key: str) -> tuple[str, ...]:
    value = obj.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(path, line, f"'{key}' must be a list of non-empty strings, got {json.dumps(value)[:80]}.")
    return tuple(value)


def load_gold(path: Path | str) -> list[GoldItem]:  # noqa: C901 - one check and message per field
    """Read a JSON Lines gold file (blank lines allowed; unknown keys ignored).

    Args:
        path: the gold file.
    Returns:
        One GoldItem per non-blank line, in file order.
    Raises:
        GoldFileError: unreadable or empty file, or a line that is not a JSON object with a string
            `question`, a list `answers`, a boolean `answerable` consistent with answers and sources.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise GoldFileError(f"Cannot read the gold file {path}: {e}") from e
    items: list[GoldItem] = []
    seen: dict[str, int] = {}
    for no, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except ValueError as e:
            raise _fail(path, no, f"not valid JSON ({e}).") from e
        if not isinstance(obj, dict):
            raise _fail(path, no, f"expected a JSON object, got {type(obj).__name__}.")
        missing = [k for k in ("question", "answers", "answerable") if k not in obj]
        if missing:
            raise _fail(path, no, f"missing key{'s' if len(missing) > 1 else ''} {', '.join(missing)}.")
        question = obj["question"]
        if not isinstance(question, str) or not question.strip():
            raise _fail(path, no, "'question' must be a non-empty string.")
        if len(question.strip()) > MAX_QUESTION_CHARS:
            raise _fail(
                path,
                no,
                f"the question is {len(question.strip()):,} characters long; "
                f"`qa ask` takes at most {MAX_QUESTION_CHARS:,}.",
            )
        answerable = obj["answerable"]
        if not isinstance(answerable, bool):
            raise _fail(path, no, f"'answerable' must be true or false, got {json.dumps(answerable)}.")
        answers = _str_list(path, no, obj, "answers")
        sources = _str_list(path, no, obj, "sources")
        if answerable and not answers:
            raise _fail(path, no, "answerable is true but 'answers' is empty.")
        if answerable and not sources:
            raise _fail(path, no, "answerable is true but 'sources' is empty; list the documents holding the answer.")
        if not answerable and (answers or sources):
            raise _fail(path, no, "answerable is false, so 'answers' and 'sources' must be empty.")
        item_id, kind = obj.get("id", f"line{no}"), obj.get("kind", "unlabelled")
        if not isinstance(item_id, str) or not isinstance(kind, str) or not kind:
            raise _fail(path, no, "'id' and 'kind' must be non-empty strings when given.")
        if item_id in seen:
            raise _fail(path, no, f"id {item_id!r} already used on line {seen[item_id]}.")
        seen[item_id] = no
        items.append(GoldItem(item_id, question.strip(), answers, sources, answerable, kind, no))
    if not items:
        raise GoldFileError(f"{path}: the gold file has no questions.")
    return items


# ---------------------------------------------------------------------------------------------- running


def best_sentence(question: str, passage: Passage) -> tuple[int, int]:
    """Document offsets of the passage sentence sharing the most question content words (first on ties)."""
    want = set(content_words(question))
    best, best_count = None, -1
    for s in split_sentences(passage.text):
        count = len(want & set(content_words(passage.text[s.start : s.end])))
        if count > best_count:
            best, best_count = s, count
    if best is None:
        return passage.start, passage.end
    return passage.start + best.start, passage.start + best.end


class _Uncached:
    """The pipeline's embedder without its query cache, so a baseline's latency includes embedding the
    question (the system already embedded it, and a cache hit would make dense retrieval look free)."""

    def __init__(self, embedder: Embedder) -> None:
        self.inner = embedder
        self.name, self.dim = embedder.name, embedder.dim

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        return self.inner.encode(texts, batch_size=batch_size)

    def encode_query(self, text: str) -> np.ndarray:
        vec: np.ndarray = self.inner.encode([text], batch_size=1)[0]
        return vec


def _citation(pipe: Pipeline, doc_id: str, start: int, end: int, text: str) -> tuple[dict[str, Any], bool]:
    data = pipe.live.data
    exact = doc_id in data.doc_index and M.citation_is_exact(data.text_of(doc_id), start, end, text)
    return {"doc_id": doc_id, "start": start, "end": end, "text": text}, exact


def _system_run(pipe: Pipeline, question: str, k: int) -> Run:
    t0 = time.perf_counter()
    ans: Answer = pipe.ask(question, k=k)
    latency = (time.perf_counter() - t0) * 1000
    # Rank again with the retriever `ask` used, ten deep (a prefix-stable ranking: its top k are the
    # passages `ask` returned); the query vector is cached by now and this is not timed.
    hits = pipe.live.retriever.search(ans.resolved_question or question, k=max(RANK_DEPTH, k)).hits
    cite, exact, sentence = None, False, None
    if ans.answer is not None and ans.citations:
        c = ans.citations[0]
        cite, exact = _citation(pipe, c.doc_id, c.start, c.end, c.text)
        sentence = c.sentence
    ranked = tuple(h.passage.doc_id for h in hits)
    gate = None if ans.answerability is None else float(ans.answerability)
    return Run(ans.answer, float(ans.confidence), cite, exact, ranked, latency, sentence, gate)


def _baseline_run(pipe: Pipeline, retriever: Retriever, question: str, k: int) -> Run:
    t0 = time.perf_counter()
    hits = retriever.search(question, k=max(RANK_DEPTH, k)).hits
    answer, cite, exact = None, None, False
    if hits:
        top = hits[0].passage
        start, end = best_sentence(question, top)
        answer = pipe.live.data.text_of(top.doc_id)[start:end]
        cite, exact = _citation(pipe, top.doc_id, start, end, answer)
    latency = (time.perf_counter() - t0) * 1000
    return Run(answer, None, cite, exact, tuple(h.passage.doc_id for h in hits), latency, answer)


def run(pipe: Pipeline, gold: Sequence[GoldItem], k: int) -> list[Record]:
    """Answer every gold question with the system (`pipe.ask`) and both baselines, after one warm-up.

    Args:
        pipe: a loaded Pipeline; build it with abstain_threshold=0 so abstentions keep their candidate.
        gold: the questions.
        k: passages the system answers from (as `qa ask -k`).
    Returns:
        One Record per gold item, in order.
    """
    settings = pipe.settings
    embedder = _Uncached(pipe.embedder)
    retrievers = {
        name: Retriever(pipe.live.data, embedder, depth=settings.fusion_depth, rrf_k=settings.rrf_k, mode=_MODES[name])
        for name in BASELINES
    }
    # Warm-up: first-call costs (lazy imports, allocator, tokenizer) stay out of the latencies.
    _system_run(pipe, WARM_UP, k)
    for r in retrievers.values():
        _baseline_run(pipe, r, WARM_UP, k)
    records = []
    for item in gold:
        runs = {SYSTEM: _system_run(pipe, item.question, k)}
        runs.update({name: _baseline_run(pipe, r, item.question, k) for name, r in retrievers.items()})
        records.append(Record(item, runs))
    return records


# ---------------------------------------------------------------------------------------------- scoring


def score(record: Record, name: str, threshold: float) -> Score:
    """Score one system's run on one question at an abstention threshold."""
    g, r = record.gold, record.runs[name]
    answer = r.answer_at(threshold)
    abstained = answer is None
    em = M.exact_match(answer, g.answers) if g.answerable else 0.0
    f1 = M.f1_score(answer, g.answers) if g.answerable else 0.0
    rank = M.first_relevant_rank(r.ranked_docs, g.sources) if g.answerable else None
    cite_ok = not abstained and r.citation is not None and r.citation_exact and r.citation["doc_id"] in g.sources
    sentence_ok = not abstained and g.answerable and M.sentence_contains_answer(r.sentence, g.answers)
    return Score(answer, abstained, em, f1, rank, cite_ok, M.is_correct(g.answerable, abstained, f1), sentence_ok)


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def metrics_for(records: Sequence[Record], name: str, threshold: float) -> dict[str, Any]:
    """The flat metric dict (METRIC_KEYS) of one system over some records; None where there is no denominator."""
    scored = [(rec.gold, score(rec, name, threshold)) for rec in records]
    ans = [s for g, s in scored if g.answerable]
    una = [s for g, s in scored if not g.answerable]
    answered = [s for s in ans if not s.abstained]
    lat = [rec.runs[name].latency_ms for rec in records]
    return {
        "n": len(records),
        "n_answerable": len(ans),
        "recall_at_1": _round(M.mean_or_none([M.recall_at(s.first_rank, 1) for s in ans])),
        "recall_at_5": _round(M.mean_or_none([M.recall_at(s.first_rank, 5) for s in ans])),
        "recall_at_10": _round(M.mean_or_none([M.recall_at(s.first_rank, 10) for s in ans])),
        "mrr": _round(M.mean_or_none([M.reciprocal_rank(s.first_rank) for s in ans])),
        "exact_match": _round(M.mean_or_none([s.em for s in ans])),
        "f1": _round(M.mean_or_none([s.f1 for s in ans])),
        "no_answer_accuracy": _round(M.mean_or_none([float(s.abstained) for s in una])),
        "false_abstain_rate": _round(M.mean_or_none([float(s.abstained) for s in ans])),
        "citation_accuracy": _round(M.mean_or_none([float(s.citation_ok) for s in answered])),
        "sentence_accuracy": _round(M.mean_or_none([float(s.sentence_ok) for s in answered])),
        "latency_ms_p50": _round(M.percentile(lat, 50), 1) if lat else None,
        "latency_ms_p95": _round(M.percentile(lat, 95), 1) if lat else None,
    }


def _by_kind(records: Sequence[Record], name: str, threshold: float) -> dict[str, dict[str, Any]]:
    kinds = sorted({r.gold.kind for r in records})
    return {kind: metrics_for([r for r in records if r.gold.kind == kind], name, threshold) for kind in kinds}


def summarize(records: Sequence[Record], threshold: float) -> dict[str, Any]:
    """The report object: system metrics, `by_kind`, and `baselines` (each with its own `by_kind`)."""
    out = metrics_for(records, SYSTEM, threshold)
    out["by_kind"] = _by_kind(records, SYSTEM, threshold)
    out["baselines"] = {
        name: {**metrics_for(records, name, threshold), "by_kind": _by_kind(records, name, threshold)}
        for name in BASELINES
    }
    return out


def evaluate(pipe: Pipeline, gold_items: Sequence[GoldItem], k: int, threshold: float) -> dict[str, Any]:
    """Run and score a gold set: `pipe` built with abstain_threshold=0, `threshold` the one `qa ask` uses."""
    return summarize(run(pipe, gold_items, k), threshold)


def confidence_buckets(records: Sequence[Record], threshold: float, width: float = 0.2) -> list[dict[str, Any]]:
    """System accuracy per confidence bucket: all questions, and the ones answered at `threshold`."""
    edges = M.bucket_edges(width)
    rows: list[dict[str, Any]] = [
        {"lo": lo, "hi": hi, "n": 0, "correct": 0, "answered": 0, "answered_ok": 0} for lo, hi in edges
    ]
    for rec in records:
        conf = rec.runs[SYSTEM].confidence or 0.0
        s = score(rec, SYSTEM, threshold)
        row = rows[M.bucket_of(conf, edges)]
        row["n"] += 1
        row["correct"] += s.correct
        if not s.abstained:
            row["answered"] += 1
            row["answered_ok"] += rec.gold.answerable and s.f1 >= 0.5
    for row in rows:
        row["share_correct"] = _round(row["correct"] / row["n"]) if row["n"] else None
        row["answered_share_ok"] = _round(row["answered_ok"] / row["answered"]) if row["answered"] else None
    return rows


def threshold_curve(records: Sequence[Record], step: float = 0.05) -> list[dict[str, Any]]:
    """Re-threshold the recorded answerability (the confidence where there is none): F1/EM on
    answerable vs no-answer accuracy, per threshold."""
    out = []
    for t in M.threshold_grid(step):
        m = metrics_for(records, SYSTEM, t)
        out.append(
            {
                "threshold": t,
                "f1": m["f1"],
                "exact_match": m["exact_match"],
                "no_answer_accuracy": m["no_answer_accuracy"],
                "false_abstain_rate": m["false_abstain_rate"],
            }
        )
    return out


def recheck_threshold(
    reference: Pipeline, records: Sequence[Record], k: int, threshold: float, n: int = 5
) -> list[str]:
    """Ask `reference` (a pipeline at the real threshold) the `n` questions whose confidence is nearest the
    threshold; return a description of each whose answer differs from the re-thresholded one."""
    near = sorted(records, key=lambda r: abs((r.runs[SYSTEM].gate or 0.0) - threshold))[:n]
    problems = []
    for rec in near:
        run0 = rec.runs[SYSTEM]
        got = reference.ask(rec.gold.question, k=k)
        want = run0.answer_at(threshold)
        if got.answer != want or got.abstained != (want is None) or abs(got.gate - (run0.gate or 0)) > 1e-3:
            problems.append(
                f"{rec.gold.id}: qa ask gives {got.answer!r} (answerability {got.gate}), "
                f"re-thresholding gives {want!r} (answerability {run0.gate})"
            )
    return problems


def result_rows(records: Sequence[Record], threshold: float) -> list[dict[str, Any]]:
    """One JSON-able row per question for results.jsonl: gold, then each system's answer and scores."""
    rows = []
    for rec in records:
        g = rec.gold
        row: dict[str, Any] = {
            "id": g.id,
            "line": g.line,
            "kind": g.kind,
            "question": g.question,
            "answerable": g.answerable,
            "gold_answers": list(g.answers),
            "gold_sources": list(g.sources),
        }
        for name in (SYSTEM, *BASELINES):
            r, s = rec.runs[name], score(rec, name, threshold)
            row[name] = {
                "answer": s.answer,
                "abstained": s.abstained,
                "candidate": r.answer,
                "confidence": r.confidence,
                "answerability": r.gate,
                "citation": r.citation,
                "citation_ok": s.citation_ok,
                "sentence": r.sentence,
                "sentence_ok": s.sentence_ok,
                "exact_match": s.em,
                "f1": round(s.f1, 4),
                "correct": s.correct,
                "first_relevant_rank": s.first_rank,
                "latency_ms": round(r.latency_ms, 1),
            }
            if name == SYSTEM:  # the full ranking only for the system, to keep the file readable
                row[name]["ranked_docs"] = list(r.ranked_docs)
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------- command


def torch_threads() -> int | None:
    """Intra-op threads of an already-imported torch: latencies depend on it when the CPU is shared."""
    torch = sys.modules.get("torch")
    return int(torch.get_num_threads()) if torch is not None else None
