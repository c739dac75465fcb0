"""The span reader at question time: a fine-tuned MiniLM on ONNX Runtime over short windows.

A window is the question plus a few sentences of one document. The reader gives every token a
start and an end logit; a span's score is start[i] + end[j], and [CLS]'s pair is "no answer here".
Any character span of the window can be scored, so candidates from the parse get a reader score too.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAX_LEN = 192
MAX_QUESTION_TOKENS = 40
MAX_SPAN_TOKENS = 30


@dataclass(frozen=True)
class Window:
    """Text of one document between `start` and `end` (document offsets), read with the question."""

    doc: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class ReaderSpan:
    """A span the reader proposes, in document offsets, with its logit score."""

    doc: int
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class WindowScores:
    """Per-token logits of one window, with the document offsets of each context token."""

    window: Window
    start_logits: np.ndarray
    end_logits: np.ndarray
    tok_start: np.ndarray  # document offset where each context token starts
    tok_end: np.ndarray
    null: float  # score of "no answer in this window"

    def span_score(self, start: int, end: int) -> float | None:
        """Reader score of the document span [start, end), or None when it lies outside the window."""
        if start < self.window.start or end > self.window.end or not len(self.tok_start):
            return None
        i = int(np.searchsorted(self.tok_end, start, side="right"))
        j = int(np.searchsorted(self.tok_start, end, side="left")) - 1
        if i >= len(self.tok_start) or j < i:
            return None
        return float(self.start_logits[i] + self.end_logits[j])

    def best_spans(self, n: int, bounds: Sequence[tuple[int, int]]) -> list[ReaderSpan]:
        """The `n` best spans (end >= start, at most MAX_SPAN_TOKENS) that stay inside one of `bounds`."""
        s, e = self.start_logits, self.end_logits
        m = len(s)
        if m == 0:
            return []
        top_s = np.argsort(-s)[:20]
        top_e = np.argsort(-e)[:20]
        # Every (start, end) pair of the top tokens at once, in the order a double loop would visit them.
        grid_s, grid_e = np.meshgrid(top_s, top_e, indexing="ij")
        i, j = grid_s.ravel(), grid_e.ravel()
        ok = (j >= i) & (j - i < MAX_SPAN_TOKENS)
        starts, ends = self.tok_start[i], self.tok_end[j]
        inside = np.zeros(len(i), dtype=bool)
        for lo, hi in bounds:
            inside |= (starts >= lo) & (ends <= hi)
        keep = np.flatnonzero(ok & inside)
        scores = (s[i[keep]] + e[j[keep]]).astype(np.float64)
        seen: dict[tuple[int, int], float] = {}
        for k, sc in zip(keep.tolist(), scores.tolist()):
            key = (int(starts[k]), int(ends[k]))
            seen[key] = max(seen.get(key, -1e9), sc)
        best = sorted(seen.items(), key=lambda kv: -kv[1])[:n]
        return [ReaderSpan(self.window.doc, a, b, sc) for (a, b), sc in best]


class SpanReader:
    """An ONNX span reader with the MiniLM tokenizer; one session per process, thread-safe."""

    def __init__(self, onnx_path: Path, threads: int = 1) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from qa.embed import model_path

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, threads)
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        tok = Tokenizer.from_file(str(model_path() / "tokenizer.json"))
        tok.no_padding()
        tok.no_truncation()
        self._tok = tok
        self._lock = threading.Lock()
        self._cls = tok.token_to_id("[CLS]")
        self._sep = tok.token_to_id("[SEP]")

    def _encode(self, text: str) -> Any:
        with self._lock:  # a tokenizers.Tokenizer is not safe to share across threads mid-call
            return self._tok.encode(text, add_special_tokens=False)

    def read(self, question: str, windows: Sequence[Window]) -> list[WindowScores]:
        """Logits for each window, run as one batch."""
        if not windows:
            return []
        q_ids = self._encode(" ".join(question.split())).ids[:MAX_QUESTION_TOKENS]
        room = MAX_LEN - len(q_ids) - 3
        rows: list[tuple[list[int], list[int], np.ndarray, np.ndarray]] = []  # ids, types, token offsets
        for w in windows:
            enc = self._encode(w.text)
            ids = enc.ids[:room]
            offs = np.asarray(enc.offsets[:room], dtype=np.int64).reshape(-1, 2)
            seq = [self._cls, *q_ids, self._sep, *ids, self._sep]
            segs = [0] * (len(q_ids) + 2) + [1] * (len(ids) + 1)
            rows.append((seq, segs, offs[:, 0] + w.start, offs[:, 1] + w.start))
        n = max(len(r[0]) for r in rows)
        input_ids = np.zeros((len(rows), n), dtype=np.int64)
        types = np.zeros((len(rows), n), dtype=np.int64)
        mask = np.zeros((len(rows), n), dtype=np.int64)
        for r, (seq, tt, _, _) in enumerate(rows):
            input_ids[r, : len(seq)] = np.asarray(seq, dtype=np.int64)
            types[r, : len(tt)] = np.asarray(tt, dtype=np.int64)
            mask[r, : len(seq)] = 1
        start, end = self._session.run(
            ["start_logits", "end_logits"],
            {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": types},
        )
        out: list[WindowScores] = []
        for r, (w, (_, _, ts, te)) in enumerate(zip(windows, rows)):
            c0 = len(q_ids) + 2
            k = len(ts)
            out.append(
                WindowScores(
                    w,
                    np.asarray(start[r, c0 : c0 + k], dtype=np.float32),
                    np.asarray(end[r, c0 : c0 + k], dtype=np.float32),
                    ts,
                    te,
                    float(start[r, 0] + end[r, 0]),
                )
            )
        return out
