"""The `qa` command: ingest, ask, eval, serve. Errors become one line on stderr and exit code 1."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from qa.config import INGEST_ENGINES, Settings
from qa.errors import DocQAError, MissingExtraError


def _quiet() -> None:
    """Keep library chatter (progress bars, HF warnings) out of the user's terminal."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    warnings.filterwarnings("ignore")
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    for name in ("sentence_transformers", "transformers", "huggingface_hub", "bm25s", "faiss"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        index_dir=getattr(args, "index", None), k=getattr(args, "k", None), model_path=getattr(args, "model", None)
    )


def cmd_ingest(args: argparse.Namespace) -> int:
    if args.engine == "ray":
        from qa.ingest.ray_engine import import_ray

        import_ray()  # fails here, with the install command, before anything is read
    elif args.ray_address or args.ray_workers:
        raise DocQAError("--ray-address and --ray-workers need --engine ray.")
    if args.ray_workers is not None and args.ray_workers < 1:
        raise DocQAError(f"--ray-workers must be at least 1, got {args.ray_workers}.")
    from qa.pipeline import Pipeline

    settings = _settings(args)
    roots = [Path(p).expanduser() for p in args.paths]
    from qa.ingest import check_root

    for r in roots:
        check_root(r)
    pipe = Pipeline(settings)
    runner = None  # the local engine: this process, with the pipeline's model
    if args.engine != "local":
        from qa.ingest.engine import engine

        runner = engine(args.engine, pipe.embedder, args.ray_address, args.ray_workers)
    report = pipe.ingest(roots=roots, warn=lambda m: print(m, file=sys.stderr), reload=False, engine=runner)
    for doc_id, message in report.warnings:
        print(f"warning: {doc_id}: {message}", file=sys.stderr)
    print(report.summary())
    return 0


def _print_answer(ans: dict[str, Any]) -> None:
    if ans.get("resolved_question"):
        print(f"(understood as: {ans['resolved_question']})")
    if ans["abstained"]:
        print("The documents don't say.")
        if ans["passages"]:
            print("\nClosest passages:")
            for p in ans["passages"][:3]:
                snippet = " ".join(p["text"].split())
                print(f"  [{p['doc_id']} {p['start']}:{p['end']}] {snippet[:200]}")
        return
    print(ans["answer"])
    if ans.get("conflicting"):
        print("Sources disagree:")
        for alt in ans["alternatives"]:
            docs = ", ".join(c["doc_id"] for c in alt["citations"])
            print(f"  also: {alt['answer']}  ({docs})")
    print(f"confidence {ans['confidence']:.2f}")
    for c in ans["citations"]:
        page = f" p. {c['page']}" if c.get("page") else ""
        print(f"  [{c['doc_id']}{page} {c['start']}:{c['end']}] {' '.join(c['sentence'].split())}")


def cmd_ask(args: argparse.Namespace) -> int:
    from qa.pipeline import Pipeline

    history = None
    if args.history:
        try:
            history = json.loads(Path(args.history).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise DocQAError(f"Cannot read the history file {args.history}: {e}") from e
        if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
            raise DocQAError(f'{args.history}: expected a JSON list of {{"question", "answer"}} objects.')
    settings = _settings(args)
    from qa.pipeline import validate_question

    validate_question(args.question, settings.max_question_chars)
    pipe = Pipeline(settings).load()
    ans = pipe.ask(args.question, k=args.k, history=history, doc_ids=args.doc or None).to_dict()
    if args.json:
        print(json.dumps(ans, ensure_ascii=False, indent=2))
    else:
        _print_answer(ans)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """`qa eval`: args.gold, args.index, args.k, args.json, args.out. Returns 0 whatever the scores."""
    from qa import eval_report
    from qa.evaluate import load_gold, recheck_threshold, run, summarize, torch_threads
    from qa.index import live_generation
    from qa.pipeline import Pipeline, effective_threshold

    gold = load_gold(args.gold)
    settings = Settings.from_env(index_dir=args.index, model_path=getattr(args, "model", None))
    k = args.k if args.k is not None else settings.k
    if not 1 <= k <= 50:
        raise DocQAError(f"-k must be between 1 and 50, got {k}.")
    live_generation(settings.storage_backend, settings.index_dir)  # a missing index fails here, before the model loads
    threshold = effective_threshold(settings)
    load_avg = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    started = time.perf_counter()
    pipe = Pipeline(replace(settings, abstain_threshold=0.0)).load()
    pipe.warm_up(background=False)  # as the server does at start-up: latency is measured warm
    unknown = sorted({s for g in gold for s in g.sources} - set(pipe.live.data.doc_index))
    warnings = []
    if unknown:
        warnings.append(
            f"{len(unknown)} gold source(s) are not in the index at {settings.index_dir} "
            f"(e.g. {unknown[0]}); their retrieval and citation scores will be 0."
        )
    records = run(pipe, gold, k)
    summary = summarize(records, threshold)
    reference = Pipeline(settings, embedder=pipe.embedder).load()
    warnings += [f"threshold re-check: {p}" for p in recheck_threshold(reference, records, k, threshold)]
    elapsed = time.perf_counter() - started
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    meta = {
        "gold": str(args.gold),
        "index": str(settings.index_dir),
        "k": k,
        "threshold": threshold,
        "seconds": round(elapsed, 1),
        "warnings": warnings,
        "load_avg": load_avg,
        "torch_threads": torch_threads(),
    }
    if args.out:
        eval_report.write(Path(args.out), summary, records, meta)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print(eval_report.table(summary, meta))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from qa.answerer.model import default_model_dir
    from qa.training.train import run, run_gate, run_stage2

    # Training runs for a long time: show its progress, line by line even when redirected to a file.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    train_log = logging.getLogger("qa.training")
    train_log.addHandler(handler)
    train_log.setLevel(logging.INFO)
    train_log.propagate = False
    data = [Path(p) for p in args.data]
    for p in data:
        if not p.exists():
            raise DocQAError(f"{p}: no such file or folder of training data.")
    out = Path(args.out) if args.out else default_model_dir()
    try:
        base = Path(args.model) if args.model else default_model_dir()
        if args.stage2_only:
            run_stage2(data, out, base, Path("build/train"), gate=not args.no_gate)
            return 0
        if args.gate_only:
            run_gate(data, out, base, Path("build/train"))
            return 0
        run(
            data,
            out,
            no_reader=args.no_reader,
            index_dir=Path(args.index) if args.index else None,
            scorer_questions=args.questions,
            reader_questions=args.reader_questions,
            reader_precision=args.reader_precision,
            base_model=Path(args.model) if args.model else None,
            heldout_report=not args.no_report,
            stage2=not args.no_stage2,
            gate=not args.no_gate,
        )
    except ValueError as e:
        raise DocQAError(str(e)) from e
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from web.server import serve

    return serve(args)


def _at_least_one(text: str) -> int:
    """argparse type for counts: a whole number of 1 or more, else a usage error (exit 2)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="qa", description="Offline question answering over your documents.")
    sub = p.add_subparsers(dest="command", required=True)

    def index_opt(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--index", metavar="DIR", help="index folder (default: ./index or $QA_INDEX_DIR)")

    def model_opt(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--model", metavar="PATH", help="answerer model folder (default: the shipped one or $QA_MODEL)")

    sp = sub.add_parser("ingest", help="add or update documents (folders or files)")
    sp.add_argument("paths", nargs="+", help="folders or .txt/.md/.html/.pdf files")
    sp.add_argument(
        "--engine",
        choices=INGEST_ENGINES,
        default="local",
        help="where documents are chunked, annotated and embedded: this process (default) or Ray",
    )
    sp.add_argument("--ray-address", metavar="ADDR", help="join the Ray cluster at host:port (default: a local Ray)")
    sp.add_argument("--ray-workers", type=int, metavar="N", help="model workers (default: one per CPU of the cluster)")
    index_opt(sp)
    sp.set_defaults(func=cmd_ingest)

    sp = sub.add_parser("ask", help="answer a question")
    sp.add_argument("question")
    sp.add_argument("--json", action="store_true", help="print the answer object as JSON")
    sp.add_argument("-k", type=int, default=None, help="passages to retrieve (default 5)")
    sp.add_argument("--history", metavar="FILE", help="JSON list of earlier {question, answer} turns")
    sp.add_argument(
        "--doc",
        action="append",
        default=[],
        metavar="ID",
        help="answer from this document only (repeat for several; ids as the index lists them)",
    )
    index_opt(sp)
    model_opt(sp)
    sp.set_defaults(func=cmd_ask)

    sp = sub.add_parser("eval", help="score a gold question file")
    sp.add_argument("--gold", required=True, metavar="FILE")
    sp.add_argument("-k", type=int, default=5)
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--out", metavar="DIR", help="write report.md, results.jsonl and a chart here")
    index_opt(sp)
    model_opt(sp)
    sp.set_defaults(func=cmd_eval)

    sp = sub.add_parser("train", help="train the answerer model from labelled questions")
    sp.add_argument(
        "--data",
        nargs="+",
        required=True,
        metavar="FILE_OR_DIR",
        help="pool-format JSON Lines (with contexts) or gold files (with --index)",
    )
    sp.add_argument("--out", metavar="PATH", help="model folder to write (default: the shipped model's folder)")
    sp.add_argument("--no-reader", action="store_true", help="keep the reader of --model (or the shipped one)")
    sp.add_argument("--questions", type=int, default=5000, help="questions for the scorer and no-answer model")
    sp.add_argument("--reader-questions", type=int, default=20000, help="questions for fine-tuning the reader")
    sp.add_argument(
        "--reader-precision",
        choices=("auto", "fp32", "bf16"),
        default="fp32",
        help="the reader's forward pass while training: bf16 is faster where the CPU has it (auto: bf16 there)",
    )
    sp.add_argument(
        "--no-stage2",
        action="store_true",
        help="skip the second stage (the re-ranker trained on collections read end to end; about 20 minutes)",
    )
    sp.add_argument(
        "--stage2-only",
        action="store_true",
        help="add the second stage to --model (or the shipped model), its reader and scorer kept as they are",
    )
    sp.add_argument(
        "--gate-only",
        action="store_true",
        help="fit the gate (confidence and answerability after the second stage) for --model (or the shipped "
        "model), everything else kept as it is",
    )
    sp.add_argument(
        "--no-gate",
        action="store_true",
        help="leave the gate out of the second stage (the shipped model has none: `eval/training/gate-experiment.md`)",
    )
    sp.add_argument("--no-report", action="store_true", help="skip the held-out figures at the end")
    index_opt(sp)
    model_opt(sp)
    sp.set_defaults(func=cmd_train)

    sp = sub.add_parser("serve", help="run the web chat and JSON API")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=8000)
    sp.add_argument(
        "--replicas",
        type=_at_least_one,
        metavar="N",
        help="serve with N replicas on Ray Serve, uploads through one writer (default: one process, no Ray)",
    )
    sp.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="with --replicas: join the Ray cluster at host:port (default: a local Ray)",
    )
    index_opt(sp)
    model_opt(sp)
    sp.set_defaults(func=cmd_serve)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    _quiet()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except MissingExtraError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except DocQAError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except ImportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`qa eval | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as e:
        print(f"error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
