"""`qa serve`: load the model and index once, then run the app with uvicorn."""

from __future__ import annotations

import argparse
import sys

from qa import store
from qa.config import Settings
from qa.pipeline import Pipeline


def serve(args: argparse.Namespace) -> int:
    """Run the web chat and JSON API until interrupted.

    Args:
        args: `host`, `port` and `index` (a folder, or None for $QA_INDEX_DIR / ./index).

    Returns:
        The process exit code.

    Raises:
        IndexNotFoundError, IndexCorruptError: before listening, so a broken index never serves
            wrong answers; `qa` prints the message as one line and exits 1.
    """
    import uvicorn

    from web.app import create_app

    settings = Settings.from_env(index_dir=args.index, model_path=getattr(args, "model", None))
    store.current_generation(settings.index_dir)  # a missing index fails now, not after loading the model
    pipeline = Pipeline(settings).load()
    pipeline.embedder.encode(["warm-up"], batch_size=1)  # the first real question shouldn't pay for it
    pipeline.warm_up()  # sentence and word vectors of a small collection, in the background
    docs = pipeline.documents()
    uploads = "on" if settings.api_key else "off (set QA_API_KEY to enable)"
    print(
        f"docqa: loaded {len(docs)} documents from {settings.index_dir}/; uploads {uploads}; "
        f"starting the chat on http://{_host_for_url(args.host)}:{args.port}/ (API docs at /docs)",
        file=sys.stderr,
    )
    uvicorn.run(create_app(settings, pipeline), host=args.host, port=args.port, log_level="info")
    return 0


def _host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host
