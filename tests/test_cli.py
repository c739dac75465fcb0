"""The `qa` command as a user runs it: its output, and a real process over the bundled corpus's index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from qa import pipeline
from qa.cli import main
from qa.indexer import IngestReport
from tests.web_fixtures import REPO

KIRBY_DOC = "003_4ab8a011891d9a26.txt"


class _Pipeline:
    """A pipeline that ingests nothing and reports two documents read imperfectly."""

    def __init__(self, settings: Any) -> None:
        pass

    def ingest(self, **kwargs: Any) -> IngestReport:
        return IngestReport(
            added=["scan.pdf", "hafen.txt"],
            warnings=[("scan.pdf", "page 2 was read by OCR"), ("hafen.txt", "looks like German (de), not English")],
        )


def test_qa_ingest_prints_each_warning_and_counts_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(pipeline, "Pipeline", _Pipeline)
    assert main(["ingest", str(tmp_path), "--index", str(tmp_path / "ix")]) == 0
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        "warning: scan.pdf: page 2 was read by OCR",
        "warning: hafen.txt: looks like German (de), not English",
    ]
    assert "2 added" in out and "2 warnings" in out


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
