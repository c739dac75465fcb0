"""Ingest by engine: passages/s of one fresh ingest with the local engine, or with Ray and N workers.

    .venv/bin/python -m eval.bench.ray_ingest local|1|2 [--copies 20] [--work /tmp/docqa-ray-bench]

Why: `qa ingest --engine ray` pays for Ray's start and each worker's model load before it can win
anything back, so its figures only mean something next to the local engine's on the same folder.
The corpus is corpus/ copied `--copies` times with each copy's text changed (a first line naming the
copy), under --work; every run builds a new index there and prints one JSON line with the wall time
of the whole ingest (model loads and Ray's start included) and its stages. The bench's `ray` section
runs local, 1 and 2 workers, each in a fresh interpreter, and adds passages/s per worker and the
overhead against the local engine.
"""

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

from qa.config import Settings
from qa.embed import MiniLMEmbedder
from qa.indexer import update_index
from qa.ingest.engine import engine

from . import ROOT
from .common import run_child

WORK = Path("/tmp/docqa-ray-bench")
ENGINES = ("local", "1", "2")


def make_corpus(copies: int, work: Path = WORK) -> Path:
    docs = work / f"docs-x{copies}"
    if docs.exists():
        return docs
    docs.mkdir(parents=True)
    for i in range(1, copies + 1):
        for f in sorted((ROOT / "corpus").glob("*.txt")):
            text = f.read_text(encoding="utf-8")
            (docs / f"{f.stem}_c{i:02d}.txt").write_text(f"Copy {i} of the article.\n\n[{i}] {text}", encoding="utf-8")
    return docs


def ingest_once(engine_name: str, copies: int, work: Path = WORK) -> dict[str, Any]:
    """One fresh ingest in this process: `engine_name` is "local" or the number of Ray workers."""
    docs = make_corpus(copies, work)
    index = work / f"index-{engine_name}"
    shutil.rmtree(index, ignore_errors=True)
    embedder = MiniLMEmbedder()
    runner = None if engine_name == "local" else engine("ray", embedder, None, int(engine_name))
    started = time.perf_counter()
    report = update_index(Settings(index_dir=index), embedder, roots=[docs], engine=runner)
    wall = time.perf_counter() - started
    return {
        "engine": engine_name,
        "documents": report.total_documents,
        "passages": report.total_passages,
        "sentences_embedded": report.embedded_sentences,
        "wall_s": round(wall, 1),
        "passages_per_s": round(report.total_passages / wall, 1),
        "load_avg": round(os.getloadavg()[0], 2),
        "stages_s": {k: round(v, 1) for k, v in report.timings_s.items()},
    }


def compare(runs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """`runs` with, for each Ray run, its workers, passages/s per worker and overhead against local."""
    local = runs.get("local")
    out: dict[str, dict[str, Any]] = {}
    for name, rec in runs.items():
        row = dict(rec)
        if name != "local":
            workers = int(name)
            row["workers"] = workers
            row["passages_per_s_per_worker"] = round(row["passages_per_s"] / workers, 1)
            if local is not None:
                row["overhead_vs_local_s"] = round(row["wall_s"] - local["wall_s"], 1)
                row["wall_over_local"] = round(row["wall_s"] / max(1e-6, local["wall_s"]), 2)
        out[name] = row
    return out


def section_ray(copies: int, work: Path, engines: Sequence[str] = ENGINES) -> dict[str, Any]:
    """Each engine in turn, each in a fresh interpreter (so Ray starts and stops with it)."""
    runs: dict[str, dict[str, Any]] = {}
    for name in engines:
        args = ["-m", "eval.bench.ray_ingest", name, "--copies", str(copies), "--work", str(work)]
        out = run_child([sys.executable, *args], timeout=1800)
        if out.returncode != 0:
            raise RuntimeError(f"ray ingest ({name}) failed: {out.stderr[-2000:]}")
        runs[name] = json.loads([line for line in out.stdout.splitlines() if line.startswith("{")][-1])
    return {"copies": copies, "engines": compare(runs)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench.ray_ingest", description=__doc__.splitlines()[0])
    parser.add_argument("engine", help="local, or the number of Ray workers")
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--work", type=Path, default=WORK, help="folder for the copied corpus and the indexes")
    args = parser.parse_args(argv)
    print(json.dumps(ingest_once(args.engine, args.copies, args.work)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
