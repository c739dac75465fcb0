"""Passages/s of one fresh ingest by engine: the local engine, or Ray with N workers.

    .venv/bin/python eval/ray_ingest_bench.py local|1|2 [--copies 20]

The corpus is corpus/ copied `--copies` times with each copy's text changed (a first line naming the
copy), under /tmp/docqa-ray-bench; every run builds a new index there and prints one JSON line with
the wall time of the whole ingest (model loads and Ray's start included) and its stages.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from qa.config import Settings
from qa.embed import MiniLMEmbedder
from qa.indexer import update_index
from qa.ingest.engine import engine

WORK = Path("/tmp/docqa-ray-bench")


def make_corpus(copies: int) -> Path:
    docs = WORK / f"docs-x{copies}"
    if docs.exists():
        return docs
    docs.mkdir(parents=True)
    for i in range(1, copies + 1):
        for f in sorted((ROOT / "corpus").glob("*.txt")):
            text = f.read_text(encoding="utf-8")
            (docs / f"{f.stem}_c{i:02d}.txt").write_text(f"Copy {i} of the article.\n\n[{i}] {text}", encoding="utf-8")
    return docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engine", help="local, or the number of Ray workers")
    parser.add_argument("--copies", type=int, default=20)
    args = parser.parse_args()
    docs = make_corpus(args.copies)
    index = WORK / f"index-{args.engine}"
    shutil.rmtree(index, ignore_errors=True)
    embedder = MiniLMEmbedder()
    runner = None if args.engine == "local" else engine("ray", embedder, None, int(args.engine))
    started = time.perf_counter()
    report = update_index(Settings(index_dir=index), embedder, roots=[docs], engine=runner)
    wall = time.perf_counter() - started
    print(
        json.dumps(
            {
                "engine": args.engine,
                "documents": report.total_documents,
                "passages": report.total_passages,
                "sentences_embedded": report.embedded_sentences,
                "wall_s": round(wall, 1),
                "passages_per_s": round(report.total_passages / wall, 1),
                "load_avg": round(os.getloadavg()[0], 2),
                "stages_s": {k: round(v, 1) for k, v in report.timings_s.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
