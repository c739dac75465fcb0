"""The Ray engine: `process_batch` mapped with Ray Data over the cluster's CPUs, one model per worker.

The driver (the `qa ingest` process) plans, sends the documents that need the model as a dataset,
and writes the records it streams back, in plan order, exactly as the local engine's: the index
stays where the driver runs (a shared folder on a multi-machine cluster). Workers need docqa
installed (or on PYTHONPATH) on every node. Ray is imported only here, and only when used.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import pickle
import socket
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from qa.config import Settings
from qa.embed import Embedder
from qa.errors import DocQAError, IngestError, MissingExtraError
from qa.ingest.plan import Work
from qa.ingest.process import DocRecord, process_batch

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'docqa[ray]'"
# Documents per map_batches call: small enough that a few documents spread over every worker, large
# enough that a worker's embedding calls are long (each call sorts its texts by length).
MAX_BATCH_DOCS = 32


def import_ray() -> Any:
    """The `ray` module with Ray Data.

    Raises:
        MissingExtraError: Ray is not installed, with the install command.
    """
    try:
        import ray
        import ray.data  # noqa: F401 - the part of Ray this engine uses
    except ImportError as e:
        raise MissingExtraError(f"--engine ray needs Ray, which is not installed: {INSTALL_HINT}") from e
    return ray


class Processor:
    """A Ray Data worker: loads MiniLM (and spaCy) once, then processes batch after batch."""

    def __init__(self, settings: Settings, threads: int) -> None:
        from qa.embed import MiniLMEmbedder

        self.settings = settings
        self.embedder = MiniLMEmbedder(query_threads=threads)
        self.embedder.bulk_threads = threads  # the worker's share of the node, not every core

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        works = [pickle.loads(blob) for blob in batch["work"]]
        records, _ = process_batch(works, self.settings, self.embedder)
        out = np.empty(len(records), dtype=object)
        out[:] = [pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL) for r in records]
        return {"seq": np.asarray(batch["seq"]), "record": out}


def check_address(address: str, timeout_s: float = 5.0, error: type[DocQAError] = IngestError) -> None:
    """Fail fast when nothing listens at a host:port address (Ray itself retries for minutes).

    Args:
        address: what `--ray-address` gave.
        timeout_s: how long to wait for a connection.
        error: the class raised; an `IngestError` (the default) adds that the index is unchanged.

    Raises:
        IngestError (or `error`): the address does not answer; other forms (ray://…, auto) are left to Ray.
    """
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or "/" in host:
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as e:
        unchanged = " The index is unchanged." if error is IngestError else ""
        raise error(
            f"No Ray cluster answers at {address} ({e.strerror or e}); start one with `ray start --head` "
            f"or leave out --ray-address for a local Ray.{unchanged}"
        ) from e


def _portable(work: Work) -> Work:
    """`work` with its stored arrays copied out of the old generation's memory maps, to be sent."""

    def own(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else np.array(a)

    return dataclasses.replace(
        work,
        entities=own(work.entities),
        passage_vectors=own(work.passage_vectors),
        sentence_vectors=own(work.sentence_vectors),
    )


class RayEngine:
    """Runs the plan's model work on a Ray cluster: a local one, or the one at `address`."""

    name = "ray"
    processor: type[Processor] = Processor  # the worker class (a test swaps in one that dies mid-run)

    def __init__(self, embedder: Embedder, address: str | None = None, workers: int | None = None) -> None:
        """
        Args:
            embedder: the driver's model; only its name and dimension are used (and it processes,
                without encoding anything, documents whose vectors are all stored).
            address: a running cluster's address (host:port); None starts a local Ray.
            workers: model workers (one CPU each); None: one per CPU of the cluster.

        Raises:
            MissingExtraError: Ray is not installed.
        """
        self.ray = import_ray()
        self.embedder = embedder
        self.address = address
        self.workers = workers
        if address:
            check_address(address)

    def run(self, works: Sequence[Work], settings: Settings, timings: dict[str, float]) -> Iterator[DocRecord]:
        remote = [i for i, w in enumerate(works) if w.needs_model]
        local = [i for i, w in enumerate(works) if not w.needs_model]
        records: dict[int, DocRecord] = {}
        if local:  # stored documents: nothing to embed, only their terms to compute
            done, _ = process_batch([works[i] for i in local], settings, self.embedder)
            records.update(zip(local, done))
        if not remote:
            yield from (records[i] for i in range(len(works)))
            return
        t0 = time.perf_counter()
        started = self._connect()
        try:
            t1 = time.perf_counter()
            timings["ray_init"] = t1 - t0
            stream = self._map(settings, [(i, works[i]) for i in remote])
            nxt = 0
            for seq, record in stream:
                records[seq] = record
                while nxt in records:  # hand records on in plan order as soon as they are complete
                    yield records.pop(nxt)
                    nxt += 1
            if nxt != len(works):
                raise IngestError(f"The Ray ingest returned {nxt} of {len(works)} documents; the index is unchanged.")
            timings["ray_process"] = time.perf_counter() - t1
        finally:
            if started:
                self.ray.shutdown()

    def _connect(self) -> bool:
        """Join the cluster at `address`, or start a local Ray; True when this call started it."""
        ray = self.ray
        if ray.is_initialized():
            return False
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a local Ray, or a cluster started likewise
        kwargs: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
        try:
            if self.address:
                ray.init(address=self.address, **kwargs)
            else:
                # "local": a new Ray of our own, never a cluster `ray start` left running here.
                cpus = self.workers or os.cpu_count() or 1
                ray.init(address="local", num_cpus=cpus, include_dashboard=False, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as e:
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray"
            raise IngestError(f"Could not start or join {where} ({e}); the index is unchanged.") from e
        return True

    def _map(self, settings: Settings, items: list[tuple[int, Work]]) -> Iterator[tuple[int, DocRecord]]:
        """(plan position, record) pairs as the workers finish them, in any order."""
        ray = self.ray
        for name in ("ray.data", "ray"):
            logging.getLogger(name).setLevel(logging.ERROR)  # no progress lines on the user's terminal
        ray.data.DataContext.get_current().enable_progress_bars = False
        cpus = int(ray.cluster_resources().get("CPU", 1))
        workers = max(1, min(self.workers or cpus, cpus, len(items)))
        batch = max(1, min(MAX_BATCH_DOCS, math.ceil(len(items) / (workers * 4))))
        rows = [{"seq": i, "work": pickle.dumps(_portable(w), protocol=pickle.HIGHEST_PROTOCOL)} for i, w in items]
        ds = ray.data.from_items(rows, override_num_blocks=min(len(rows), workers * 4))
        # A worker that dies (killed, out of memory, its node lost) is restarted and its batch run
        # again, Ray Data's default; an exception raised by `process` fails the ingest.
        ds = ds.map_batches(
            self.processor,
            fn_constructor_kwargs={"settings": settings, "threads": 1},
            batch_size=batch,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=1,
        )
        try:
            for out in ds.iter_batches(batch_size=None, batch_format="numpy"):
                for seq, blob in zip(out["seq"].tolist(), out["record"]):
                    yield int(seq), pickle.loads(blob)
        except Exception as e:  # a task's error arrives wrapped in Ray's exception types
            if isinstance(e, IngestError):
                raise
            reason = str(e).strip().splitlines()[0] if str(e).strip() else ""
            raise IngestError(f"The Ray ingest failed ({type(e).__name__}: {reason}); the index is unchanged.") from e
