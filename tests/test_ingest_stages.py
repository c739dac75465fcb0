"""Ingest as plan -> process -> write: the stages write the known build byte for byte, plan by content
hash, and process is a pure function of the document and the model."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.cli import main
from qa.config import Settings
from qa.index import open_index
from qa.indexer import update_index
from qa.ingest.plan import Work, plan
from qa.ingest.process import DocRecord, process, process_batch
from qa.models import Document
from tests.fakes import FakeEmbedder
from tests.ingest_builds import known_sequence

KNOWN = Path(__file__).resolve().parent / "data" / "known_build.json"
CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def test_the_stages_write_the_known_build(tmp_path: Path) -> None:
    known = json.loads(KNOWN.read_text(encoding="utf-8"))
    got = known_sequence(update_index, tmp_path)
    assert list(got) == ["build", "update", "upload", "rechunk"] and sorted(known) == sorted(got)
    for step in known:
        assert got[step]["files"] == known[step]["files"], step
        assert got[step]["manifest"] == known[step]["manifest"], step


def test_plan_sorts_documents_by_content_hash(tmp_path: Path, docs: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index")
    update_index(settings, FakeEmbedder(), roots=[docs])
    old = open_index("local", settings.index_dir, FakeEmbedder.name, FakeEmbedder.dim, with_vectors=True)
    (docs / "004_75648a9ff11dcd33.txt").write_text("Ferry news\n\nThe ferry Aurora sails to Visby at noon.\n")
    (docs / "000_d60922b307c76c22.txt").unlink()
    (docs / "new.txt").write_text("Harbour\n\nFourteen boats left on Tuesday.\n")
    p = plan(old, True, roots=[docs])
    assert p.added == ("new.txt",) and p.updated == ("004_75648a9ff11dcd33.txt",)
    assert p.removed == ("000_d60922b307c76c22.txt",) and p.changed
    assert p.unchanged == ("001_417fa8ea2793ee50.txt", "002_a6792d8b72d2b792.txt", "003_4ab8a011891d9a26.txt")
    ids = [w.document.doc_id for w in p.work]
    assert ids == ["001_417fa8ea2793ee50.txt", "002_a6792d8b72d2b792.txt", "003_4ab8a011891d9a26.txt", *ids[3:]]
    assert sorted(ids[3:]) == ["004_75648a9ff11dcd33.txt", "new.txt"]
    # Unchanged documents carry everything stored; new and changed ones need the model.
    assert [w.needs_model for w in p.work] == [False, False, False, True, True]
    again = plan(old, False, roots=[docs])  # other passage settings: every document is re-read
    assert again.rebuild_all and again.unchanged == () and all(w.passages is None for w in again.work)


def _doc(doc_id: str, text: str) -> Work:
    return Work(Document(doc_id, doc_id, text, "0" * 64, "root"))


def _same(a: DocRecord, b: DocRecord) -> bool:
    arrays = ("passage_vectors", "sentence_vectors")
    plain = all(getattr(a, f) == getattr(b, f) for f in DocRecord.__dataclass_fields__ if f not in arrays)
    return plain and all(np.array_equal(getattr(a, f), getattr(b, f)) for f in arrays)


def test_process_is_a_pure_function_of_the_document_and_the_model() -> None:
    settings, emb = Settings(), FakeEmbedder()
    a = _doc("a.txt", "Mayor Ana Ruiz opened the bridge in Lisbon in 2021. It cost 4 million euros.")
    b = _doc("b.txt", "The ferry Aurora sails to Visby at noon.\n\nTickets cost 12 euros.")
    one = process(a, settings, emb)
    assert _same(one, process(a, settings, emb))
    batch, timings = process_batch([a, b], settings, emb)
    assert _same(batch[0], one) and _same(batch[1], process(b, settings, emb))
    assert {"chunk", "embed", "embed_sentences", "ner"} <= set(timings)
    assert one.passages and one.sentences and one.terms and one.entities
    assert one.passage_vectors.shape == (len(one.passages), emb.dim)
    assert one.sentence_vectors.shape == (len(one.sentences), emb.dim)
    assert one.embedded_passages == len(one.passages) and one.embedded_sentences == len(one.sentences)
    text = a.document.text
    assert all(text[s:e].strip() == text[s:e] for s, e in one.sentences)


def test_engine_ray_without_ray_fails_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    shutil.copytree(CORPUS, tmp_path / "docs")
    code = main(["ingest", str(tmp_path / "docs"), "--engine", "ray", "--index", str(tmp_path / "ix")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines() == [err.strip()] and err.startswith("error: ") and "pip install 'docqa[ray]'" in err
    assert not (tmp_path / "ix").exists()


def test_ray_options_without_engine_ray_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", str(tmp_path), "--ray-address", "127.0.0.2:6379", "--index", str(tmp_path / "ix")]) == 1
    assert "need --engine ray" in capsys.readouterr().err
