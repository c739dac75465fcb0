"""Storage behind interfaces: the local backend's indexes agree with brute force and with bm25s,
backends are chosen by name, and only the backend touches FAISS or bm25s."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import numpy as np
import pytest

import qa.index.faiss_vectors
from qa.config import Settings
from qa.errors import ConfigError, IndexNotFoundError
from qa.index import BACKENDS, IndexData, index_writer, live_generation, open_index
from qa.indexer import update_index
from qa.text import lexical_terms, query_terms
from tests.fakes import FakeEmbedder

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
# The only modules allowed to import the vector and lexical libraries.
BACKEND_MODULES = {"qa/index/faiss_vectors.py", "qa/index/bm25_lexical.py"}
LIBRARIES = {"faiss", "bm25s"}
QUESTIONS = ["How much did Palyuga pay?", "Torstrom Finland", "court court fined rubles rubles", "zzzz qqqq"]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> IndexData:
    tmp = tmp_path_factory.mktemp("index")
    shutil.copytree(CORPUS, tmp / "docs")
    settings = Settings(index_dir=tmp / "index")
    update_index(settings, FakeEmbedder(), roots=[tmp / "docs"])
    return open_index("local", settings.index_dir, FakeEmbedder.name, FakeEmbedder.dim, with_vectors=True)


def _queries() -> np.ndarray:
    emb = FakeEmbedder()
    return np.stack([emb.encode_query(q) for q in QUESTIONS]).astype(np.float32)


def test_vector_search_agrees_with_brute_force_over_the_stored_vectors(data: IndexData) -> None:
    assert data.vectors is not None
    stored = np.asarray(data.vectors)
    assert data.dense.ntotal == len(stored) == data.n_passages and data.dense.dim == FakeEmbedder.dim
    found = data.dense.search(_queries(), 7)
    for i, q in enumerate(_queries()):
        sims = stored @ q
        assert np.allclose(found.scores[i], np.sort(sims)[::-1][:7], atol=1e-5)
        assert np.allclose(sims[found.rows[i]], found.scores[i], atol=1e-5)


@pytest.mark.parametrize("exact_max", [50_000, 0], ids=["exact", "id-selector"])
def test_vector_search_within_allowed_rows_agrees_with_brute_force_over_them(
    data: IndexData, exact_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(qa.index.faiss_vectors, "EXACT_FILTER_MAX", exact_max)
    assert data.vectors is not None
    allowed = data.rows_of([1, 3])
    found = data.dense.search(_queries(), 6, allowed)
    for i, q in enumerate(_queries()):
        sims = np.asarray(data.vectors)[allowed] @ q
        assert set(found.rows[i].tolist()) <= set(allowed.tolist())
        assert np.allclose(found.scores[i], np.sort(sims)[::-1][:6], atol=1e-5)


def test_stored_vectors_are_the_ingested_ones(data: IndexData) -> None:
    assert data.vectors is not None
    rows = np.array([0, 5, data.n_passages - 1])
    assert np.array_equal(data.dense.vectors(rows), np.asarray(data.vectors)[rows])


@pytest.mark.parametrize("question", QUESTIONS[:-1])
def test_lexical_scores_equal_bm25s_scores(data: IndexData, question: str) -> None:
    import bm25s

    reference = bm25s.BM25.load(str(data.path / "lexical"))
    terms = [t for t in query_terms(question) if t in data.lexical.vocabulary]
    assert terms
    expected = np.asarray(reference.get_scores(terms), dtype=np.float32)
    assert np.array_equal(data.lexical.scores(terms), expected)


def test_document_frequencies_count_passages_holding_each_term(data: IndexData) -> None:
    df = data.document_frequencies()
    holding: dict[str, int] = {}
    for row in range(data.n_passages):
        for t in set(lexical_terms(data.passage(row).text)):
            holding[t] = holding.get(t, 0) + 1
    assert holding and set(df) <= set(data.lexical.vocabulary)
    assert {t: df.get(t) for t in holding} == holding


def test_an_unknown_backend_is_refused_naming_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'cloud'.*known: local"):
        open_index("cloud", tmp_path, FakeEmbedder.name, FakeEmbedder.dim)
    with pytest.raises(ConfigError, match="known: " + ", ".join(sorted(BACKENDS))):
        index_writer("cloud")


def test_the_live_generation_is_read_through_the_backend(data: IndexData, tmp_path: Path) -> None:
    index_dir = data.path.parent
    assert live_generation("local", index_dir) == data.path.name
    assert (index_dir / "CURRENT").read_text(encoding="utf-8").strip().endswith(data.path.name)
    with pytest.raises(IndexNotFoundError, match="qa ingest"):
        live_generation("local", tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="Unknown storage backend 'cloud'"):
        live_generation("cloud", index_dir)


def test_the_backend_is_chosen_by_qa_storage(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert Settings.from_env().storage_backend == "local"
    monkeypatch.setenv("QA_STORAGE", "cloud")
    settings = Settings.from_env(index_dir=tmp_path / "index")
    assert settings.storage_backend == "cloud"
    with pytest.raises(ConfigError, match="Unknown storage backend 'cloud'"):
        update_index(settings, FakeEmbedder(), roots=[CORPUS])
    assert not (tmp_path / "index" / "CURRENT").exists()


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_backend_imports_faiss_or_bm25s() -> None:
    offenders = []
    for path in sorted([*ROOT.glob("qa/**/*.py"), *ROOT.glob("web/**/*.py")]):
        rel = path.relative_to(ROOT).as_posix()
        found = _imports(path) & LIBRARIES
        if found and rel not in BACKEND_MODULES:
            offenders.append(f"{rel} imports {', '.join(sorted(found))}")
    assert not offenders, "only the storage backend may import FAISS or bm25s: " + "; ".join(offenders)
