"""eval/bench: the report and the Ray comparison, pure functions of results (nothing measured here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.bench.ray_ingest import compare
from eval.bench.report import check_targets, render

RESULTS = Path(__file__).resolve().parent.parent / "eval" / "bench_results"


@pytest.mark.parametrize("path", sorted(RESULTS.glob("*.json")), ids=lambda p: p.stem)
def test_saved_results_render(path: Path) -> None:
    results = json.loads(path.read_text(encoding="utf-8"))
    text = render(results)
    assert text.startswith("docqa benchmark, ")
    assert "| Target | Goal | Measured | Met |" in text
    assert [t["target"] for t in check_targets(results)] == [t["target"] for t in results["targets"]]


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
    machine = {"started": "t", "cpus": 2, "load_average_start": [1.0], "commit": "c"}
    text = render({"mode": "quick", "machine": machine, "ray_ingest": {"copies": 20, "engines": out}, "targets": []})
    row = "| … Ray, 2 worker(s) | 17.6 passages/s (68.3 s), 8.8 per worker | -14.9 s, **0.82×** local wall time |"
    assert row in text
