"""How much a large upload slows everyone's questions in plain `qa serve`: thread vs worker process.

For each of QA_INGEST_WORKER=thread and =process, over its own copy of an index: start `qa serve`,
warm it up (questions, and one small upload so the writer has loaded its model), then measure
question latency with `--clients` clients asking at once, first idle and then while one large
upload is ingested. Prints both p95s and their ratio per mode, and the load average around the run.

    PYTHONPATH=$PWD nice -n 5 .venv/bin/python eval/bench_upload_stall.py --index index
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
GOLD = REPO / "eval" / "gold.jsonl"
KEY = "bench-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


def ledger(entries: int) -> bytes:
    """A large text upload: `entries` distinct paragraphs, each embedded at ingest."""
    return "\n\n".join(
        f"Ledger entry {i}. The barge number {i} carried {i * 13 % 997} sacks of barley to the mill at "
        f"Hollin on day {i % 365}, and its pilot logged {i * 7 % 113} knots of wind."
        for i in range(entries)
    ).encode()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ask_until(url: str, questions: list[str], clients: int, stop: threading.Event, limit: int) -> list[float]:
    """Latencies (s) of questions asked by `clients` clients until `stop` is set or `limit` are done."""
    latencies: list[float] = []
    lock = threading.Lock()
    counter = [0]

    def client() -> None:
        with httpx.Client(base_url=url, timeout=300) as c:
            while not stop.is_set():
                with lock:
                    if counter[0] >= limit:
                        return
                    i = counter[0]
                    counter[0] += 1
                q = questions[i % len(questions)] + (f" ({i})" if i % 4 == 0 else "")  # some never cached
                t0 = time.perf_counter()
                r = c.post("/api/ask", json={"question": q})
                r.raise_for_status()
                with lock:
                    latencies.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def measure(mode: str, index: Path, questions: list[str], clients: int, idle_n: int, entries: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix=f"stall-{mode}-") as tmp:
        copy = Path(tmp) / "index"
        shutil.copytree(index, copy, ignore=shutil.ignore_patterns(".lock"))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "QA_API_KEY": KEY, "QA_INGEST_WORKER": mode}
        argv = [sys.executable, "-m", "qa.cli", "serve", "--port", str(port), "--index", str(copy)]
        with (Path(tmp) / "serve.log").open("wb") as log:
            proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 300
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"qa serve ({mode}) did not start:\n{(Path(tmp) / 'serve.log').read_text()}")
                time.sleep(0.3)
            with httpx.Client(base_url=url, timeout=300) as c:
                for q in questions[:24]:
                    c.post("/api/ask", json={"question": q}).raise_for_status()
                r = c.post("/api/documents", files={"files": ("warm.txt", ledger(20))}, headers=AUTH)
                r.raise_for_status()  # the writer (thread or worker) has now loaded its model
            idle = ask_until(url, questions, clients, threading.Event(), idle_n)
            stop = threading.Event()
            upload_s = [0.0]

            def upload() -> None:
                with httpx.Client(base_url=url, timeout=900) as c:
                    t0 = time.perf_counter()
                    c.post("/api/documents", files={"files": ("ledger.txt", ledger(entries))}, headers=AUTH)
                    upload_s[0] = time.perf_counter() - t0
                stop.set()

            uploader = threading.Thread(target=upload)
            uploader.start()
            during = ask_until(url, questions, clients, stop, 10**9)
            uploader.join()
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    return {
        "idle_p95_ms": round(1000 * p95(idle)),
        "upload_p95_ms": round(1000 * p95(during)),
        "ratio": round(p95(during) / p95(idle), 2),
        "idle_questions": len(idle),
        "upload_questions": len(during),
        "upload_s": round(upload_s[0], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="an index folder (copied; never written)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--idle-questions", type=int, default=200)
    parser.add_argument("--entries", type=int, default=3000, help="paragraphs in the large upload")
    parser.add_argument("--modes", default="thread,process")
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in GOLD.read_text(encoding="utf-8").splitlines() if line]
    print(f"load average before: {os.getloadavg()}", flush=True)
    for mode in args.modes.split(","):
        stats = measure(mode, args.index, questions, args.clients, args.idle_questions, args.entries)
        print(f"{mode}: {json.dumps(stats)}  load average: {os.getloadavg()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
