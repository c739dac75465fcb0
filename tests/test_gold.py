"""The bundled gold files are well-formed and every answer occurs verbatim in a listed source (no model needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.evaluate import GoldItem, load_gold
from qa.ingest import iter_files, parse_document

ROOT = Path(__file__).resolve().parent.parent
GOLD_SETS = [
    (ROOT / "eval" / "gold.jsonl", ROOT / "corpus"),
    (ROOT / "eval" / "generalization" / "gold.jsonl", ROOT / "eval" / "generalization" / "docs"),
]


def _texts(docs: Path) -> dict[str, str]:
    """Document texts exactly as `qa ingest` sees them, keyed by document id."""
    return {doc_id: parse_document(doc_id, path.read_bytes()).text for doc_id, path in iter_files(docs)}


@pytest.fixture(scope="module", params=GOLD_SETS, ids=lambda p: str(p[0].relative_to(ROOT)))
def gold_set(request: pytest.FixtureRequest) -> tuple[list[GoldItem], dict[str, str]]:
    gold_path, docs = request.param
    return load_gold(gold_path), _texts(docs)


def test_every_line_is_well_formed(gold_set: tuple[list[GoldItem], dict[str, str]]) -> None:
    items, _ = gold_set
    assert items
    assert any(not g.answerable for g in items), "no unanswerable questions to score abstention on"
    assert all(g.kind != "unlabelled" for g in items)


def test_sources_exist(gold_set: tuple[list[GoldItem], dict[str, str]]) -> None:
    items, texts = gold_set
    missing = [(g.id, s) for g in items for s in g.sources if s not in texts]
    assert not missing, f"sources that are not documents of the corpus: {missing}"


def test_every_answer_is_verbatim_in_a_listed_source(gold_set: tuple[list[GoldItem], dict[str, str]]) -> None:
    items, texts = gold_set
    bad = [(g.id, a) for g in items for a in g.answers if not any(a in texts.get(s, "") for s in g.sources)]
    assert not bad, f"answers not found verbatim in any listed source: {bad}"
