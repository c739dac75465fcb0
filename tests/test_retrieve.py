"""Hybrid retrieval: lexical scores are bm25s's, and dense search agrees with brute force."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from qa import store
from qa.config import Settings
from qa.indexer import update_index
from qa.retrieve import Retriever
from qa.text import query_terms
from tests.fakes import FakeEmbedder

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
QUESTIONS = [
    "How much did Palyuga pay?",
    "Which network did John Kirby speak on?",
    "Torstrom Finland",
    "court court fined rubles rubles",
    "zzzz qqqq",
]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> store.IndexData:
    tmp = tmp_path_factory.mktemp("retrieve")
    shutil.copytree(CORPUS, tmp / "docs")
    settings = Settings(index_dir=tmp / "index")
    update_index(settings, FakeEmbedder(), roots=[tmp / "docs"])
    return store.load(settings.index_dir, FakeEmbedder.name, FakeEmbedder.dim, with_vectors=True)


@pytest.mark.parametrize("question", QUESTIONS)
def test_lexical_scores_equal_the_lexical_index_scores(data: store.IndexData, question: str) -> None:
    ret = Retriever(data, FakeEmbedder())
    terms = [t for t in ret.expand(query_terms(question)) if t in ret._vocab]
    ours = ret.lexical_scores(question)
    expected = data.lexical.scores(terms) if terms else np.zeros(data.n_passages)
    assert ours.shape == (data.n_passages,)
    assert np.array_equal(ours, expected.astype(np.float32))


def test_dense_search_with_a_given_vector_matches_brute_force(data: store.IndexData) -> None:
    emb = FakeEmbedder()
    ret = Retriever(data, emb, mode="dense")
    qv = emb.encode_query("Palyuga fined rubles court")
    ids, scores = ret.dense_search("ignored when qv is given", 5, qv)
    assert data.vectors is not None
    brute = np.asarray(data.vectors) @ qv
    assert np.allclose(scores, np.sort(brute)[::-1][:5], atol=1e-5)
    assert np.allclose(brute[ids], scores, atol=1e-5)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_search_within_documents_fills_k_from_them_alone(data: store.IndexData, mode: str) -> None:
    # The filter is applied inside each search, not to the top-k afterwards: a document that the
    # unrestricted search ranks low still yields its k best passages.
    ret = Retriever(data, FakeEmbedder(), mode=mode)
    question = "Which network did John Kirby speak on?"
    everywhere = {h.passage.doc_id for h in ret.search(question, k=5).hits}
    chosen = next(i for i, d in enumerate(data.docs) if d.doc_id not in everywhere or i == len(data.docs) - 1)
    k = min(5, data.docs[chosen].count)
    hits = ret.search(question, k=k, docs=frozenset({chosen})).hits
    assert {h.passage.doc_id for h in hits} <= {data.docs[chosen].doc_id}
    if mode != "lexical":  # BM25 returns only passages sharing a word with the question
        assert len(hits) == k


def test_dense_search_within_rows_equals_brute_force_over_them(data: store.IndexData) -> None:
    emb = FakeEmbedder()
    ret = Retriever(data, emb, mode="dense")
    qv = emb.encode_query("Palyuga fined rubles court")
    rows = data.rows_of([1, 3])
    ids, scores = ret.dense_search("", 8, qv, rows)
    vecs = np.asarray(data.vectors)[rows]
    expected = rows[np.argsort(-(vecs @ qv), kind="stable")[:8]]
    assert ids.tolist() == expected.tolist()
    assert np.allclose(scores, np.asarray(data.vectors)[ids] @ qv, atol=1e-5)


def test_search_within_documents_through_a_faiss_selector(
    data: store.IndexData, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past EXACT_FILTER_MAX passages the filter runs as a FAISS ID selector: same rows as exact.
    import qa.index.faiss_vectors

    emb = FakeEmbedder()
    ret = Retriever(data, emb, mode="dense")
    qv = emb.encode_query("Kirby National Security Council")
    rows = data.rows_of([0, 2])
    exact = ret.dense_search("", 6, qv, rows)[0].tolist()
    monkeypatch.setattr(qa.index.faiss_vectors, "EXACT_FILTER_MAX", 0)
    assert ret.dense_search("", 6, qv, rows)[0].tolist() == exact
