"""A fixed sequence of ingests and the digest of every generation it writes: the known build.

`tests/data/known_build.json` holds the digests that the single-function ingest (before the
plan/process/write stages) wrote for this sequence with the fake embedder; the stages must write
the same bytes. Regenerate only on purpose: `python -m tests.ingest_builds > tests/data/known_build.json`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from qa.config import Settings
from qa.index import open_index
from qa.index.local import current_generation
from tests.fakes import FakeEmbedder

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
Ingest = Callable[..., Any]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def generation_digest(
    index_dir: Path,
    work: Path,
    model: str = FakeEmbedder.name,
    dim: int = FakeEmbedder.dim,
    skip: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """SHA-256 of every file of the live generation, and its manifest without the time it was made.

    Two things vary from run to run in any build and are digested in a fixed form instead: the
    absolute folder a document came from (`work` becomes "<work>"), and the BM25 files, whose term
    numbering follows Python's per-process string hashing (each term's scores are digested instead).
    Files named in `skip` are left out (vectors, to be compared within a tolerance).
    """
    gen = current_generation(index_dir)
    files = {
        p.relative_to(gen).as_posix(): _sha(p.read_bytes().replace(str(work).encode(), b"<work>"))
        for p in sorted(gen.rglob("*"))
        if p.is_file() and p.name != "manifest.json" and p.parent.name != "lexical" and p.name not in skip
    }
    data = open_index("local", index_dir, model, dim)
    lexical = hashlib.sha256()
    for term in sorted(data.lexical.vocabulary):
        try:
            scores = data.lexical.scores([term]).tobytes()
        except ValueError:  # bm25s lists a placeholder term it has no postings for
            scores = b"-"
        lexical.update(term.encode() + b"\0" + scores)
    files["lexical (terms and scores)"] = lexical.hexdigest()
    manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    for key in ("created", "checksum"):
        manifest.pop(key, None)
    manifest["files"] = sorted(manifest["files"])  # their contents are digested above
    return {"files": files, "manifest": manifest}


def known_sequence(update_index: Ingest, work: Path) -> dict[str, Any]:
    """Build corpus/, change, remove and add files, upload one, then change the passage settings."""
    docs = work / "docs"
    shutil.copytree(CORPUS, docs)
    settings = Settings(index_dir=work / "index")
    emb = FakeEmbedder()
    out: dict[str, Any] = {}
    update_index(settings, emb, roots=[docs])
    out["build"] = generation_digest(settings.index_dir, work)
    (docs / "004_75648a9ff11dcd33.txt").write_text("Ferry news\n\nThe ferry Aurora sails to Visby at noon.\n")
    (docs / "000_d60922b307c76c22.txt").unlink()
    (docs / "new.md").write_text("# Harbour\n\nThe harbour master, Ines Varga, said on Tuesday that 14 boats left.\n")
    update_index(settings, emb, roots=[docs])
    out["update"] = generation_digest(settings.index_dir, work)
    update_index(settings, emb, uploads=[("up.txt", b"Upload\n\nMayor Ana Ruiz opened the bridge in 2021.\n")])
    out["upload"] = generation_digest(settings.index_dir, work)
    update_index(replace(settings, passage_max_sentences=2), emb, roots=[docs])
    out["rechunk"] = generation_digest(settings.index_dir, work)
    return out


if __name__ == "__main__":
    from qa.indexer import update_index

    with tempfile.TemporaryDirectory() as tmp:
        json.dump(known_sequence(update_index, Path(tmp)), sys.stdout, indent=1, sort_keys=True)
        print()
