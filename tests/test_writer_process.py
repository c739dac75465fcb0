"""Plain `qa serve` ingests uploads in its worker process (web.writer_process), off the request path.

Through the real server: an upload is answerable by the next question, a delete removes it, refused
files get the status and message the in-process writes give, and a killed worker is replaced at the
next write without the index losing its current generation.
"""

from __future__ import annotations

import os
import pickle
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from qa import errors
from qa.errors import DocQAError, UnknownDocumentsError
from tests.servers import qa_serve
from tests.test_api import ZORBLAX
from tests.web_fixtures import API_KEY, copy_index

AUTH = {"Authorization": f"Bearer {API_KEY}"}
QUESTION = "When was the Zorblax Institute founded?"


def big_text(n: int = 3000) -> bytes:
    """A document that takes the worker many seconds to embed (thousands of distinct sentences)."""
    return "\n\n".join(
        f"Ledger entry {i}. The barge number {i} carried {i * 13 % 997} sacks of barley to the mill at "
        f"Hollin on day {i % 365}, and its pilot logged {i * 7 % 113} knots of wind."
        for i in range(n)
    ).encode()


def worker_pids(server_pid: int) -> list[int]:
    """The server's multiprocessing children started with "spawn" (its upload worker), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == server_pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def wait_for_worker(server_pid: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while not (pids := worker_pids(server_pid)):
        assert time.monotonic() < deadline, "no upload worker process appeared"
        time.sleep(0.05)
    assert len(pids) == 1, pids
    return pids[0]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1][:3]:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def current(index: Path) -> str:
    return (index / "CURRENT").read_text().strip()


@pytest.fixture(scope="module")
def served(web_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str, Path]]:
    """(server pid, base URL, index folder) of one `qa serve` with uploads on, over a private index copy."""
    tmp = tmp_path_factory.mktemp("writer-process")
    index = copy_index(web_index, tmp / "index")
    with qa_serve(index, tmp / "serve.log", env={"QA_API_KEY": API_KEY}) as (proc, url):
        assert "ingested in a worker process" in (tmp / "serve.log").read_text()
        assert worker_pids(proc.pid) == []  # started at the first write, not with the server
        yield proc.pid, url, index


@pytest.mark.parametrize("cls", [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, DocQAError)])
def test_every_domain_error_crosses_a_process_boundary_as_itself(cls: type[DocQAError]) -> None:
    exc = UnknownDocumentsError(["a.txt", "b.txt"]) if cls is UnknownDocumentsError else cls("A sentence.")
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is cls and str(back) == str(exc) and back.args == exc.args


def test_an_upload_is_answered_at_once_then_a_delete_removes_it(served: tuple[int, str, Path]) -> None:
    _, url, _ = served
    with httpx.Client(base_url=url, timeout=300) as c:
        r = c.post("/api/documents", files={"files": ("zorblax.txt", ZORBLAX, "text/plain")}, headers=AUTH)
        assert r.status_code == 201, r.text
        assert r.json()["added"] == ["zorblax.txt"]
        body = c.post("/api/ask", json={"question": QUESTION}).json()  # the very next request
        assert body["answer"] == "1987"
        cite = body["citations"][0]
        assert cite["doc_id"] == "zorblax.txt"
        text = c.get("/api/documents/zorblax.txt").json()["text"]
        assert cite["text"] == text[cite["start"] : cite["end"]] == body["answer"]

        r = c.delete("/api/documents/zorblax.txt", headers=AUTH)
        assert r.status_code == 200, r.text
        assert r.json()["removed"] == ["zorblax.txt"]
        assert c.get("/api/documents/zorblax.txt").status_code == 404
        assert "zorblax.txt" not in {d["doc_id"] for d in c.get("/api/documents").json()}
        body = c.post("/api/ask", json={"question": QUESTION}).json()
        assert all(p["doc_id"] != "zorblax.txt" for p in body["passages"])


@pytest.mark.parametrize(
    "method, path, files",
    [
        ("POST", "/api/documents", {"files": ("image.png", b"\x89PNG\r\n")}),  # refused by name, here
        ("POST", "/api/documents", {"files": ("fake.pdf", b"this is not a pdf")}),  # refused in the worker
        ("POST", "/api/documents", {"files": ("binary.txt", b"\x00\x01\x02\x03" * 100)}),
        ("DELETE", "/api/documents/nothing-such.txt", None),  # 404 from the worker
    ],
)
def test_refusals_keep_the_status_and_message_of_in_process_writes(
    served: tuple[int, str, Path],
    make_upload_client: Callable[..., TestClient],
    method: str,
    path: str,
    files: dict[str, tuple[str, bytes]] | None,
) -> None:
    _, url, index = served
    before = current(index)
    local = make_upload_client().request(method, path, files=files, headers=AUTH)
    with httpx.Client(base_url=url, timeout=300) as c:
        remote = c.request(method, path, files=files, headers=AUTH)
    assert local.status_code in (400, 404, 415)
    assert (remote.status_code, remote.json()) == (local.status_code, local.json())
    assert current(index) == before


def test_a_killed_worker_is_replaced_by_the_next_upload(served: tuple[int, str, Path]) -> None:
    pid, url, index = served
    with httpx.Client(base_url=url, timeout=300) as c:
        r = c.post("/api/documents", files={"files": ("first.txt", b"The heron nests by the weir.")}, headers=AUTH)
        assert r.status_code == 201, r.text
        killed = wait_for_worker(pid)
        kill(killed)
        r = c.post("/api/documents", files={"files": ("zorblax.txt", ZORBLAX)}, headers=AUTH)
        assert r.status_code == 201, r.text
        assert c.post("/api/ask", json={"question": QUESTION}).json()["answer"] == "1987"
        assert wait_for_worker(pid) != killed


def test_a_worker_killed_mid_write_changes_nothing_and_the_next_write_succeeds(
    served: tuple[int, str, Path],
) -> None:
    pid, url, index = served
    with httpx.Client(base_url=url, timeout=300) as c:
        # A warm worker (started, model loaded), so that the kill below lands inside the change and
        # not in the worker's start-up, which the server would get over by starting another.
        r = c.post("/api/documents", files={"files": ("zorblax.txt", ZORBLAX)}, headers=AUTH)  # QUESTION's answer
        assert r.status_code == 201, r.text
        docs = {d["doc_id"] for d in c.get("/api/documents").json()}
        before = current(index)
        worker = wait_for_worker(pid)
        idle = cpu_seconds(worker)
        result: list[httpx.Response] = []

        def post() -> None:
            with httpx.Client(base_url=url, timeout=300) as other:
                result.append(other.post("/api/documents", files={"files": ("ledger.txt", big_text())}, headers=AUTH))

        upload = threading.Thread(target=post)
        upload.start()
        deadline = time.monotonic() + 120
        while cpu_seconds(worker) - idle < 1.0:  # it has taken the change and is working on it
            assert time.monotonic() < deadline and upload.is_alive(), "the worker never started the change"
            time.sleep(0.05)
        kill(worker)
        upload.join(timeout=120)
        assert result and result[0].status_code == 503, result and result[0].text
        assert "index is as it was" in result[0].json()["detail"]
        assert current(index) == before
        assert {d["doc_id"] for d in c.get("/api/documents").json()} == docs
        assert c.post("/api/ask", json={"question": QUESTION}).json()["answer"] == "1987"

        r = c.post("/api/documents", files={"files": ("heron.txt", b"The heron nests by the mill.")}, headers=AUTH)
        assert r.status_code == 201, r.text
        assert current(index) != before
