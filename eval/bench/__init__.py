"""Performance and scale figures for docqa: `python -m eval.bench --quick` (a few minutes).

One command measures, on this machine and in one run, so that every ratio compares like with like:

  cold     seconds from process start to the first answer (model and index load), per index
  latency  warm in-process question latency over eval/gold.jsonl, split by stage
  ingest   end-to-end ingestion rate next to raw SentenceTransformer.encode on the same passages,
           and re-ingesting an unchanged 10k-passage folder
  server   `qa serve` on loopback under 1, 4 and 16 concurrent clients (httpx, bounded requests)
  scale    synthetic 10k / 100k (quick) and 1M passages: build time, disk, serving memory, latency,
           recall@10 of the approximate vector index against exact search on the same vectors
  peers    rank_bm25 against our lexical search, FAISS exact against the approximate index,
           Haystack (in-memory BM25 and embedding retrievers, same local model) against ours
  ray      (only when named in --sections) one fresh ingest of corpus/ x --ray-copies with the
           local engine and with Ray at 1 and 2 workers: passages/s, per worker, overhead
  ann      (only when named) HNSW as shipped, IVF-PQ with and without exact re-ranking and IVF-Flat
           on --ann-size synthetic vectors: build, bytes per vector, recall@10, one-thread search
           time; memory and disk extrapolated to 10M / 100M, and the option a rule picks from them
  estimate (only when named) ingest time at 10M / 100M passages on 1-64 nodes and the index at
           10M, arithmetic on this run's (or the newest saved) ray, ingest, scale and ann figures

Synthetic corpora recombine the bundled articles' sentences (four-sentence windows, one shared, as
`qa ingest` cuts them). Entities and BM25 terms are exactly those of the sentences. Embedding a
million passages would take hours on two cores, so a base set of recombined passages (1k quick,
5k full) gets real embeddings, and every passage beyond it the normalised sum of its sentences'
real embeddings plus a little noise: a vector that agrees with the passage's text (cos 0.88 to
the real embedding, on average), so retrieval and answering behave as on real text. Perturbed
copies of base vectors with isotropic noise are an adversarial case for any graph index (no
structure to exploit); recall on those is reported too, as a stress figure, at 100k.

The table is printed and written, with every raw figure, to eval/bench_results/latest.json and
latest.md. Big indexes live in --work (default /tmp/docqa-bench); --reuse keeps a scale index that
was built with the same parameters, since building the 1M HNSW graph takes a long time.

One module per section (cold, latency, ingest, server, scale, peers, ray_ingest, ann, estimate), with common
(paths, percentiles, the machine record), synthetic (corpus and vector generation) and report
(targets and the table); __main__ runs them. Importing the package sets the offline environment
variables above before anything imports the models.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
