"""`qa ingest --engine ray`: the same index content and answers as the local engine, on a local Ray
and on a two-node cluster on this machine, and a worker or an ingest killed mid-run harms nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qa.config import Settings
from qa.embed import MODEL_DIM, MODEL_NAME, MiniLMEmbedder
from qa.index import open_index
from qa.index.local import current_generation
from qa.indexer import update_index
from qa.pipeline import Pipeline
from tests.ingest_builds import generation_digest
from tests.ray_cluster import marked_pids, stop, two_node_cluster
from tests.servers import free_port

pytest.importorskip("ray")

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
VECTOR_FILES = frozenset({"vectors.npy", "sentence_vectors.npy", "faiss.index"})
QUESTIONS = [
    "Which network did John Kirby speak on?",
    "How much did Palyuga have to pay?",
    "How many deputies signed the petition?",
]
# Marks every process a test starts (ray start's daemons, their workers): teardown kills exactly those.
MARK = "DOCQA_TEST_RAY_MARK"
# The mark of the `qa ingest` runs below and the local Rays they start (whose agents Ray leaves
# running for a few minutes after it shuts down).
RUN_MARK = uuid.uuid4().hex


@pytest.fixture(scope="module", autouse=True)
def _stop_what_the_runs_left() -> Iterator[None]:
    yield
    stop(marked_pids(MARK, RUN_MARK))


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("ray-docs") / "docs"
    shutil.copytree(CORPUS, d)
    return d


@pytest.fixture(scope="module")
def local_index(tmp_path_factory: pytest.TempPathFactory, docs: Path, embedder: MiniLMEmbedder) -> Path:
    """The local engine's index of the corpus: the reference."""
    index = tmp_path_factory.mktemp("local") / "index"
    update_index(Settings(index_dir=index), embedder, roots=[docs])
    return index


def ingest(
    docs: Path, index: Path, *extra: str, env: dict[str, str] | None = None, hooked: bool = False
) -> subprocess.CompletedProcess[str]:
    module = "tests.ray_hooks" if hooked else "qa.cli"
    return subprocess.run(
        [sys.executable, "-m", module, "ingest", str(docs), "--index", str(index), "--engine", "ray", *extra],
        cwd=REPO,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO), MARK: RUN_MARK, **(env or {})},
        text=True,
        capture_output=True,
        timeout=400,
    )


def assert_same_content(a: Path, b: Path, work: Path) -> None:
    """Documents, texts, offsets, passages, sentences, entities and terms identical; vectors within 1e-5."""
    assert generation_digest(a, work, MODEL_NAME, MODEL_DIM, VECTOR_FILES) == generation_digest(
        b, work, MODEL_NAME, MODEL_DIM, VECTOR_FILES
    )
    ga, gb = current_generation(a), current_generation(b)
    for name in ("vectors.npy", "sentence_vectors.npy"):
        va, vb = np.load(ga / name), np.load(gb / name)
        assert va.shape == vb.shape and len(va) > 0
        assert np.abs(va - vb).max() <= 1e-5, name


def answers(index: Path, embedder: MiniLMEmbedder) -> list[dict[str, Any]]:
    pipe = Pipeline(Settings(index_dir=index), embedder=embedder).load()
    out = []
    for q in QUESTIONS:
        ans = pipe.ask(q).to_dict()
        out.append(
            {
                "answer": ans["answer"],
                "abstained": ans["abstained"],
                "confidence": round(ans["confidence"], 2),
                "citations": [(c["doc_id"], c["start"], c["end"]) for c in ans["citations"]],
                "passages": [(p["doc_id"], p["start"], p["end"]) for p in ans["passages"]],
            }
        )
    return out


def test_a_local_ray_writes_the_local_engines_index_and_gives_its_answers(
    tmp_path: Path, docs: Path, local_index: Path, embedder: MiniLMEmbedder
) -> None:
    index = tmp_path / "index"
    run = ingest(docs, index, "--ray-workers", "2")
    assert run.returncode == 0, run.stderr
    assert "5 added" in run.stdout and "58 passages embedded" in run.stdout
    assert_same_content(local_index, index, docs.parent)
    assert answers(index, embedder) == answers(local_index, embedder)
    again = ingest(docs, index)  # nothing changed: no Ray needed, nothing written
    assert again.returncode == 0 and "5 unchanged" in again.stdout


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The two-node loopback cluster, its workers logging where each batch ran."""
    log = tmp_path_factory.mktemp("ray-log")
    with two_node_cluster(MARK, {"QA_TEST_RAY_LOG": str(log)}) as (address, _):
        yield address, log


@pytest.mark.slow  # about 75 s with starting and stopping the two nodes
def test_a_two_node_cluster_writes_the_local_engines_index(
    tmp_path: Path, docs: Path, local_index: Path, two_nodes: tuple[str, Path]
) -> None:
    address, log = two_nodes
    index = tmp_path / "index"
    run = ingest(docs, index, "--ray-address", address, env={"RAY_AUTH_MODE": "disabled"}, hooked=True)
    assert run.returncode == 0, run.stderr
    assert "5 added" in run.stdout
    assert_same_content(local_index, index, docs.parent)
    nodes = {p.read_text() for p in log.glob("batch-*")}
    assert nodes == {"127.0.0.2", "127.0.0.3"}  # both nodes embedded documents


def _changed_docs(docs: Path, tmp_path: Path) -> Path:
    """A copy of the corpus with one document changed and one added: a second ingest has work to do."""
    new = tmp_path / "docs"
    shutil.copytree(docs, new)
    (new / "004_75648a9ff11dcd33.txt").write_text("Ferry news\n\nThe ferry Aurora sails to Visby at noon.\n")
    (new / "extra.txt").write_text("Harbour\n\nThe harbour master, Ines Varga, said 14 boats left on Tuesday.\n")
    return new


def test_a_worker_killed_mid_run_is_replaced_and_the_index_is_complete(
    tmp_path: Path, docs: Path, local_index: Path
) -> None:
    log = tmp_path / "log"
    log.mkdir()
    index = tmp_path / "index"
    env = {"QA_TEST_RAY_LOG": str(log), "QA_TEST_RAY_DIE_AT": "002_a6792d8b72d2b792.txt"}
    run = ingest(docs, index, "--ray-workers", "2", env=env, hooked=True)
    assert (log / "DIED").exists()  # a worker did die, holding a batch
    assert run.returncode == 0, run.stderr
    assert_same_content(local_index, index, docs.parent)


def test_an_ingest_killed_mid_run_leaves_the_old_index_and_a_rerun_completes(
    tmp_path: Path, docs: Path, local_index: Path, embedder: MiniLMEmbedder
) -> None:
    index = tmp_path / "index"
    shutil.copytree(local_index, index, ignore=shutil.ignore_patterns(".lock"))
    before = (index / "CURRENT").read_text()
    changed = _changed_docs(docs, tmp_path)
    log = tmp_path / "log"
    log.mkdir()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(REPO),
        "QA_TEST_RAY_LOG": str(log),
        "QA_TEST_RAY_STALL_AT": "extra.txt",
        MARK: uuid.uuid4().hex,
    }
    argv = [sys.executable, "-m", "tests.ray_hooks", "ingest", str(changed), "--index", str(index), "--engine", "ray"]
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 300
        while not (log / "STALLED").exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.5)
        assert (log / "STALLED").exists(), "no worker reached the stalling document"
        proc.kill()  # the driver, mid-run: its local Ray goes with it
        proc.wait(timeout=30)
    finally:
        stop([proc.pid, *marked_pids(MARK, env[MARK])])
    assert (index / "CURRENT").read_text() == before
    data = open_index("local", index, MODEL_NAME, MODEL_DIM)
    assert "extra.txt" not in data.doc_index
    assert answers(index, embedder) == answers(local_index, embedder)  # it still loads and answers
    rerun = ingest(changed, index)
    assert rerun.returncode == 0, rerun.stderr
    assert "1 added, 1 updated" in rerun.stdout
    reference = tmp_path / "reference"
    shutil.copytree(local_index, reference, ignore=shutil.ignore_patterns(".lock"))
    update_index(Settings(index_dir=reference), embedder, roots=[changed])
    assert_same_content(reference, index, changed.parent)


def test_an_error_in_a_worker_fails_the_ingest_with_one_line_and_changes_nothing(
    tmp_path: Path, docs: Path, local_index: Path
) -> None:
    index = tmp_path / "index"
    shutil.copytree(local_index, index, ignore=shutil.ignore_patterns(".lock"))
    before = (index / "CURRENT").read_text()
    changed = _changed_docs(docs, tmp_path)
    run = ingest(changed, index, "--ray-workers", "1", env={"QA_TEST_RAY_RAISE_AT": "extra.txt"}, hooked=True)
    assert run.returncode == 1
    errors = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "The Ray ingest failed" in errors[0] and "index is unchanged" in errors[0]
    assert "Traceback" not in run.stderr
    assert (index / "CURRENT").read_text() == before
    assert sorted(p.name for p in index.iterdir() if p.name.startswith(("gen-", ".tmp-gen-"))) == [before.strip()]


def test_an_address_where_no_cluster_answers_fails_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from qa.cli import main

    address = f"127.0.0.1:{free_port()}"  # bound and closed again: nothing listens there
    started = time.perf_counter()
    code = main(["ingest", str(CORPUS), "--engine", "ray", "--ray-address", address, "--index", str(tmp_path / "ix")])
    assert code == 1 and time.perf_counter() - started < 30
    err = capsys.readouterr().err
    assert err.startswith(f"error: No Ray cluster answers at {address}") and err.count("\n") == 1
