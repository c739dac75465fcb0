"""Pins the public API: exports, CLI, the answer object, `qa eval --json` and the HTTP routes.

Each expected set below is spelled out, not imported, so that changing the API means editing this
file on purpose (the way httpx's tests/test_exported_members.py works). To add a key, flag or
route, add it to the matching constant here in the same change.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fastapi.routing import APIRoute

import qa
import web
from qa.cli import build_parser
from qa.config import Settings
from qa.evaluate import BASELINES, summarize
from qa.models import Alternative, Answer, Citation, Hit, Passage
from web import api, pages
from web.app import create_app

QA_EXPORTS = {"Answer", "Citation", "DocQAError", "Document", "Hit", "Passage", "Settings", "answer", "__version__"}
WEB_EXPORTS = {"create_app"}

# Subcommand -> its flags and positional arguments (argparse dests), `-h` left out.
CLI_COMMANDS = {
    "ingest": {"paths", "--engine", "--ray-address", "--ray-workers", "--index"},
    "ask": {"question", "--json", "-k", "--history", "--doc", "--index", "--model"},
    "eval": {"--gold", "-k", "--json", "--out", "--index", "--model"},
    "train": {
        "--data",
        "--out",
        "--no-reader",
        "--questions",
        "--reader-questions",
        "--reader-precision",
        "--no-stage2",
        "--stage2-only",
        "--gate-only",
        "--no-gate",
        "--no-report",
        "--index",
        "--model",
    },
    "serve": {"--host", "--port", "--index", "--model", "--replicas", "--ray-address"},
}

ANSWER_KEYS = {
    "question",
    "answer",
    "confidence",
    "abstained",
    "citations",
    "passages",
    "timings_ms",
    "conflicting",
    "alternatives",
    "resolved_question",
    "answer_kind",
    "answerability",
}
CITATION_KEYS = {
    "doc_id",
    "title",
    "start",
    "end",
    "text",
    "sentence",
    "sentence_start",
    "score",
    "page",
    "doc_sha256",
}
PASSAGE_KEYS = {"doc_id", "start", "end", "text", "score", "page"}
ALTERNATIVE_KEYS = {"answer", "citations"}

EVAL_METRIC_KEYS = {
    "n",
    "n_answerable",
    "recall_at_1",
    "recall_at_5",
    "recall_at_10",
    "mrr",
    "exact_match",
    "f1",
    "no_answer_accuracy",
    "false_abstain_rate",
    "citation_accuracy",
    "sentence_accuracy",
    "latency_ms_p50",
    "latency_ms_p95",
}
EVAL_KEYS = EVAL_METRIC_KEYS | {"by_kind", "baselines"}
EVAL_BASELINES = {"bm25", "dense"}

# The JSON of POST and DELETE /api/documents (web.api.IndexChange).
INDEX_CHANGE_KEYS = {"added", "updated", "removed", "unchanged", "documents", "passages", "warnings"}

# (method, path) of every route the app's routers declare; HEAD and OPTIONS come with GET and CORS.
API_ROUTES = {
    ("POST", "/api/ask"),
    ("GET", "/api/documents"),
    ("POST", "/api/documents"),
    ("GET", "/api/documents/{doc_id:path}"),
    ("DELETE", "/api/documents/{doc_id:path}"),
    ("GET", "/healthz"),
}
PAGE_ROUTES = {
    ("GET", "/"),
    ("POST", "/"),
    ("GET", "/documents/{doc_id:path}"),
    ("GET", "/upload"),
    ("POST", "/upload"),
    ("GET", "/docs"),
    ("POST", "/turns"),  # the chat re-renders turns kept in the browser's storage after a reload
}
# What the OpenAPI document at /openapi.json lists (the JSON API; the pages are left out of it).
OPENAPI_PATHS = {
    "/api/ask": {"post"},
    "/api/documents": {"get", "post"},
    "/api/documents/{doc_id}": {"get", "delete"},
    "/healthz": {"get"},
}
APP_PATHS = {"/openapi.json", "/static"}


def test_qa_exports() -> None:
    assert set(qa.__all__) == QA_EXPORTS
    for name in qa.__all__:
        assert hasattr(qa, name), name


def test_answer_stays_the_function_once_the_pipeline_is_loaded() -> None:
    """No submodule may be named `qa.answer`: importing it would replace the public function."""
    import qa.pipeline  # noqa: F401  (the import that once rebound `qa.answer` to a module)

    assert callable(qa.answer)
    assert qa.answer.__module__ == "qa"


def test_web_exports() -> None:
    assert set(web.__all__) == WEB_EXPORTS
    for name in web.__all__:
        assert hasattr(web, name), name


def _cli_commands(parser: argparse.ArgumentParser) -> dict[str, set[str]]:
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(subparsers) == 1
    commands: dict[str, set[str]] = {}
    for name, sub in subparsers[0].choices.items():
        args: set[str] = set()
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            # A flag is pinned by its first spelling (`-k`, `--json`), a positional by its name.
            args.add(action.option_strings[0] if action.option_strings else action.dest)
        commands[name] = args
    return commands


def test_cli_subcommands_and_flags() -> None:
    assert _cli_commands(build_parser()) == CLI_COMMANDS


def _answer() -> Answer:
    citation = Citation("a.txt", "A", 0, 3, "Ann", "Ann wrote it.", 0, 0.9)
    return Answer(
        question="Who wrote it?",
        answer="Ann",
        confidence=0.9,
        abstained=False,
        citations=[citation],
        passages=[Hit(Passage("a.txt", 0, 13, "Ann wrote it."), 0.8)],
        timings_ms={"retrieve": 1.0, "answer": 1.0, "total": 2.0},
        alternatives=[Alternative("Bob", [citation])],
    )


def test_answer_object_keys() -> None:
    d = _answer().to_dict()
    assert set(d) == ANSWER_KEYS
    assert set(d["citations"][0]) == CITATION_KEYS
    assert set(d["passages"][0]) == PASSAGE_KEYS
    assert set(d["alternatives"][0]) == ALTERNATIVE_KEYS
    assert set(d["alternatives"][0]["citations"][0]) == CITATION_KEYS


def test_eval_json_keys() -> None:
    # `qa eval --json` prints `summarize(records, threshold)`; its keys do not depend on the records.
    summary = summarize([], threshold=0.35)
    assert set(summary) == EVAL_KEYS
    assert set(BASELINES) == EVAL_BASELINES
    assert set(summary["baselines"]) == EVAL_BASELINES
    for name in EVAL_BASELINES:
        assert set(summary["baselines"][name]) == EVAL_METRIC_KEYS | {"by_kind"}


def test_index_change_keys() -> None:
    from qa.indexer import IngestReport

    report = IngestReport(added=["a.pdf"], warnings=[("a.pdf", "page 2 was read by OCR")])
    change = api.IndexChange.of(report).model_dump()
    assert set(change) == INDEX_CHANGE_KEYS
    assert change["warnings"] == ["a.pdf: page 2 was read by OCR"]


def _routes(*routers: object) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for router in routers:
        for route in router.routes:  # type: ignore[attr-defined]
            assert isinstance(route, APIRoute), route
            out |= {(method, route.path) for method in route.methods}
    return out


def test_http_routes(tmp_path: Path) -> None:
    assert _routes(api.router, api.health_router) == API_ROUTES
    assert _routes(pages.router) == PAGE_ROUTES
    app = create_app(Settings(index_dir=tmp_path / "index"))  # nothing loads until the app starts
    assert {p: set(ops) for p, ops in app.openapi()["paths"].items()} == OPENAPI_PATHS
    assert {path for r in app.routes if isinstance(path := getattr(r, "path", None), str)} == APP_PATHS
