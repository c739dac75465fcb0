"""Engines run `process_batch` over a plan's work: here in this process, or on a Ray cluster.

An engine yields one `DocRecord` per work item, in the plan's order, so whichever engine ran,
the writer lays out the same generation.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from qa.config import INGEST_ENGINES, Settings
from qa.embed import Embedder
from qa.errors import ConfigError
from qa.ingest.plan import Work
from qa.ingest.process import DocRecord, process_batch


class Engine(Protocol):
    """Maps `process` over work items and hands back their records in order."""

    name: str

    def run(self, works: Sequence[Work], settings: Settings, timings: dict[str, float]) -> Iterator[DocRecord]:
        """The records of `works`, in order; seconds per stage are added to `timings`."""
        ...


class LocalEngine:
    """The whole plan as one batch in this process, with the model loaded once (ingest as it was)."""

    name = "local"

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def run(self, works: Sequence[Work], settings: Settings, timings: dict[str, float]) -> Iterator[DocRecord]:
        records, spent = process_batch(works, settings, self.embedder)
        timings.update(spent)
        return iter(records)


def engine(name: str, embedder: Embedder, ray_address: str | None = None, workers: int | None = None) -> Engine:
    """The engine called `name` ("local" or "ray").

    Raises:
        ConfigError: an unknown engine name, or a Ray address given to the local engine.
        MissingExtraError: "ray" without Ray installed.
    """
    if name == "local":
        if ray_address:
            raise ConfigError("--ray-address needs --engine ray.")
        return LocalEngine(embedder)
    if name == "ray":
        from qa.ingest.ray_engine import RayEngine

        return RayEngine(embedder, ray_address, workers)
    raise ConfigError(f"Unknown ingest engine {name!r}; known: {', '.join(INGEST_ENGINES)}.")
