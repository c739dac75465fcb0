"""`qa serve` under load: requests/s, latency and server CPU per request at 1, 4 and 16 clients; memory.

The server is a child process on a free loopback port, and every measured request asks a question it
has not seen (re-spaced, see `spaced`), so each pays for its query embedding. serve_probe gives the
scale section a server's cold start and resident memory on a big index.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import ROOT
from .common import child_env, log, pct, qa_command


def cpu_ceiling(
    cores: int, wall_s: float, loadgen_cpu_ms: float, server_cpu_ms_per_request: float, req_per_s: float
) -> tuple[float | None, float | None]:
    """The CPU-bound ceiling on req/s and the measured req/s as a share of it: (ceiling, ratio).

    The cores give cores * 1000 CPU-ms per second of wall time; what the load generator used over
    the same interval is not available to the server, and the rest divided by the server's CPU-ms
    per request is the most requests per second the machine could answer. The ceiling is None
    without a positive wall time and server cost; it is 0 when the load generator used all the
    CPU (nothing left), and the ratio is then None rather than a division by zero.
    """
    if wall_s <= 0 or server_cpu_ms_per_request <= 0:
        return None, None
    left_ms_per_s = (cores * 1000 * wall_s - loadgen_cpu_ms) / wall_s
    if left_ms_per_s <= 0:
        return 0.0, None
    ceiling = left_ms_per_s / server_cpu_ms_per_request
    return ceiling, req_per_s / ceiling


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spaced(question: str, variant: int) -> str:
    """The question with `variant` extra spaces after its first word.

    The model's tokenizer and the answerer split on white space, so every variant gets the same
    embedding and the same answer (the bench checks), but a different query-cache key: a load test
    over variants measures query embedding every time, as for questions never asked before.
    """
    head, _, tail = question.partition(" ")
    return head + " " * (variant + 1) + tail if tail else question


def rss_of(pid: int) -> dict[str, float]:
    """Resident memory of a process in MB: all of it, and the anonymous (non file-backed) part.

    Memory-mapped index files count in RSS once touched, but they are page cache that the kernel
    can drop and that processes share; RssAnon is what the process itself holds.
    """
    out: dict[str, float] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            key, _, val = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[key] = round(int(val.split()[0]) / 1024, 1)
    return out


class Server:
    """`qa serve` on a free loopback port, as a child process."""

    def __init__(self, index_dir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        cmd = qa_command()
        self.started = time.time()
        self.proc = subprocess.Popen(
            [*cmd, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--index", str(index_dir)],
            cwd=ROOT,
            env=child_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def wait_ready(self, timeout: float = 300) -> float:
        import httpx

        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise RuntimeError(f"qa serve exited with {self.proc.returncode}: {err[-2000:]}")
            try:
                if httpx.get(self.base + "/healthz", timeout=5).status_code == 200:
                    return time.time() - self.started
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"qa serve did not answer /healthz within {timeout:.0f} s")

    def ask(self, question: str) -> dict[str, Any]:
        import httpx

        r = httpx.post(self.base + "/api/ask", json={"question": question}, timeout=120)
        r.raise_for_status()
        return dict(r.json())

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


async def _load(base: str, questions: list[str], clients: int) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    answers: dict[int, str | None] = {}
    errors: list[str] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(questions)):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

        async def worker() -> None:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                t = time.perf_counter()
                try:
                    r = await client.post("/api/ask", json={"question": questions[i]})
                    latencies.append((time.perf_counter() - t) * 1000)
                    if r.status_code != 200:
                        errors.append(f"{r.status_code}: {r.text[:200]}")
                    else:
                        answers[i] = r.json().get("answer")
                except httpx.HTTPError as e:
                    errors.append(f"{type(e).__name__}: {e}")

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - t0
    return {
        "clients": clients,
        "requests": len(questions),
        "wall_s": round(wall, 2),
        "req_per_s": round(len(questions) / wall, 1),
        "latency_ms": pct(latencies),
        "errors": len(errors),
        "error_samples": errors[:3],
        "answers": answers,
    }


def section_server(
    index_dir: Path, gold: list[str], warm: list[str], levels: Sequence[int], rounds: int
) -> dict[str, Any]:
    """Throughput and latency of POST /api/ask; every level asks never-seen (re-spaced) questions."""
    import psutil

    server = Server(index_dir)
    try:
        ready = server.wait_ready()
        t = time.time()
        server.ask(gold[0])
        first = time.time() - server.started
        # Warm the answerer's per-process caches on these documents (as a server that has been
        # answering questions has them), with texts that no measured request repeats.
        for q in warm + [spaced(g, 50) for g in gold]:
            server.ask(q)
        warm_s = time.time() - t
        out: dict[str, Any] = {
            "ready_s": round(ready, 2),
            "first_answer_s": round(first, 2),
            "warmup_requests": len(warm) + len(gold),
            "warmup_s": round(warm_s, 1),
            "levels": [],
        }
        reference: dict[int, str | None] | None = None
        proc = psutil.Process(server.proc.pid)
        for n, c in enumerate(levels):
            qs = [spaced(g, 1 + n * rounds + r) for r in range(rounds) for g in gold]
            # The load generator runs in this process (asyncio, no child processes), so its CPU is
            # this process's CPU time, read over the same interval as the server's.
            t0, own0 = time.perf_counter(), time.process_time()
            cpu0 = sum(proc.cpu_times()[:2])
            res = asyncio.run(_load(server.base, qs, c))
            cpu1 = sum(proc.cpu_times()[:2])
            own1, t1 = time.process_time(), time.perf_counter()
            # CPU seconds the server spent per request: unlike req/s, this barely depends on what
            # else the machine is running, and cores / cpu_per_request bounds the throughput.
            cpu_ms = (cpu1 - cpu0) * 1000 / len(qs)
            cores = os.cpu_count() or 1
            res["server_cpu_ms_per_request"] = round(cpu_ms, 1)
            res["bound_req_per_s_all_cores"] = round(cores * 1000 / max(cpu_ms, 1e-6), 1)
            loadgen_ms = (own1 - own0) * 1000
            interval = t1 - t0
            ceiling, ratio = cpu_ceiling(cores, interval, loadgen_ms, cpu_ms, res["req_per_s"])
            res["cpu_interval_wall_s"] = round(interval, 2)
            res["loadgen_cpu_ms"] = round(loadgen_ms, 1)
            res["loadgen_cpu_ms_per_request"] = round(loadgen_ms / len(qs), 1)
            res["ceiling_req_per_s"] = None if ceiling is None else round(ceiling, 1)
            res["ceiling_ratio"] = None if ratio is None else round(ratio, 3)
            got = res.pop("answers")
            by_q = {i % len(gold): a for i, a in got.items()}
            if reference is None:
                reference = by_q
            res["answers_differing_from_first_level"] = sum(1 for i, a in by_q.items() if reference.get(i) != a)
            out["levels"].append(res)
            log(
                f"server: {c} clients {res['req_per_s']} req/s p50 {res['latency_ms'].get('p50')} ms "
                f"errors {res['errors']}, ceiling {res['ceiling_req_per_s']} req/s (ratio {res['ceiling_ratio']}, "
                f"load generator {res['loadgen_cpu_ms_per_request']} CPU-ms/request)"
            )
        out["memory_mb"] = rss_of(server.proc.pid)
        return out
    finally:
        server.stop()


def serve_probe(index_dir: Path, questions: list[str]) -> dict[str, Any]:
    """Cold start of `qa serve` to its first answer, then memory after answering `questions`."""
    server = Server(index_dir)
    try:
        ready = server.wait_ready()
        server.ask(questions[0])
        first = time.time() - server.started
        lat = []
        for q in questions:
            t = time.perf_counter()
            server.ask(spaced(q, 3))
            lat.append((time.perf_counter() - t) * 1000)
        return {
            "ready_s": round(ready, 2),
            "first_answer_s": round(first, 2),
            "http_latency_ms": pct(lat),
            "memory_mb": rss_of(server.proc.pid),
        }
    finally:
        server.stop()
