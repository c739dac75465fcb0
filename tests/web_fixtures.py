"""Fixtures for the web tests: one index of the bundled corpus per session, and apps and clients over it.

Read-only tests share `web_pipeline`; anything that uploads or deletes gets its own copy of the index
from `make_upload_client`, so tests never see each other's documents.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qa.config import Settings
from qa.embed import MiniLMEmbedder
from qa.pipeline import Pipeline
from web.app import create_app

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
API_KEY = "test-key-123"
_SESSION_START = time.time()


@pytest.fixture(scope="session")
def web_pipeline(tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedder) -> Pipeline:
    """The real model and an index of corpus/, built once per session (~15 s)."""
    index_dir = tmp_path_factory.mktemp("web-index")
    pipeline = Pipeline(Settings(index_dir=index_dir), embedder=embedder)
    pipeline.ingest(roots=[CORPUS])
    return pipeline.load()


@pytest.fixture(scope="session")
def web_index(web_pipeline: Pipeline) -> Path:
    """Folder of the session's index. Treat it as read-only: copy it before writing."""
    return web_pipeline.settings.index_dir


@pytest.fixture(scope="session")
def api_client(web_pipeline: Pipeline) -> Iterator[TestClient]:
    """The app over the shared index with uploads off (no QA_API_KEY)."""
    with TestClient(create_app(replace(web_pipeline.settings, api_key=None), web_pipeline)) as client:
        yield client


@pytest.fixture(scope="session")
def keyed_client(web_pipeline: Pipeline) -> Iterator[TestClient]:
    """The app over the shared index with an API key set; only for requests that are refused."""
    with TestClient(create_app(replace(web_pipeline.settings, api_key=API_KEY), web_pipeline)) as client:
        yield client


def copy_index(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".lock"))
    return dst


@pytest.fixture
def make_upload_client(web_pipeline: Pipeline, tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """Factory: an app with uploads on, over a private copy of the index (reusing the loaded model)."""
    clients: list[TestClient] = []

    def make(api_key: str | None = API_KEY, max_upload_bytes: int = 20 * 1024 * 1024) -> TestClient:
        index_dir = copy_index(web_pipeline.settings.index_dir, tmp_path / f"index-{len(clients)}")
        settings = replace(
            web_pipeline.settings, index_dir=index_dir, api_key=api_key, max_upload_bytes=max_upload_bytes
        )
        pipeline = Pipeline(settings, embedder=web_pipeline.embedder).load()
        client = TestClient(create_app(settings, pipeline))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not SCREENSHOTS.is_dir():
        return
    shots = [p for p in SCREENSHOTS.glob("*.png") if p.stat().st_mtime >= _SESSION_START]
    if shots:
        terminalreporter.write_line(f"screenshots: {len(shots)} in {SCREENSHOTS}/")
