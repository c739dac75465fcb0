"""The index on disk: incremental updates, atomic generations, and refusing damaged indexes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa import store
from qa.config import Settings
from qa.errors import IndexCorruptError, IndexNotFoundError, IngestError
from qa.index import local
from qa.indexer import update_index
from tests.fakes import FakeEmbedder

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.fixture
def built(tmp_path: Path, docs: Path) -> tuple[Settings, FakeEmbedder]:
    settings = Settings(index_dir=tmp_path / "index")
    emb = FakeEmbedder()
    update_index(settings, emb, roots=[docs])
    return settings, emb


def load(settings: Settings, emb: FakeEmbedder) -> store.IndexData:
    return store.load(settings.index_dir, emb.name, emb.dim)


def test_every_passage_is_an_exact_slice_of_its_document(built: tuple[Settings, FakeEmbedder]) -> None:
    data = load(*built)
    assert len(data.docs) == 5
    assert {d.doc_id for d in data.docs} == {p.name for p in CORPUS.glob("*.txt")}
    for row in range(data.n_passages):
        p = data.passage(row)
        assert p.text == data.text_of(p.doc_id)[p.start : p.end]
    assert data.title_of("003_4ab8a011891d9a26.txt").startswith("More Russian Officials Join Group")
    assert data.entities is not None and len(data.entities) > 50  # names, places, dates found at ingest


def test_reingesting_unchanged_files_does_no_embedding_work(built: tuple[Settings, FakeEmbedder], docs: Path) -> None:
    settings, emb = built
    before = (settings.index_dir / store.CURRENT).read_text()
    emb.calls.clear()
    report = update_index(settings, emb, roots=[docs])
    assert not report.changed and report.unchanged == 5
    assert emb.calls == []
    assert (settings.index_dir / store.CURRENT).read_text() == before


def test_an_index_from_an_older_parser_rereads_every_file(
    built: tuple[Settings, FakeEmbedder], docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa import indexer

    settings, emb = built
    monkeypatch.setattr(indexer, "PARSER_VERSION", indexer.PARSER_VERSION + 1)  # as after an upgrade
    report = update_index(settings, emb, roots=[docs])
    assert report.unchanged == 0 and len(report.updated) == 5
    assert update_index(settings, emb, roots=[docs]).unchanged == 5  # once, not on every ingest


def test_a_changed_file_is_reembedded_alone_and_a_removed_file_disappears(
    built: tuple[Settings, FakeEmbedder], docs: Path
) -> None:
    settings, emb = built
    old = load(settings, emb)
    (docs / "004_75648a9ff11dcd33.txt").write_text("Ferry news\n\nThe ferry Aurora sails to Visby at noon.\n")
    (docs / "000_d60922b307c76c22.txt").unlink()
    emb.calls.clear()
    report = update_index(settings, emb, roots=[docs])
    assert report.updated == ["004_75648a9ff11dcd33.txt"] and report.removed == ["000_d60922b307c76c22.txt"]
    # One passage and its two sentences ("Ferry news", the ferry sentence); nothing else re-embedded.
    assert report.embedded_passages == 1 and report.embedded_sentences == 2
    assert sum(emb.calls) == 3
    new = load(settings, emb)
    assert "000_d60922b307c76c22.txt" not in new.doc_index
    assert new.text_of("004_75648a9ff11dcd33.txt").startswith("Ferry news")
    # Unchanged documents keep their vectors row for row.
    i_old, i_new = old.doc_index["003_4ab8a011891d9a26.txt"], new.doc_index["003_4ab8a011891d9a26.txt"]
    a, b = old.docs[i_old], new.docs[i_new]
    v_old = np.load(old.path / "vectors.npy")[a.first : a.first + a.count]
    v_new = np.load(new.path / "vectors.npy")[b.first : b.first + b.count]
    assert np.array_equal(v_old, v_new)


def test_unreadable_files_are_skipped_and_the_rest_ingested(tmp_path: Path) -> None:
    d = tmp_path / "mixed"
    d.mkdir()
    (d / "good.txt").write_text("Good news\n\nThe bridge opened on Monday.")
    (d / "empty.txt").write_text("")
    (d / "binary.txt").write_bytes(b"\x00\xff" * 100)
    warnings: list[str] = []
    report = update_index(Settings(index_dir=tmp_path / "ix"), FakeEmbedder(), roots=[d], warn=warnings.append)
    assert report.added == ["good.txt"]
    assert len(warnings) == 2 and all(w.startswith("warning: skipped") for w in warnings)
    assert any("empty" in w for w in warnings) and any("binary" in w for w in warnings)


def test_faiss_search_matches_brute_force(built: tuple[Settings, FakeEmbedder]) -> None:
    settings, emb = built
    data = store.load(settings.index_dir, emb.name, emb.dim, with_vectors=True)
    assert data.vectors is not None
    q = emb.encode_query("Palyuga fined rubles court")
    found = data.dense.search(q[None, :], 10)
    brute = np.argsort(-(np.asarray(data.vectors) @ q), kind="stable")[:10]
    assert np.allclose(found.scores[0], (np.asarray(data.vectors) @ q)[brute], atol=1e-5)
    assert set(found.rows[0][:5]) == set(brute[:5])


def test_hnsw_past_the_threshold_agrees_with_exact_search() -> None:
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(3000, 384)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    approx = store.build_faiss(vecs, exact_max=1000)
    exact = store.build_faiss(vecs, exact_max=10_000)
    assert approx.kind == "IndexHNSWFlat" and exact.kind == "IndexFlatIP"
    q = vecs[:50] + 0.05 * rng.normal(size=(50, 384)).astype(np.float32)
    a = approx.search(q, 10).rows
    e = exact.search(q, 10).rows
    recall = np.mean([len(set(a[i]) & set(e[i])) / 10 for i in range(50)])
    assert recall >= 0.95


def test_missing_index_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="qa ingest"):
        store.load(tmp_path / "nothing", "m", 384)


@pytest.mark.parametrize("damage", ["truncate_faiss", "edit_manifest", "delete_passages", "garbage_current"])
def test_a_damaged_index_is_refused_naming_the_file(built: tuple[Settings, FakeEmbedder], damage: str) -> None:
    settings, emb = built
    gen = store.current_generation(settings.index_dir)
    if damage == "truncate_faiss":
        f = gen / "faiss.index"
        f.write_bytes(f.read_bytes()[:100])
        name = "faiss.index"
    elif damage == "edit_manifest":
        m = json.loads((gen / "manifest.json").read_text())
        m["n_passages"] += 1
        (gen / "manifest.json").write_text(json.dumps(m))
        name = "manifest.json"
    elif damage == "delete_passages":
        (gen / "passages.npy").unlink()
        name = "passages.npy"
    else:
        (settings.index_dir / "CURRENT").write_text("gen-does-not-exist\n")
        name = "CURRENT"
    with pytest.raises(IndexCorruptError) as err:
        load(settings, emb)
    assert name in str(err.value) and "qa ingest" in str(err.value)


def test_an_index_from_another_model_is_refused(built: tuple[Settings, FakeEmbedder]) -> None:
    settings, _ = built
    with pytest.raises(IndexCorruptError, match="other-model"):
        store.load(settings.index_dir, "other-model", 384)


def test_ingest_over_a_damaged_index_rebuilds_it(built: tuple[Settings, FakeEmbedder], docs: Path) -> None:
    settings, emb = built
    gen = store.current_generation(settings.index_dir)
    (gen / "faiss.index").write_bytes(b"junk")
    warnings: list[str] = []
    report = update_index(settings, emb, roots=[docs], warn=warnings.append)
    assert len(report.added) == 5 and any("rebuilding" in w for w in warnings)
    assert len(load(settings, emb).docs) == 5


def test_a_failed_write_leaves_the_previous_index_intact(
    built: tuple[Settings, FakeEmbedder], docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, emb = built
    before = load(settings, emb)
    (docs / "new.txt").write_text("New doc\n\nSomething happened on Friday.")

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(local.np, "save", disk_full)
    with pytest.raises(IngestError, match="No space left on device.*previous index is unchanged"):
        update_index(settings, emb, roots=[docs])
    monkeypatch.undo()
    after = load(settings, emb)
    assert after.path == before.path and len(after.docs) == 5
    assert not [p for p in settings.index_dir.iterdir() if p.name.startswith(".tmp-")]


def test_texts_are_read_from_the_memory_mapped_blob(tmp_path: Path) -> None:
    d = tmp_path / "docs"
    d.mkdir()
    texts = {"a.txt": "Første linje — ÆØÅ 😀\n\nKsenia Torström moved.", "b.txt": "Plain ASCII.\n\nSecond line."}
    for name, text in texts.items():
        (d / name).write_text(text, encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index")
    update_index(settings, FakeEmbedder(), roots=[d])
    data = load(settings, FakeEmbedder())
    assert (data.path / "texts.bin").stat().st_size == sum(len(t.encode()) for t in texts.values())
    assert len(data.texts) == 2 and [data.text_of(n) for n in texts] == list(texts.values())
    assert data.texts[-1] == data.texts[1] and list(data.texts) == [data.texts[0], data.texts[1]]
    with pytest.raises(IndexError):
        data.texts[2]
    for doc in range(len(data.docs)):
        ents = data.entities_of(doc)
        assert all(int(r["doc"]) == doc for r in ents)
    assert len(data.entities_of(99)) == 0


def test_an_index_in_the_old_format_is_refused_with_the_fix(built: tuple[Settings, FakeEmbedder]) -> None:
    settings, emb = built
    gen = store.current_generation(settings.index_dir)
    m = json.loads((gen / "manifest.json").read_text())
    m["format_version"] = 1
    m["checksum"] = store._manifest_checksum(m)
    (gen / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(IndexCorruptError, match="format 1.*qa ingest"):
        load(settings, emb)


def test_every_sentence_is_stored_with_its_vector(built: tuple[Settings, FakeEmbedder]) -> None:
    # The answerer reads sentences; with their vectors stored at ingest a new question embeds only itself.
    from qa.chunk import split_sentences

    settings, emb = built
    data = load(settings, emb)
    assert data.sentences is not None and data.sentence_vectors is not None
    for d, text in enumerate(data.texts):
        spans = [(x.start, x.end) for x in split_sentences(text)]
        lo, hi = data.sentence_rows(d) or (0, 0)
        assert [(int(r["start"]), int(r["end"])) for r in data.sentences[lo:hi]] == spans
        assert data.sentence_spans(d) == spans
        for s, e in spans[:3]:
            v = data.stored_sentence_vector(d, s, e)
            assert v is not None and np.allclose(v, emb.encode([text[s:e]])[0], atol=1e-6)
    assert data.stored_sentence_vector(0, 0, 1) is None  # not a sentence: the answerer embeds it itself


def test_the_answerer_embeds_no_stored_sentence(built: tuple[Settings, FakeEmbedder]) -> None:
    from qa.answerer.state import AnswerState

    settings, emb = built
    data = load(settings, emb)
    state = AnswerState(data, emb)
    spans = [(d, s, e) for d in range(len(data.docs)) for s, e in state.doc_sentences(d)[:4]]
    emb.calls.clear()
    vecs = state.sentence_vectors(spans)
    assert emb.calls == [] and vecs.shape == (len(spans), emb.dim)
    assert state.warm_up() == 0  # nothing left to warm up


def test_a_generation_without_sentence_files_still_answers(built: tuple[Settings, FakeEmbedder]) -> None:
    # Indexes written before sentences were stored load as before; their sentences are embedded on demand.
    from qa.answerer.state import AnswerState

    settings, emb = built
    data = load(settings, emb)
    data.sentences, data.sentence_vectors = None, None
    state = AnswerState(data, emb)
    spans = [(0, s, e) for s, e in state.doc_sentences(0)[:3]]
    emb.calls.clear()
    assert state.sentence_vectors(spans).shape == (3, emb.dim) and sum(emb.calls) == 3
