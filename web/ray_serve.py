"""`qa serve --replicas N`: the same app behind Ray Serve, N replicas over one index folder, one writer.

Each replica loads its own Pipeline, memory-mapping the same generation files, and before every
request picks up a generation another process made current (`Pipeline.refresh`: one small file
read when nothing changed). Uploads and deletes go to one writer deployment, the only process that
writes the index, so two replicas never write it at once; the replica that took the upload reloads
before it answers, and the others on their next request. Ray is imported only here, and only when
`--replicas` is given.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, cast

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.config import Settings
from qa.embed import MODEL_DIM, MODEL_NAME
from qa.errors import DocQAError, MissingExtraError
from qa.index import open_index
from qa.indexer import IngestReport
from qa.pipeline import Pipeline
from web.uploads import WriteOutcome, delete_document, ingest_uploads, outcome_of

if TYPE_CHECKING:
    from ray.serve.handle import DeploymentHandle, DeploymentResponse

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'docqa[ray]'"
REPLICA_HEADER = "X-DocQA-Replica"
APP_NAME = "docqa"


def import_serve() -> Any:
    """The `ray.serve` module.

    Raises:
        MissingExtraError: Ray Serve is not installed, with the install command.
    """
    try:
        import ray  # noqa: F401 - Serve needs Ray itself
        from ray import serve
    except ImportError as e:
        raise MissingExtraError(f"--replicas needs Ray Serve, which is not installed: {INSTALL_HINT}") from e
    return serve


class IndexWriter:
    """The one process that writes the index: every replica's uploads and deletes, one at a time."""

    def __init__(self, settings: Settings) -> None:
        from qa.cli import _quiet

        _quiet()
        self.pipeline = Pipeline(settings).load()  # loaded now, so the first upload doesn't wait for it
        self.pipeline.embedder.encode(["warm-up"], batch_size=1)
        self.lock = threading.Lock()

    async def ingest(self, uploads: list[tuple[str, bytes]]) -> WriteOutcome:
        return await self._write(lambda: ingest_uploads(self.pipeline, self.lock, uploads))

    async def delete(self, doc_id: str) -> WriteOutcome:
        return await self._write(lambda: delete_document(self.pipeline, self.lock, doc_id))

    async def _write(self, change: Callable[[], IngestReport]) -> WriteOutcome:
        """Run `change` in a thread: a long ingest must not stall the replica's health checks."""

        def run() -> WriteOutcome:
            try:
                self.pipeline.refresh()  # a `qa ingest` run beside the server may have switched CURRENT
            except DocQAError as e:
                return WriteOutcome(error=e)
            return outcome_of(change)

        return await asyncio.to_thread(run)


@dataclass(frozen=True)
class RayWrites:
    """A replica's `IndexWrites`: to the writer deployment, then this replica's pipeline reloads."""

    writer: DeploymentHandle[IndexWriter]
    pipeline: Pipeline

    async def ingest(self, uploads: Sequence[tuple[str, bytes]]) -> IngestReport:
        return await self._apply(self.writer.ingest.remote(list(uploads)))

    async def delete(self, doc_id: str) -> IngestReport:
        return await self._apply(self.writer.delete.remote(doc_id))

    async def _apply(self, response: object) -> IngestReport:
        # `.remote()` is typed as a response or a generator; the writer's methods are plain ones.
        outcome = await cast("DeploymentResponse[WriteOutcome]", response)
        report = outcome.unwrap()
        await run_in_threadpool(self.pipeline.refresh)  # answerable here as soon as the request returns
        return report

    def close(self) -> None:
        """Nothing to stop here: Serve owns the writer deployment and shuts it down."""


class ReplicaMiddleware:
    """Per request: pick up a newer generation first, and name the replica in a response header."""

    def __init__(self, app: ASGIApp, pipeline: Pipeline, replica: str) -> None:
        self.app = app
        self.pipeline = pipeline
        self.replica = replica

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            await run_in_threadpool(self.pipeline.refresh)
        except DocQAError as e:  # a new generation that cannot be loaded: keep answering from ours
            log.warning("docqa: keeping the loaded index generation: %s", e)

        async def send_named(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append(REPLICA_HEADER, self.replica)
            await send(message)

        await self.app(scope, receive, send_named)


class Replica:
    """One Serve replica: its own Pipeline over the shared index folder, and the app over it."""

    def __init__(self, settings: Settings, writer: DeploymentHandle[IndexWriter]) -> None:
        from ray import serve

        from qa.cli import _quiet

        _quiet()
        self.settings = settings
        self.pipeline = Pipeline(settings).load()
        self.pipeline.embedder.encode(["warm-up"], batch_size=1)  # as plain `qa serve` does
        self.pipeline.warm_up()
        self.writes = RayWrites(writer, self.pipeline)
        self.replica = str(serve.get_replica_context().replica_id.unique_id)

    def __serve_build_asgi_app__(self) -> FastAPI:
        """The app Serve's ingress runs here (built in the replica: it holds locks and the pipeline)."""
        from web.app import create_app

        app = create_app(self.settings, self.pipeline, self.writes)
        app.add_middleware(ReplicaMiddleware, pipeline=self.pipeline, replica=self.replica)
        return app


def _absolute(settings: Settings) -> Settings:
    """Paths a replica can open whatever its working folder (Ray workers do not share the driver's)."""
    model = settings.model_path.resolve() if settings.model_path is not None else None
    return replace(settings, index_dir=settings.index_dir.resolve(), model_path=model)


def _connect(ray: Any, address: str | None, replicas: int) -> bool:
    """Join the cluster at `address`, or start a local Ray with a CPU per replica; True when this
    call started one.

    Raises:
        DocQAError: Ray could not start or join, or the cluster has fewer CPUs than `replicas`.
    """
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # as `qa ingest --engine ray`
    kwargs: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
    try:
        if address:
            ray.init(address=address, **kwargs)
        else:
            # Ray CPUs are only counted, not enforced: one each lets N replicas start on any machine.
            ray.init(address="local", num_cpus=replicas, include_dashboard=False, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as e:
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise DocQAError(f"Could not start or join {where} ({e}).") from e
    cpus = int(ray.cluster_resources().get("CPU", 0))
    if cpus < replicas:  # Serve would wait for ever for the CPUs of the replicas that don't fit
        ray.shutdown()
        raise DocQAError(
            f"The Ray cluster at {address} has {cpus} CPU(s) and each replica takes one: "
            f"ask for at most {cpus} replicas, or add nodes."
        )
    return True


def _descendants(root: int) -> set[int]:
    """Process ids under `root` (children, theirs, ...), read from /proc; empty where there is none."""
    children: dict[int, list[int]] = {}
    with contextlib.suppress(OSError):
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError, ValueError):
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                    children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _stop_leftovers(pids: set[int]) -> None:
    """SIGTERM what of the local Ray outlives `ray.shutdown()` (its dashboard and runtime-env agents
    linger for a minute or more): `pids`, the processes it had started, taken before the shutdown."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM as Ctrl-C: either way the `finally` below shuts Serve and the local Ray down."""
    raise KeyboardInterrupt


def _wait_for_interrupt() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


def serve_replicas(args: argparse.Namespace, settings: Settings) -> int:
    """Run the app on Ray Serve with `args.replicas` replicas until Ctrl-C or SIGTERM.

    Args:
        args: `host`, `port`, `replicas` (at least 1) and `ray_address` (None: a local Ray).
        settings: as plain `qa serve`'s; sent to every replica and the writer.

    Returns:
        The process exit code.

    Raises:
        MissingExtraError: Ray Serve is not installed.
        IndexNotFoundError, IndexCorruptError: before Ray starts.
        DocQAError: no cluster answers at `ray_address`, or Serve could not start the replicas.
    """
    serve = import_serve()
    import ray

    from qa.ingest.ray_engine import check_address
    from web.server import host_for_url

    settings = _absolute(settings)
    docs = len(open_index(settings.storage_backend, settings.index_dir, MODEL_NAME, MODEL_DIM).docs)
    if args.ray_address:
        check_address(args.ray_address, error=DocQAError)
    for name in ("ray", "ray.serve"):
        logging.getLogger(name).setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, _interrupt)
    started = _connect(ray, args.ray_address, args.replicas)
    signal.signal(signal.SIGTERM, _interrupt)  # again: Ray's start installs a handler of its own
    try:
        serve.start(http_options={"host": args.host, "port": args.port})
        writer = serve.deployment(IndexWriter, name="docqa-writer", num_replicas=1, ray_actor_options={"num_cpus": 0})
        # A CPU per replica: Ray then spreads the replicas over a cluster's nodes (CPU-less actors it
        # packed onto one node here); the writer, idle between uploads, takes none.
        ingress = serve.deployment(
            serve.ingress()(Replica), name="docqa", num_replicas=args.replicas, ray_actor_options={"num_cpus": 1}
        )
        try:
            serve.run(ingress.bind(settings, writer.bind(settings)), name=APP_NAME, route_prefix="/")
        except RuntimeError as e:
            raise DocQAError(f"Ray Serve could not start the replicas ({e}).") from e
        uploads = "on" if settings.api_key else "off (set QA_API_KEY to enable)"
        print(
            f"docqa: loaded {docs} documents from {settings.index_dir}/; uploads {uploads}; "
            f"{args.replicas} Ray Serve replica{'s' if args.replicas != 1 else ''} and one writer; "
            f"serving the chat on http://{host_for_url(args.host)}:{args.port}/ (API docs at /docs)",
            file=sys.stderr,
            flush=True,
        )
        _wait_for_interrupt()
    finally:
        try:
            serve.shutdown()
        finally:
            if started:
                local = _descendants(os.getpid()) if not args.ray_address else set()
                ray.shutdown()
                _stop_leftovers(local)
    return 0
