"""Fine-tune all-MiniLM-L6-v2 as an extractive span reader and export it as int8 ONNX.

The reader sees `[CLS] question [SEP] window [SEP]` and predicts start and end logits per token;
the [CLS] position is "no answer here". Windows are short (the answerer reads a few sentences
around its best hits, not whole passages), which also makes training affordable on a CPU.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.training.pool import Record, read_records, split

log = logging.getLogger("qa.training.reader")

MAX_LEN = 192
STRIDE = 64
MAX_QUESTION_TOKENS = 40


def _tokenizer() -> Any:
    from transformers import AutoTokenizer

    from qa.embed import model_path

    return AutoTokenizer.from_pretrained(str(model_path()))


def build_windows(
    tok: Any, records: Sequence[Record], rng: random.Random, neg_keep: float = 0.3
) -> list[tuple[list[int], list[int], int, int]]:
    """(input_ids, token_type_ids, start, end) per training window; (0, 0) means no answer.

    A window that holds the first gold answer points at it; one that does not (or any window of an
    unanswerable question) points at [CLS] and is kept with probability `neg_keep`.
    """
    out: list[tuple[list[int], list[int], int, int]] = []
    step = 512
    for i in range(0, len(records), step):
        chunk = records[i : i + step]
        qs = [" ".join(r.question.split()) for r in chunk]
        qs = [tok.convert_tokens_to_string(tok.tokenize(q)[:MAX_QUESTION_TOKENS]) for q in qs]
        enc = tok(
            qs,
            [r.context for r in chunk],
            truncation="only_second",
            max_length=MAX_LEN,
            stride=STRIDE,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )
        for w, ids in enumerate(enc["input_ids"]):
            rec = chunk[enc["overflow_to_sample_mapping"][w]]
            seq = enc.sequence_ids(w)
            offs = enc["offset_mapping"][w]
            s_tok = e_tok = 0
            if rec.answers:
                a = rec.answers[0]
                a_start, a_end = a.start, a.start + len(a.text)
                ctx = [j for j, sid in enumerate(seq) if sid == 1]
                if ctx and offs[ctx[0]][0] <= a_start and offs[ctx[-1]][1] >= a_end:
                    for j in ctx:
                        if offs[j][0] <= a_start < offs[j][1] or (s_tok == 0 and offs[j][0] >= a_start):
                            s_tok = j
                            break
                    for j in reversed(ctx):
                        if offs[j][0] < a_end <= offs[j][1] or (e_tok == 0 and offs[j][1] <= a_end):
                            e_tok = j
                            break
                    if e_tok < s_tok:
                        s_tok = e_tok = 0
            if s_tok == 0 and rng.random() > neg_keep:
                continue
            out.append((list(ids), list(enc["token_type_ids"][w]), s_tok, e_tok))
    return out


def make_model(torch: Any) -> Any:
    from transformers import AutoModel

    from qa.embed import model_path

    class SpanReader(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(model_path()))
            self.qa = torch.nn.Linear(self.bert.config.hidden_size, 2)

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> tuple[Any, Any]:
            h = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            logits = self.qa(h)
            return logits[..., 0], logits[..., 1]

    return SpanReader()


def _batches(windows: list[tuple[list[int], list[int], int, int]], batch: int, rng: random.Random) -> list[list[int]]:
    """Batches of similar length (less padding), in random order."""
    order = sorted(range(len(windows)), key=lambda i: (len(windows[i][0]), rng.random()))
    groups = [order[i : i + batch] for i in range(0, len(order), batch)]
    rng.shuffle(groups)
    return groups


def _tensors(torch: Any, windows: list[tuple[list[int], list[int], int, int]], idx: list[int]) -> tuple[Any, ...]:
    n = max(len(windows[i][0]) for i in idx)
    ids = torch.zeros((len(idx), n), dtype=torch.long)
    tt = torch.zeros((len(idx), n), dtype=torch.long)
    mask = torch.zeros((len(idx), n), dtype=torch.long)
    for r, i in enumerate(idx):
        a, t, _, _ = windows[i]
        ids[r, : len(a)] = torch.tensor(a)
        tt[r, : len(t)] = torch.tensor(t)
        mask[r, : len(a)] = 1
    starts = torch.tensor([windows[i][2] for i in idx])
    ends = torch.tensor([windows[i][3] for i in idx])
    return ids, mask, tt, starts, ends


def train(
    records: Sequence[Record],
    out_dir: Path,
    *,
    epochs: float = 1.0,
    batch: int = 32,
    lr: float = 1e-4,
    seed: int = 13,
    threads: int = 2,
    checkpoint_every: int = 200,
    bf16: bool | None = False,
) -> Path:
    """Train on `records`, save a torch checkpoint in `out_dir`, return its path.

    `bf16` runs the forward pass under bfloat16 autocast (weights and optimizer stay fp32); on a
    CPU with AMX or AVX-512 BF16 that is about 1.5x faster per step. None: on where the CPU has it.
    Off by default: the shipped reader was trained in fp32, and the default recipe reproduces it.
    """
    import torch

    if bf16 is None:
        bf16 = cpu_has_bf16()

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = random.Random(seed)
    tok = _tokenizer()
    t0 = time.time()
    windows = build_windows(tok, records, rng)
    pos = sum(1 for w in windows if w[2] > 0)
    log.info(
        "windows: %d (%d with the answer) from %d questions in %.0fs; %s",
        len(windows),
        pos,
        len(records),
        time.time() - t0,
        "bf16 autocast" if bf16 else "fp32",
    )
    model = make_model(torch)
    model.train()
    no_decay = ("bias", "LayerNorm.weight")
    params = [
        {"params": [p for n, p in model.named_parameters() if not any(x in n for x in no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if any(x in n for x in no_decay)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(params, lr=lr)
    groups = _batches(windows, batch, rng)
    total = int(len(groups) * epochs)
    warm = max(1, int(0.06 * total))

    def schedule(step: int) -> float:
        return (step + 1) / warm if step < warm else max(0.0, (total - step) / max(1, total - warm))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    ce = torch.nn.CrossEntropyLoss()
    out_dir.mkdir(parents=True, exist_ok=True)
    ckpt = out_dir / "reader.pt"
    step = 0
    t0 = time.time()
    running = 0.0
    while step < total:
        for idx in groups:
            if step >= total:
                break
            ids, mask, tt, starts, ends = _tensors(torch, windows, idx)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                s_log, e_log = model(ids, mask, tt)
            s_log, e_log = s_log.float(), e_log.float()
            neg = torch.finfo(s_log.dtype).min
            s_log = s_log.masked_fill(mask == 0, neg)
            e_log = e_log.masked_fill(mask == 0, neg)
            loss = (ce(s_log, starts) + ce(e_log, ends)) / 2
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            lv = float(loss.item())
            running = 0.98 * running + 0.02 * lv if step > 1 else lv
            if step % 20 == 0:
                el = time.time() - t0
                log.info(
                    "step %d/%d loss %.3f  %.1f min elapsed, %.1f min left",
                    step,
                    total,
                    running,
                    el / 60,
                    el / step * (total - step) / 60,
                )
            if step % checkpoint_every == 0:
                torch.save(model.state_dict(), ckpt)
        rng.shuffle(groups)
    torch.save(model.state_dict(), ckpt)
    log.info("trained %d steps in %.1f min", step, (time.time() - t0) / 60)
    return ckpt


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AMX or AVX-512 BF16), read from /proc/cpuinfo."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def export_onnx(ckpt: Path, out: Path, quantize: bool = True) -> Path:
    """The checkpoint as ONNX (dynamic batch and length), int8-quantised weights when `quantize`."""
    import warnings

    import torch

    model = make_model(torch)
    model.load_state_dict(torch.load(ckpt, map_location="cpu"))
    model.eval()
    tok = _tokenizer()
    enc = tok(["an example question"], ["an example context for the export."], return_tensors="pt")
    names = ("input_ids", "attention_mask", "token_type_ids")
    axes: dict[str, dict[int, str]] = {n: {0: "batch", 1: "tokens"} for n in (*names, "start_logits", "end_logits")}
    out.parent.mkdir(parents=True, exist_ok=True)
    fp32 = out.with_suffix(".fp32.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            tuple(enc[n] for n in names),
            str(fp32),
            input_names=list(names),
            output_names=["start_logits", "end_logits"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    if not quantize:
        os.replace(fp32, out)
        return out
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8)
    fp32.unlink()
    return out


def sample_questions(
    train_pool: Sequence[Record], n: int, seed: int = 7, unanswerable_share: float = 1.0
) -> list[Record]:
    """The reader's training questions: unanswerable ones up to a fifth of `n` (they are rare and
    teach "no answer"), the rest answerable, drawn at random.

    `unanswerable_share` caps the reader at that share of the pool's unanswerable questions, so the
    no-answer model, which trains on questions the reader never saw, keeps some (1.0: no cap, the
    shipped recipe; with 32,000 questions it takes every one).
    """
    rng = random.Random(seed)
    unans = [r for r in train_pool if not r.answerable]
    ans = [r for r in train_pool if r.answerable]
    rng.shuffle(ans)
    n_un = min(len(unans), n // 5, int(len(unans) * unanswerable_share))
    chosen = ans[: max(0, n - n_un)] + unans[:n_un]
    rng.shuffle(chosen)
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", type=Path, nargs="+", default=[Path("../shared/qa-train/pool.jsonl")])
    p.add_argument("--out", type=Path, default=Path("build/reader"))
    p.add_argument("--questions", type=int, default=20000, help="training questions sampled from the train split")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument(
        "--precision",
        choices=("auto", "fp32", "bf16"),
        default="fp32",
        help="fp32: the shipped recipe; bf16 (or auto: bf16 where the CPU has it) is faster",
    )
    p.add_argument(
        "--unanswerable-share", type=float, default=1.0, help="most of the unanswerable questions to take (1.0)"
    )
    p.add_argument("--export-only", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ckpt = args.out / "reader.pt"
    if not args.export_only:
        records = list(read_records(args.data))
        chosen = sample_questions(
            list(split(records).train), args.questions, unanswerable_share=args.unanswerable_share
        )
        (args.out).mkdir(parents=True, exist_ok=True)
        (args.out / "train_ids.json").write_text(json.dumps(sorted(r.id for r in chosen)))
        log.info("training on %d questions (%d unanswerable)", len(chosen), sum(not r.answerable for r in chosen))
        bf16 = None if args.precision == "auto" else args.precision == "bf16"
        ckpt = train(
            chosen, args.out, epochs=args.epochs, batch=args.batch, lr=args.lr, threads=args.threads, bf16=bf16
        )
    onnx_path = export_onnx(ckpt, args.out / "reader.int8.onnx")
    log.info("exported %s (%.1f MB)", onnx_path, onnx_path.stat().st_size / 1e6)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
