"""A paper estimate of ingest at 10M and 100M passages on N-node clusters, from figures this bench measured.

Why: two cores can't show how a Ray ingest scales, but they can measure its parts: one core's
passages/s, what Ray costs against the local engine, and the driver's own seconds per passage
(building the vector index, BM25, writing). The model is arithmetic on those:

    workers    = nodes x cores per node
    throughput = workers x per-worker passages/s x (1 - Ray overhead)
    ingest     = passages / throughput  +  passages x writer seconds per passage

The second term is the single writer on the driver: write_records gathers the streamed records and
builds the index and BM25 after the last one, on one node whatever the cluster's size, so it is a
floor on the time (a ceiling on passages/s) and becomes the bottleneck once it exceeds the first.
Every input says where it came from; nothing here is measured.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .ann import DIM, HNSW_M, ID_BYTES, PQ_M, Footprint, extrapolate, nlist_for
from .common import RESULTS

NODES = (1, 4, 16, 64)
PASSAGES = (10_000_000, 100_000_000)
NOMINAL_SENTENCES = 3.1  # synthetic documents hold 3k+1 sentences per k passages, k from 4 to 16


@dataclass(frozen=True)
class Rates:
    """The measured inputs of the model, with where each came from."""

    per_worker_pps: float  # one worker (one core), before Ray's overhead
    overhead: float  # share of throughput Ray loses against the local engine, 0..1
    writer_s_per_passage: float  # driver's serial seconds per passage: vector index, BM25, write
    rate_source: str
    writer_source: str


@dataclass(frozen=True)
class Estimate:
    """One cluster at one corpus size."""

    passages: int
    nodes: int
    workers: int
    throughput_pps: float
    workers_s: float
    writer_s: float
    total_s: float
    bottleneck: str  # "workers" or "writer"


def estimate(passages: int, nodes: int, cores_per_node: int, rates: Rates) -> Estimate:
    """Ingest time of `passages` on `nodes` nodes of `cores_per_node` cores (one worker per core)."""
    workers = nodes * cores_per_node
    throughput = workers * rates.per_worker_pps * (1.0 - rates.overhead)
    workers_s = passages / throughput
    writer_s = passages * rates.writer_s_per_passage
    return Estimate(
        passages,
        nodes,
        workers,
        throughput,
        workers_s,
        writer_s,
        workers_s + writer_s,
        "writer" if writer_s >= workers_s else "workers",
    )


def writer_bound_nodes(cores_per_node: int, rates: Rates) -> int | None:
    """The fewest nodes at which the writer's serial part takes at least as long as the workers' part."""
    if rates.writer_s_per_passage <= 0:
        return None
    per_node = cores_per_node * rates.per_worker_pps * (1.0 - rates.overhead)
    return max(1, math.ceil(1.0 / (per_node * rates.writer_s_per_passage)))


def worker_rates(results: dict[str, Any], cores_here: int) -> tuple[float, float, str] | None:
    """Per-worker passages/s and Ray's overhead from a `ray` section's results, or from `ingest`'s alone.

    Per worker is the local engine's passages/s over this machine's cores; the overhead is what the
    Ray run with the most workers (at most one per core) loses against the local engine on the same
    cores, clamped to 0..0.9 (a Ray run faster than local, load noise, counts as no overhead).
    """
    ray = results.get("ray_ingest")
    if ray:
        engines = ray["engines"]
        local = engines.get("local")
        runs = [e for name, e in engines.items() if name != "local" and e.get("workers")]
        if local and runs:
            run = max((e for e in runs if e["workers"] <= cores_here), key=lambda e: e["workers"], default=runs[0])
            share = min(run["workers"], cores_here) / cores_here
            overhead = min(0.9, max(0.0, 1.0 - run["passages_per_s"] / (local["passages_per_s"] * share)))
            source = (
                f"ray section: local {local['passages_per_s']} passages/s on {cores_here} cores, Ray "
                f"{run['workers']} worker(s) {run['passages_per_s']}/s (model loads and Ray's start included)"
            )
            return local["passages_per_s"] / cores_here, overhead, source
    ingest = results.get("ingest")
    if ingest:
        source = (
            f"no Ray figures: local ingest {ingest['ingest_passages_per_s']} passages/s on {cores_here} cores "
            f"({ingest['passages']} passages), Ray overhead taken as 0"
        )
        return ingest["ingest_passages_per_s"] / cores_here, 0.0, source
    return None


def writer_rate(results: dict[str, Any]) -> tuple[float, str] | None:
    """Driver seconds per passage: the largest scale build's faiss + BM25 + write, else ingest's stages.

    Where the ann section ran, its recommended index's build seconds per vector replace the faiss
    part (the index a 10M ingest would build). Linear in N, which under-states HNSW (it grows a
    little faster than N).
    """
    builds = [s["build"] for s in results.get("scale", {}).values() if s.get("build", {}).get("passages")]
    if builds:
        b = max(builds, key=lambda x: x["passages"])
        n = b["passages"]
        faiss_s, rest_s, what = b["faiss_build_s"], b["lexical_build_s"] + b["write_s"], f"scale build of {n} passages"
        faiss_what = f"{b['index_kind']} {faiss_s} s"
    else:
        runs = [e for e in results.get("ray_ingest", {}).get("engines", {}).values() if e.get("stages_s")]
        src = results.get("ingest") or (max(runs, key=lambda e: e["passages"]) if runs else None)
        if not src:
            return None
        st, n = src["stages_s"], src["passages"]
        faiss_s, rest_s = st.get("faiss", 0.0), st.get("lexical", 0.0) + st.get("write", 0.0)
        what, faiss_what = f"ingest stages of {n} passages (small: exact index)", f"faiss {faiss_s} s"
    per = (faiss_s + rest_s) / n
    ann = results.get("ann")
    if ann and "recommendation" in ann:
        option = ann["recommendation"]["option"]
        # IVF training is a one-off on at most 100k vectors: only adding the vectors grows with N.
        spent = ann["build_s"].get(f"add_{option}", ann["build_s"][option])
        return rest_s / n + spent / ann["n"], (
            f"{what}: BM25 + write {rest_s:.1f} s, plus {option}'s add {spent} s "
            f"per {ann['n']} vectors (ann section, training left out) in place of {faiss_what}"
        )
    return per, f"{what}: {faiss_what} + BM25 + write {rest_s:.1f} s"


def nominal_sizes(n: int, sentences_per_passage: float) -> dict[str, dict[str, Any]]:
    """Index sizes at `n` from the formulas alone, for when no ann section has run."""
    fps = [
        Footprint("hnsw", DIM * 4 + HNSW_M * 2 * 4, 0, DIM * 4 + HNSW_M * 2 * 4, 0, False),
        Footprint("ivfpq", PQ_M + ID_BYTES, nlist_for(n) * DIM * 4, PQ_M + ID_BYTES, nlist_for(n) * DIM * 4, False),
        Footprint(
            "ivfflat", DIM * 4 + ID_BYTES, nlist_for(n) * DIM * 4, DIM * 4 + ID_BYTES, nlist_for(n) * DIM * 4, False
        ),
    ]
    return {f.option: asdict(extrapolate(f, n, 0, sentences_per_passage)) for f in fps}


def latest_saved(key: str, exclude: Path | None = None, folder: Path = RESULTS) -> tuple[dict[str, Any], Path] | None:
    """The newest saved results file in `folder` that has `key`."""
    for path in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        if exclude is not None and path.resolve() == exclude.resolve():
            continue
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if saved.get(key):
            return saved, path
    return None


def section_estimate(
    results: dict[str, Any],
    cores_per_node: int | None = None,
    exclude: Path | None = None,
    nodes: Sequence[int] = NODES,
    sizes: Sequence[int] = PASSAGES,
    folder: Path = RESULTS,
) -> dict[str, Any]:
    """The estimate from this run's results, filling what it lacks from the newest saved results."""
    cores_here = int(results.get("machine", {}).get("cpus") or 2)
    cores = cores_per_node or cores_here
    inputs = dict(results)
    notes = []
    for key in ("ray_ingest", "ann", "scale"):
        if not inputs.get(key):
            found = latest_saved(key, exclude, folder)
            if found:
                inputs[key] = found[0][key]
                notes.append(f"{key} from {found[1].name}")
    if not inputs.get("ray_ingest") and not inputs.get("ingest"):
        found = latest_saved("ingest", exclude, folder)
        if found:
            inputs["ingest"] = found[0]["ingest"]
            notes.append(f"ingest from {found[1].name}")
    wr = worker_rates(inputs, cores_here)
    ww = writer_rate(inputs)
    if wr is None or ww is None:
        return {"error": "no ray, ingest or scale figures in this run or in eval/bench_results/", "notes": notes}
    rates = Rates(wr[0], wr[1], ww[0], wr[2], ww[1])
    rows = [asdict(estimate(n, k, cores, rates)) for n in sizes for k in nodes]
    ann = inputs.get("ann")
    if ann:
        index = {"source": f"ann section at {ann['n']} vectors", **ann["at"].get(str(sizes[0]), {})}
        choice = ann["recommendation"]["line"]
    else:
        index = {"source": "formulas only (no ann section)", **nominal_sizes(sizes[0], NOMINAL_SENTENCES)}
        choice = None
    return {
        "cores_per_node": cores,
        "rates": asdict(rates),
        "writer_bound_from_nodes": writer_bound_nodes(cores, rates),
        "rows": rows,
        "index_at": sizes[0],
        "index": index,
        "ann_recommendation": choice,
        "notes": notes,
    }
