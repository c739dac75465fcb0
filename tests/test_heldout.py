"""eval/heldout.py: documents and gold files from pool records, without the model."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from qa.evaluate import load_gold
from qa.ingest import parse_document
from qa.training.pool import Answer, Record
from qa.training.stage2 import doc_name

ROOT = Path(__file__).resolve().parent.parent


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("heldout_script", ROOT / "eval" / "heldout.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


H = _load()
CTX_A = "Lake Mira\n\nLake Mira is 40 km long. Its town, St. Ives, has 1,200 people."
CTX_B = "Prices rose 3% in May.\r\nThe bank — not the state — raised rates."


def _rec(rid: str, context: str, question: str, answers: tuple[str, ...], source: str = "policyqa") -> Record:
    return Record(rid, context, question, tuple(Answer(a, context.index(a)) for a in answers), source, "T1")


def _records() -> list[Record]:
    return [
        _rec("r1", CTX_A, "How long is Lake Mira?", ("40 km", "40 km", "40 km long")),
        _rec("r2", CTX_B, "What rose?", ("Prices",)),
        _rec("r3", CTX_A, "How many people live in St. Ives?", ("1,200",)),
        _rec("r4", CTX_B, "Who owns the lake?", (), source="squad2.0-dev"),
        _rec("r5", CTX_A, "   ", ("40 km",)),  # cannot be a gold line: left out, with a reason
    ]


def test_build_set_documents_are_the_contexts(tmp_path: Path) -> None:
    built = H.build_set("s", _records(), tmp_path / "s")
    files = sorted((tmp_path / "s" / "docs").iterdir())
    assert [f.name for f in files] == [doc_name(0, CTX_A), doc_name(1, CTX_B)]
    assert all(re.fullmatch(r"\d{4}_[0-9a-f]{8}\.txt", f.name) for f in files)
    for f, ctx in zip(files, (CTX_A, CTX_B)):
        assert parse_document(f.name, f.read_bytes()).text == ctx  # what ingest stores: offsets stay exact
    assert (built.documents, built.questions, built.answerable) == (2, 4, 3)
    assert len(built.skipped) == 1 and built.skipped[0].startswith("r5:")


def test_build_set_gold_file(tmp_path: Path) -> None:
    H.build_set("s", _records(), tmp_path / "s")
    gold = {g.id: g for g in load_gold(tmp_path / "s" / "gold.jsonl")}
    assert list(gold) == ["r1", "r2", "r3", "r4"]
    assert gold["r1"].answers == ("40 km", "40 km long")  # distinct texts, in order
    assert gold["r1"].sources == (doc_name(0, CTX_A),) and gold["r2"].sources == (doc_name(1, CTX_B),)
    assert gold["r1"].kind == "policyqa" and gold["r1"].answerable
    assert gold["r4"].kind == "unanswerable" and not gold["r4"].answerable and gold["r4"].sources == ()


def test_rebuild_removes_stale_documents(tmp_path: Path) -> None:
    H.build_set("s", _records(), tmp_path / "s")
    H.build_set("s", _records()[:1], tmp_path / "s")
    assert [f.name for f in (tmp_path / "s" / "docs").iterdir()] == [doc_name(0, CTX_A)]


def test_build_set_refuses_a_context_ingest_would_change(tmp_path: Path) -> None:
    with pytest.raises(H.DocQAError, match="does not read back"):
        H.build_set("s", [_rec("r1", "\ufeffBOM first. Then text.", "What?", ("Then text",))], tmp_path / "s")


def test_table_row_and_missing_keys() -> None:
    base = {"f1": 0.25, "sentence_accuracy": 0.5}
    m = {
        "n": 10,
        "n_answerable": 8,
        "f1": 0.5,
        "exact_match": 0.375,
        "sentence_accuracy": 0.75,
        "no_answer_accuracy": None,
        "false_abstain_rate": 0.125,
        "baselines": {"bm25": base, "dense": {"f1": 0.1}},  # an older qa eval had no sentence_accuracy
    }
    row = H.table_row("s", m)
    assert row == ["s", "10", "8", "0.500", "0.375", "0.750", "—", "0.125", "0.250", "0.500", "0.100", "—"]
    table = H.markdown_table([row])
    assert table.splitlines()[0].startswith("| set | questions |") and len(row) == len(H.HEADER)


def test_main_no_run_uses_the_pool_split(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pool = tmp_path / "pool.jsonl"
    lines = []
    for r in _records()[:3]:
        answers = [{"text": a.text, "start": a.start} for a in r.answers]
        lines.append({"id": r.id, "context": r.context, "question": r.question, "answers": answers, "source": r.source})
    pool.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    out = tmp_path / "out"
    assert H.main(["--data", str(pool), "--out", str(out), "--sets", "policy", "--no-run"]) == 0
    assert "policy: 2 documents, 3 questions (3 answerable)" in capsys.readouterr().out
    assert len(load_gold(out / "policy" / "gold.jsonl")) == 3 and not (out / "wiki-nq").exists()
    assert H.main(["--data", str(pool), "--out", str(out), "--sets", "policy,nope"]) == 1
    assert "unknown set(s) nope" in capsys.readouterr().err


def test_main_dev_builds_samples_of_questions_the_model_never_saw(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = tmp_path / "pool.jsonl"
    lines = []
    for art in range(120):  # the held-out sample takes about 84 articles; the rest is the training split
        ctx = f"Article {art} says the answer is blue."
        for q in range(3):
            lines.append(
                {
                    "id": f"nq-{art}-{q}",
                    "context": ctx,
                    "question": f"What colour is number {q}?",
                    "answers": [{"text": "blue", "start": ctx.index("blue")}],
                    "source": "qed-nq",
                    "title": f"T{art}",
                }
            )
    pool.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    model = tmp_path / "model"
    model.mkdir()
    (model / "reader_train_ids.json").write_text(json.dumps([f"nq-{a}-0" for a in range(60)]))
    (model / "scorer_train_ids.json").write_text(json.dumps([f"nq-{a}-0" for a in range(60, 120)]))
    out = tmp_path / "dev"
    argv = ["--dev", "--data", str(pool), "--out", str(out), "--sets", "dev-nq", "--model", str(model), "--no-run"]
    assert H.main(argv) == 0
    gold = load_gold(out / "dev-nq" / "gold.jsonl")
    heldout = {r.id for r in H.split(list(H.read_records([pool]))).heldout["wiki-nq"]}
    assert gold and not {g.id for g in gold} & heldout
    assert all(not g.id.endswith("-0") for g in gold)  # every question the model trained on is left out
    assert H.main(["--dev", "--data", str(pool), "--out", str(out), "--sets", "wiki-nq", "--no-run"]) == 1
    assert "known: dev-squad2" in capsys.readouterr().err
