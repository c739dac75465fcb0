"""`qa train` on a user's own gold questions: a model folder that loads and answers through `qa ask`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from qa.answerer.model import load_model

REPO = Path(__file__).resolve().parent.parent


def _qa(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=900
    )


def test_qa_train_on_gold_questions_writes_a_model_that_qa_ask_uses(tmp_path: Path, web_index: Path) -> None:
    out = tmp_path / "my-model"
    done = _qa(
        "train",
        "--data",
        str(REPO / "eval" / "gold.jsonl"),
        "--index",
        str(web_index),
        "--no-reader",
        "--no-report",
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "threshold" in done.stdout  # the validation figures it chose the threshold on
    model = load_model(out)
    assert set(model.variants) == {"learned", "features", "reader"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["trained_on"] == {"gold": "user data", "gold-unanswerable": "user data"}
    assert manifest["scorer_questions"] > 50

    asked = _qa(
        "ask", "Which network did John Kirby speak on?", "--index", str(web_index), "--model", str(out), cwd=tmp_path
    )
    assert asked.returncode == 0, asked.stderr[-2000:]
    assert asked.stdout.strip()

    missing = _qa("train", "--data", str(tmp_path / "nope.jsonl"), "--no-reader", cwd=tmp_path)
    assert missing.returncode != 0
    assert "no such file" in missing.stderr and "Traceback" not in missing.stderr
