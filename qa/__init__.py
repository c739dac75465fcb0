"""docqa: offline question answering over your documents, with exact citations."""

from __future__ import annotations

from typing import Any

from qa.config import Settings
from qa.errors import DocQAError
from qa.models import Answer, Citation, Document, Hit, Passage

__all__ = ["Answer", "Citation", "DocQAError", "Document", "Hit", "Passage", "Settings", "answer", "__version__"]
__version__ = "0.1.0"

_default: Any = None


def answer(
    question: str, history: list[dict[str, Any]] | None = None, k: int | None = None, settings: Settings | None = None
) -> Answer:
    """Answer a question against the index in `settings.index_dir` (default: ./index), loading it once."""
    global _default
    from qa.pipeline import Pipeline

    if _default is None or (settings is not None and settings != _default.settings):
        _default = Pipeline(settings or Settings.from_env()).load()
    result: Answer = _default.ask(question, k=k, history=history)
    return result
