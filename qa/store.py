"""The local backend's names under their old module, for callers written before `qa.index` (eval, tests).

New code imports from `qa.index`; the implementation lives in `qa.index.local`.
"""

from __future__ import annotations

from qa.index.local import (
    CURRENT,
    FORMAT_VERSION,
    PASSAGE_DTYPE,
    SENTENCE_DTYPE,
    DocInfo,
    IndexData,
    TextStore,
    _manifest_checksum,
    build_faiss,
    build_lexical,
    current_generation,
    file_sha256,
    load,
    write_generation,
)

__all__ = [
    "CURRENT",
    "FORMAT_VERSION",
    "PASSAGE_DTYPE",
    "SENTENCE_DTYPE",
    "DocInfo",
    "IndexData",
    "TextStore",
    "_manifest_checksum",
    "build_faiss",
    "build_lexical",
    "current_generation",
    "file_sha256",
    "load",
    "write_generation",
]
