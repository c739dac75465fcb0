"""The shipped answerer model: checked at load, refused with the fix when missing or damaged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qa.answerer.model import MANIFEST, READER_FILE, SCORER_FILE, default_model_dir, load_model
from qa.errors import ModelError


def test_the_shipped_model_loads_with_its_variants() -> None:
    model = load_model()
    assert set(model.variants) == {"learned", "features", "reader"}
    assert 0.0 < model.threshold < 1.0
    assert model.manifest["trained_on"]
    # Licence caveat (SOURCES.md): user-generated Reddit/Amazon text is never in the shipped model.
    assert not {"squadshifts-reddit", "squadshifts-amazon"} & set(model.manifest["trained_on"])
    assert (default_model_dir() / READER_FILE).stat().st_size < 25_000_000


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "model"
    shutil.copytree(default_model_dir(), dst)
    return dst


def test_a_damaged_file_is_refused_naming_it(model_copy: Path) -> None:
    f = model_copy / SCORER_FILE
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"scorer\.pkl is damaged.*qa train"):
        load_model(model_copy)


def test_a_missing_model_or_file_is_refused_with_the_fix(model_copy: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"No answerer model.*Re-install docqa"):
        load_model(tmp_path / "nowhere")
    (model_copy / READER_FILE).unlink()
    with pytest.raises(ModelError, match=r"reader\.int8\.onnx is missing"):
        load_model(model_copy)


def test_a_model_of_another_format_is_refused(model_copy: Path) -> None:
    mf = model_copy / MANIFEST
    manifest = json.loads(mf.read_text())
    manifest["format"] = 99
    mf.write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="format 99"):
        load_model(model_copy)


def test_a_model_reading_no_answer_features_this_code_lacks_is_refused(model_copy: Path) -> None:
    mf = model_copy / MANIFEST
    manifest = json.loads(mf.read_text())
    manifest["noanswer_features"] = ["top", "tomorrows_weather"]
    mf.write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="tomorrows_weather.*qa train"):
        load_model(model_copy)


def test_qa_ask_with_a_broken_model_prints_one_error_line(model_copy: Path, web_index: Path) -> None:
    import subprocess
    import sys

    (model_copy / SCORER_FILE).write_bytes(b"not a model")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "qa.cli",
            "ask",
            "Who is John Kirby?",
            "--index",
            str(web_index),
            "--model",
            str(model_copy),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 1
    assert out.stderr.strip().startswith("error: The answerer model file") and "Traceback" not in out.stderr
