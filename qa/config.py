"""One settings object, read from the environment and overridden by CLI flags, then passed in."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from qa.errors import ConfigError

T = TypeVar("T")

MAX_QUESTION_CHARS = 2000
# The rule-based answerer's threshold (its confidence is a hand-made score, not a probability).
RULES_THRESHOLD = 0.35
SCORER_NAMES = ("learned", "features", "reader")
# Where `qa ingest` chunks, annotates and embeds: this process, or a Ray cluster (qa.ingest.engine).
INGEST_ENGINES = ("local", "ray")


def _float_or_none(raw: str) -> float | None:
    return float(raw)


def _path_or_none(raw: str) -> Path | None:
    return Path(raw)


def _choice(*names: str) -> Callable[[str], str]:
    def cast(raw: str) -> str:
        if raw not in names:
            raise ValueError(raw)
        return raw

    return cast


def _env(name: str, default: T, cast: Callable[[str], T], kind: str) -> T:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return cast(raw)
    except ValueError as e:
        raise ConfigError(f"Environment variable {name} has value {raw!r}; expected {kind}.") from e


@dataclass(frozen=True)
class Settings:
    """Everything tunable. Defaults suit the bundled corpus on a 2-core CPU."""

    index_dir: Path = Path("index")
    k: int = 5
    # Passages: a few sentences, overlapping, kept under the model's 256 word-piece window.
    passage_max_tokens: int = 200
    passage_max_sentences: int = 4
    passage_overlap_sentences: int = 1
    # Above this many passages the store builds an approximate (HNSW) index instead of exact search.
    exact_index_max: int = 50_000
    # Candidates pulled from each retriever before fusion.
    fusion_depth: int = 30
    rrf_k: int = 60
    # Passages the answerer reads (at least k).
    answer_depth: int = 8
    # Below this confidence the answerer abstains; None: the model's own threshold (chosen on held-out
    # training data), or RULES_THRESHOLD for the rule-based answerer.
    abstain_threshold: float | None = None
    # "learned" (the trained model) or "rules" (the hand-tuned answerer it replaced, kept as a baseline).
    answerer: str = "learned"
    # How the learned answerer ranks candidates: "learned" (trees over all features), "features" (trees
    # without the reader's scores) or "reader" (the span reader alone); each has its own no-answer model.
    scorer: str = "learned"
    # The answerer's model folder; None: the one shipped inside the package.
    model_path: Path | None = None
    max_question_chars: int = MAX_QUESTION_CHARS
    max_upload_bytes: int = 20 * 1024 * 1024
    api_key: str | None = None
    embed_batch_size: int = 64
    # Where the index lives and how it is searched: a backend name known to `qa.index.BACKENDS`.
    storage_backend: str = "local"
    # Where plain `qa serve` ingests uploads: "process" (one worker process at lower CPU priority, so
    # questions stay fast while it embeds) or "thread" (a thread of the server process).
    ingest_worker: str = "process"

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from QA_* environment variables; keyword overrides (CLI flags) win."""
        base = cls(
            index_dir=Path(os.environ.get("QA_INDEX_DIR", "index")),
            k=_env("QA_K", 5, int, "a whole number"),
            abstain_threshold=_env("QA_ABSTAIN_THRESHOLD", None, _float_or_none, "a number"),
            answerer=_env("QA_ANSWERER", cls.answerer, _choice("learned", "rules"), "learned or rules"),
            scorer=_env(
                "QA_SCORER", cls.scorer, _choice("learned", "features", "reader"), "learned, features or reader"
            ),
            model_path=_env("QA_MODEL", None, _path_or_none, "a folder"),
            max_upload_bytes=_env("QA_MAX_UPLOAD_BYTES", cls.max_upload_bytes, int, "a whole number"),
            api_key=os.environ.get("QA_API_KEY") or None,
            storage_backend=os.environ.get("QA_STORAGE", "").strip() or cls.storage_backend,
            ingest_worker=_env(
                "QA_INGEST_WORKER", cls.ingest_worker, _choice("process", "thread"), "process or thread"
            ),
        )
        clean = {k: v for k, v in overrides.items() if v is not None}
        for key in ("index_dir", "model_path"):
            if key in clean:
                clean[key] = Path(str(clean[key]))
        return replace(base, **clean)  # type: ignore[arg-type]
