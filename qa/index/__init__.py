"""Storage behind interfaces: `VectorIndex`, `LexicalIndex`, `DocStore`, `IndexWriter`, and backends by name.

Only the backend modules here import FAISS or bm25s (tests/test_index.py enforces it); everything
else opens an index with `open_index(settings.storage_backend, ...)` and writes one through
`index_writer(...)`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import ConfigError
from qa.index.base import Backend, DocStore, IndexWriter, LexicalIndex, Results, VectorIndex
from qa.index.local import PASSAGE_DTYPE, SENTENCE_DTYPE, DocInfo, IndexData, LocalBackend

__all__ = [
    "BACKENDS",
    "PASSAGE_DTYPE",
    "SENTENCE_DTYPE",
    "Backend",
    "DocInfo",
    "DocStore",
    "IndexData",
    "IndexWriter",
    "LexicalIndex",
    "Results",
    "VectorIndex",
    "backend",
    "index_writer",
    "live_generation",
    "open_index",
]

BACKENDS: dict[str, Callable[[], Backend]] = {"local": LocalBackend}

if TYPE_CHECKING:

    def _index_data_is_a_doc_store(data: IndexData) -> DocStore:
        """Never called: mypy checks here that a loaded generation satisfies `DocStore`."""
        return data


def backend(name: str) -> Backend:
    """The storage backend called `name`.

    Raises:
        ConfigError: no backend has that name; the message lists the known ones.
    """
    make = BACKENDS.get(name)
    if make is None:
        raise ConfigError(f"Unknown storage backend {name!r}; known: {', '.join(sorted(BACKENDS))}.")
    return make()


def open_index(name: str, index_dir: Path, expect_model: str, expect_dim: int, with_vectors: bool = False) -> IndexData:
    """Open and check the live generation at `index_dir` through backend `name`."""
    return backend(name).open(index_dir, expect_model, expect_dim, with_vectors)


def live_generation(name: str, index_dir: Path) -> str:
    """The name of the live generation at `index_dir` through backend `name`.

    Raises:
        IndexNotFoundError: no index there; ConfigError: an unknown backend.
    """
    return backend(name).current(index_dir)


def index_writer(name: str) -> IndexWriter:
    """The writer of backend `name`, which ingest builds and writes a generation through."""
    return backend(name).writer()
