"""The answerer's model: a folder with the span reader (int8 ONNX), the candidate scorer and the
no-answer model (scikit-learn), optionally the sentence selector (`select.pkl`), the second-stage
re-ranker (`rerank.pkl`) and the gate (`gate.pkl`), and a manifest
of versions, training data and SHA-256 sums.

Loading checks every file against the manifest before it is used, so a truncated download or a
hand-edited file is refused with a message naming the file and the fix. The scorer file is a
pickle: load only model folders you made (`qa train`) or that came with docqa.
"""

from __future__ import annotations

import json
import pickle
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.answerer.features import FEATURE_NAMES
from qa.answerer.gate import GATE_EXTRA, Gate
from qa.answerer.reader import SpanReader
from qa.answerer.rerank import RERANK_BASE, RERANK_EXTRA, Reranker
from qa.answerer.scorer import NOANSWER_BASE, NOANSWER_FEATURES, noanswer_columns
from qa.answerer.select import SELECT_FEATURES, SentenceSelector
from qa.answerer.trees import flatten
from qa.errors import ModelError
from qa.index.local import file_sha256

MODEL_FORMAT = 1
MANIFEST = "manifest.json"
READER_FILE = "reader.int8.onnx"
SCORER_FILE = "scorer.pkl"
RERANK_FILE = "rerank.pkl"
GATE_FILE = "gate.pkl"
SELECT_FILE = "select.pkl"
_FIX = "Re-install docqa to restore the shipped model, or run `qa train` to make a new one."


def default_model_dir() -> Path:
    """The model that ships inside the package."""
    return Path(__file__).resolve().parent / "model"


@dataclass(frozen=True)
class Variant:
    """One way of scoring: `scorer` predicts a candidate's F1 (None: the reader alone ranks),
    `noanswer` the chance that the top answer is right, abstaining below `threshold`."""

    scorer: Any
    noanswer: Any
    threshold: float


@dataclass(frozen=True)
class AnswererModel:
    """A loaded model: the reader and one `Variant` per scorer name ("learned" is the default)."""

    path: Path
    reader: SpanReader
    variants: dict[str, Variant]
    manifest: dict[str, Any]
    noanswer_columns: tuple[int, ...] | None = None  # which no-answer features it reads (None: all)
    reranker: Any = None  # the second stage over the learned scorer's candidates (None: none trained)
    gate: Gate | None = None  # judges the answer shown after the second stage (None: none trained)
    selector: SentenceSelector | None = None  # picks the sentences read (None: `read.measure`'s blend)

    @property
    def threshold(self) -> float:
        return self.variants["learned"].threshold

    def variant(self, name: str) -> Variant:
        """The variant called `name`.

        Raises:
            ModelError: this model has no such variant.
        """
        if name not in self.variants:
            raise ModelError(
                f"The answerer model at {self.path} has no {name!r} scorer; it has {', '.join(sorted(self.variants))}."
            )
        return self.variants[name]


def save_model(
    out: Path,
    reader_onnx: Path,
    variants: dict[str, Variant],
    meta: dict[str, Any],
    reranker: Any = None,
    gate: tuple[Gate, float] | None = None,
    selector: Any = None,
) -> Path:
    """Write a model folder (reader copied in, scorer, sentence selector, re-ranker and gate with its
    threshold pickled, manifest last) and return it."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / READER_FILE
    if reader_onnx.resolve() != target.resolve():
        target.write_bytes(reader_onnx.read_bytes())
    with (out / SCORER_FILE).open("wb") as fh:
        pickle.dump(
            {name: (v.scorer, v.noanswer, v.threshold) for name, v in variants.items()},
            fh,
            protocol=pickle.HIGHEST_PROTOCOL,
        )
    for stale in (out / RERANK_FILE, out / GATE_FILE, out / SELECT_FILE):
        if stale.exists():
            stale.unlink()  # left from an older model in this folder: it would not match this scorer
    import sklearn

    manifest = {
        "format": MODEL_FORMAT,
        "features": list(FEATURE_NAMES),
        "noanswer_features": list(NOANSWER_FEATURES),
        "thresholds": {name: v.threshold for name, v in variants.items()},
        "sklearn": sklearn.__version__,
        "files": {name: file_sha256(out / name) for name in (READER_FILE, SCORER_FILE)},
        **meta,
    }
    _write_manifest(out, manifest)
    if selector is not None:
        add_selector(out, selector, {})
    if reranker is None:
        return out
    add_reranker(out, reranker, {k: meta[k] for k in ("stage2_threshold",) if k in meta})
    return out if gate is None else add_gate(out, gate[0], gate[1], {})


def add_reranker(folder: Path, reranker: Any, meta: dict[str, Any]) -> Path:
    """Put a second stage into the model folder `folder`: `rerank.pkl` written, and the manifest given
    its checksum, the features it reads and `meta`; the other files are left as they are."""
    with (folder / RERANK_FILE).open("wb") as fh:
        pickle.dump(reranker, fh, protocol=pickle.HIGHEST_PROTOCOL)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    manifest.pop("stage2_threshold", None)  # chosen for the second stage replaced here; `meta` gives this one's
    # A gate judged the replaced second stage's answers: it goes with it (`add_gate` fits a new one).
    for key in ("gate_threshold", "gate_features"):
        manifest.pop(key, None)
    if manifest["files"].pop(GATE_FILE, None) is not None and (folder / GATE_FILE).exists():
        (folder / GATE_FILE).unlink()
    manifest["files"][RERANK_FILE] = file_sha256(folder / RERANK_FILE)
    manifest["rerank_features"] = list(RERANK_EXTRA)
    _write_manifest(folder, {**manifest, **meta})
    return folder


def add_selector(folder: Path, selector: Any, meta: dict[str, Any]) -> Path:
    """Put a sentence selector (`qa/answerer/select.py`) into the model folder `folder`: `select.pkl`
    written and the manifest given its checksum, the features it reads and `meta`; the other files
    are left as they are (a second stage fitted on readings without it should be fitted again)."""
    with (folder / SELECT_FILE).open("wb") as fh:
        pickle.dump(selector, fh, protocol=pickle.HIGHEST_PROTOCOL)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"][SELECT_FILE] = file_sha256(folder / SELECT_FILE)
    manifest["select_features"] = list(SELECT_FEATURES)
    _write_manifest(folder, {**manifest, **meta})
    return folder


def add_gate(folder: Path, gate: Gate, threshold: float, meta: dict[str, Any]) -> Path:
    """Put the gate (`qa/answerer/gate.py`) and its abstain threshold into the model folder `folder`,
    which must have the second stage it was fitted with; the other files are left as they are."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    if RERANK_FILE not in manifest.get("files", {}):
        raise ValueError(f"{folder} has no second stage: the gate reads its predictions")
    with (folder / GATE_FILE).open("wb") as fh:
        pickle.dump((gate.right, gate.answerable), fh, protocol=pickle.HIGHEST_PROTOCOL)
    manifest["files"][GATE_FILE] = file_sha256(folder / GATE_FILE)
    manifest["gate_features"] = list(GATE_EXTRA)
    manifest["gate_threshold"] = threshold
    _write_manifest(folder, {**manifest, **meta})
    return folder


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


_cache: dict[Path, AnswererModel] = {}
_lock = threading.Lock()


def load_model(path: Path | None = None, threads: int = 2) -> AnswererModel:
    """The model at `path` (default: the shipped one), checked and loaded once per process.

    The reader runs on two threads: its batch of windows is the largest cost of a question, and on
    a 2-core machine two threads halve it (same answers on eval/gold.jsonl; eval/bench_answerer.py).

    Raises:
        ModelError: a file is missing or its checksum differs, or the model is of another format
            or was trained on other features.
    """
    folder = (path or default_model_dir()).resolve()
    with _lock:
        hit = _cache.get(folder)
        if hit is not None:
            return hit
        model = _load(folder, threads)
        _cache[folder] = model
        return model


def forget(path: Path) -> None:
    """Drop the model at `path` from this process's cache (its folder was rewritten)."""
    with _lock:
        _cache.pop(path.resolve(), None)


def _load(folder: Path, threads: int) -> AnswererModel:
    mf = folder / MANIFEST
    if not mf.is_file():
        raise ModelError(f"No answerer model at {folder} ({MANIFEST} is missing). {_FIX}")
    try:
        manifest = json.loads(mf.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ModelError(f"The answerer model's {mf} cannot be read ({e}). {_FIX}") from e
    if manifest.get("format") != MODEL_FORMAT:
        raise ModelError(
            f"The answerer model at {folder} has format {manifest.get('format')!r}; "
            f"this docqa reads format {MODEL_FORMAT}. {_FIX}"
        )
    if manifest.get("features") != list(FEATURE_NAMES):
        raise ModelError(f"The answerer model at {folder} was trained on other features. {_FIX}")
    for name, digest in (manifest.get("files") or {}).items():
        f = folder / name
        if not f.is_file():
            raise ModelError(f"The answerer model file {f} is missing. {_FIX}")
        if file_sha256(f) != digest:
            raise ModelError(f"The answerer model file {f} is damaged (its checksum differs). {_FIX}")
    with (folder / SCORER_FILE).open("rb") as fh:
        parts = pickle.load(fh)  # noqa: S301 - checked against the manifest's SHA-256 above
    try:
        reader = SpanReader(folder / READER_FILE, threads=threads)
    except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types
        raise ModelError(f"The answerer's reader {folder / READER_FILE} cannot be loaded ({e}). {_FIX}") from e
    variants = {name: Variant(flatten(sc), flatten(na), float(t)) for name, (sc, na, t) in parts.items()}
    if "learned" not in variants:
        raise ModelError(f"The answerer model at {folder} has no 'learned' scorer. {_FIX}")
    try:
        columns = noanswer_columns(manifest.get("noanswer_features", NOANSWER_BASE))
    except ValueError as e:
        raise ModelError(f"The answerer model at {folder} reads {e}. {_FIX}") from e
    reranker = None
    if RERANK_FILE in (manifest.get("files") or {}):
        extra = manifest.get("rerank_features")
        # A re-ranker fitted before the later columns were added reads the ones it knew.
        if not isinstance(extra, list) or len(extra) < len(RERANK_BASE) or extra != list(RERANK_EXTRA[: len(extra)]):
            raise ModelError(f"The answerer model at {folder} has a re-ranker trained on other features. {_FIX}")
        width = len(FEATURE_NAMES) + len(extra)
        with (folder / RERANK_FILE).open("rb") as fh:
            reranker = Reranker(flatten(pickle.load(fh), width), width)  # noqa: S301 - checked against the manifest
        if manifest.get("stage2_threshold") is not None:
            # Chosen end to end with this second stage (`training.stage2.choose_threshold`); the
            # scorer's own was chosen with the paragraph given.
            learned = variants["learned"]
            variants["learned"] = Variant(learned.scorer, learned.noanswer, float(manifest["stage2_threshold"]))
    gate = _load_gate(folder, manifest) if reranker is not None else None
    selector = _load_selector(folder, manifest)
    if gate is not None:
        # With a gate the model abstains on its answerability, below the threshold chosen with it.
        learned = variants["learned"]
        variants["learned"] = Variant(learned.scorer, learned.noanswer, float(manifest["gate_threshold"]))
    return AnswererModel(folder, reader, variants, manifest, tuple(columns), reranker, gate, selector)


def _load_selector(folder: Path, manifest: dict[str, Any]) -> SentenceSelector | None:
    """The model's sentence selector (its file already checked in `_load`), None if it has none."""
    if SELECT_FILE not in (manifest.get("files") or {}):
        return None
    if manifest.get("select_features") != list(SELECT_FEATURES):
        raise ModelError(f"The answerer model at {folder} has a sentence selector trained on other features. {_FIX}")
    with (folder / SELECT_FILE).open("rb") as fh:
        return SentenceSelector(flatten(pickle.load(fh)))  # noqa: S301 - checked against the manifest's SHA-256


def _load_gate(folder: Path, manifest: dict[str, Any]) -> Gate | None:
    """The model's gate (its file already checked against the manifest), None if it has none."""
    if GATE_FILE not in (manifest.get("files") or {}):
        return None
    if (
        manifest.get("gate_features") != list(GATE_EXTRA)
        or manifest.get("gate_threshold") is None
        or manifest.get("rerank_features") != list(RERANK_EXTRA)
    ):
        raise ModelError(f"The answerer model at {folder} has a gate trained on other features. {_FIX}")
    with (folder / GATE_FILE).open("rb") as fh:
        right, answerable = pickle.load(fh)  # noqa: S301 - checked against the manifest's SHA-256 in `_load`
    return Gate(flatten(right), flatten(answerable))
