"""The `qa` command as a user runs it: a real process over an index of the bundled corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.web_fixtures import REPO

KIRBY_DOC = "003_4ab8a011891d9a26.txt"


def qa(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *argv], cwd=REPO, env=env, text=True, capture_output=True, timeout=300
    )


def test_ask_within_chosen_documents(web_index: Path) -> None:
    docs = sorted(p.name for p in (REPO / "corpus").iterdir() if p.suffix == ".txt")
    others = [d for d in docs if d != KIRBY_DOC][:2]
    argv = ["ask", "Which council does John Kirby work for?", "--json", "--index", str(web_index)]
    free = qa(*argv)
    assert free.returncode == 0, free.stderr
    assert json.loads(free.stdout)["citations"][0]["doc_id"] == KIRBY_DOC
    within = qa(*argv, "--doc", others[0], "--doc", others[1])
    assert within.returncode == 0, within.stderr
    out = json.loads(within.stdout)
    assert {p["doc_id"] for p in out["passages"]} | {c["doc_id"] for c in out["citations"]} <= set(others)
    unknown = qa(*argv, "--doc", "missing.txt")
    assert unknown.returncode == 1
    assert "missing.txt" in unknown.stderr and "Traceback" not in unknown.stderr
