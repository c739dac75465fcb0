"""The local backend: the index on disk, FAISS vectors, passage offsets, document texts, BM25 and a checked manifest.

Layout of an index folder:

    index/
      CURRENT                 name of the live generation (replaced atomically)
      gen-<time>-<pid>/       one complete, immutable generation
        manifest.json         format, model, dimension, counts, per-document hashes, file sizes, checksum
        documents.jsonl       one document a line: id, title, hash, root, characters, passage rows
        texts.bin             every document's text, UTF-8, one after another (memory-mapped)
        text_offsets.npy      byte offset of each document's text in texts.bin, plus the end
        passages.npy          (doc, start, end) per passage: character offsets into the document text
        vectors.npy           normalised embeddings, row i = passage i (memory-mapped)
        entities.npy          (doc, start, end, label) named entities found at ingest (memory-mapped)
        faiss.index           exact (flat inner product) or HNSW past a size threshold
        lexical/              bm25s index over stemmed terms and name skeletons

Loading maps the large files instead of reading them, so a million-passage index opens in about a
second and its texts, vectors and postings stay in the page cache, shared between processes, rather
than in Python objects; a document's text is decoded when it is read.

A new generation is written beside the old one and only then named in CURRENT, so an ingest
killed at any moment leaves the previous generation in force.
"""

from __future__ import annotations

import bisect
import contextlib
import errno
import hashlib
import json
import mmap
import os
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np

from qa.annotate import ENT_DTYPE
from qa.errors import IndexCorruptError, IndexNotFoundError
from qa.index import bm25_lexical, faiss_vectors
from qa.index.base import IndexWriter, LexicalIndex, VectorIndex
from qa.index.bm25_lexical import Bm25LexicalIndex
from qa.index.faiss_vectors import FaissVectorIndex
from qa.models import Citation, Document, Passage

# 2: texts moved out of documents.jsonl into texts.bin + text_offsets.npy, read through a memory map.
FORMAT_VERSION = 2
PASSAGE_DTYPE = np.dtype([("doc", "<i4"), ("start", "<i8"), ("end", "<i8")])
# Every sentence of every document, in document order, with its vector (sentence_vectors.npy): the
# answerer reads sentences, so a new question embeds only itself. Generations written before these
# files existed still load; their answerer embeds sentences at question time as it used to.
SENTENCE_DTYPE = PASSAGE_DTYPE
CURRENT = "CURRENT"
_RERUN = "Re-run `qa ingest` to rebuild the index."
# Files at least this large are checked by size only when an index is opened: hashing a
# multi-gigabyte index on every start would cost more than the rest of loading it.
_HASH_LIMIT = 64 * 1024 * 1024
# Vectors are read only while ingesting or answering, and are checked by size when an index opens;
# hashing them would double the time to open a large index.
_UNHASHED_ON_LOAD = frozenset({"vectors.npy", "sentence_vectors.npy"})
# Past this many vectors the FAISS index is memory-mapped rather than read into memory.
_MMAP_INDEX_MIN = 50_000


@dataclass
class DocInfo:
    doc_id: str
    title: str
    sha256: str
    chars: int
    root: str
    first: int  # first passage row
    count: int  # number of passage rows
    pages: tuple[int, ...] = ()  # where each page begins in the text (PDF); () when not paged


class TextStore(Sequence[str]):
    """Document texts decoded on demand from one UTF-8 blob; `texts[d]` is document d's text.

    The blob is usually a memory map of texts.bin, so only the documents actually read are paged
    in. The last few decoded texts are kept: the answerer reads the same documents many times
    per question, and handing back the same string object keeps its per-text caches cheap.
    """

    def __init__(self, blob: bytes | mmap.mmap, offsets: np.ndarray, keep: int = 256) -> None:
        if len(offsets) == 0 or int(offsets[-1]) > len(blob):
            raise ValueError(f"text offsets run past the end of the text ({len(blob)} bytes)")
        self._blob = blob
        self._offsets = offsets
        self._keep = keep
        self._recent: OrderedDict[int, str] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        j = int(i)
        if j < 0:
            j += n
        if not 0 <= j < n:
            raise IndexError(f"document {i} out of range (the index has {n} documents)")
        with self._lock:
            hit = self._recent.get(j)
            if hit is not None:
                self._recent.move_to_end(j)
                return hit
        text = bytes(self._blob[int(self._offsets[j]) : int(self._offsets[j + 1])]).decode("utf-8")
        with self._lock:
            self._recent[j] = text
            if len(self._recent) > self._keep:
                self._recent.popitem(last=False)
        return text

    def __iter__(self) -> Iterator[str]:
        for j in range(len(self)):
            yield self[j]


@dataclass
class IndexData:
    """A loaded generation: its documents (a `DocStore`) with its `VectorIndex` and `LexicalIndex`.

    Passage texts are sliced from document texts on demand.
    """

    path: Path
    manifest: dict[str, Any]
    docs: list[DocInfo]
    texts: Sequence[str]
    passages: np.ndarray  # PASSAGE_DTYPE
    dense: VectorIndex
    lexical: LexicalIndex
    entities: np.ndarray | None = None
    vectors: np.ndarray | None = None
    doc_index: dict[str, int] = field(default_factory=dict)
    sentences: np.ndarray | None = None  # SENTENCE_DTYPE, ordered by (doc, start); None: not stored
    sentence_vectors: np.ndarray | None = None  # one row per sentence, memory-mapped

    def __post_init__(self) -> None:
        self._entity_bounds: np.ndarray | None = None
        self._sentence_bounds: np.ndarray | None = None
        if not self.doc_index:
            self.doc_index = {d.doc_id: i for i, d in enumerate(self.docs)}

    @property
    def n_passages(self) -> int:
        return int(len(self.passages))

    def passage(self, row: int) -> Passage:
        rec = self.passages[row]
        d = int(rec["doc"])
        s, e = int(rec["start"]), int(rec["end"])
        return Passage(self.docs[d].doc_id, s, e, self.texts[d][s:e], self.page_of(d, s))

    def document(self, doc_id: str) -> Document:
        i = self.doc_index[doc_id]
        info = self.docs[i]
        return Document(info.doc_id, info.title, self.texts[i], info.sha256, info.root, info.pages)

    def rows_of(self, docs: Iterable[int]) -> np.ndarray:
        """The passage rows of document numbers `docs`, ascending: a question asked within them."""
        parts = [np.arange(self.docs[d].first, self.docs[d].first + self.docs[d].count) for d in sorted(set(docs))]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)

    def page_of(self, doc: int, offset: int) -> int | None:
        """The 1-based page of document number `doc` that holds character `offset`; None if not paged."""
        pages = self.docs[doc].pages
        return bisect.bisect_right(pages, offset) if pages else None

    def entities_of(self, doc: int) -> np.ndarray:
        """Entity rows of document number `doc`, ordered by start offset."""
        if self.entities is None or len(self.entities) == 0:
            return np.zeros(0, dtype=ENT_DTYPE)
        bounds = self._entity_bounds
        if bounds is None:
            bounds = self._entity_bounds = _doc_bounds(self.entities, len(self.docs))
        if not 0 <= doc < len(bounds) - 1:
            return self.entities[0:0]
        return self.entities[int(bounds[doc]) : int(bounds[doc + 1])]

    def sentence_rows(self, doc: int) -> tuple[int, int] | None:
        """Rows [lo, hi) of document number `doc`'s stored sentences; None when none are stored."""
        if self.sentences is None or self.sentence_vectors is None:
            return None
        bounds = self._sentence_bounds
        if bounds is None:
            bounds = self._sentence_bounds = _doc_bounds(self.sentences, len(self.docs))
        if not 0 <= doc < len(bounds) - 1:
            return None
        return int(bounds[doc]), int(bounds[doc + 1])

    def sentence_spans(self, doc: int) -> list[tuple[int, int]] | None:
        """Document number `doc`'s stored sentence spans, in order; None when none are stored."""
        rows = self.sentence_rows(doc)
        if rows is None or self.sentences is None:
            return None
        recs = self.sentences[rows[0] : rows[1]]
        return list(zip(recs["start"].tolist(), recs["end"].tolist()))

    def stored_sentence_vector(self, doc: int, start: int, end: int) -> np.ndarray | None:
        """The stored vector of the sentence [start, end) of document number `doc`, if stored."""
        rows = self.sentence_rows(doc)
        if rows is None or self.sentences is None or self.sentence_vectors is None:
            return None
        lo, hi = rows
        starts = self.sentences["start"][lo:hi]
        i = lo + int(np.searchsorted(starts, start))
        if i < hi and int(self.sentences["start"][i]) == start and int(self.sentences["end"][i]) == end:
            return np.asarray(self.sentence_vectors[i], dtype=np.float32)
        return None

    def document_frequencies(self) -> dict[str, int]:
        """Passages per lexical term (stems, and "~skeleton" keys for names), from the BM25 index."""
        return self.lexical.document_frequencies()

    def citation(self, doc: int, start: int, end: int, sent_start: int, sent_end: int, score: float) -> Citation:
        """A citation of document number `doc`'s span [start, end) in sentence [sent_start, sent_end)."""
        info = self.docs[doc]
        text = self.texts[doc]
        return Citation(
            info.doc_id,
            info.title,
            start,
            end,
            text[start:end],
            text[sent_start:sent_end],
            sent_start,
            round(score, 4),
            self.page_of(doc, start),
            info.sha256,
        )

    def text_of(self, doc_id: str) -> str:
        return self.texts[self.doc_index[doc_id]]

    def title_of(self, doc_id: str) -> str:
        return self.docs[self.doc_index[doc_id]].title


def build_faiss(vectors: np.ndarray, exact_max: int) -> FaissVectorIndex:
    """Exact inner-product search for small corpora; HNSW beyond `exact_max` passages."""
    return faiss_vectors.build(vectors, exact_max)


def build_lexical(term_lists: list[list[str]]) -> Bm25LexicalIndex:
    """BM25 over each passage's terms."""
    return bm25_lexical.build(term_lists)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks (index files and model files alike)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _doc_bounds(rows: np.ndarray, n_docs: int) -> np.ndarray:
    """Where each document's rows begin in `rows` (sorted by "doc"), with the end as the last item.

    Found once per generation: searching the strided "doc" column of the record array on every call
    would copy all of it (tens of MB at 1M passages).
    """
    col = np.ascontiguousarray(rows["doc"])
    return np.searchsorted(col, np.arange(n_docs + 1), "left")


def _manifest_checksum(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def write_generation(
    index_dir: Path,
    docs: list[DocInfo],
    texts: Sequence[str],
    passages: np.ndarray,
    entities: np.ndarray,
    vectors: np.ndarray,
    dense: VectorIndex,
    lexical: LexicalIndex,
    model: str,
    dim: int,
    settings_fingerprint: dict[str, Any],
    sentences: np.ndarray | None = None,
    sentence_vectors: np.ndarray | None = None,
) -> Path:
    """Write a complete generation beside the current one, fsync it, then switch CURRENT to it.

    `sentences` (SENTENCE_DTYPE) and `sentence_vectors` are written when given.
    """
    if not isinstance(dense, FaissVectorIndex) or not isinstance(lexical, Bm25LexicalIndex):
        raise TypeError(
            f"the local backend writes FAISS and bm25s indexes, not {type(dense).__name__} and {type(lexical).__name__}"
        )
    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
    tmp = index_dir / (".tmp-" + name)
    tmp.mkdir()
    try:
        if len(texts) != len(docs):
            raise ValueError(f"{len(docs)} documents but {len(texts)} texts")
        with (tmp / "documents.jsonl").open("w", encoding="utf-8") as f:
            for info in docs:
                f.write(
                    json.dumps(
                        {
                            "doc_id": info.doc_id,
                            "title": info.title,
                            "sha256": info.sha256,
                            "root": info.root,
                            "chars": info.chars,
                            "first": info.first,
                            "count": info.count,
                            **({"pages": list(info.pages)} if info.pages else {}),
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )
        sizes = _write_texts(tmp / "texts.bin", texts)
        _save_array(tmp / "text_offsets.npy", _offsets_from_sizes(sizes))
        _save_array(tmp / "passages.npy", passages.astype(PASSAGE_DTYPE, copy=False))
        _save_array(tmp / "entities.npy", entities.astype(ENT_DTYPE, copy=False))
        _save_array(tmp / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32))
        if sentences is not None and sentence_vectors is not None:
            if len(sentences) != len(sentence_vectors):
                raise ValueError(f"{len(sentences)} sentences but {len(sentence_vectors)} sentence vectors")
            _save_array(tmp / "sentences.npy", sentences.astype(SENTENCE_DTYPE, copy=False))
            _save_array(tmp / "sentence_vectors.npy", np.ascontiguousarray(sentence_vectors, dtype=np.float32))
        with _clear_write_errors(tmp, "faiss.index"), (tmp / "faiss.index").open("wb") as f:
            dense.write(f)
        with _clear_write_errors(tmp, "lexical/"):
            lexical.save(tmp / "lexical")
        files = {}
        for p in sorted(tmp.rglob("*")):
            if p.is_file():
                rel = p.relative_to(tmp).as_posix()
                small = p.stat().st_size < _HASH_LIMIT
                files[rel] = {"size": p.stat().st_size, "sha256": file_sha256(p) if small else None}
        manifest: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "model": model,
            "dim": dim,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "n_documents": len(docs),
            "n_passages": len(passages),
            "index_kind": dense.kind,
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


def _write_texts(path: Path, texts: Sequence[str]) -> list[int]:
    """Write the texts one after another as UTF-8; returns each one's size in bytes."""
    sizes: list[int] = []
    with path.open("wb") as f:
        for text in texts:
            data = text.encode("utf-8")
            f.write(data)
            sizes.append(len(data))
    return sizes


def _save_array(path: Path, arr: np.ndarray) -> None:
    with _clear_write_errors(path.parent, path.name):
        np.save(path, arr)


@contextlib.contextmanager
def _clear_write_errors(folder: Path, what: str) -> Iterator[None]:
    """Turn a library's vague write failure into an OSError with an errno, which callers report.

    On a full disk faiss raises RuntimeError and numpy an OSError without errno ("N requested and M
    written"); either becomes ENOSPC ("No space left on device") when the disk is (nearly) full,
    else EIO naming the file.
    """
    try:
        yield
    except (RuntimeError, OSError) as e:
        if isinstance(e, OSError) and e.errno is not None:
            raise
        try:
            full = shutil.disk_usage(folder).free < 1024 * 1024
        except OSError:
            full = False
        if full:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)) from e
        raise OSError(errno.EIO, f"{os.strerror(errno.EIO)} writing {what} ({e})") from e


def _offsets_from_sizes(sizes: Sequence[int]) -> np.ndarray:
    offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
    if sizes:
        np.cumsum(np.asarray(sizes, dtype=np.int64), out=offsets[1:])
    return offsets


def _map_file(path: Path) -> bytes | mmap.mmap:
    with path.open("rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return b""  # an empty file cannot be mapped
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


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
    """The generation folder the `CURRENT` pointer names.

    Raises:
        IndexNotFoundError: no index (or no pointer) at `index_dir`.
        IndexCorruptError: the pointer cannot be read or names a missing generation.
    """
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


def _load_sentences(gen: Path, manifest: dict[str, Any], dim: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The stored sentences and their vectors, memory-mapped; (None, None) for a generation without them."""
    if "sentences.npy" not in manifest["files"]:
        return None, None
    sentences = np.load(gen / "sentences.npy", mmap_mode="r")
    vectors = np.load(gen / "sentence_vectors.npy", mmap_mode="r")
    if vectors.shape != (len(sentences), dim):
        raise ValueError(f"sentence_vectors.npy has shape {vectors.shape} for {len(sentences)} sentences")
    return sentences, vectors


def load(index_dir: Path, expect_model: str, expect_dim: int, with_vectors: bool = False) -> IndexData:
    """Load and check the live generation; any inconsistency is an IndexCorruptError naming the file.

    Args:
        index_dir: the index folder (holding `CURRENT` and the `gen-*` generations).
        expect_model: the embedding model's name; an index built with another one is refused.
        expect_dim: the model's vector dimension.
        with_vectors: also memory-map `vectors.npy` (the indexer reuses the stored embeddings).

    Returns:
        The loaded generation.

    Raises:
        IndexNotFoundError: no index at `index_dir`.
        IndexCorruptError: a missing or damaged file, a checksum mismatch, or another model or format.
    """
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
            f"{mpath}: index format {manifest.get('format_version')} "
            f"but this docqa reads format {FORMAT_VERSION}. {_RERUN}"
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
            raise IndexCorruptError(
                f"{p} is truncated or altered (size {p.stat().st_size}, expected {meta['size']}). {_RERUN}"
            )
        if meta.get("sha256") and rel not in _UNHASHED_ON_LOAD and file_sha256(p) != meta["sha256"]:
            raise IndexCorruptError(f"{p} is damaged (checksum mismatch). {_RERUN}")
    try:
        docs: list[DocInfo] = []
        with (gen / "documents.jsonl").open(encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                docs.append(
                    DocInfo(
                        rec["doc_id"],
                        rec["title"],
                        rec["sha256"],
                        int(rec["chars"]),
                        rec["root"],
                        int(rec["first"]),
                        int(rec["count"]),
                        tuple(int(p) for p in rec.get("pages", ())),
                    )
                )
        offsets = np.load(gen / "text_offsets.npy")
        if offsets.shape != (len(docs) + 1,):
            raise ValueError(f"text_offsets.npy has {offsets.shape[0]} entries for {len(docs)} documents")
        texts = TextStore(_map_file(gen / "texts.bin"), offsets)
        passages = np.load(gen / "passages.npy", mmap_mode="r")
        ents = np.load(gen / "entities.npy", mmap_mode="r")
        # A large index's vectors are memory-mapped (pages load as they are searched).
        findex = faiss_vectors.read(gen / "faiss.index", int(manifest.get("n_passages", 0)) >= _MMAP_INDEX_MIN)
        lexical = bm25_lexical.load(gen / "lexical")
        vectors = np.load(gen / "vectors.npy", mmap_mode="r") if with_vectors else None
        sentences, sentence_vectors = _load_sentences(gen, manifest, expect_dim)
    except (OSError, ValueError, KeyError, RuntimeError, json.JSONDecodeError) as e:
        raise IndexCorruptError(f"{gen} could not be read ({type(e).__name__}: {e}). {_RERUN}") from e
    if (
        findex.ntotal != len(passages)
        or len(passages) != manifest["n_passages"]
        or len(docs) != manifest["n_documents"]
    ):
        raise IndexCorruptError(f"{gen}: files disagree on the number of passages. {_RERUN}")
    if findex.dim != expect_dim:
        raise IndexCorruptError(f"{gen / 'faiss.index'} has dimension {findex.dim}, expected {expect_dim}. {_RERUN}")
    return IndexData(
        gen,
        manifest,
        docs,
        texts,
        passages,
        findex,
        lexical,
        ents,
        vectors,
        sentences=sentences,
        sentence_vectors=sentence_vectors,
    )


class LocalWriter:
    """The local backend's `IndexWriter`: FAISS and bm25s indexes in a new generation folder."""

    def build_vectors(self, vectors: np.ndarray, exact_max: int) -> VectorIndex:
        return build_faiss(vectors, exact_max)

    def build_lexical(self, term_lists: list[list[str]]) -> LexicalIndex:
        return build_lexical(term_lists)

    # The module's function, with the same parameters as `IndexWriter.write_generation`.
    write_generation = staticmethod(write_generation)


class LocalBackend:
    """Today's folder format: generations, manifest, atomic `CURRENT` switch, checksums, memory maps."""

    def open(self, index_dir: Path, expect_model: str, expect_dim: int, with_vectors: bool = False) -> IndexData:
        return load(index_dir, expect_model, expect_dim, with_vectors)

    def writer(self) -> IndexWriter:
        return LocalWriter()

    def current(self, index_dir: Path) -> str:
        return current_generation(index_dir).name
