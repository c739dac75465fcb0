"""Held-out evaluation: `python eval/heldout.py` (or `make heldout`) builds and scores the held-out sets.

The training pool's fixed split (qa/training/pool.py) keeps a sample of each domain and the Reddit and
Amazon domain out of training. This script turns each of those into what a user would have: a folder of
documents (one .txt per distinct context, its text exactly the context, so the pool's answer offsets
stay exact) and a gold file in our format. Then, unless --no-run, it ingests each folder into its own
index and runs `qa eval` on it, the same commands a user types, and prints one Markdown table.

Layout under --out (default build/heldout/):

  <set>/docs/NNNN_<sha1-8>.txt   one document per distinct context
  <set>/gold.jsonl               id, question, answers, sources, answerable, kind (the pool source,
                                 or "unanswerable")
  <set>/index/                   `qa ingest <set>/docs --index <set>/index`
  <set>/report/                  `qa eval … --out <set>/report` (report.md, results.jsonl, charts)
  <set>/metrics.json             the `qa eval --json` object
  table.md                       the table printed at the end
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.bench.common import cpu_summary
from qa.config import MAX_QUESTION_CHARS
from qa.errors import DocQAError
from qa.training.pool import DEV_SAMPLES, HELDOUT_SAMPLES, Record, dev_samples, read_records, split
from qa.training.stage2 import write_documents

DOMAIN = "reddit-amazon"  # the held-out user-generated domain: split(records).domain
SET_NAMES = (*HELDOUT_SAMPLES, DOMAIN)
DEFAULT_DATA = ROOT.parent / "shared" / "qa-train" / "pool.jsonl"
DEFAULT_OUT = ROOT / "build" / "heldout"
DEFAULT_DEV_OUT = ROOT / "build" / "dev"
DEFAULT_MODEL = ROOT / "qa" / "answerer" / "model"
UNANSWERABLE = "unanswerable"  # the kind of every unanswerable question, as in eval/gold.jsonl
QA = (sys.executable, "-m", "qa.cli")  # the `qa` command of this interpreter's environment


@dataclass(frozen=True)
class BuiltSet:
    name: str
    root: Path
    documents: int
    questions: int
    answerable: int
    skipped: tuple[str, ...]  # why pool records were left out of the gold file (one line each)


def gold_line(rec: Record, source_doc: str) -> dict[str, Any] | str:
    """The gold-format object of one pool record, or why it cannot be one (qa eval would refuse the file)."""
    question = rec.question.strip()
    if not question:
        return f"{rec.id}: empty question"
    if len(question) > MAX_QUESTION_CHARS:
        return f"{rec.id}: question longer than {MAX_QUESTION_CHARS} characters"
    answers = list(dict.fromkeys(a.text for a in rec.answers if a.text.strip()))
    if rec.answerable and not answers:
        return f"{rec.id}: only blank answer texts"
    return {
        "id": rec.id,
        "question": question,
        "answers": answers,
        "sources": [source_doc] if rec.answerable else [],
        "answerable": rec.answerable,
        "kind": rec.source if rec.answerable else UNANSWERABLE,
    }


def build_set(name: str, records: Sequence[Record], root: Path, contexts: Sequence[str] = ()) -> BuiltSet:
    """Write `root/docs/` and `root/gold.jsonl` for one held-out set; files left from an older build are removed.

    `contexts` are documents of the collection besides the records' own (a dev sample's unasked ones).

    Raises:
        DocQAError: a context would not come back from `qa ingest` as exactly itself (offsets would drift).
    """
    names = write_documents([*contexts, *(rec.context for rec in records)], root / "docs")
    lines: list[dict[str, Any]] = []
    skipped: list[str] = []
    for rec in records:
        line = gold_line(rec, names[rec.context])
        if isinstance(line, str):
            skipped.append(line)
        else:
            lines.append(line)
    (root / "gold.jsonl").write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")
    answerable = sum(1 for x in lines if x["answerable"])
    return BuiltSet(name, root, len(names), len(lines), answerable, tuple(skipped))


def eval_supports_model() -> bool:
    """Whether this tree's `qa eval` takes --model (it is being added; pass it through only then)."""
    done = subprocess.run([*QA, "eval", "--help"], capture_output=True, text=True, check=False)
    return done.returncode == 0 and "--model" in done.stdout


def run_set(built: BuiltSet, model: str | None) -> dict[str, Any]:
    """`qa ingest` then `qa eval --json` for one set; the JSON is also saved as metrics.json.

    Raises:
        DocQAError: either command failed (the message names it and its exit code).
    """
    root = built.root
    steps = [
        [*QA, "ingest", str(root / "docs"), "--index", str(root / "index")],
        [*QA, "eval", "--gold", str(root / "gold.jsonl"), "--index", str(root / "index"), "--json"]
        + ["--out", str(root / "report")]
        + (["--model", model] if model else []),
    ]
    out = ""
    for cmd in steps:
        # Ingest's summary and both commands' stderr (warnings, errors) go to ours; eval's stdout is the JSON.
        json_out = cmd[3] == "eval"
        done = subprocess.run(cmd, stdout=subprocess.PIPE if json_out else sys.stderr, text=True, check=False)
        if done.returncode != 0:
            raise DocQAError(f"{built.name}: `qa {cmd[3]}` exited with {done.returncode}.")
        out = done.stdout if json_out else out
    metrics: dict[str, Any] = json.loads(out)
    (root / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return metrics


def _f(value: Any) -> str:
    return "—" if value is None else f"{value:.3f}"


HEADER = (
    "set",
    "questions",
    "answerable",
    "F1",
    "EM",
    "sentence acc",
    "no-answer acc",
    "false-abstain",
    "BM25-sentence F1",
    "BM25 sentence acc",
    "dense-sentence F1",
    "dense sentence acc",
)


def table_row(name: str, m: dict[str, Any]) -> list[str]:
    """One table row from a `qa eval --json` object (a key an older `qa eval` lacks prints as —)."""
    b, d = m["baselines"]["bm25"], m["baselines"]["dense"]
    return [
        name,
        str(m["n"]),
        str(m["n_answerable"]),
        _f(m["f1"]),
        _f(m["exact_match"]),
        _f(m.get("sentence_accuracy")),
        _f(m["no_answer_accuracy"]),
        _f(m["false_abstain_rate"]),
        _f(b["f1"]),
        _f(b.get("sentence_accuracy")),
        _f(d["f1"]),
        _f(d.get("sentence_accuracy")),
    ]


def markdown_table(rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows]) + "\n"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="eval/heldout.py", description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"the pool (default {DEFAULT_DATA})")
    p.add_argument("--out", type=Path, help=f"output root (default {DEFAULT_OUT}; with --dev {DEFAULT_DEV_OUT})")
    p.add_argument(
        "--sets", help=f"comma-separated subset of {','.join(SET_NAMES)} (with --dev: of {','.join(DEV_SAMPLES)})"
    )
    p.add_argument(
        "--dev",
        action="store_true",
        help="the development samples instead: training-split articles, asked only questions the model never "
        "trained on (where settings are chosen; the held-out samples stay untouched)",
    )
    p.add_argument("--no-run", action="store_true", help="only write the documents and gold files")
    p.add_argument("--model", metavar="PATH", help="passed to `qa eval --model` when qa eval supports it")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the held-out sets, then (unless --no-run) ingest, evaluate and print the table. 1 if any set failed."""
    args = parse_args(argv)
    known = tuple(DEV_SAMPLES) if args.dev else SET_NAMES
    out_root: Path = args.out or (DEFAULT_DEV_OUT if args.dev else DEFAULT_OUT)
    wanted = [s.strip() for s in (args.sets or ",".join(known)).split(",") if s.strip()]
    unknown = [s for s in wanted if s not in known]
    if unknown or not wanted:
        print(
            f"error: unknown set(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(known)}",
            file=sys.stderr,
        )
        return 1
    try:
        records = list(read_records([args.data]))
        the_split = split(records)
    except (OSError, ValueError) as e:
        print(f"error: cannot read the pool {args.data}: {e}", file=sys.stderr)
        return 1
    sets: dict[str, tuple[Sequence[Record], Sequence[str]]]
    if args.dev:
        from qa.training.train import trained_ids

        model_dir = Path(args.model) if args.model else DEFAULT_MODEL
        try:
            seen = trained_ids(records, model_dir)
        except (OSError, ValueError) as e:
            print(f"error: cannot read which questions {model_dir} trained on: {e}", file=sys.stderr)
            return 1
        sets = {k: (v.questions, v.contexts) for k, v in dev_samples(the_split.train, seen).items()}
    else:
        sets = {k: (v, ()) for k, v in {**the_split.heldout, DOMAIN: the_split.domain}.items()}
    built = []
    for name in wanted:
        b = build_set(name, sets[name][0], out_root / name, sets[name][1])
        for why in b.skipped:
            print(f"warning: {name}: left out {why}", file=sys.stderr)
        print(f"{name}: {b.documents} documents, {b.questions} questions ({b.answerable} answerable) in {b.root}")
        built.append(b)
    if args.no_run:
        return 0
    model = args.model
    if model and not eval_supports_model():
        print("warning: this `qa eval` has no --model option; evaluating its default answerer", file=sys.stderr)
        model = None
    rows, failed = [], False
    for b in built:
        t0 = time.perf_counter()
        try:
            metrics = run_set(b, model)
        except (DocQAError, ValueError) as e:
            print(f"error: {e}", file=sys.stderr)
            failed = True
            continue
        print(f"{b.name}: evaluated in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        rows.append(table_row(b.name, metrics))
    table = markdown_table(rows) + f"\nMeasured {time.strftime('%Y-%m-%d %H:%M')} on {cpu_summary()}.\n"
    out_root.mkdir(parents=True, exist_ok=True)
    (out_root / "table.md").write_text(table, "utf-8")
    print(table, end="")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
