"""Shared by every section: paths, stage names, percentiles, logging and the run's machine record.

Every latency in the report is summarised by `pct` (p50 / p95 / p99 and the mean), so that all figures
are comparable; `machine` records what the run was measured on (CPUs, versions, load, commit).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import ROOT

CORPUS = ROOT / "corpus"
GOLD = ROOT / "eval" / "gold.jsonl"
WARM_GOLD = ROOT / "eval" / "generalization" / "gold.jsonl"
RESULTS = ROOT / "eval" / "bench_results"
STAGES = ("retrieve_embed", "retrieve_dense", "retrieve_lexical", "retrieve_fusion", "retrieve", "answer", "total")
PARTS = ("retrieve_embed", "retrieve_dense", "retrieve_lexical", "retrieve_fusion", "answer")
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}


def parse_count(text: str) -> int:
    """A count written as 20k, 1m or 50000."""
    t = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(t[-1:], 1)
    return int(float(t[:-1] if scale > 1 else t) * scale)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(values: Sequence[float]) -> dict[str, float]:
    """p50 / p95 / p99 and the mean of `values`, rounded for the report."""
    if not values:
        return {"n": 0}
    a = np.asarray(values, dtype=np.float64)
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return {
        "n": int(a.size),
        "p50": round(float(p50), 2),
        "p95": round(float(p95), 2),
        "p99": round(float(p99), 2),
        "mean": round(float(a.mean()), 2),
    }


def load_gold(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_child(args: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run a child process from the repository root with the bench's environment; its output captured."""
    return subprocess.run(
        list(args), capture_output=True, text=True, env=child_env(), cwd=ROOT, timeout=timeout, check=False
    )


def qa_command() -> list[str]:
    """The `qa` command next to this interpreter, or `python -m qa.cli` where it is not installed."""
    qa = Path(sys.executable).with_name("qa")
    return [str(qa)] if qa.exists() else [sys.executable, "-m", "qa.cli"]


# The vector extensions that int8 and fp32 inference take different kernels on.
ISA_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_tile")


def cpu_summary(cpuinfo: str | None = None) -> str:
    """The CPU model and its `ISA_FLAGS`. The same model answers and runs differently on another CPU
    (`eval/training/selector-experiment.md`), so every table says what it was measured on."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return platform.processor() or "unknown CPU"
    lines = cpuinfo.splitlines()
    name = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), "")
    flags = set(next((ln.split(":", 1)[1].split() for ln in lines if ln.startswith("flags")), []))
    have = [f for f in ISA_FLAGS if f in flags]
    return f"{name or platform.processor() or 'unknown CPU'} ({', '.join(have) or 'none of ' + '/'.join(ISA_FLAGS)})"


def machine() -> dict[str, Any]:
    import faiss
    import torch

    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "cpu": cpu_summary(),
        "torch": torch.__version__,
        "torch_threads_bulk": os.cpu_count(),
        "faiss": faiss.__version__,
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "commit": _git_commit(),
    }


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        return out.stdout.strip() + ("+changes" if dirty else "")
    except OSError:
        return "unknown"
