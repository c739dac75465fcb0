"""Faults, done for real on an index on disk: killed ingests, damaged files, full and read-only disks,
a server killed after uploads, and uploads racing questions.

A full or read-only disk is a real tmpfs of a few megabytes when the test may mount one (root, as on
CI); otherwise those tests skip and the monkeypatched ones below still cover the same paths.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from qa import store
from qa.cli import main as qa_main
from qa.config import Settings
from qa.index import local
from qa.indexer import update_index
from qa.pipeline import Pipeline
from tests.fakes import FakeEmbedder
from tests.servers import (
    free_port,
    qa_serve,
    require_slow,
    uvicorn_in_thread,
)
from tests.web_fixtures import API_KEY, REPO, copy_index

AUTH = {"Authorization": f"Bearer {API_KEY}"}
QUESTIONS = (
    "Who is John Kirby?",
    "How far is Kreminna from Severodonetsk?",
    "How many officials signed the petition?",
    "What happened in Kharkiv?",
)
FERRY = "Ferry news\n\nThe ferry Aurora sails from Visby to Nynashamn at noon every Friday.\n"


# ---------------------------------------------------------------- helpers


def answers(pipe: Pipeline, questions: tuple[str, ...] = QUESTIONS) -> list[Any]:
    """Everything a user can see: the documents and the answers to `questions`, minus timings."""
    out: list[Any] = [pipe.documents()]
    for q in questions:
        d = pipe.ask(q).to_dict()
        d.pop("timings_ms")
        out.append(d)
    return out


def fake_pipeline(settings: Settings) -> Pipeline:
    return Pipeline(settings, embedder=FakeEmbedder()).load()


def generation(settings: Settings) -> str:
    return store.current_generation(settings.index_dir).name


def leftovers(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith(".tmp-"))


def in_thread(fn: Callable[[], Any], timeout: float) -> Any:
    """Run `fn` with a time limit, so a lock left held by a killed process fails the test, not hangs it."""
    result: queue.Queue[tuple[bool, Any]] = queue.Queue()

    def run() -> None:
        try:
            result.put((True, fn()))
        except BaseException as e:  # handed to the test thread, re-raised there
            result.put((False, e))

    threading.Thread(target=run, daemon=True).start()
    try:
        ok, value = result.get(timeout=timeout)
    except queue.Empty:
        pytest.fail(f"did not finish within {timeout:.0f} s")
    if not ok:
        raise value
    return value


@pytest.fixture
def fake_index(tmp_path: Path, docs: Path) -> Settings:
    """An index of the corpus built with the fake embedder (storage faults don't need the real model)."""
    settings = Settings(index_dir=tmp_path / "index")
    update_index(settings, FakeEmbedder(), roots=[docs])
    return settings


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 8 MB tmpfs, so 'disk full' and 'read-only' are the kernel's, not a monkeypatch."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip() or r.returncode}); monkeypatched tests cover this")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@contextlib.contextmanager
def disk_left_with(mnt: Path, free_bytes: int) -> Iterator[None]:
    """Fill the tmpfs at `mnt` until only about `free_bytes` are free (page granularity)."""
    filler = mnt / "filler"
    size = max(0, shutil.disk_usage(mnt).free - free_bytes)
    fd = os.open(filler, os.O_CREAT | os.O_WRONLY)
    try:
        if size:
            os.posix_fallocate(fd, 0, size)
    finally:
        os.close(fd)
    try:
        yield
    finally:
        filler.unlink()


@contextlib.contextmanager
def read_only(mnt: Path) -> Iterator[None]:
    subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(mnt)], check=True, capture_output=True)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = qa_main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


# ---------------------------------------------------------------- SIGKILL part-way through `qa ingest`


def wait_for_marker(proc: subprocess.Popen[str], marker: str, timeout: float) -> None:
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        with proc.stdout:  # closed here at EOF, so the pipe is not left to the garbage collector
            for line in proc.stdout:
                lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if line is None:
            pytest.fail(f"qa ingest ended (code {proc.wait()}) without reaching {marker}: {seen}")
        if line.strip() == marker:
            return
        seen.append(line)
    pytest.fail(f"qa ingest did not reach {marker} within {timeout:.0f} s")


@pytest.mark.parametrize("point", ["embedding", "writing", "switching"])
def test_an_ingest_killed_part_way_leaves_the_previous_index_answering(
    fake_index: Settings, docs: Path, tmp_path: Path, point: str
) -> None:
    settings = fake_index
    before, gen_before = answers(fake_pipeline(settings)), generation(settings)
    (docs / "ferry.txt").write_text(FERRY)
    (docs / "004_75648a9ff11dcd33.txt").write_text("Changed\n\nThis story was rewritten after the first ingest.\n")

    stderr = (tmp_path / "ingest.err").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fault_wrapper", "ingest", str(docs), "--index", str(settings.index_dir)],
        cwd=REPO,
        env={**os.environ, "QA_TEST_PAUSE_AT": point},
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    try:
        wait_for_marker(proc, point.upper(), timeout=180)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stderr.close()

    # What the kill left behind shows it struck where intended.
    names = sorted(p.name for p in settings.index_dir.iterdir())
    if point == "writing":
        assert leftovers(settings.index_dir), names  # a half-written generation
    if point == "switching":
        assert len([n for n in names if n.startswith("gen-")]) == 2, names  # complete, but not in CURRENT
    # The previous index is in force and answers exactly as before.
    assert generation(settings) == gen_before
    assert answers(fake_pipeline(settings)) == before

    # The next ingest completes (the dead writer's lock died with it) and clears the debris.
    report = in_thread(lambda: update_index(settings, FakeEmbedder(), roots=[docs]), timeout=180)
    assert report.added == ["ferry.txt"] and report.updated == ["004_75648a9ff11dcd33.txt"]
    assert not leftovers(settings.index_dir)
    pipe = fake_pipeline(settings)
    assert "ferry.txt" in {d.doc_id for d in pipe.documents()}
    assert pipe.document("004_75648a9ff11dcd33.txt").text.startswith("Changed")


# ---------------------------------------------------------------- a damaged index: `qa ask` and `qa serve` refuse


def damage(index: Path, how: str) -> str:
    """Damage the live generation; returns the file name the error must mention."""
    gen = store.current_generation(index)
    if how == "truncated-faiss":
        f = gen / "faiss.index"
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
        return "faiss.index"
    if how == "edited-manifest":
        m = gen / "manifest.json"
        m.write_text(m.read_text().replace('"n_documents": 5', '"n_documents": 6'))
        return "manifest.json"
    if how == "missing-metadata":
        (gen / "documents.jsonl").unlink()
        return "documents.jsonl"
    if how == "truncated-vectors":
        f = gen / "vectors.npy"
        f.write_bytes(f.read_bytes()[:200])
        return "vectors.npy"
    raise ValueError(how)


@pytest.mark.parametrize("how", ["truncated-faiss", "edited-manifest", "missing-metadata", "truncated-vectors"])
def test_ask_and_serve_refuse_a_damaged_index_naming_the_file(web_index: Path, tmp_path: Path, how: str) -> None:
    index = copy_index(web_index, tmp_path / "index")
    name = damage(index, how)
    port = free_port()
    env = {**os.environ, "QA_API_KEY": "k"}
    commands = {
        "ask": ["ask", "Who is John Kirby?", "--index", str(index)],
        "serve": ["serve", "--port", str(port), "--index", str(index)],
    }
    procs = {
        cmd: subprocess.Popen(
            [sys.executable, "-m", "qa.cli", *argv],
            cwd=REPO,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for cmd, argv in commands.items()
    }
    try:
        for cmd, proc in procs.items():
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 1, (cmd, out, err)
            assert out == "", (cmd, out)
            line = one_error_line(err)
            assert name in line and "qa ingest" in line, (cmd, line)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass  # nothing ever listened: no wrong answers were served


# ---------------------------------------------------------------- disk full / read-only: monkeypatched


def disk_full_after(limit: int) -> Callable[..., None]:
    """np.save that writes the first `limit` bytes of the file, then fails as a full disk does."""
    real_save = np.save

    def save(file: Any, arr: Any, *args: Any, **kwargs: Any) -> None:
        buf = io.BytesIO()
        real_save(buf, arr, *args, **kwargs)
        if hasattr(file, "write"):
            file.write(buf.getvalue()[:limit])
        else:
            Path(file).write_bytes(buf.getvalue()[:limit])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    return save


def test_qa_ingest_on_a_full_disk_is_one_clear_line_and_the_index_is_intact(
    fake_index: Settings, docs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = fake_index
    before, gen_before = answers(fake_pipeline(settings)), generation(settings)
    (docs / "ferry.txt").write_text(FERRY)
    monkeypatch.setattr("qa.pipeline.MiniLMEmbedder", FakeEmbedder)
    with monkeypatch.context() as m:
        m.setattr(local.np, "save", disk_full_after(100))
        code, out, err = run_cli(["ingest", str(docs), "--index", str(settings.index_dir)], capsys)
    assert code == 1 and out == ""
    line = one_error_line(err)
    assert "No space left on device" in line and "previous index is unchanged" in line
    assert generation(settings) == gen_before and not leftovers(settings.index_dir)
    assert answers(fake_pipeline(settings)) == before
    code, out, err = run_cli(["ingest", str(docs), "--index", str(settings.index_dir)], capsys)
    assert code == 0 and "1 added" in out


def test_upload_on_a_full_disk_is_507_and_nothing_changes(
    make_upload_client: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_upload_client()
    docs_before = client.get("/api/documents").json()
    answer_before = client.post("/api/ask", json={"question": QUESTIONS[0]}).json()
    with monkeypatch.context() as m:
        m.setattr(local.np, "save", disk_full_after(64))
        r = client.post("/api/documents", files={"files": ("ferry.txt", FERRY.encode())}, headers=AUTH)
    assert r.status_code == 507, r.text
    assert set(r.json()) == {"detail"}
    assert "No space left on device" in r.json()["detail"] and "previous index is unchanged" in r.json()["detail"]
    assert client.get("/api/documents").json() == docs_before
    after = client.post("/api/ask", json={"question": QUESTIONS[0]}).json()
    assert {k: v for k, v in after.items() if k != "timings_ms"} == {
        k: v for k, v in answer_before.items() if k != "timings_ms"
    }
    # Space back: the same upload lands.
    r = client.post("/api/documents", files={"files": ("ferry.txt", FERRY.encode())}, headers=AUTH)
    assert r.status_code == 201 and r.json()["added"] == ["ferry.txt"]


# ---------------------------------------------------------------- disk full / read-only: a real tmpfs


def test_a_full_disk_at_any_point_of_the_write_leaves_the_previous_index(tiny_disk: Path, docs: Path) -> None:
    settings = Settings(index_dir=tiny_disk / "index")
    emb = FakeEmbedder()
    update_index(settings, emb, roots=[docs])
    before, gen_before = answers(fake_pipeline(settings)), generation(settings)
    (docs / "ferry.txt").write_text(FERRY * 40)
    failed_at: dict[str, list[int]] = {}
    step = 16 * 1024
    for free in range(0, 4 * 1024 * 1024, step):
        try:
            with disk_left_with(tiny_disk, free):
                update_index(settings, emb, roots=[docs])
        except Exception as e:  # which kind, and how it reads, is the next test's business
            failed_at.setdefault(type(e).__name__, []).append(free // 1024)
        else:
            break
        assert generation(settings) == gen_before, free
        assert not leftovers(settings.index_dir), free
        assert answers(fake_pipeline(settings)) == before, free
    else:
        pytest.fail("the ingest never succeeded, even with 4 MB free")
    print(f"disk-full failure points (KB free, by error): {failed_at}")
    assert sum(len(v) for v in failed_at.values()) >= 8, failed_at  # it struck at many points of the write
    pipe = fake_pipeline(settings)
    assert "ferry.txt" in {d.doc_id for d in pipe.documents()}
    assert not leftovers(settings.index_dir)


def test_a_full_disk_at_any_point_is_one_clear_error_line(
    tiny_disk: Path, docs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("qa.pipeline.MiniLMEmbedder", FakeEmbedder)
    index = tiny_disk / "index"
    code, _, _ = run_cli(["ingest", str(docs), "--index", str(index)], capsys)
    assert code == 0
    (docs / "ferry.txt").write_text(FERRY * 40)
    unclear: list[str] = []
    for free in range(0, 4 * 1024 * 1024, 16 * 1024):
        with disk_left_with(tiny_disk, free):
            try:
                code, out, err = run_cli(["ingest", str(docs), "--index", str(index)], capsys)
            except Exception as e:  # noqa: BLE001 - an exception escaping main() is the bug being shown
                unclear.append(f"{free // 1024} KB free: {type(e).__name__} escaped: {str(e)[:80]}")
                continue
        if code == 0:
            break
        line = one_error_line(err)
        if "No space left on device" not in line or "previous index is unchanged" not in line:
            unclear.append(f"{free // 1024} KB free: {line}")
    assert not unclear, "\n".join(unclear)


def test_a_read_only_index_folder_refuses_ingest_and_upload_but_keeps_answering(
    tiny_disk: Path,
    web_pipeline: Pipeline,
    docs: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = copy_index(web_pipeline.settings.index_dir, tiny_disk / "index")
    settings = replace(web_pipeline.settings, index_dir=index, api_key=API_KEY)
    pipe = Pipeline(settings, embedder=web_pipeline.embedder).load()
    before = answers(pipe, QUESTIONS[:1])  # a fresh pipeline's first questions are slow: one is enough
    monkeypatch.setattr("qa.pipeline.MiniLMEmbedder", lambda: web_pipeline.embedder)
    (docs / "ferry.txt").write_text(FERRY)
    from web.app import create_app

    with read_only(tiny_disk), TestClient(create_app(settings, pipe)) as client:
        code, out, err = run_cli(["ingest", str(docs), "--index", str(index)], capsys)
        assert code == 1 and out == ""
        assert "Read-only file system" in one_error_line(err) and str(index) in err
        r = client.post("/api/documents", files={"files": ("ferry.txt", FERRY.encode())}, headers=AUTH)
        assert r.status_code == 507, r.text
        assert "Read-only file system" in r.json()["detail"]
        # Reading needs no writes: the running server and a fresh load both answer as before.
        assert client.get("/healthz").json()["documents"] == 5
        assert answers(pipe, QUESTIONS[:1]) == before
        assert answers(Pipeline(settings, embedder=web_pipeline.embedder).load(), QUESTIONS[:1]) == before
    r_ok = update_index(settings, web_pipeline.embedder, roots=[docs])
    assert "ferry.txt" in r_ok.added


def test_upload_on_a_really_full_disk_is_507(tiny_disk: Path, web_pipeline: Pipeline) -> None:
    index = copy_index(web_pipeline.settings.index_dir, tiny_disk / "index")
    settings = replace(web_pipeline.settings, index_dir=index, api_key=API_KEY)
    pipe = Pipeline(settings, embedder=web_pipeline.embedder).load()
    from web.app import create_app

    with TestClient(create_app(settings, pipe)) as client:
        before = client.post("/api/ask", json={"question": QUESTIONS[0]}).json()["answer"]
        with disk_left_with(tiny_disk, 0):
            r = client.post("/api/documents", files={"files": ("ferry.txt", FERRY.encode())}, headers=AUTH)
            assert r.status_code == 507, r.text
            assert "previous index is unchanged" in r.json()["detail"]
            assert client.get("/healthz").json()["documents"] == 5
            assert client.post("/api/ask", json={"question": QUESTIONS[0]}).json()["answer"] == before
        assert not leftovers(index)
        r = client.post("/api/documents", files={"files": ("ferry.txt", FERRY.encode())}, headers=AUTH)
        assert r.status_code == 201


def test_upload_when_faiss_hits_a_full_disk_is_507(
    make_upload_client: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """faiss reports a failed write as RuntimeError (here it writes to /dev/full, which fails as a full disk
    does); the upload is still a clean 507 and the old index stays live."""
    import faiss

    client = make_upload_client()
    real_write = faiss.write_index
    monkeypatch.setattr(faiss, "write_index", lambda index, _: real_write(index, "/dev/full"))
    r = client.post("/api/documents", files={"files": ("ferry.txt", FERRY.encode())}, headers=AUTH)
    assert r.status_code == 507, r.text
    assert "faiss.index" in r.json()["detail"] or "No space left on device" in r.json()["detail"]
    assert client.get("/healthz").json()["documents"] == 5


# ---------------------------------------------------------------- `qa serve` killed after uploads


INSTITUTES = {
    "zorblax.txt": ("Zorblax Institute", "Quellbridge", "1987"),
    "vantrel.md": ("Vantrel Observatory", "Hollowmere", "1954"),
    "okkaro.html": ("Okkaro Seed Bank", "Dunmarrow", "2003"),
}


def institute_doc(name: str) -> bytes:
    title, town, year = INSTITUTES[name]
    body = (
        f"The {title} is a research centre in the town of {town}. It was founded in {year} by a "
        f"group of local teachers. Visitors come to {town} every spring."
    )
    if name.endswith(".html"):
        return f"<html><title>{title}</title><body><p>{body}</p></body></html>".encode()
    return f"{title}\n\n{body}\n".encode()


def upload_institutes(url: str) -> None:
    r = httpx.post(
        f"{url}/api/documents",
        headers=AUTH,
        timeout=120,
        files={"files": ("zorblax.txt", institute_doc("zorblax.txt"))},
    )
    assert r.status_code == 201, r.text
    r = httpx.post(
        f"{url}/api/documents",
        headers=AUTH,
        timeout=120,
        files=[("files", (n, institute_doc(n))) for n in ("vantrel.md", "okkaro.html")],
    )
    assert r.status_code == 201, r.text
    assert r.json()["documents"] == 8


def check_institutes(url: str) -> None:
    listed = {d["doc_id"] for d in httpx.get(f"{url}/api/documents", timeout=30).json()}
    assert set(INSTITUTES) <= listed and len(listed) == 8
    for name, (title, _, year) in INSTITUTES.items():
        body = httpx.post(f"{url}/api/ask", json={"question": f"When was the {title} founded?"}, timeout=60).json()
        assert year in (body["answer"] or ""), (name, body["answer"])
        assert body["citations"][0]["doc_id"] == name


def test_every_upload_survives_a_restart(web_pipeline: Pipeline, tmp_path: Path) -> None:
    """A new app and Pipeline over the same folder see exactly what the first one acknowledged.

    The kernel's page cache is shared, so this shows what a killed process would leave; the slow
    test below kills a real `qa serve` to be sure.
    """
    from web.app import create_app

    index = copy_index(web_pipeline.settings.index_dir, tmp_path / "index")
    settings = replace(web_pipeline.settings, index_dir=index, api_key=API_KEY)
    with uvicorn_in_thread(create_app(settings, Pipeline(settings, embedder=web_pipeline.embedder).load())) as url:
        upload_institutes(url)
    with uvicorn_in_thread(create_app(settings, Pipeline(settings, embedder=web_pipeline.embedder).load())) as url:
        check_institutes(url)


@pytest.mark.slow
def test_every_upload_survives_the_server_being_killed(
    request: pytest.FixtureRequest, web_index: Path, tmp_path: Path
) -> None:
    require_slow(request)
    index = copy_index(web_index, tmp_path / "index")
    log = tmp_path / "serve.log"
    with qa_serve(index, log, env={"QA_API_KEY": API_KEY}) as (proc, url):
        upload_institutes(url)
        proc.send_signal(signal.SIGKILL)  # no clean shutdown: what was acknowledged must be on disk
        proc.wait(timeout=30)
    with qa_serve(index, log, env={"QA_API_KEY": API_KEY}) as (_, url):
        check_institutes(url)


# ---------------------------------------------------------------- uploads racing questions


ROLLING = [
    f"Rolling notes\n\nVersion {v}: the gate code of the Pelmora depot is {v}{v}{v}{v}. "
    + "The depot stores grain. " * v
    for v in range(1, 4)
]


def test_questions_keep_being_answered_while_documents_are_added(  # noqa: C901 - one scenario, step by step
    web_pipeline: Pipeline, tmp_path: Path
) -> None:
    from web.app import create_app

    index = copy_index(web_pipeline.settings.index_dir, tmp_path / "index")
    settings = replace(web_pipeline.settings, index_dir=index, api_key=API_KEY)
    pipe = Pipeline(settings, embedder=web_pipeline.embedder).load()
    corpus = {d.doc_id for d in pipe.documents()}
    errors: list[str] = []
    done = threading.Event()
    start_together = threading.Barrier(2)
    responses: list[dict[str, Any]] = []
    listings: list[list[set[str]]] = [[] for _ in range(2)]
    deadline = time.monotonic() + 300

    with uvicorn_in_thread(create_app(settings, pipe)) as url:

        def upload(files: list[tuple[str, bytes]]) -> None:
            with httpx.Client(base_url=url, timeout=120) as c:
                r = c.post("/api/documents", headers=AUTH, files=[("files", f) for f in files])
                if r.status_code != 201:
                    errors.append(f"upload {[f[0] for f in files]}: {r.status_code} {r.text[:200]}")

        def uploader_a() -> None:
            start_together.wait()
            for name in INSTITUTES:
                upload([(name, institute_doc(name))])

        def uploader_b() -> None:
            start_together.wait()
            for text in ROLLING:
                upload([("rolling.txt", text.encode())])

        def asker(i: int) -> None:
            questions = [
                *QUESTIONS,
                "What is the gate code of the Pelmora depot?",
                *(f"When was the {t} founded?" for t, _, _ in INSTITUTES.values()),
            ]
            with httpx.Client(base_url=url, timeout=120) as c:
                n = 0
                while (not done.is_set() or n < 10) and n < 150 and time.monotonic() < deadline:
                    r = c.post("/api/ask", json={"question": questions[(i + n) % len(questions)]})
                    n += 1
                    if r.status_code != 200:
                        errors.append(f"ask: {r.status_code} {r.text[:200]}")
                    else:
                        responses.append(r.json())

        def lister(i: int) -> None:
            with httpx.Client(base_url=url, timeout=120) as c:
                while not done.is_set() and time.monotonic() < deadline:
                    r = c.get("/api/documents")
                    if r.status_code != 200:
                        errors.append(f"list: {r.status_code}")
                        continue
                    listings[i].append({d["doc_id"] for d in r.json()})
                    time.sleep(0.05)

        writers = [threading.Thread(target=uploader_a), threading.Thread(target=uploader_b)]
        readers = [threading.Thread(target=asker, args=(i,)) for i in range(4)]
        readers += [threading.Thread(target=lister, args=(i,)) for i in range(2)]
        for t in writers + readers:
            t.start()
        for t in writers:
            t.join(timeout=300)
        done.set()
        for t in readers:
            t.join(timeout=300)
        assert not any(t.is_alive() for t in writers + readers), "a client thread hung"

        with httpx.Client(base_url=url, timeout=60) as c:
            final = {d["doc_id"] for d in c.get("/api/documents").json()}
            final_texts = {d: c.get(f"/api/documents/{d}").json()["text"] for d in final}

    assert not errors, errors[:10]
    # No upload was lost, the two that started together included.
    assert final == corpus | set(INSTITUTES) | {"rolling.txt"}
    assert final_texts["rolling.txt"] == ROLLING[-1]
    # Documents only ever appeared: each client saw the set grow, never shrink or flicker.
    for seen in listings:
        for a, b in zip(seen, seen[1:]):
            assert a <= b, a ^ b
    # Every answer came from one consistent generation: each offset slices its document exactly,
    # whichever version of rolling.txt that generation held.
    assert len(responses) >= 40
    texts: dict[str, list[str]] = {**{k: [v] for k, v in final_texts.items()}, "rolling.txt": ROLLING}
    for body in responses:
        cites = body["citations"] + [c for alt in body["alternatives"] for c in alt["citations"]]
        for c in cites:
            assert any(t[c["start"] : c["end"]] == c["text"] for t in texts[c["doc_id"]]), c
        for p in body["passages"]:
            assert any(t[p["start"] : p["end"]] == p["text"] for t in texts[p["doc_id"]]), p


# ---------------------------------------------------------------- the shared tokenizer


def test_counting_tokens_leaves_the_encoders_tokenizer_alone(embedder: Any) -> None:
    embedder.encode(["a b", "a b c d"])
    before = embedder.tokenizer.backend_tokenizer.padding
    embedder.count_tokens("How many tokens are in this sentence?")
    after = embedder.tokenizer.backend_tokenizer.padding
    embedder.encode(["a b", "a b c d"])  # sentence-transformers turns padding back on for the next tests
    assert after == before
