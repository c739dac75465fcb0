"""`qa serve --replicas N`: the app on Ray Serve, answers and uploads alike from every replica, and
Serve and its local Ray gone after SIGTERM; without Ray Serve, exit 2 with the install command."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from qa.cli import main
from qa.config import Settings
from qa.embed import MiniLMEmbedder
from qa.pipeline import Pipeline
from tests.ray_cluster import marked_tree, stop, two_node_cluster
from tests.servers import free_port
from tests.web_fixtures import API_KEY, REPO, copy_index
from web.ray_serve import _descendants

HEADER = "X-DocQA-Replica"
QUESTION = "Which network did John Kirby speak on?"
NEW_DOC = ("extra.txt", b"Harbour\n\nThe harbour master, Ines Varga, said 14 boats left on Tuesday.\n")
NEW_QUESTION = "Who is the harbour master?"
# Marks the server's process and everything its local Ray starts: teardown ends exactly those.
MARK = "DOCQA_TEST_RAY_SERVE_MARK"


# ---------------------------------------------------------------- without a cluster (fast)


def test_replicas_without_ray_serve_installed_exit_2_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("ray", "ray.serve"):
        monkeypatch.setitem(sys.modules, name, None)  # `import ray` now raises ImportError
    code = main(["serve", "--replicas", "2", "--index", str(tmp_path / "no-index")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --replicas needs Ray Serve") and "pip install 'docqa[ray]'" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_replicas_below_one_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["serve", "--replicas", value])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: qa serve") and "argument --replicas:" in err


def test_ray_address_needs_replicas(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["serve", "--ray-address", "127.0.0.1:6379", "--index", str(tmp_path / "no-index")])
    assert code == 1
    assert capsys.readouterr().err == "error: --ray-address needs --replicas N.\n"


def test_a_missing_index_fails_before_ray_starts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("ray.serve")
    import ray

    code = main(["serve", "--replicas", "2", "--index", str(tmp_path / "no-index")])
    assert code == 1
    assert capsys.readouterr().err.startswith(f"error: No index at {tmp_path / 'no-index'}/")
    assert not ray.is_initialized()


def test_plain_serve_imports_no_ray() -> None:
    code = "import sys, qa.cli, web.server, web.app; sys.exit('ray' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0


def test_refresh_picks_up_a_generation_another_process_wrote(
    tmp_path: Path, web_index: Path, embedder: MiniLMEmbedder
) -> None:
    """What each replica does per request: a new generation loads once; an unchanged one costs nothing."""
    settings = Settings(index_dir=copy_index(web_index, tmp_path / "index"))
    reader = Pipeline(settings, embedder=embedder).load()
    writer = Pipeline(settings, embedder=embedder).load()
    before = reader.live
    assert reader.refresh() is False and reader.live is before
    writer.ingest(uploads=[NEW_DOC])
    assert NEW_DOC[0] not in reader.live.data.doc_index  # nothing reloads behind a caller's back
    assert reader.refresh() is True
    assert NEW_DOC[0] in reader.live.data.doc_index and reader.live is not before
    assert before.data.doc_index.get(NEW_DOC[0]) is None  # the old generation, still held, is unchanged
    assert reader.refresh() is False
    assert reader.ask(NEW_QUESTION).answer == "Ines Varga"


# ---------------------------------------------------------------- two replicas on a local Ray


def _raylets() -> set[int]:
    done = subprocess.run(["pgrep", "-f", "raylet"], capture_output=True, text=True)
    return {int(p) for p in done.stdout.split()}


@dataclass(frozen=True)
class Served:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path
    mark: str
    raylets_before: set[int]


@contextlib.contextmanager
def replicated_server(index: Path, log: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    """`qa serve --replicas 2 ...extra` over `index`, uploads on, on a free port; stopped by process id."""
    mark = uuid.uuid4().hex
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "HF_HUB_OFFLINE": "1",
        "QA_API_KEY": API_KEY,
        MARK: mark,
        **(env or {}),
    }
    argv = [sys.executable, "-m", "qa.cli", "serve", "--replicas", "2", "--port", str(port), "--index", str(index)]
    before = _raylets()
    with log.open("ab") as out:
        proc = subprocess.Popen([*argv, *extra], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 400
        while True:
            if proc.poll() is not None:
                pytest.fail(f"qa serve --replicas exited with {proc.returncode}:\n{log.read_text()}")
            # The start-up line comes once every replica runs (one may answer /healthz before).
            if "Ray Serve replicas" in log.read_text():
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                        break
            if time.monotonic() > deadline:
                pytest.fail(f"qa serve --replicas did not answer within 400 s:\n{log.read_text()}")
            time.sleep(1)
        yield Served(proc, url, log, mark, before)
    finally:
        started = _descendants(proc.pid) | marked_tree(MARK, mark)
        if proc.poll() is None:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=120)
        stop(sorted(_alive({proc.pid, *started, *marked_tree(MARK, mark)})))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, web_index: Path) -> Iterator[Served]:
    """Two replicas on a local Ray over a private copy of the corpus index."""
    pytest.importorskip("ray.serve")
    work = tmp_path_factory.mktemp("ray-serve")
    with replicated_server(copy_index(web_index, work / "index"), work / "serve.log") as server:
        yield server


def _node_of(pid: int) -> str:
    """The Ray node (its --node-ip-address) whose raylet started process `pid`."""
    parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
    argv = Path(f"/proc/{parent}/cmdline").read_bytes().split(b"\0")
    return next(a.decode().split("=", 1)[1] for a in argv if a.startswith(b"--node_ip_address="))


def _alive(pids: set[int]) -> set[int]:
    """Those of `pids` still running (not gone, not a zombie)."""
    alive = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                alive.add(pid)
    return alive


def _replica_nodes(mark: str) -> list[str]:
    """The nodes the answering replicas (not the writer) of a cluster marked `mark` run on."""
    nodes = []
    for pid in marked_tree(MARK, mark):
        with contextlib.suppress(OSError, StopIteration):
            if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"ray::ServeReplica:docqa:docqa\0"):
                nodes.append(_node_of(pid))
    return sorted(nodes)


def ask(url: str, question: str, **extra: Any) -> httpx.Response:
    return httpx.post(f"{url}/api/ask", json={"question": question, **extra}, timeout=120)


AUTH = {"Authorization": f"Bearer {API_KEY}"}


def upload(url: str, doc: tuple[str, bytes]) -> httpx.Response:
    """POST one text document to the API, with the key."""
    name, data = doc
    return httpx.post(f"{url}/api/documents", files=[("files", (name, data, "text/plain"))], headers=AUTH, timeout=300)


def delete(url: str, doc_id: str, timeout: float) -> httpx.Response:
    return httpx.delete(f"{url}/api/documents/{doc_id}", headers=AUTH, timeout=timeout)


def by_replica(url: str, question: str, tries: int = 60, **extra: Any) -> dict[str, httpx.Response]:
    """One response from each replica that answered `question` within `tries` requests."""
    seen: dict[str, httpx.Response] = {}
    for _ in range(tries):
        r = ask(url, question, **extra)
        seen.setdefault(r.headers[HEADER], r)
        if len(seen) == 2:
            break
    return seen


# Each test below takes under 60 s (the first one starts the server: about 40 s on the 2-core VM,
# Ray's start and three model loads), so none is marked slow.
def test_an_answer_cites_the_document_text(served: Served) -> None:
    r = ask(served.url, QUESTION)
    assert r.status_code == 200, r.text
    ans = r.json()
    assert not ans["abstained"] and ans["citations"]
    for c in ans["citations"]:
        doc = httpx.get(f"{served.url}/api/documents/{c['doc_id']}", timeout=60).json()
        assert c["text"] == doc["text"][c["start"] : c["end"]]
        assert c["text"] == ans["answer"] or ans["answer"] in c["sentence"]


def test_requests_reach_both_replicas_with_the_same_answer(served: Served) -> None:
    seen = by_replica(served.url, QUESTION)
    assert len(seen) == 2, f"only replica(s) {sorted(seen)} answered"
    answers = [r.json() for r in seen.values()]
    assert answers[0]["answer"] == answers[1]["answer"]
    assert answers[0]["citations"] == answers[1]["citations"]


def test_an_upload_is_answerable_from_both_replicas_and_a_delete_gone_from_both(served: Served) -> None:
    name = NEW_DOC[0]
    up = upload(served.url, NEW_DOC)
    assert up.status_code == 201, up.text
    assert up.json()["added"] == [name] and up.json()["documents"] == 6
    # No waiting: every request after the upload returned sees the new document, whichever replica.
    seen = by_replica(served.url, NEW_QUESTION)
    assert len(seen) == 2
    for replica, r in seen.items():
        ans = r.json()
        assert ans["answer"] == "Ines Varga", replica
        assert [c["doc_id"] for c in ans["citations"]] == [name]
    listed = {r.headers[HEADER]: r.json() for r in (httpx.get(f"{served.url}/api/documents") for _ in range(20))}
    assert all(name in {d["doc_id"] for d in docs} for docs in listed.values())

    gone = delete(served.url, name, timeout=300)
    assert gone.status_code == 200, gone.text
    assert gone.json()["removed"] == [name]
    seen = by_replica(served.url, NEW_QUESTION, doc_ids=[name])
    assert len(seen) == 2
    assert all(r.status_code == 422 and name in r.json()["detail"] for r in seen.values())
    again = delete(served.url, name, timeout=60)
    assert again.status_code == 404  # the writer's DocumentNotFoundError, raised in the replica


def test_sigterm_stops_serve_and_the_local_ray(served: Served) -> None:
    assert "2 Ray Serve replicas and one writer" in served.log.read_text()
    started = _descendants(served.proc.pid)  # the local Ray: GCS, raylet, Serve's actors, Ray's agents
    assert _raylets() & started and len(started) > 5
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(timeout=120) == 0, served.log.read_text()
    deadline = time.monotonic() + 30
    while _alive(started) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _alive(started) == set()
    assert _raylets() - served.raylets_before == set()
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{served.url}/healthz", timeout=5)


# ---------------------------------------------------------------- joining a two-node cluster (slow)


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[tuple[str, str]]:
    """The two-node loopback cluster; yields (address, mark)."""
    pytest.importorskip("ray.serve")
    with two_node_cluster(MARK) as cluster:
        yield cluster


@pytest.mark.slow  # about 80 s: two `ray start`s, then the server
def test_replicas_on_a_joined_two_node_cluster_share_one_index(
    tmp_path: Path, web_index: Path, two_nodes: tuple[str, str]
) -> None:
    address, cluster_mark = two_nodes
    index = copy_index(web_index, tmp_path / "index")
    env = {"RAY_AUTH_MODE": "disabled"}
    with replicated_server(index, tmp_path / "serve.log", "--ray-address", address, env=env) as server:
        assert _replica_nodes(cluster_mark) == ["127.0.0.2", "127.0.0.3"]  # one replica on each node
        up = upload(server.url, NEW_DOC)
        assert up.status_code == 201, up.text
        seen = by_replica(server.url, NEW_QUESTION)
        assert len(seen) == 2 and all(r.json()["answer"] == "Ines Varga" for r in seen.values())
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=120) == 0, server.log.read_text()
    # Serve is gone from the cluster; the cluster itself, which qa serve joined, keeps running.
    deadline = time.monotonic() + 30
    while _replica_nodes(cluster_mark) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _replica_nodes(cluster_mark) == []
    assert len(_raylets() & marked_tree(MARK, cluster_mark)) == 2
    too_many = subprocess.run(
        [sys.executable, "-m", "qa.cli", "serve", "--replicas", "3", "--ray-address", address, "--index", str(index)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "RAY_AUTH_MODE": "disabled"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert too_many.returncode == 1
    assert f"The Ray cluster at {address} has 2 CPU(s) and each replica takes one" in too_many.stderr
