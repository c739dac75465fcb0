"""`python -m eval.bench`: read the flags, run the chosen sections in order, print and save the report."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa import store
from qa.config import Settings
from qa.embed import MiniLMEmbedder
from qa.indexer import update_index

from . import __doc__ as package_doc
from .ann import section_ann
from .cold import cold_start
from .common import CORPUS, GOLD, RESULTS, SIZES, WARM_GOLD, load_gold, log, machine, parse_count
from .estimate import section_estimate
from .ingest import section_ingest, section_reingest_10k
from .latency import section_latency
from .peers import peer_haystack, peer_rank_bm25
from .ray_ingest import section_ray
from .report import check_targets, render
from .scale import Vectors, build_scale, section_scale, stress_recall
from .server import section_server
from .synthetic import Pool, bundled_docs, embed_cached


def main(argv: Sequence[str] | None = None) -> int:  # noqa: C901 - one flat block per section
    ap = argparse.ArgumentParser(
        prog="python -m eval.bench",
        description=package_doc.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--quick", action="store_true", help="sizes 10k and 100k, fewer repeats (a few minutes)")
    ap.add_argument(
        "--sizes", help="comma-separated scale sizes among 10k,100k,1m (default: 10k,100k,1m; quick: 10k,100k)"
    )
    ap.add_argument(
        "--sections",
        default="cold,latency,ingest,server,scale,peers",
        help="which sections to run (default: all but ray, ann and estimate; ray: ingest with the local engine and "
        "Ray at 1 and 2 workers, needs docqa[ray]; ann: HNSW vs IVF-PQ vs IVF-Flat at --ann-size, extrapolated "
        "to 10M; estimate: ingest time and index size at 10M / 100M on N-node clusters, from the measured figures)",
    )
    ap.add_argument("--work", type=Path, default=Path("/tmp/docqa-bench"), help="folder for corpora and indexes")
    ap.add_argument("--reuse", action="store_true", help="reuse scale indexes built earlier with the same parameters")
    ap.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    ap.add_argument("--ray-copies", type=int, default=20, help="ray section: copies of corpus/ to ingest (default 20)")
    ap.add_argument(
        "--ann-size", help="ann section: vectors to build each index on, e.g. 100k (default 1m; quick 100k)"
    )
    ap.add_argument(
        "--ann-no-hnsw",
        action="store_true",
        help="ann section: skip HNSW, the slowest build (the scale section measures it at 1M)",
    )
    ap.add_argument(
        "--cores-per-node", type=int, help="estimate section: cores of each cluster node (default: this machine's)"
    )
    args = ap.parse_args(argv)
    quick = args.quick
    sizes = [
        s.strip().lower() for s in (args.sizes or ("10k,100k" if quick else "10k,100k,1m")).split(",") if s.strip()
    ]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        ap.error(f"unknown size(s) {unknown}; choose among {', '.join(SIZES)}")
    sections = {s.strip() for s in args.sections.split(",")}
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    t_start = time.time()
    results: dict[str, Any] = {"mode": "quick" if quick else "full", "sizes": sizes, "machine": machine()}
    gold_items = load_gold(GOLD)
    gold = [g["question"] for g in gold_items]
    warm = [g["question"] for g in load_gold(WARM_GOLD)]

    embedder = MiniLMEmbedder()
    # The bundled corpus, ingested fresh (so the index is in the current format).
    bundled = work / "bundled-index"
    shutil.rmtree(bundled, ignore_errors=True)
    log("ingesting the bundled corpus")
    t = time.perf_counter()
    rep = update_index(Settings(index_dir=bundled), embedder, roots=[CORPUS])
    results["bundled"] = {
        "documents": rep.total_documents,
        "passages": rep.total_passages,
        "ingest_s_incl_model_load": round(time.perf_counter() - t, 1),
    }

    if "cold" in sections:
        log("cold start, bundled")
        results["cold_bundled"] = cold_start(bundled, gold[0], 3)
    if "latency" in sections:
        log("warm latency, bundled")
        results["latency"] = section_latency(bundled, gold, passes=3 if quick else 5)
    pool = Pool.from_corpus(CORPUS)
    head = bundled_docs(store.load(bundled, embedder.name, embedder.dim))
    if "ingest" in sections:
        n = 600 if quick else 5000
        log(f"ingestion of {n} passages, and raw encode of the same")
        results["ingest"] = section_ingest(embedder, pool, head, n, work)
    if "server" in sections:
        log("server under load")
        results["server"] = section_server(bundled, gold, warm, (1, 4, 16), rounds=1 if quick else 2)
    if "ray" in sections:
        log(f"ingest by engine: local, Ray at 1 and 2 workers (corpus/ x{args.ray_copies})")
        results["ray_ingest"] = section_ray(args.ray_copies, work / "ray")

    if "ann" in sections:
        results["ann"] = _ann(
            parse_count(args.ann_size or ("100k" if quick else "1m")),
            quick,
            embedder,
            pool,
            head,
            work,
            hnsw=not args.ann_no_hnsw,
        )

    need_scale = "scale" in sections or "peers" in sections or "ingest" in sections
    if need_scale:
        sentence_vecs, _ = embed_cached(embedder, pool.sentences, work / "cache")
        vec = Vectors(embedder, sentence_vecs, 1000 if quick else 5000, work / "cache")
        qvecs = np.stack([embedder.encode([q], batch_size=1)[0] for q in gold])
        scale_qs = gold[::3] if quick else gold
        results["scale"] = {}
        dirs: dict[str, Path] = {}
        for name in sizes:
            size = SIZES[name]
            index_dir, build, folder, real = build_scale(size, pool, head, vec, work, args.reuse, files=(name == "10k"))
            dirs[name] = index_dir
            if name == "100k" and "scale" in sections:
                if real is None:
                    real = np.concatenate([head[5], np.load(build["real_cache"])]).astype(np.float32)
                log("stress recall: HNSW over isotropic copies of real vectors, 100k")
                results["stress_recall_100k"] = stress_recall(real, size, qvecs)
            if name == "10k" and folder is not None and "ingest" in sections:
                log("re-ingest of the unchanged 10k folder")
                results["reingest_10k"] = section_reingest_10k(folder, index_dir, embedder)
            if "scale" in sections:
                log(f"scale {name}: latency, recall, cold start, serving memory")
                results["scale"][name] = section_scale(
                    size,
                    index_dir,
                    build,
                    scale_qs,
                    qvecs,
                    passes=2 if size >= 1_000_000 or quick else 3,
                    embedder=embedder,
                    probe_questions=10 if quick else 40,
                )
                s = results["scale"][name]
                log(
                    f"scale {name}: p50 {s['steady_ms']['total']['p50']} ms, recall@10 "
                    f"{s['vectors'].get('recall_at_10')}, cold {s['cold_start']['median_s']} s"
                )
        if "peers" in sections:
            results["peers"] = {}
            peer_dir = dirs.get("100k" if not quick and "100k" in dirs else "10k")
            if peer_dir is not None:
                log("peer: rank_bm25")
                results["peers"]["rank_bm25"] = peer_rank_bm25(peer_dir, embedder, gold)
            log("peer: Haystack")
            results["peers"]["haystack"] = peer_haystack(
                bundled, gold_items, embedder, dirs.get("10k"), scale_questions=30 if quick else 119
            )

    if "estimate" in sections:
        log("estimate: ingest time and index size at 10M / 100M passages on 1-64 nodes")
        results["estimate"] = section_estimate(results, args.cores_per_node, exclude=args.out)

    results["targets"] = check_targets(results)
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results["took_min"] = round((time.time() - t_start) / 60, 1)
    text = render(results)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
    log(f"wrote {args.out} and {args.out.with_suffix('.md')}")
    return 0


def _ann(
    n: int,
    quick: bool,
    embedder: MiniLMEmbedder,
    pool: Pool,
    head: tuple[Any, ...],
    work: Path,
    hnsw: bool = True,
) -> dict[str, Any]:
    """The ann section on the gold and held-out questions' embeddings (149 real questions)."""
    sentence_vecs, _ = embed_cached(embedder, pool.sentences, work / "cache")
    questions = [g["question"] for g in load_gold(GOLD)] + [g["question"] for g in load_gold(WARM_GOLD)]
    qvecs = np.stack([embedder.encode([q], batch_size=1)[0] for q in questions])
    log(f"ann: HNSW, IVF-PQ (with and without re-ranking) and IVF-Flat on {n} vectors")
    out = section_ann(n, pool, head, embedder, sentence_vecs, 1000 if quick else 5000, qvecs, work, hnsw=hnsw)
    log(out["recommendation"]["line"])
    return out


if __name__ == "__main__":
    sys.exit(main())
