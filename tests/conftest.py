"""Shared pytest configuration: the real model and indexes, loaded once per session.

The web fixtures live in tests/web_fixtures.py.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from qa.config import Settings
from qa.embed import MiniLMEmbedder
from qa.pipeline import Pipeline

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

pytest_plugins = ["tests.web_fixtures"]

DATA = Path(__file__).resolve().parent / "data"
CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A private copy of the bundled corpus that a test may change."""
    d = tmp_path / "docs"
    shutil.copytree(CORPUS, d)
    return d


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    """The real MiniLM model, loaded once per test session."""
    return MiniLMEmbedder()


@pytest.fixture(scope="session")
def pipeline(web_pipeline: Pipeline) -> Pipeline:
    """The real pipeline over an index of the bundled corpus (shared with the web tests)."""
    return web_pipeline


@pytest.fixture(scope="session")
def answerer_pipeline(tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedder) -> Pipeline:
    """The real pipeline over two short documents written for the answerer tests (not the corpus)."""
    index_dir = tmp_path_factory.mktemp("answerer-index")
    pipe = Pipeline(Settings(index_dir=index_dir), embedder=embedder)
    pipe.ingest(roots=[DATA / "answerer"])
    return pipe.load()
