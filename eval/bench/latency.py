"""Warm question latency in process on the bundled index, split by pipeline stage.

Every question is asked as if for the first time (the query-vector cache is emptied before each), and
the default query encoder and torch's are timed question by question in turn, so that their ratio holds
on a busy machine. The scale section times its questions with ask_all too.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.config import Settings
from qa.embed import MiniLMEmbedder
from qa.pipeline import Pipeline

from .common import STAGES, pct


def ask_all(pipe: Pipeline, questions: Sequence[str]) -> tuple[dict[str, list[float]], list[str | None]]:
    """Ask each question as if for the first time: the query-vector cache is emptied before each.

    (Within one question the cache still saves re-embedding it, as in production: retrieval and
    the answerer both need the question's vector.)
    """
    timings: dict[str, list[float]] = {s: [] for s in STAGES}
    answers: list[str | None] = []
    clear = getattr(pipe.embedder, "clear_cache", lambda: None)
    for q in questions:
        clear()
        ans = pipe.ask(q)
        answers.append(ans.answer)
        for s in STAGES:
            timings[s].append(ans.timings_ms.get(s, 0.0))
    return timings, answers


def section_latency(index_dir: Path, questions: list[str], passes: int) -> dict[str, Any]:
    """Warm latency in process; every question is embedded (see ask_all).

    The default query encoder (ONNX Runtime when installed) and torch's are timed question by
    question in turn, on the same index, so that their ratio is fair on a busy machine, and the
    answers of the two are compared.
    """
    emb = MiniLMEmbedder()
    pipes = {emb.query_backend: Pipeline(Settings(index_dir=index_dir), embedder=emb).load()}
    if emb.query_backend != "torch":
        pipes["torch"] = Pipeline(Settings(index_dir=index_dir), embedder=MiniLMEmbedder(query_backend="torch")).load()
    for pipe in pipes.values():
        pipe.ask("warm-up: who spoke?")
    first: dict[str, dict[str, list[float]]] = {b: {s: [] for s in STAGES} for b in pipes}
    steady: dict[str, dict[str, list[float]]] = {b: {s: [] for s in STAGES} for b in pipes}
    answers: dict[str, list[str | None]] = {b: [] for b in pipes}
    for n in range(passes):
        for q in questions:
            for b, pipe in pipes.items():
                t, a = ask_all(pipe, [q])
                for s in STAGES:
                    (first if n == 0 else steady)[b][s].extend(t[s])
                if n == 0:
                    answers[b].extend(a)
    main = emb.query_backend
    out: dict[str, Any] = {"questions": len(questions), "passes": passes, "query_backend": main}
    for b in pipes:
        share = statistics.median(steady[b]["retrieve_embed"]) / max(1e-9, statistics.median(steady[b]["total"]))
        out[b] = {
            "first_pass_ms": {s: pct(first[b][s]) for s in STAGES},
            "steady_ms": {s: pct(steady[b][s]) for s in STAGES},
            "embed_share_of_p50": round(share, 3),
        }
    out["steady_ms"], out["first_pass_ms"] = out[main]["steady_ms"], out[main]["first_pass_ms"]
    out["embed_share_of_p50"] = out[main]["embed_share_of_p50"]
    if "torch" in pipes and main != "torch":
        out["answers_differing_from_torch"] = sum(1 for a, b in zip(answers[main], answers["torch"]) if a != b)
        out["torch_over_onnx_embed_p50"] = round(
            out["torch"]["steady_ms"]["retrieve_embed"]["p50"]
            / max(1e-6, out[main]["steady_ms"]["retrieve_embed"]["p50"]),
            2,
        )
        out["torch_over_onnx_total_p50"] = round(
            out["torch"]["steady_ms"]["total"]["p50"] / max(1e-6, out[main]["steady_ms"]["total"]["p50"]), 2
        )
    return out
