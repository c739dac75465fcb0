"""`qa serve` (web/server.py): refuses to start on a missing or damaged index, with one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.web_fixtures import REPO


def serve_error(index: Path) -> str:
    """Run `qa serve` on `index`, check it fails with exactly one line on stderr, and return that line."""
    result = subprocess.run(
        [sys.executable, "-m", "qa.cli", "serve", "--port", "1", "--index", str(index)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_serve_refuses_a_missing_index(tmp_path: Path) -> None:
    assert "No index at" in serve_error(tmp_path / "index")


def test_serve_refuses_a_damaged_index(tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    (index / "CURRENT").write_text("gen-missing")
    assert "missing generation" in serve_error(index)
