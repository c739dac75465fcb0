"""The `qa` command's output (the commands' work is tested with the modules that do it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qa import pipeline
from qa.cli import main
from qa.indexer import IngestReport


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
