"""qa.evaluate: gold-file errors and scoring without the model; one small run against a real index."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from qa import eval_report
from qa.cli import cmd_eval as main
from qa.cli import main as cli_main
from qa.config import Settings
from qa.embed import MiniLMEmbedder
from qa.evaluate import (
    SYSTEM,
    GoldFileError,
    GoldItem,
    Record,
    Run,
    best_sentence,
    confidence_buckets,
    evaluate,
    load_gold,
    recheck_threshold,
    result_rows,
    run,
    summarize,
    threshold_curve,
)
from qa.models import Passage
from qa.pipeline import Pipeline, effective_threshold
from tests.test_public_api import EVAL_KEYS

ROOT = Path(__file__).resolve().parent.parent
# The `qa eval --json` contract, pinned once in the public-API test; a change to it fails both.
CONTRACT = EVAL_KEYS
METRICS = CONTRACT - {"by_kind", "baselines"}
FRACTIONS = METRICS - {"n", "n_answerable", "latency_ms_p50", "latency_ms_p95"}
GOOD = {"id": "q1", "question": "Who?", "answers": ["Ann"], "sources": ["a.txt"], "answerable": True, "kind": "name"}


def _write(tmp_path: Path, *lines: object) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------- load_gold


def test_load_gold_reads_items(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD, "", {"question": " Why? ", "answers": [], "answerable": False, "extra": 1})
    items = load_gold(path)
    assert [g.id for g in items] == ["q1", "line3"]
    assert items[0] == GoldItem("q1", "Who?", ("Ann",), ("a.txt",), True, "name", 1)
    assert items[1].question == "Why?" and items[1].kind == "unlabelled" and items[1].line == 3


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"question": "Who?", "answers": [', "not valid JSON"),
        ('["Who?"]', "expected a JSON object"),
        ({"answers": ["Ann"], "answerable": True, "sources": ["a.txt"]}, "missing key question"),
        ({"question": "Who?"}, "missing keys answers, answerable"),
        ({**GOOD, "question": "  "}, "'question' must be a non-empty string"),
        ({**GOOD, "question": "Why " * 600}, "characters long; `qa ask` takes at most 2,000"),
        ({**GOOD, "answers": "Ann"}, "'answers' must be a list of non-empty strings"),
        ({**GOOD, "sources": [3]}, "'sources' must be a list of non-empty strings"),
        ({**GOOD, "answerable": "yes"}, "'answerable' must be true or false"),
        ({**GOOD, "answers": []}, "answerable is true but 'answers' is empty"),
        ({**GOOD, "sources": []}, "answerable is true but 'sources' is empty"),
        ({**GOOD, "answerable": False}, "answerable is false, so 'answers' and 'sources' must be empty"),
        ({**GOOD, "kind": 7}, "'id' and 'kind' must be non-empty strings"),
        ({**GOOD, "id": "q0"}, "id 'q0' already used on line 1"),
    ],
)
def test_load_gold_names_the_bad_line(tmp_path: Path, bad_line: object, message: str) -> None:
    path = _write(tmp_path, {**GOOD, "id": "q0"}, bad_line)
    with pytest.raises(GoldFileError) as err:
        load_gold(path)
    assert f"{path}:2: " in str(err.value)
    assert message in str(err.value)


def test_load_gold_empty_or_missing_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(GoldFileError, match="has no questions"):
        load_gold(empty)
    with pytest.raises(GoldFileError, match="Cannot read the gold file"):
        load_gold(tmp_path / "nope.jsonl")


def test_cli_reports_bad_gold_and_missing_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _write(tmp_path, GOOD, "{oops")
    assert cli_main(["eval", "--gold", str(bad), "--index", str(tmp_path / "idx")]) == 1
    assert f"error: {bad}:2: not valid JSON" in capsys.readouterr().err
    good = _write(tmp_path, GOOD)
    assert cli_main(["eval", "--gold", str(good), "--index", str(tmp_path / "idx")]) == 1
    assert "error: No index at" in capsys.readouterr().err


# ------------------------------------------------------------------------------------- scoring, no model


def _run(
    answer: str | None,
    confidence: float | None,
    docs: tuple[str, ...] = ("a.txt",),
    cite_doc: str = "a.txt",
    exact: bool = True,
    ms: float = 10.0,
    sentence: str | None = None,
) -> Run:
    cite = None if answer is None else {"doc_id": cite_doc, "start": 0, "end": len(answer), "text": answer}
    return Run(answer, confidence, cite, exact, docs, ms, sentence)


def _records() -> list[Record]:
    ann = GoldItem("q1", "Who?", ("Ann Lee",), ("a.txt",), True, "name", 1)
    bob = GoldItem("q2", "Who else?", ("Bob",), ("b.txt",), True, "name", 2)
    none = GoldItem("q3", "Whose cat?", (), (), False, "unanswerable", 3)
    base = _run("Ann Lee was there.", None)
    return [
        Record(ann, {SYSTEM: _run("Ann Lee", 0.9, ms=10), "bm25": base, "dense": base}),
        # Confident but wrong document, cited from a non-gold source; gold doc ranked 2nd.
        Record(
            bob,
            {
                SYSTEM: _run("Bob Marsh", 0.3, docs=("a.txt", "b.txt"), ms=20),
                "bm25": _run("Bob.", None, docs=("b.txt",), cite_doc="b.txt"),
                "dense": _run(None, None, docs=()),
            },
        ),
        Record(none, {SYSTEM: _run("Tom", 0.2, ms=30), "bm25": base, "dense": base}),
    ]


def test_summarize_hand_worked() -> None:
    s = summarize(_records(), threshold=0.35)
    assert set(s) == CONTRACT
    # q1 answered exactly; q2 (0.3 < 0.35) abstains; q3 (0.2) abstains, correctly.
    assert s["n"] == 3 and s["n_answerable"] == 2
    assert s["exact_match"] == 0.5 and s["f1"] == 0.5
    assert s["recall_at_1"] == 0.5 and s["recall_at_5"] == 1.0 and s["mrr"] == 0.75
    assert s["no_answer_accuracy"] == 1.0 and s["false_abstain_rate"] == 0.5
    assert s["citation_accuracy"] == 1.0  # one answered answerable question, cited from its gold source
    assert s["latency_ms_p50"] == 20.0 and s["latency_ms_p95"] == 30.0
    assert s["by_kind"]["name"]["no_answer_accuracy"] is None  # no unanswerable questions of that kind
    assert s["by_kind"]["unanswerable"]["f1"] is None and s["by_kind"]["unanswerable"]["no_answer_accuracy"] == 1.0
    bm25, dense = s["baselines"]["bm25"], s["baselines"]["dense"]
    assert {*METRICS, "by_kind"} == set(bm25) == set(dense)
    assert bm25["false_abstain_rate"] == 0.0 and bm25["no_answer_accuracy"] == 0.0  # baselines never abstain
    assert dense["false_abstain_rate"] == 0.5  # …unless retrieval returns nothing
    assert bm25["exact_match"] == 0.5  # "Bob." normalises to "bob"
    # Lower the threshold and q2 is answered, wrongly, from a non-gold document.
    low = summarize(_records(), threshold=0.25)
    assert low["f1"] == pytest.approx((1 + 2 / 3) / 2, abs=1e-4) and low["citation_accuracy"] == 0.5


def _sentence_records() -> list[Record]:
    """Five questions whose sentence accuracy differs from F1, with an abstention and an unanswerable."""

    def rec(gold: GoldItem, system: Run, bm25: str | None, dense: str | None) -> Record:
        base = {n: _run(a, None, sentence=a) for n, a in (("bm25", bm25), ("dense", dense))}
        return Record(gold, {SYSTEM: system, **base})

    return [
        # Wrong span (F1 0) inside the right sentence: counts.
        rec(
            GoldItem("a", "Where?", ("The Kremlin",), ("a.txt",), True, "x", 1),
            _run("Moscow", 0.9, sentence="The protest reached the Kremlin, in Moscow."),
            "Kremlin walls.",
            None,  # dense retrieved nothing: an abstention, left out of its denominator
        ),
        # Matches only after normalising both sides.
        rec(
            GoldItem("b", "How much?", ("47,000 rubles",), ("a.txt",), True, "x", 2),
            _run("a fine", 0.8, sentence="He was fined 47000 Rubles."),
            "Nothing here.",
            "He paid 47,000 rubles.",
        ),
        rec(
            GoldItem("c", "Who?", ("Bob",), ("a.txt",), True, "y", 3),
            _run("Ann", 0.9, sentence="Ann was there."),
            "Bob.",
            "Ann.",
        ),
        # Abstains at 0.35 although its sentence holds the answer: not counted for the system.
        rec(
            GoldItem("d", "Who spoke?", ("Dana",), ("a.txt",), True, "y", 4),
            _run("Dana", 0.1, sentence="Dana spoke."),
            "Dana spoke.",
            "Dana spoke.",
        ),
        # Unanswerable, answered: never counted.
        rec(
            GoldItem("e", "Whose cat?", (), (), False, "unanswerable", 5),
            _run("Tom", 0.9, sentence="Tom has a cat."),
            "Tom has a cat.",
            "Tom has a cat.",
        ),
    ]


def test_sentence_accuracy_hand_worked() -> None:
    records = _sentence_records()
    s = summarize(records, threshold=0.35)
    assert s["sentence_accuracy"] == pytest.approx(2 / 3, abs=1e-4)  # a, b of a, b, c (d abstained, e unanswerable)
    assert s["f1"] == 0.0  # …while no span is right
    assert s["by_kind"]["x"]["sentence_accuracy"] == 1.0
    assert s["by_kind"]["y"]["sentence_accuracy"] == 0.0  # c wrong, d abstained
    assert s["by_kind"]["unanswerable"]["sentence_accuracy"] is None  # no answerable questions
    bm25, dense = s["baselines"]["bm25"], s["baselines"]["dense"]
    assert bm25["sentence_accuracy"] == 0.75  # a, c, d of a, b, c, d
    assert dense["sentence_accuracy"] == pytest.approx(2 / 3, abs=1e-4)  # b, d of b, c, d
    assert bm25["by_kind"]["y"]["sentence_accuracy"] == 1.0
    # At threshold 0 the system answers d too, from a sentence holding the answer.
    assert summarize(records, threshold=0.0)["sentence_accuracy"] == 0.75
    rows = result_rows(records, 0.35)
    assert [r[SYSTEM]["sentence_ok"] for r in rows] == [True, True, False, False, False]
    assert rows[0][SYSTEM]["sentence"] == "The protest reached the Kremlin, in Moscow."
    assert [r["dense"]["sentence_ok"] for r in rows] == [False, True, False, True, False]


def test_report_shows_sentence_accuracy() -> None:
    records = _sentence_records()
    s = summarize(records, threshold=0.35)
    meta = {"gold": "g.jsonl", "index": "idx", "k": 5, "threshold": 0.35, "seconds": 1.0}
    md = eval_report.markdown(s, records, meta)
    assert "| Sentence accuracy | 0.667 | 0.750 | 0.667 |" in md
    assert "| sent acc system | sent acc bm25 | sent acc dense |" in md
    kind_x = next(line for line in md.splitlines() if line.startswith("| x | 2 | 2 |"))  # first table: vs baselines
    assert kind_x.endswith("| 1.000 | 0.500 | 1.000 |")  # system a, b; bm25 a of a, b; dense b (a abstained)
    assert "Sentence accuracy" in eval_report.table(s, meta)


def test_threshold_curve_and_buckets() -> None:
    curve = threshold_curve(_records())
    assert [c["threshold"] for c in curve][:3] == [0.0, 0.05, 0.1] and len(curve) == 21
    assert curve[0]["no_answer_accuracy"] == 0.0 and curve[-1]["no_answer_accuracy"] == 1.0
    assert curve[0]["false_abstain_rate"] == 0.0 and curve[-1]["f1"] == 0.0
    na = [c["no_answer_accuracy"] for c in curve]
    assert na == sorted(na)  # abstaining more never answers an unanswerable question
    buckets = confidence_buckets(_records(), threshold=0.35)
    assert [b["n"] for b in buckets] == [0, 2, 0, 0, 1]
    assert buckets[1]["share_correct"] == 0.5 and buckets[1]["answered"] == 0  # q2 wrong, q3 right
    assert buckets[4]["answered_share_ok"] == 1.0 and buckets[0]["share_correct"] is None


def test_best_sentence_offsets_are_exact() -> None:
    doc = "Intro line here. The harbourmaster is Declan Foyle. He likes boats."
    passage = Passage("h.txt", 0, len(doc), doc)
    start, end = best_sentence("Who is the harbourmaster?", passage)
    assert doc[start:end] == "The harbourmaster is Declan Foyle."
    inner = Passage("h.txt", 17, len(doc), doc[17:])
    assert best_sentence("Who likes boats?", inner) == (doc.index("He likes"), len(doc))


# ------------------------------------------------------------------------------------- real model and index


@pytest.fixture(scope="session")
def gen_index(
    tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedder
) -> Iterator[tuple[Settings, Pipeline]]:
    """The generalization documents ingested into a fresh index, and a threshold-0 pipeline on it."""
    index = tmp_path_factory.mktemp("gen-index")
    settings = Settings(index_dir=index)
    pipe = Pipeline(replace(settings, abstain_threshold=0.0), embedder=embedder)
    pipe.ingest(roots=[ROOT / "eval" / "generalization" / "docs"])
    yield settings, pipe


def _three() -> list[GoldItem]:
    items = load_gold(ROOT / "eval" / "generalization" / "gold.jsonl")
    return [next(g for g in items if g.answerable and g.kind == k) for k in ("factoid-name", "why-how")] + [
        next(g for g in items if not g.answerable)
    ]


def _check_fractions(m: dict[str, object]) -> None:
    assert set(m) >= METRICS
    for key in FRACTIONS:
        v = m[key]
        assert v is None or (isinstance(v, float) and 0.0 <= v <= 1.0), (key, v)
    for key in ("latency_ms_p50", "latency_ms_p95"):
        assert isinstance(m[key], float) and m[key] >= 0.0  # type: ignore[operator]


def test_evaluate_on_a_real_index(gen_index: tuple[Settings, Pipeline]) -> None:
    settings, pipe = gen_index
    gold = _three()
    threshold = effective_threshold(settings)  # the shipped model's own
    report = evaluate(pipe, gold, k=5, threshold=threshold)
    assert set(report) == CONTRACT
    assert report["n"] == 3 and report["n_answerable"] == 2
    _check_fractions(report)
    assert set(report["by_kind"]) == {"factoid-name", "why-how", "unanswerable"}
    assert set(report["baselines"]) == {"bm25", "dense"}
    for m in [*report["by_kind"].values(), *report["baselines"].values()]:
        _check_fractions(m)
    assert report["recall_at_10"] == 1.0  # two documents: the gold one is always in the top 10
    # Re-thresholding the threshold-0 run gives what `qa ask` gives at the real threshold.
    reference = Pipeline(settings, embedder=pipe.embedder).load()
    records = run(pipe, gold, k=5)
    for rec in records:  # the system's sentence is the one around its answer; a baseline's is its answer
        sys_run = rec.runs[SYSTEM]
        assert sys_run.answer is None or (sys_run.sentence is not None and sys_run.answer in sys_run.sentence)
        assert all(rec.runs[n].sentence == rec.runs[n].answer for n in ("bm25", "dense"))
    assert recheck_threshold(reference, records, 5, threshold, n=3) == []


def test_main_json_and_report_files(
    gen_index: tuple[Settings, Pipeline], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, _ = gen_index
    gold = tmp_path / "three.jsonl"
    gold.write_text(
        "".join(
            json.dumps(
                {
                    "id": g.id,
                    "question": g.question,
                    "answers": list(g.answers),
                    "sources": list(g.sources),
                    "answerable": g.answerable,
                    "kind": g.kind,
                }
            )
            + "\n"
            for g in _three()
        ),
        encoding="utf-8",
    )
    out = tmp_path / "report"
    args = argparse.Namespace(gold=str(gold), index=str(settings.index_dir), k=5, json=True, out=str(out))
    assert main(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == CONTRACT
    assert json.loads((out / "metrics.json").read_text(encoding="utf-8")) == printed
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [g.id for g in _three()]
    assert {"answer", "citation", "correct", "confidence", "f1"} <= set(rows[0]["system"])
    md = (out / "report.md").read_text(encoding="utf-8")
    for heading in ("## Overall", "## Accuracy by confidence", "## Abstention trade-off", "## Worst questions"):
        assert heading in md
    for png in ("f1_by_kind.png", "threshold_curve.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_threshold_applies_to_answerability_where_the_answerer_gives_one() -> None:
    """A low confidence with a high answerability is answered (a hard but answerable question); a
    confident-looking span the gate judges unanswerable abstains; without answerability, confidence rules."""
    base = _run("Ann Lee", 0.2)
    hard = Run(base.answer, 0.2, base.citation, True, base.ranked_docs, 1.0, None, 0.9)
    offtopic = Run(base.answer, 0.8, base.citation, True, base.ranked_docs, 1.0, None, 0.1)
    assert hard.answer_at(0.5) == "Ann Lee" and offtopic.answer_at(0.5) is None
    assert base.gate == 0.2 and base.answer_at(0.5) is None and base.answer_at(0.1) == "Ann Lee"
    ann = GoldItem("q1", "Who?", ("Ann Lee",), ("a.txt",), True, "name", 1)
    rows = result_rows([Record(ann, {SYSTEM: hard, "bm25": base, "dense": base})], 0.5)
    assert rows[0][SYSTEM]["answerability"] == 0.9 and rows[0][SYSTEM]["confidence"] == 0.2
    assert rows[0][SYSTEM]["answer"] == "Ann Lee"
