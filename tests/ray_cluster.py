"""Ray processes that tests start, found by an environment mark and stopped by process id, and the
two-node loopback cluster that the Ray ingest and Ray Serve tests both join."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from tests.servers import free_port
from web.ray_serve import _descendants

REPO = Path(__file__).resolve().parent.parent


def marked_pids(var: str, mark: str) -> list[int]:
    """Processes whose environment carries `var=mark`: those a test started with that mark."""
    needle = f"{var}={mark}".encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if needle in (proc / "environ").read_bytes().split(b"\0"):
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def marked_tree(var: str, mark: str) -> set[int]:
    """The processes marked `var=mark` and all under them: Ray's Python processes retitle themselves
    over their environment, so the mark alone misses some (replicas, Ray's agents)."""
    marked = set(marked_pids(var, mark))
    return marked.union(*(_descendants(p) for p in marked))


def stop(pids: Iterable[int]) -> None:
    """SIGTERM, then SIGKILL what is left after 10 s."""
    pids = list(pids)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.time() + 10
        while time.time() < deadline and any(Path(f"/proc/{p}").exists() for p in pids):
            time.sleep(0.2)


@contextlib.contextmanager
def two_node_cluster(var: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, str]]:
    """A Ray head on 127.0.0.2 and a second node on 127.0.0.3, one CPU each, every process marked
    `var=<mark>`; yields (address, mark) and stops what it started by process id.

    Both nodes on loopback and `RAY_AUTH_MODE=disabled`: a second node on 127.0.0.1 fails with
    InvalidAuthToken in Ray 2.60, and a head left to choose advertises a non-loopback address.
    """
    mark = uuid.uuid4().hex
    ray = str(Path(sys.executable).with_name("ray"))
    env = {
        **os.environ,
        "RAY_AUTH_MODE": "disabled",
        var: mark,
        "PYTHONPATH": str(REPO),
        "HF_HUB_OFFLINE": "1",
        **(env or {}),
    }
    port = free_port("127.0.0.2")
    address = f"127.0.0.2:{port}"
    common = ["--num-cpus=1", "--disable-usage-stats"]
    head = [ray, "start", "--head", "--node-ip-address=127.0.0.2", f"--port={port}", "--include-dashboard=false"]
    worker = [ray, "start", f"--address={address}", "--node-ip-address=127.0.0.3"]
    try:
        for argv in (head, worker):
            done = subprocess.run([*argv, *common], env=env, text=True, capture_output=True, timeout=120)
            assert done.returncode == 0, done.stdout + done.stderr
        yield address, mark
    finally:
        stop(sorted(marked_tree(var, mark)))
        pointer = Path("/tmp/ray/ray_current_cluster")  # what `ray stop` would clear: only if ours
        with contextlib.suppress(OSError):
            if address in pointer.read_text():
                pointer.unlink()
