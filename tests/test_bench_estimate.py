"""eval/bench ann and estimate: the extrapolation, the recommendation rule and the cluster arithmetic.

Pure functions on fabricated measurements; nothing is built or measured here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eval.bench.ann import AtSize, Footprint, Point, extrapolate, footprints, nlist_for, recommend, sentence_ids
from eval.bench.common import parse_count
from eval.bench.estimate import Rates, estimate, section_estimate, worker_rates, writer_bound_nodes, writer_rate
from eval.bench.report import render

RATES = Rates(per_worker_pps=10.0, overhead=0.2, writer_s_per_passage=1e-3, rate_source="t", writer_source="t")


def at(option: str, gb: float) -> AtSize:
    return AtSize(option, 10_000_000, gb * 1e9, 0.02e9, gb * 1e9, 15.36e9, 47e9)


def test_doubling_nodes_halves_the_workers_time_until_the_writer_dominates() -> None:
    runs = [estimate(10_000_000, n, 2, RATES) for n in (1, 2, 4, 8, 16, 32, 64, 128)]
    for a, b in zip(runs, runs[1:]):
        assert b.workers_s == pytest.approx(a.workers_s / 2)
        assert b.writer_s == a.writer_s  # one writer, whatever the cluster
        assert b.total_s < a.total_s
    one = runs[0]
    assert one.workers == 2 and one.throughput_pps == pytest.approx(2 * 10 * 0.8)
    assert one.total_s == pytest.approx(10_000_000 / 16 + 10_000)
    # Writer seconds/passage 1e-3 against 16 passages/s per node: the writer takes over at 63 nodes.
    assert writer_bound_nodes(2, RATES) == 63
    assert [r.bottleneck for r in runs] == ["workers"] * 6 + ["writer"] * 2
    assert all(r.total_s >= r.writer_s for r in runs)
    assert estimate(100_000_000, 4, 2, RATES).total_s == pytest.approx(10 * runs[2].total_s)


def test_no_writer_cost_means_no_writer_bound() -> None:
    assert writer_bound_nodes(2, Rates(10.0, 0.0, 0.0, "t", "t")) is None


def test_recommendation_picks_the_smaller_index_when_both_meet_recall() -> None:
    points = [
        Point("hnsw", "efSearch 96", 0.97, 0.5, 0.9),
        Point("ivfpq_rerank", "nprobe 8", 0.93, 0.4, 0.8),
        Point("ivfpq_rerank", "nprobe 32", 0.96, 1.2, 2.0),
        Point("ivfpq_rerank", "nprobe 64", 0.98, 2.1, 3.0),
        Point("ivfflat", "nprobe 16", 0.99, 3.0, 4.0),
    ]
    sizes = {"hnsw": at("hnsw", 17.9), "ivfpq_rerank": at("ivfpq_rerank", 0.58), "ivfflat": at("ivfflat", 15.5)}
    choice = recommend(points, sizes)
    assert (choice.option, choice.setting, choice.met_target) == ("ivfpq_rerank", "nprobe 32", True)
    assert "OnDiskInvertedLists" in choice.line and "HNSW's 17.90 GB" in choice.line
    # Raise the bar past what IVF-PQ reaches: the bigger IVF-Flat is the smallest left.
    assert recommend(points, sizes, target=0.985).option == "ivfflat"
    # Nothing reaches it: the highest recall is named, and the line says so.
    missed = recommend(points, sizes, target=0.999)
    assert (missed.option, missed.met_target) == ("ivfflat", False)
    assert "No option reached" in missed.line


def test_footprints_scale_per_vector_bytes_and_resize_the_centroids() -> None:
    n, nlist = 100_000, nlist_for(100_000)
    codebooks = 48 * 256 * 8 * 4
    sizes = {"hnsw": n * 1800, "ivfpq": n * 56 + nlist * 384 * 4 + codebooks}
    fps = {f.option: f for f in footprints(n, nlist, sizes)}
    assert fps["hnsw"].memory_per_vector == 1800 and fps["hnsw"].memory_fixed == 0
    assert fps["ivfpq"].memory_per_vector == pytest.approx(56)
    big = extrapolate(fps["ivfpq"], 10_000_000, n, 3.1)
    assert big.memory_bytes == pytest.approx(56e7 + nlist_for(10_000_000) * 384 * 4 + codebooks)
    assert big.memory_bytes_lists_on_disk == pytest.approx(nlist_for(10_000_000) * 384 * 4 + codebooks)
    assert big.vectors_npy_bytes == pytest.approx(15.36e9)
    assert big.sentence_vectors_bytes == pytest.approx(3.1 * 15.36e9)
    flat = extrapolate(Footprint("hnsw", 1792, 0, 1792, 0, False), 10_000_000, n, 3.0)
    assert flat.memory_bytes == flat.memory_bytes_lists_on_disk == pytest.approx(17.92e9)


def test_sentence_ids_draw_as_synthesize_does() -> None:
    from eval.bench.synthetic import Pool, synthesize

    pool = Pool(
        [f"Sentence number {i} here." for i in range(30)], [[f"t{i}"] for i in range(30)], [[] for _ in range(30)]
    )
    from qa import store
    from qa.annotate import ENT_DTYPE

    head = ([], [], np.zeros(0, dtype=store.PASSAGE_DTYPE), np.zeros(0, dtype=ENT_DTYPE), [], None)
    syn = synthesize(pool, 500, 7, head, "synthetic:")
    sids, sentences = sentence_ids(30, 500, 0, 7)
    assert np.array_equal(sids, syn.sentences)
    assert sentences == sum(3 * d.count + 1 for d in syn.docs)


def test_worker_rates_prefer_ray_and_fall_back_to_ingest() -> None:
    ray = {
        "engines": {
            "local": {"passages_per_s": 14.4},
            "1": {"workers": 1, "passages_per_s": 13.7},
            "2": {"workers": 2, "passages_per_s": 11.0},
        }
    }
    per, overhead, source = worker_rates({"ray_ingest": ray}, 2)
    assert per == pytest.approx(7.2) and overhead == pytest.approx(1 - 11.0 / 14.4)
    assert "ray section" in source
    per, overhead, source = worker_rates({"ingest": {"ingest_passages_per_s": 37.9, "passages": 566}}, 2)
    assert (per, overhead) == (pytest.approx(18.95), 0.0) and source.startswith("no Ray figures")
    assert worker_rates({}, 2) is None


def test_writer_rate_uses_the_largest_scale_build_and_the_ann_choice() -> None:
    scale = {
        "100k": {"build": {"passages": 100_000, "faiss_build_s": 14.1, "lexical_build_s": 3.8, "write_s": 1.0,
                           "index_kind": "IndexHNSWFlat"}},
        "1m": {"build": {"passages": 1_000_000, "faiss_build_s": 716.4, "lexical_build_s": 71.9, "write_s": 14.2,
                         "index_kind": "IndexHNSWFlat"}},
    }  # fmt: skip
    per, source = writer_rate({"scale": scale})
    assert per == pytest.approx(802.5 / 1e6) and "1000000 passages" in source
    ann = {"n": 100_000, "build_s": {"ivfpq_rerank": 20.0}, "recommendation": {"option": "ivfpq_rerank"}}
    per, source = writer_rate({"scale": scale, "ann": ann})
    assert per == pytest.approx(86.1 / 1e6 + 20.0 / 1e5) and "ivfpq_rerank" in source
    # Where the add is timed apart, IVF training (a one-off on at most 100k vectors) is left out.
    ann["build_s"]["add_ivfpq_rerank"] = 2.0
    assert writer_rate({"scale": scale, "ann": ann})[0] == pytest.approx(86.1 / 1e6 + 2.0 / 1e5)


def test_estimate_section_falls_back_to_ingest_and_renders(tmp_path: Path) -> None:
    results = {
        "mode": "quick",
        "machine": {"started": "t", "cpus": 2, "load_average_start": [1.0], "commit": "c"},
        "ingest": {"ingest_passages_per_s": 37.9, "passages": 566, "stages_s": {"faiss": 0.0, "write": 0.01}},
        "targets": [],
    }
    est = section_estimate(results, exclude=None, folder=tmp_path)  # no saved results to fill from
    assert est["rates"]["overhead"] == 0.0 and len(est["rows"]) == 8
    assert est["rates"]["rate_source"].startswith("no Ray figures") and est["index"]["source"].startswith("formulas")
    text = render({k: v for k, v in results.items() if k != "ingest"} | {"estimate": est})
    assert "Estimate, 10M passages, 64 node(s)" in text


@pytest.mark.parametrize(("text", "n"), [("20k", 20_000), ("1m", 1_000_000), ("50000", 50_000), ("2.5M", 2_500_000)])
def test_parse_count(text: str, n: int) -> None:
    assert parse_count(text) == n
