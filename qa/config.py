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
    # Below this confidence the answerer abstains.
    abstain_threshold: float = 0.35
    max_question_chars: int = MAX_QUESTION_CHARS
    max_upload_bytes: int = 20 * 1024 * 1024
    api_key: str | None = None
    embed_batch_size: int = 64

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from QA_* environment variables; keyword overrides (CLI flags) win."""
        base = cls(
            index_dir=Path(os.environ.get("QA_INDEX_DIR", "index")),
            k=_env("QA_K", 5, int, "a whole number"),
            abstain_threshold=_env("QA_ABSTAIN_THRESHOLD", cls.abstain_threshold, float, "a number"),
            max_upload_bytes=_env("QA_MAX_UPLOAD_BYTES", cls.max_upload_bytes, int, "a whole number"),
            api_key=os.environ.get("QA_API_KEY") or None,
        )
        clean = {k: v for k, v in overrides.items() if v is not None}
        if "index_dir" in clean:
            clean["index_dir"] = Path(str(clean["index_dir"]))
        return replace(base, **clean)  # type: ignore[arg-type]
