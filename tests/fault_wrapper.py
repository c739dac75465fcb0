"""Run the `qa` command with the fake embedder, stopping at a named point so a test can kill it there.

    python -m tests.fault_wrapper ingest DOCS --index DIR       (QA_TEST_PAUSE_AT=embedding|writing|switching)

At the point named by QA_TEST_PAUSE_AT the process prints a marker line (EMBEDDING, WRITING or
SWITCHING) and sleeps, so the test can send SIGKILL at exactly that moment. No product code has a
hook: the wrapper patches the embedder, numpy's save and the store's CURRENT switch from outside.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from qa import pipeline
from qa.cli import main
from qa.index import local
from tests.fakes import FakeEmbedder

POINT = os.environ.get("QA_TEST_PAUSE_AT", "")


def pause(marker: str) -> None:
    print(marker, flush=True)
    time.sleep(300)  # the test kills the process long before this ends


class PausingEmbedder(FakeEmbedder):
    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        if POINT == "embedding" and texts:
            pause("EMBEDDING")
        return super().encode(texts, batch_size)


def install() -> None:
    pipeline.MiniLMEmbedder = PausingEmbedder  # type: ignore[misc, assignment]
    if POINT == "writing":
        real_save = np.save
        saved: list[Any] = []

        def save(file: Any, arr: Any, *args: Any, **kwargs: Any) -> None:
            real_save(file, arr, *args, **kwargs)
            saved.append(file)
            if len(saved) == 2:  # passages.npy and entities.npy are on disk; vectors, FAISS, manifest not
                pause("WRITING")

        np.save = save  # type: ignore[assignment]
    elif POINT == "switching":

        def write_current(index_dir: Any, name: str) -> None:
            pause("SWITCHING")  # the new generation is complete and renamed; CURRENT not yet switched

        local._write_current = write_current  # type: ignore[assignment]


if __name__ == "__main__":
    install()
    sys.exit(main(sys.argv[1:]))
