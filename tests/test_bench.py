"""eval/bench: the report and the Ray comparison, pure functions of results (nothing measured here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.bench.ray_ingest import compare
from eval.bench.report import check_targets, render
from eval.bench.server import cpu_ceiling

RESULTS = Path(__file__).resolve().parent.parent / "eval" / "bench_results"


def _machine() -> dict[str, object]:
    return {"started": "t", "cpus": 2, "load_average_start": [1.0], "commit": "c"}


@pytest.mark.parametrize("path", sorted(RESULTS.glob("*.json")), ids=lambda p: p.stem)
def test_saved_results_render(path: Path) -> None:
    results = json.loads(path.read_text(encoding="utf-8"))
    text = render(results)
    assert text.startswith("docqa benchmark, ")
    assert "| Target | Goal | Measured | Met |" in text
    saved = [t["target"] for t in results["targets"]]
    # A target added since the run was saved is checked too, on the figures the run has for it.
    current = check_targets(results)
    assert [t["target"] for t in current if t["target"] in saved] == saved
    assert all(t["met"] is None or isinstance(t["met"], bool) for t in current)


def test_cpu_ceiling_arithmetic() -> None:
    # 2 cores for 10 s = 20000 CPU-ms, the load generator used 4000: 1600 CPU-ms/s left for a server
    # at 16 CPU-ms/request, a ceiling of 100 req/s, which 85 req/s reaches to 0.85.
    ceiling, ratio = cpu_ceiling(2, 10.0, 4000.0, 16.0, 85.0)
    assert ceiling == pytest.approx(100.0)
    assert ratio == pytest.approx(0.85)
    # No load generator CPU: the whole machine, 2000 CPU-ms/s / 20 = 100 req/s.
    assert cpu_ceiling(2, 3.0, 0.0, 20.0, 50.0) == pytest.approx((100.0, 0.5))
    # The load generator used all the CPU or more (a noisy reading): nothing left, no ratio.
    assert cpu_ceiling(2, 1.0, 2000.0, 16.0, 85.0) == (0.0, None)
    assert cpu_ceiling(2, 1.0, 2500.0, 16.0, 85.0) == (0.0, None)
    # No wall time or no server cost measured: no ceiling at all.
    assert cpu_ceiling(2, 0.0, 0.0, 16.0, 85.0) == (None, None)
    assert cpu_ceiling(2, 1.0, 100.0, 0.0, 85.0) == (None, None)


def test_ceiling_ratio_target_at_4_clients() -> None:
    def level(clients: int, ratio: float | None) -> dict[str, object]:
        return {
            "clients": clients,
            "requests": 30,
            "req_per_s": 40.0,
            "latency_ms": {"p50": 20, "p95": 30},
            "errors": 0,
            "server_cpu_ms_per_request": 40.0,
            "answers_differing_from_first_level": 0,
            "loadgen_cpu_ms": 150.0,
            "ceiling_req_per_s": 45.0,
            "ceiling_ratio": ratio,
        }

    results = {"server": {"levels": [level(1, 0.5), level(4, 0.89), level(16, 0.7)], "memory_mb": {}}}
    by_name = {t["target"]: t for t in check_targets(results)}
    t = by_name["server req/s at 4 clients / CPU-bound ceiling"]
    assert (t["goal"], t["value"], t["met"]) == (">= 0.85", 0.89, True)
    results["server"]["levels"][1]["ceiling_ratio"] = None
    assert {t["target"]: t for t in check_targets(results)}["server req/s at 4 clients / CPU-bound ceiling"][
        "value"
    ] is None
    machine = {"started": "t", "cpus": 2, "load_average_start": [1.0], "commit": "c"}
    text = render({"mode": "quick", "machine": machine, **results, "targets": check_targets(results)})
    assert "ceiling 45.0 req/s (load generator 150.0 CPU-ms), ratio **0.5**" in text


def test_ray_comparison_adds_per_worker_and_overhead() -> None:
    runs = {
        "local": {"passages": 1200, "passages_per_s": 14.4, "wall_s": 83.2},
        "1": {"passages": 1200, "passages_per_s": 13.7, "wall_s": 87.7},
        "2": {"passages": 1200, "passages_per_s": 17.6, "wall_s": 68.3},
    }
    out = compare(runs)
    assert "workers" not in out["local"]
    extra = {"workers": 1, "passages_per_s_per_worker": 13.7, "overhead_vs_local_s": 4.5, "wall_over_local": 1.05}
    assert out["1"] == {**runs["1"], **extra}
    assert out["2"]["passages_per_s_per_worker"] == 8.8
    assert out["2"]["overhead_vs_local_s"] == -14.9
    assert runs["2"] == {"passages": 1200, "passages_per_s": 17.6, "wall_s": 68.3}  # the input is left as it was
    text = render({"mode": "quick", "machine": _machine(), "ray_ingest": {"copies": 20, "engines": out}, "targets": []})
    row = "| … Ray, 2 worker(s) | 17.6 passages/s (68.3 s), 8.8 per worker | -14.9 s, **0.82×** local wall time |"
    assert row in text


def test_ingest_target_counts_sentence_embedding() -> None:
    """Ingest embeds passages and sentences: the target divides by both, and says so in the table."""
    ingest = {
        "passages": 600,
        "documents": 60,
        "ingest_s": 30.0,
        "ingest_passages_per_s": 20.0,
        "raw_encode_s": 15.0,
        "raw_encode_passages_per_s": 40.0,
        "ratio_ingest_to_raw": 2.0,
        "stages_s": {"embed": 14.0},
        "ner_alone_s": 5.0,
        "sentences": 1800,
        "raw_encode_sentences_s": 10.0,
        "ratio_ingest_to_embedding": 1.2,
    }
    results = {"mode": "quick", "machine": _machine(), "ingest": ingest}
    got = {t["target"]: t for t in check_targets(results)}
    assert got["ingestion time / raw encode of passages and sentences"]["value"] == 1.2
    assert got["ingestion time / raw encode of passages and sentences"]["met"] is True
    assert got["ingestion time / raw encode"]["met"] is False  # the passages-only ratio, kept as earlier runs gave it
    text = render({**results, "targets": check_targets(results)})
    assert "1800 sentences in 10.0 s; ratio **1.2×**" in text
    # A run saved before sentences were counted has no such figure: "not run", not a wrong number.
    new_keys = ("sentences", "raw_encode_sentences_s", "ratio_ingest_to_embedding")
    old = {k: v for k, v in ingest.items() if k not in new_keys}
    got = {t["target"]: t for t in check_targets({**results, "ingest": old})}
    assert got["ingestion time / raw encode of passages and sentences"]["value"] is None
    assert "ratio **2.0×** (target ≤ 1.3×)" in render({**results, "ingest": old, "targets": []})


def test_new_over_repeated_question_ratio() -> None:
    def scale(first: float, steady: float) -> dict[str, object]:
        return {"first_pass_ms": {"total": {"p50": first}}, "steady_ms": {"total": {"p50": steady}}}

    results = {"mode": "full", "machine": _machine(), "scale": {"100k": scale(76.0, 66.0), "1m": scale(281.1, 21.5)}}
    got = {t["target"]: t for t in check_targets(results)}
    assert got["100k new / repeated question p50"]["value"] == pytest.approx(1.152)
    assert got["100k new / repeated question p50"]["met"] is True
    assert got["1M new / repeated question p50"]["met"] is False  # 13x: sentences embedded per question
    del results["scale"]["1m"]
    assert {t["target"]: t for t in check_targets(results)}["1M new / repeated question p50"]["value"] is None


def test_warm_page_cache_reads_every_file_of_the_generation(tmp_path: Path) -> None:
    from eval.bench.scale import warm_page_cache

    (tmp_path / "sub").mkdir()
    (tmp_path / "a.npy").write_bytes(b"x" * 5000)
    (tmp_path / "sub" / "b.bin").write_bytes(b"y" * 123)
    got = warm_page_cache(tmp_path, chunk=1024)  # several blocks for a.npy, a short last one
    assert got["bytes"] == 5123
    assert got["seconds"] >= 0


def test_cpu_summary_names_the_model_and_the_vector_extensions() -> None:
    from eval.bench.common import cpu_summary

    amd = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx avx2 fma\n"
    assert cpu_summary(amd) == "AMD EPYC (avx2)"
    intel = "model name\t: Intel(R) Xeon(R)\nflags\t: avx2 avx512f avx512_vnni amx_tile amx_bf16\n"
    assert cpu_summary(intel) == "Intel(R) Xeon(R) (avx2, avx512f, avx512_vnni, amx_tile)"
    assert "none of avx2" in cpu_summary("model name\t: Old CPU\nflags\t: sse2\n")
    assert cpu_summary().strip()  # this machine's, whatever it is
