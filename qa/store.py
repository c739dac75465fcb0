"""The index on disk: FAISS vectors, passage offsets, document texts, BM25 and a checked manifest.

Layout of an index folder:

    index/
      CURRENT                 name of the live generation (replaced atomically)
      gen-<time>-<pid>/       one complete, immutable generation
        manifest.json         format, model, dimension, counts, per-document hashes, file sizes, checksum
        documents.jsonl       one document a line: id, title, text, hash, root
        passages.npy          (doc, start, end) per passage: offsets into the document text
        vectors.npy           normalised embeddings, row i = passage i (memory-mapped when reused)
        entities.npy          (doc, start, end, label) named entities found at ingest
        faiss.index           exact (flat inner product) or HNSW past a size threshold
        lexical/              bm25s index over stemmed terms and name skeletons

A new generation is written beside the old one and only then named in CURRENT, so an ingest
killed at any moment leaves the previous generation in force.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qa.annotate import ENT_DTYPE
from qa.errors import IndexCorruptError, IndexNotFoundError
from qa.models import Document, Passage

FORMAT_VERSION = 1
PASSAGE_DTYPE = np.dtype([("doc", "<i4"), ("start", "<i8"), ("end", "<i8")])
CURRENT = "CURRENT"
_RERUN = "Re-run `qa ingest` to rebuild the index."


@dataclass
class DocInfo:
    doc_id: str
    title: str
    sha256: str
    chars: int
    root: str
    first: int  # first passage row
    count: int  # number of passage rows


@dataclass
class IndexData:
    """A loaded generation. Passage texts are sliced from document texts on demand."""

    path: Path
    manifest: dict[str, Any]
    docs: list[DocInfo]
    texts: list[str]
    passages: np.ndarray  # PASSAGE_DTYPE
    faiss_index: Any
    lexical: Any
    entities: np.ndarray | None = None
    vectors: np.ndarray | None = None
    doc_index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.doc_index:
            self.doc_index = {d.doc_id: i for i, d in enumerate(self.docs)}

    @property
    def n_passages(self) -> int:
        return int(len(self.passages))

    def passage(self, row: int) -> Passage:
        rec = self.passages[row]
        d = int(rec["doc"])
        s, e = int(rec["start"]), int(rec["end"])
        return Passage(self.docs[d].doc_id, s, e, self.texts[d][s:e])

    def document(self, doc_id: str) -> Document:
        i = self.doc_index[doc_id]
        info = self.docs[i]
        return Document(info.doc_id, info.title, self.texts[i], info.sha256, info.root)

    def entities_of(self, doc: int) -> np.ndarray:
        """Entity rows of document number `doc`, ordered by start offset."""
        if self.entities is None or len(self.entities) == 0:
            return np.zeros(0, dtype=ENT_DTYPE)
        col = self.entities["doc"]
        lo, hi = np.searchsorted(col, doc, "left"), np.searchsorted(col, doc, "right")
        return self.entities[lo:hi]

    def text_of(self, doc_id: str) -> str:
        return self.texts[self.doc_index[doc_id]]

    def title_of(self, doc_id: str) -> str:
        return self.docs[self.doc_index[doc_id]].title


def _require_faiss() -> Any:
    try:
        import faiss
    except ImportError as e:
        raise ImportError("FAISS is not available - install faiss-cpu") from e
    return faiss


def build_faiss(vectors: np.ndarray, exact_max: int) -> Any:
    """Exact inner-product search for small corpora; HNSW beyond `exact_max` passages."""
    faiss = _require_faiss()
    dim = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[0] else 384
    if len(vectors) <= exact_max:
        index = faiss.IndexFlatIP(dim)
    else:
        # Inner product equals cosine similarity on normalised vectors.
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 96
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def build_lexical(term_lists: list[list[str]]) -> Any:
    import bm25s

    retriever = bm25s.BM25()
    if term_lists:
        # bm25s needs at least one term per passage; an empty passage gets a placeholder.
        retriever.index([t if t else ["\x00"] for t in term_lists], show_progress=False)
    return retriever


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _manifest_checksum(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def write_generation(
    index_dir: Path,
    docs: list[DocInfo],
    texts: list[str],
    passages: np.ndarray,
    entities: np.ndarray,
    vectors: np.ndarray,
    faiss_index: Any,
    lexical: Any,
    model: str,
    dim: int,
    settings_fingerprint: dict[str, Any],
) -> Path:
    """Write a complete generation beside the current one, fsync it, then switch CURRENT to it."""
    faiss = _require_faiss()
    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
    tmp = index_dir / (".tmp-" + name)
    tmp.mkdir()
    try:
        with (tmp / "documents.jsonl").open("w", encoding="utf-8") as f:
            for info, text in zip(docs, texts):
                f.write(json.dumps({"doc_id": info.doc_id, "title": info.title, "sha256": info.sha256,
                                    "root": info.root, "first": info.first, "count": info.count,
                                    "text": text}, ensure_ascii=False) + "\n")
        np.save(tmp / "passages.npy", passages.astype(PASSAGE_DTYPE, copy=False))
        np.save(tmp / "entities.npy", entities.astype(ENT_DTYPE, copy=False))
        np.save(tmp / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32))
        faiss.write_index(faiss_index, str(tmp / "faiss.index"))
        lexical.save(str(tmp / "lexical"))
        files = {}
        for p in sorted(tmp.rglob("*")):
            if p.is_file():
                rel = p.relative_to(tmp).as_posix()
                small = p.stat().st_size < 64 * 1024 * 1024
                files[rel] = {"size": p.stat().st_size, "sha256": _file_sha256(p) if small else None}
        manifest: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "model": model,
            "dim": dim,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "n_documents": len(docs),
            "n_passages": int(len(passages)),
            "index_kind": type(faiss_index).__name__,
            "settings": settings_fingerprint,
            "documents": {d.doc_id: d.sha256 for d in docs},
            "files": files,
        }
        manifest["checksum"] = _manifest_checksum(manifest)
        with (tmp / "manifest.json").open("w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=1, ensure_ascii=False)
        _fsync_tree(tmp)
        final = index_dir / name
        os.replace(tmp, final)
        _write_current(index_dir, name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _collect_garbage(index_dir, keep=name)
    return final


def _fsync_tree(root: Path) -> None:
    for p in [*root.rglob("*"), root]:
        try:
            fd = os.open(p, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)


def _write_current(index_dir: Path, name: str) -> None:
    tmp = index_dir / f".{CURRENT}.{os.getpid()}"
    with tmp.open("w") as f:
        f.write(name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, index_dir / CURRENT)
    try:
        fd = os.open(index_dir, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    except OSError:
        pass


def _collect_garbage(index_dir: Path, keep: str) -> None:
    """Remove older generations and leftovers of killed ingests; never the live one."""
    for p in index_dir.iterdir():
        if p.name == keep or p.name == CURRENT:
            continue
        if p.name.startswith(("gen-", ".tmp-gen-", f".{CURRENT}.")):
            # A generation another live process may still be reading stays for a minute.
            if p.name.startswith("gen-") and time.time() - p.stat().st_mtime < 60:
                continue
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)


def current_generation(index_dir: Path) -> Path:
    pointer = index_dir / CURRENT
    if not index_dir.exists() or not pointer.exists():
        raise IndexNotFoundError(f"No index at {index_dir}/. Build one with `qa ingest corpus/ --index {index_dir}`.")
    try:
        name = pointer.read_text().strip()
    except (OSError, UnicodeDecodeError) as e:
        raise IndexCorruptError(f"{pointer} cannot be read ({e}). {_RERUN}") from e
    gen = index_dir / name
    if not name.startswith("gen-") or "/" in name or not gen.is_dir():
        raise IndexCorruptError(f"{pointer} names a missing generation {name!r}. {_RERUN}")
    return gen


def load(index_dir: Path, expect_model: str, expect_dim: int, with_vectors: bool = False) -> IndexData:
    """Load and check the live generation; any inconsistency is an IndexCorruptError naming the file."""
    gen = current_generation(index_dir)
    mpath = gen / "manifest.json"
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise IndexCorruptError(f"{mpath} is missing. {_RERUN}") from e
    except (OSError, ValueError) as e:
        raise IndexCorruptError(f"{mpath} is damaged ({e}). {_RERUN}") from e
    if not isinstance(manifest, dict) or manifest.get("checksum") != _manifest_checksum(manifest):
        raise IndexCorruptError(f"{mpath} was edited or damaged (checksum mismatch). {_RERUN}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexCorruptError(
            f"{mpath}: index format {manifest.get('format_version')} but this docqa reads format {FORMAT_VERSION}. {_RERUN}"
        )
    if manifest.get("model") != expect_model or manifest.get("dim") != expect_dim:
        raise IndexCorruptError(
            f"{mpath}: index built with model {manifest.get('model')} ({manifest.get('dim')}d), "
            f"but this docqa uses {expect_model} ({expect_dim}d). {_RERUN}"
        )
    for rel, meta in manifest["files"].items():
        p = gen / rel
        if not p.is_file():
            raise IndexCorruptError(f"{p} is missing. {_RERUN}")
        if p.stat().st_size != meta["size"]:
            raise IndexCorruptError(f"{p} is truncated or altered (size {p.stat().st_size}, expected {meta['size']}). {_RERUN}")
        if meta.get("sha256") and rel != "vectors.npy" and _file_sha256(p) != meta["sha256"]:
            raise IndexCorruptError(f"{p} is damaged (checksum mismatch). {_RERUN}")
    faiss = _require_faiss()
    try:
        docs: list[DocInfo] = []
        texts: list[str] = []
        with (gen / "documents.jsonl").open(encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                text = rec["text"]
                texts.append(text)
                docs.append(DocInfo(rec["doc_id"], rec["title"], rec["sha256"], len(text), rec["root"],
                                    int(rec["first"]), int(rec["count"])))
        passages = np.load(gen / "passages.npy", mmap_mode="r")
        ents = np.load(gen / "entities.npy")
        findex = faiss.read_index(str(gen / "faiss.index"))
        import bm25s

        lexical = bm25s.BM25.load(str(gen / "lexical"), mmap=True)
        vectors = np.load(gen / "vectors.npy", mmap_mode="r") if with_vectors else None
    except (OSError, ValueError, KeyError, RuntimeError, json.JSONDecodeError) as e:
        raise IndexCorruptError(f"{gen} could not be read ({type(e).__name__}: {e}). {_RERUN}") from e
    if findex.ntotal != len(passages) or len(passages) != manifest["n_passages"] or len(docs) != manifest["n_documents"]:
        raise IndexCorruptError(f"{gen}: files disagree on the number of passages. {_RERUN}")
    if findex.d != expect_dim:
        raise IndexCorruptError(f"{gen / 'faiss.index'} has dimension {findex.d}, expected {expect_dim}. {_RERUN}")
    return IndexData(gen, manifest, docs, texts, passages, findex, lexical, ents, vectors)
