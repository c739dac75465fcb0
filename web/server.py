"""`qa serve`: load the model and index once, then run the app with uvicorn."""

from __future__ import annotations

import argparse
import sys

from qa.config import Settings
from qa.errors import DocQAError
from qa.index import live_generation
from qa.pipeline import Pipeline


def serve(args: argparse.Namespace) -> int:
    """Run the web chat and JSON API until interrupted.

    Args:
        args: `host`, `port`, `index` (a folder, or None for $QA_INDEX_DIR / ./index), and
            `replicas` / `ray_address` (None: one process, no Ray; see web.ray_serve).

    Returns:
        The process exit code.

    Raises:
        IndexNotFoundError, IndexCorruptError: before listening, so a broken index never serves
            wrong answers; `qa` prints the message as one line and exits 1.
        MissingExtraError: `--replicas` without Ray Serve installed (`qa` exits 2).
    """
    settings = Settings.from_env(index_dir=args.index, model_path=getattr(args, "model", None))
    replicas = getattr(args, "replicas", None)
    if replicas is not None:
        from web.ray_serve import serve_replicas

        return serve_replicas(args, settings)
    if getattr(args, "ray_address", None):
        raise DocQAError("--ray-address needs --replicas N.")

    import uvicorn

    from web.app import create_app
    from web.writer_process import ProcessWrites

    # A missing index fails now, not after loading the model.
    live_generation(settings.storage_backend, settings.index_dir)
    pipeline = Pipeline(settings).load()
    pipeline.embedder.encode(["warm-up"], batch_size=1)  # the first real question shouldn't pay for it
    pipeline.warm_up()  # sentence and word vectors of a small collection, in the background
    docs = pipeline.documents()
    writes = ProcessWrites(settings, pipeline) if settings.ingest_worker == "process" else None
    where = "a worker process" if writes is not None else "a thread"
    uploads = f"on (ingested in {where})" if settings.api_key else "off (set QA_API_KEY to enable)"
    print(
        f"docqa: loaded {len(docs)} documents from {settings.index_dir}/; uploads {uploads}; "
        f"starting the chat on http://{host_for_url(args.host)}:{args.port}/ (API docs at /docs)",
        file=sys.stderr,
    )
    uvicorn.run(create_app(settings, pipeline, writes), host=args.host, port=args.port, log_level="info")
    return 0


def host_for_url(host: str) -> str:
    """An IPv6 host in brackets, as a URL needs it."""
    return f"[{host}]" if ":" in host else host
