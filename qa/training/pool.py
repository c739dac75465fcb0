"""The training pool (SQuAD-style JSON Lines) and its fixed, deterministic held-out split.

Held-out material is chosen by whole articles (a title within a source), never by question or by
paragraph: questions share contexts, and paragraphs of one article share names and facts, so a
split by question would leak answers into the held-out figures.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence, Set
from dataclasses import dataclass
from pathlib import Path

# Sources whose licence allows a derived model to be redistributed with attribution (SOURCES.md).
SHIPPABLE_SOURCES = frozenset(
    {
        "squad2.0-dev",
        "squad1.1-dev",
        "squad2.0-train",
        "squad1.1-train",
        "squadshifts-newwiki",
        "tydiqa-goldp-en",
        "qed-nq",
        "covidqa",
        "policyqa",
    }
)
# User-generated text with a licence caveat: never trained on, the held-out domain.
HELDOUT_DOMAIN_SOURCES = frozenset({"squadshifts-reddit", "squadshifts-amazon"})

# name -> (sources drawn from, questions wanted). Each sample takes whole articles until it has enough.
HELDOUT_SAMPLES: dict[str, tuple[frozenset[str], int]] = {
    "wiki-squad2": (frozenset({"squad2.0-dev"}), 400),
    "wiki-nq": (frozenset({"qed-nq"}), 250),
    "wiki-tydi": (frozenset({"tydiqa-goldp-en"}), 250),
    "covid": (frozenset({"covidqa"}), 200),
    "policy": (frozenset({"policyqa"}), 250),
}
# The held-out domain is evaluated on a fixed sample of this size (all of it is kept out of training).
HELDOUT_DOMAIN_SAMPLE = 300

# Development samples: articles of the *training* split, asked only the questions that no shipped model
# trained on. Settings of the whole pipeline (the abstain threshold, retrieval's weight in the choice of
# answer) are chosen on them end to end, so the held-out samples above stay untouched by any choice.
DEV_SAMPLES: dict[str, tuple[frozenset[str], int]] = {
    "dev-squad2": (frozenset({"squad2.0-dev"}), 600),
    "dev-newwiki": (frozenset({"squadshifts-newwiki"}), 200),
    "dev-nq": (frozenset({"qed-nq"}), 200),
    "dev-tydi": (frozenset({"tydiqa-goldp-en"}), 200),
    "dev-covid": (frozenset({"covidqa"}), 150),
    "dev-policy": (frozenset({"policyqa"}), 200),
}


@dataclass(frozen=True)
class Answer:
    text: str
    start: int


@dataclass(frozen=True)
class Record:
    """One question over one context; `context[a.start:a.start+len(a.text)] == a.text`."""

    id: str
    context: str
    question: str
    answers: tuple[Answer, ...]
    source: str
    title: str

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    @property
    def group(self) -> str:
        """The unit of splitting: one article of one source."""
        return f"{self.source}\x00{self.title}"


def read_records(paths: Iterable[Path]) -> Iterator[Record]:
    """Records from pool-format files (a directory means every *.jsonl in it).

    Raises:
        ValueError: a line is not a valid pool record (names the file and line).
    """
    for path in paths:
        files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
        for file in files:
            with file.open(encoding="utf-8") as fh:
                for n, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    try:
                        r = json.loads(line)
                        answers = tuple(Answer(str(a["text"]), int(a["start"])) for a in r.get("answers") or [])
                        rec = Record(
                            str(r["id"]),
                            str(r["context"]),
                            str(r["question"]),
                            answers,
                            str(r.get("source", file.stem)),
                            str(r.get("title", "")),
                        )
                    except (KeyError, TypeError, ValueError) as e:
                        raise ValueError(f"{file}:{n}: not a pool record ({e})") from e
                    for a in rec.answers:
                        if rec.context[a.start : a.start + len(a.text)] != a.text:
                            raise ValueError(f"{file}:{n}: answer {a.text!r} is not at offset {a.start}")
                    yield rec


def _rank(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


def bucket(key: str, n: int) -> int:
    """A fixed bucket in [0, n) for `key` (by hash): splits that never change with order or run."""
    return int(_rank(key)[:8], 16) % n


@dataclass(frozen=True)
class Split:
    train: tuple[Record, ...]
    heldout: dict[str, tuple[Record, ...]]  # sample name -> records (whole articles)
    domain: tuple[Record, ...]  # the held-out user-generated domain (sample used for qa eval)


@dataclass(frozen=True)
class DevSample:
    questions: tuple[Record, ...]  # the questions asked (none of them trained on)
    contexts: tuple[str, ...]  # every context of the chosen articles: the documents of its collection


# Larger samples of the same kind, from articles the dev samples do not take: collections read end to
# end (retrieval included) that a second stage learns from.
STAGE2_SAMPLES: dict[str, tuple[frozenset[str], int]] = {
    "stage2-squad2": (frozenset({"squad2.0-dev"}), 1600),
    "stage2-newwiki": (frozenset({"squadshifts-newwiki"}), 800),
    "stage2-nq": (frozenset({"qed-nq"}), 800),
    "stage2-tydi": (frozenset({"tydiqa-goldp-en"}), 800),
    "stage2-covid": (frozenset({"covidqa"}), 400),
    "stage2-policy": (frozenset({"policyqa"}), 800),
    "stage2-squad1": (frozenset({"squad1.1-dev", "squad1.1-train", "squad2.0-train"}), 800),
}


def dev_samples(
    train: Sequence[Record],
    seen: Set[str],
    contexts_per_article: int = 12,
    samples: dict[str, tuple[frozenset[str], int]] | None = None,
    exclude_groups: Set[str] = frozenset(),
) -> dict[str, DevSample]:
    """`DEV_SAMPLES` (or `samples`) from the training split: whole articles (a slice of their contexts, as
    for the held-out samples), their contexts all ingested, asked only the questions whose ids are not in
    `seen`; articles in `exclude_groups` are left alone."""
    by_group = _by_group(train)
    taken: set[str] = set(exclude_groups)
    return {
        name: _take_articles(by_group, sources, want, "dev\x00", taken, seen, contexts_per_article)
        for name, (sources, want) in (DEV_SAMPLES if samples is None else samples).items()
    }


def _by_group(records: Iterable[Record]) -> dict[str, list[Record]]:
    by_group: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        by_group[r.group].append(r)
    return by_group


def _take_articles(
    by_group: dict[str, list[Record]],
    sources: frozenset[str],
    want: int,
    salt: str,
    taken: set[str],
    seen: Set[str] = frozenset(),
    contexts_per_article: int = 12,
) -> DevSample:
    """Whole articles of `sources`, in a fixed hash order (`salt` gives another), until `want` questions
    whose ids are not in `seen`; articles in `taken` are skipped, and the ones taken are added to it.

    Very large articles would swamp a sample: each gives a deterministic slice of its contexts.
    """
    groups = sorted((g for g in by_group if g.split("\x00")[0] in sources), key=lambda g: _rank(salt + g))
    questions: list[Record] = []
    contexts: list[str] = []
    for g in groups:
        if len(questions) >= want:
            break
        if g in taken:
            continue
        keep = sorted({r.context for r in by_group[g]}, key=_rank)[:contexts_per_article]
        kept = set(keep)
        asked = [r for r in by_group[g] if r.context in kept and r.id not in seen]
        if not asked:
            continue
        taken.add(g)
        contexts.extend(keep)
        questions.extend(asked)
    return DevSample(tuple(questions), tuple(contexts))


def split(records: Sequence[Record]) -> Split:
    """The fixed split: held-out articles per sample, the held-out domain, and the shippable rest."""
    by_group = _by_group(records)
    taken: set[str] = set()
    heldout = {
        name: _take_articles(by_group, sources, want, "", taken).questions
        for name, (sources, want) in HELDOUT_SAMPLES.items()
    }
    domain_all = [r for r in records if r.source in HELDOUT_DOMAIN_SOURCES]
    per_context: dict[str, int] = defaultdict(int)
    for r in domain_all:
        per_context[r.context] += 1
    chosen: set[str] = set()
    count = 0
    for c in sorted(per_context, key=_rank):
        if count >= HELDOUT_DOMAIN_SAMPLE:
            break
        chosen.add(c)
        count += per_context[c]
    domain = tuple(r for r in domain_all if r.context in chosen)
    train = tuple(
        r
        for r in records
        if r.group not in taken and r.source in SHIPPABLE_SOURCES and r.source not in HELDOUT_DOMAIN_SOURCES
    )
    return Split(train, heldout, domain)
