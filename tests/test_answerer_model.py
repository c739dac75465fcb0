"""The shipped answerer model: checked at load, refused with the fix when missing or damaged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from qa.answerer.model import (
    MANIFEST,
    READER_FILE,
    RERANK_FILE,
    SCORER_FILE,
    default_model_dir,
    load_model,
    save_model,
)
from qa.errors import ModelError


def test_the_shipped_model_loads_with_its_variants() -> None:
    model = load_model()
    assert set(model.variants) == {"learned", "features", "reader"}
    assert model.reranker is not None  # the second stage ships with it
    assert 0.0 < model.threshold < 1.0
    assert model.manifest["trained_on"]
    # Licence caveat (SOURCES.md): user-generated Reddit/Amazon text is never in the shipped model.
    assert not {"squadshifts-reddit", "squadshifts-amazon"} & set(model.manifest["trained_on"])
    assert (default_model_dir() / READER_FILE).stat().st_size < 25_000_000


def _edit_manifest(folder: Path, **changes: object) -> None:
    mf = folder / MANIFEST
    mf.write_text(json.dumps({**json.loads(mf.read_text()), **changes}))


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
    _edit_manifest(model_copy, format=99)
    with pytest.raises(ModelError, match="format 99"):
        load_model(model_copy)


def test_a_model_reading_no_answer_features_this_code_lacks_is_refused(model_copy: Path) -> None:
    _edit_manifest(model_copy, noanswer_features=["top", "tomorrows_weather"])
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


def _tiny_reranker() -> object:
    from sklearn.ensemble import HistGradientBoostingRegressor

    from qa.answerer.rerank import RERANK_CATEGORICAL

    rng = np.random.default_rng(0)
    x = rng.random((400, len(RERANK_CATEGORICAL)))
    x[:, RERANK_CATEGORICAL] = rng.integers(0, 4, size=(400, int(RERANK_CATEGORICAL.sum())))
    return HistGradientBoostingRegressor(max_iter=5, categorical_features=RERANK_CATEGORICAL).fit(x, x[:, -1])


def test_a_model_with_a_second_stage_saves_loads_and_is_checked(tmp_path: Path) -> None:
    shipped = load_model()
    out = tmp_path / "with-stage2"
    save_model(out, default_model_dir() / READER_FILE, shipped.variants, {}, reranker=_tiny_reranker())
    model = load_model(out)
    assert model.reranker is not None and RERANK_FILE in model.manifest["files"]
    assert set(model.variants) == set(shipped.variants)

    again = tmp_path / "again"
    shutil.copytree(out, again)
    save_model(again, again / READER_FILE, shipped.variants, {})  # no second stage: its file goes too
    assert not (again / RERANK_FILE).exists() and load_model(again).reranker is None

    edited = tmp_path / "edited"  # a fresh folder: load_model keeps what it loaded once per folder
    shutil.copytree(out, edited)
    _edit_manifest(edited, rerank_features=["score", "tomorrows_weather"])
    with pytest.raises(ModelError, match="re-ranker trained on other features.*qa train"):
        load_model(edited)


def test_a_second_stage_brings_its_own_threshold(tmp_path: Path) -> None:
    """The threshold chosen end to end with a second stage is the one the model abstains below;
    a new second stage without one drops the old one rather than keep a threshold chosen for another."""
    from qa.answerer.model import add_reranker

    shipped = load_model()
    first_stage = {name: v.threshold for name, v in shipped.variants.items()}
    out = tmp_path / "with-threshold"
    save_model(out, default_model_dir() / READER_FILE, shipped.variants, {"stage2_threshold": 0.123}, _tiny_reranker())
    model = load_model(out)
    assert model.threshold == 0.123 and model.manifest["stage2_threshold"] == 0.123
    # Only the learned scorer, which the second stage re-ranks, takes it.
    assert model.variants["features"].threshold == first_stage["features"]

    replaced = tmp_path / "replaced"
    shutil.copytree(out, replaced)
    add_reranker(replaced, _tiny_reranker(), {})
    assert "stage2_threshold" not in json.loads((replaced / MANIFEST).read_text())
    assert load_model(replaced).threshold == shipped.variants["learned"].threshold  # as pickled by save_model


def _tiny_gate() -> object:
    from sklearn.ensemble import HistGradientBoostingClassifier

    from qa.answerer.gate import GATE_WIDTH, Gate, gate_categorical

    cat = gate_categorical()
    rng = np.random.default_rng(1)
    x = rng.random((400, GATE_WIDTH))
    x[:, cat] = rng.integers(0, 4, size=(400, int(cat.sum())))

    def fit(y: np.ndarray) -> object:
        return HistGradientBoostingClassifier(max_iter=5, categorical_features=cat).fit(x, y)

    return Gate(fit((x[:, 0] > 0.5).astype(int)), fit((x[:, 1] > 0.3).astype(int)))


def test_a_gate_saves_loads_brings_its_threshold_and_goes_with_its_second_stage(tmp_path: Path) -> None:
    from qa.answerer.model import GATE_FILE, add_gate, add_reranker

    shipped = load_model()
    out = tmp_path / "with-gate"
    save_model(out, default_model_dir() / READER_FILE, shipped.variants, {"stage2_threshold": 0.2}, _tiny_reranker())
    with pytest.raises(ValueError, match="no second stage"):
        bare = tmp_path / "bare"
        save_model(bare, default_model_dir() / READER_FILE, shipped.variants, {})
        add_gate(bare, _tiny_gate(), 0.5, {})  # type: ignore[arg-type]
    add_gate(out, _tiny_gate(), 0.61, {})  # type: ignore[arg-type]
    model = load_model(out)
    # With a gate the model abstains below the gate's threshold (on answerability), not the second stage's.
    assert model.gate is not None and model.threshold == 0.61
    assert model.variants["features"].threshold == shipped.variants["features"].threshold

    damaged = tmp_path / "damaged"
    shutil.copytree(out, damaged)
    data = bytearray((damaged / GATE_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (damaged / GATE_FILE).write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"gate\.pkl is damaged.*qa train"):
        load_model(damaged)

    edited = tmp_path / "edited"
    shutil.copytree(out, edited)
    _edit_manifest(edited, gate_features=["stage2_score", "moon_phase"])
    with pytest.raises(ModelError, match="gate trained on other features.*qa train"):
        load_model(edited)

    # A new second stage makes the gate's judgements stale: it is removed with its threshold.
    replaced = tmp_path / "replaced"
    shutil.copytree(out, replaced)
    add_reranker(replaced, _tiny_reranker(), {})
    manifest = json.loads((replaced / MANIFEST).read_text())
    assert not (replaced / GATE_FILE).exists() and GATE_FILE not in manifest["files"]
    assert "gate_threshold" not in manifest and load_model(replaced).gate is None


def _tiny_selector() -> object:
    from sklearn.ensemble import HistGradientBoostingClassifier

    from qa.answerer.select import SELECT_CATEGORICAL

    rng = np.random.default_rng(0)
    x = rng.random((400, len(SELECT_CATEGORICAL)))
    x[:, SELECT_CATEGORICAL] = rng.integers(0, 4, size=(400, int(SELECT_CATEGORICAL.sum())))
    y = x[:, 0] > 0.5
    return HistGradientBoostingClassifier(max_iter=5, categorical_features=SELECT_CATEGORICAL).fit(x, y)


def test_a_sentence_selector_saves_loads_and_is_checked(tmp_path: Path) -> None:
    from qa.answerer.model import SELECT_FILE

    shipped = load_model()
    out = tmp_path / "with-selector"
    save_model(out, default_model_dir() / READER_FILE, shipped.variants, {}, selector=_tiny_selector())
    model = load_model(out)
    assert model.selector is not None and SELECT_FILE in model.manifest["files"]
    assert shipped.selector is None or SELECT_FILE in shipped.manifest["files"]

    edited = tmp_path / "edited"
    shutil.copytree(out, edited)
    _edit_manifest(edited, select_features=["sim", "moon_phase"])
    with pytest.raises(ModelError, match="sentence selector trained on other features.*qa train"):
        load_model(edited)

    damaged = tmp_path / "damaged"
    shutil.copytree(out, damaged)
    (damaged / SELECT_FILE).write_bytes(b"not a pickle")
    with pytest.raises(ModelError, match=f"{SELECT_FILE} is damaged"):
        load_model(damaged)
