"""docqa: offline question answering over your documents, with exact citations."""

from __future__ import annotations

from typing import Any

from qa.config import Settings
from qa.errors import DocQAError
from qa.models import Answer, Citation, Document, Hit, Passage

__all__ = ["Answer", "Citation", "DocQAError", "Document", "Hit", "Passage", "Settings", "answer", "__version__"]
__version__ = "0.1.0"


def answer(
    question: str, history: list[dict[str, Any]] | None = None, k: int | None = None, settings: Settings | None = None
) -> Answer:
    """Answer a question against the index in `settings.index_dir` (default: ./index).

    The pipeline comes from `qa.pipeline.load_pipeline`, which keeps it for the next call with the
    same settings. A caller that asks many questions can hold `Pipeline(settings).load()` itself.

    Args:
        question: the question, at most `settings.max_question_chars` characters.
        history: earlier turns, `[{"question": ..., "answer": ...}]`, for follow-up questions.
        k: passages to return (1-50); `settings.k` when None.
        settings: defaults to `Settings.from_env()`.

    Returns:
        The answer, with citations, or an abstention.

    Raises:
        InvalidQuestionError: an empty or over-long question, or k out of range.
        IndexNotFoundError, IndexCorruptError: no usable index at `settings.index_dir`.
    """
    from qa.pipeline import load_pipeline  # imported here so `import qa` stays light (no torch)

    return load_pipeline(settings or Settings.from_env()).ask(question, k=k, history=history)
