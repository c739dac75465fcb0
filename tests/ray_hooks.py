"""Run the `qa` command with a Ray worker that reports where it ran, or dies or stalls on a chosen document.

    python -m tests.ray_hooks ingest DOCS --engine ray [--ray-address ADDR] --index DIR

Read in each worker (a local Ray's workers inherit the driver's environment; a cluster's, its nodes'):

    QA_TEST_RAY_LOG=DIR          each batch leaves a file there naming its node's IP address
    QA_TEST_RAY_DIE_AT=DOC_ID    the worker given that document exits at once, as if killed (os._exit),
                                 the first time only (a marker in QA_TEST_RAY_LOG): Ray restarts it
    QA_TEST_RAY_STALL_AT=DOC_ID  the worker given that document writes STALLED in QA_TEST_RAY_LOG and
                                 sleeps, so a test can kill the ingest mid-run
    QA_TEST_RAY_RAISE_AT=DOC_ID  processing that document raises (a bug in `process`, every time)

No product code has a hook: the wrapper swaps the engine's worker class from outside.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
import uuid
from pathlib import Path

import numpy as np

from qa.cli import main
from qa.ingest import ray_engine


class HookedProcessor(ray_engine.Processor):
    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import ray

        log = Path(os.environ["QA_TEST_RAY_LOG"]) if os.environ.get("QA_TEST_RAY_LOG") else None
        ids = {pickle.loads(blob).document.doc_id for blob in batch["work"]}
        if log is not None:
            (log / f"batch-{uuid.uuid4().hex}").write_text(ray.util.get_node_ip_address())
        die = os.environ.get("QA_TEST_RAY_DIE_AT")
        if die in ids and log is not None and not (log / "DIED").exists():
            (log / "DIED").write_text(str(os.getpid()))
            os._exit(1)
        if os.environ.get("QA_TEST_RAY_STALL_AT") in ids and log is not None:
            (log / "STALLED").write_text(str(os.getpid()))
            time.sleep(300)  # the test kills the ingest long before this ends
        if os.environ.get("QA_TEST_RAY_RAISE_AT") in ids:
            raise RuntimeError("a test made processing fail")
        return super().__call__(batch)


if __name__ == "__main__":
    ray_engine.RayEngine.processor = HookedProcessor
    sys.exit(main(sys.argv[1:]))
