"""Cold start: seconds from a fresh interpreter to its first answer (imports, index load, model load).

A child process each run, so nothing the bench has loaded is reused; the page cache is warm (the index
files were just written or read), as on a restart. The scale section times each big index with it too.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .common import run_child

COLD_CHILD = r"""
import json, sys, time
t0 = time.time()
from qa.config import Settings
from qa.pipeline import Pipeline
from pathlib import Path
t1 = time.time()
pipe = Pipeline(Settings(index_dir=Path(sys.argv[1]))).load()
t2 = time.time()
ans = pipe.ask(sys.argv[2])
t3 = time.time()
print(json.dumps({"t_start": t0, "t_imported": t1, "t_loaded": t2, "t_answered": t3, "answer": ans.answer}))
"""


def cold_start(index_dir: Path, question: str, runs: int) -> dict[str, Any]:
    """Process start to first answer, in a fresh interpreter (page cache warm: files were just used)."""
    walls: list[float] = []
    parts: list[dict[str, float]] = []
    for _ in range(runs):
        t0 = time.time()
        out = run_child([sys.executable, "-c", COLD_CHILD, str(index_dir), question], timeout=600)
        if out.returncode != 0:
            raise RuntimeError(f"cold-start child failed: {out.stderr[-2000:]}")
        rec = json.loads(out.stdout.strip().splitlines()[-1])
        walls.append(rec["t_answered"] - t0)
        parts.append(
            {
                "interpreter_and_imports": rec["t_imported"] - t0,
                "index_load": rec["t_loaded"] - rec["t_imported"],
                "first_answer_incl_model_load": rec["t_answered"] - rec["t_loaded"],
            }
        )
    mid = int(np.argsort(walls)[len(walls) // 2])
    return {
        "runs": runs,
        "median_s": round(statistics.median(walls), 2),
        "all_s": [round(w, 2) for w in walls],
        "median_run_parts_s": {k: round(v, 2) for k, v in parts[mid].items()},
    }
