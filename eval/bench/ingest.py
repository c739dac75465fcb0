"""Ingestion rate: end-to-end `update_index` next to raw SentenceTransformer.encode of the same passages.

Their ratio is what ingest costs beyond embedding (parsing, chunking, NER, BM25, writing). Ingest
embeds every passage and every sentence (the answerer's unit), so the target's raw encode is of both;
the passages-only ratio is kept beside it, as earlier runs reported it. Re-ingesting an
unchanged 10k-passage folder, in process and as a `qa ingest` command, is what a no-op run costs.
"""

from __future__ import annotations

import gc
import shutil
import time
from pathlib import Path
from typing import Any

from qa import annotate, store
from qa.chunk import split_sentences
from qa.config import Settings
from qa.embed import MiniLMEmbedder
from qa.indexer import update_index

from .common import qa_command, run_child
from .synthetic import SEED, Pool, synthesize, write_files


def section_ingest(embedder: MiniLMEmbedder, pool: Pool, head: tuple[Any, ...], n: int, work: Path) -> dict[str, Any]:
    """End-to-end `update_index` on a fresh folder, then raw encode of the very same passages."""
    folder = work / "ingest-corpus"
    index_dir = work / "ingest-index"
    for p in (folder, index_dir):
        shutil.rmtree(p, ignore_errors=True)
    syn = synthesize(pool, n + len(head[2]), SEED + 100, head, str(folder.resolve()))
    n_head = len(head[0])
    write_files(syn, folder, n_head)  # synthetic documents only: new text throughout
    settings = Settings(index_dir=index_dir)
    embedder.encode(["warm-up"] * 20)  # the model is loaded and bulk threads warmed before timing
    # The very passages ingest will embed, as `qa ingest` cuts them (the chunking is not timed here).
    texts = [p.text for doc in syn.docs[n_head:] for p in _chunks(doc.doc_id, folder, embedder)]
    sentences = [x for doc in syn.docs[n_head:] for x in _sentences(doc.doc_id, folder)]
    model, torch = embedder.model, embedder._torch

    def raw_encode(part: list[str]) -> float:
        """sentence-transformers' own encode, one call, all cores (as ingest uses)."""
        torch.set_num_threads(embedder.bulk_threads)
        try:
            t = time.perf_counter()
            model.encode(part, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
            return time.perf_counter() - t
        finally:
            torch.set_num_threads(embedder.query_threads)

    # Raw encode of every other passage before ingest and of the rest after it, so that a change
    # in the machine's load during the run weighs on both sides alike.
    raw = raw_encode(texts[0::2])
    raw_sentences = raw_encode(sentences[0::2])
    gc.collect()
    t = time.perf_counter()
    report = update_index(settings, embedder, roots=[folder])
    took = time.perf_counter() - t
    raw += raw_encode(texts[1::2])
    raw_sentences += raw_encode(sentences[1::2])
    data = store.load(index_dir, embedder.name, embedder.dim)
    if len(texts) != data.n_passages:
        raise RuntimeError(f"raw encode saw {len(texts)} passages but ingest made {data.n_passages}")
    docs = [data.texts[i] for i in range(len(data.docs))]
    t = time.perf_counter()
    annotate.entities(docs)
    ner_alone = time.perf_counter() - t
    t = time.perf_counter()
    again = update_index(settings, embedder, roots=[folder])
    reingest = time.perf_counter() - t
    return {
        "passages": report.total_passages,
        "documents": report.total_documents,
        "ingest_s": round(took, 2),
        "ingest_passages_per_s": round(report.total_passages / took, 1),
        "raw_encode_s": round(raw, 2),
        "raw_encode_passages_per_s": round(len(texts) / raw, 1),
        "ratio_ingest_to_raw": round(took / raw, 3),  # passages only, as before sentences had vectors
        "sentences": len(sentences),
        "embedded_sentences": report.embedded_sentences,
        "raw_encode_sentences_s": round(raw_sentences, 2),
        # The target: everything that is not embedding, against embedding all that ingest embeds.
        "ratio_ingest_to_embedding": round(took / (raw + raw_sentences), 3),
        "stages_s": {k: round(v, 2) for k, v in report.timings_s.items()},
        "ner_alone_s": round(ner_alone, 2),
        "reingest_unchanged_s": round(reingest, 3),
        "reingest_changed": again.changed,
    }


def _chunks(doc_id: str, folder: Path, embedder: MiniLMEmbedder) -> list[Any]:
    """Passages of one written file exactly as ingest cuts them (same settings, same token counter)."""
    from qa.chunk import make_passages
    from qa.ingest import parse_document

    doc = parse_document(doc_id, (folder / doc_id).read_bytes())
    s = Settings()
    return make_passages(
        doc.doc_id,
        doc.text,
        split_sentences(doc.text),
        max_tokens=s.passage_max_tokens,
        max_sentences=s.passage_max_sentences,
        overlap=s.passage_overlap_sentences,
        count_tokens=embedder.count_tokens,
    )


def _sentences(doc_id: str, folder: Path) -> list[str]:
    """Sentences of one written file exactly as ingest embeds them."""
    from qa.ingest import parse_document

    doc = parse_document(doc_id, (folder / doc_id).read_bytes())
    return [doc.text[x.start : x.end] for x in split_sentences(doc.text)]


def section_reingest_10k(folder: Path, index_dir: Path, embedder: MiniLMEmbedder) -> dict[str, Any]:
    """Re-ingest of an unchanged 10k-passage folder: in process, and as a `qa ingest` command."""
    settings = Settings(index_dir=index_dir)
    t = time.perf_counter()
    report = update_index(settings, embedder, roots=[folder])
    in_process = time.perf_counter() - t
    cmd = qa_command()
    t = time.perf_counter()
    out = run_child([*cmd, "ingest", str(folder), "--index", str(index_dir)], timeout=600)
    command = time.perf_counter() - t
    return {
        "passages": report.total_passages,
        "documents": report.total_documents,
        "changed": report.changed,
        "in_process_s": round(in_process, 3),
        "command_s": round(command, 2),
        "command_output": out.stdout.strip()[-300:],
        "stages_s": {k: round(v, 3) for k, v in report.timings_s.items()},
    }
