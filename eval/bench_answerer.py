"""Warm per-question latency of each answerer variant on the bundled corpus.

    .venv/bin/python eval/bench_answerer.py [--passes 3] [--index DIR]

Each variant answers every question of eval/gold.jsonl once to warm its caches, then `--passes`
more times; the figures are medians and 95th percentiles over those timed passes, in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.config import Settings  # noqa: E402
from qa.embed import MiniLMEmbedder  # noqa: E402
from qa.pipeline import Pipeline  # noqa: E402

# (answerer, scorer, second stage on): the second stage applies to the learned scorer of a model that has one.
VARIANTS = (
    ("learned", "learned", True),
    ("learned", "learned", False),
    ("learned", "features", False),
    ("learned", "reader", False),
    ("rules", "learned", False),
)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--passes", type=int, default=3)
    p.add_argument("--index", type=Path, default=None)
    p.add_argument("--gold", type=Path, default=ROOT / "eval" / "gold.jsonl")
    p.add_argument("--model", type=Path, default=None, help="model folder (default: the shipped one)")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    questions = [json.loads(line)["question"] for line in args.gold.read_text().splitlines() if line.strip()]
    embedder = MiniLMEmbedder()
    index = args.index or Path(tempfile.mkdtemp(prefix="bench-answerer-")) / "index"
    base = Settings(index_dir=index, model_path=args.model)
    Pipeline(base, embedder=embedder).ingest(roots=[ROOT / "corpus"], reload=False)
    print(f"{len(questions)} questions, {args.passes} timed passes each, load {os.getloadavg()[0]:.2f}")
    print("| answerer | scorer | second stage | total p50 ms | total p95 ms | answer p50 ms | answer p95 ms |")
    print("|---|---|---|---|---|---|---|")
    for answerer, scorer, stage2 in VARIANTS:
        pipe = Pipeline(replace(base, answerer=answerer, scorer=scorer), embedder=embedder).load()
        has_stage2 = getattr(pipe.live.answerer, "reranker", None) is not None
        if stage2 and not has_stage2:
            continue  # this model has no second stage: the next row is the same answerer
        if has_stage2 and not stage2:
            pipe.live.answerer.reranker = None  # type: ignore[union-attr]  # the first stage alone
        pipe.warm_up(background=False)
        for q in questions:
            pipe.ask(q)
        total, ans = [], []
        for _ in range(args.passes):
            for q in questions:
                t0 = time.perf_counter()
                a = pipe.ask(q)
                total.append((time.perf_counter() - t0) * 1000)
                ans.append(a.timings_ms["answer"])
        t50, t95 = np.percentile(total, [50, 95])
        a50, a95 = np.percentile(ans, [50, 95])
        name = scorer if answerer == "learned" else "-"
        on = "on" if has_stage2 and stage2 else "off"
        print(f"| {answerer} | {name} | {on} | {t50:.1f} | {t95:.1f} | {a50:.1f} | {a95:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
