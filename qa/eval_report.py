"""Presentation of `qa eval` results: the terminal table, report.md, results.jsonl and the PNG charts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.evaluate import BASELINES, SYSTEM, Record, confidence_buckets, result_rows, score, threshold_curve

SYSTEMS = (SYSTEM, *BASELINES)
# (key, label); fractions print as 0.000, latencies as whole milliseconds.
ROWS = (
    ("recall_at_1", "Recall@1 (doc)"),
    ("recall_at_5", "Recall@5 (doc)"),
    ("recall_at_10", "Recall@10 (doc)"),
    ("mrr", "MRR@10 (doc)"),
    ("exact_match", "Exact match"),
    ("f1", "Token F1"),
    ("no_answer_accuracy", "No-answer accuracy"),
    ("false_abstain_rate", "False-abstain rate"),
    ("citation_accuracy", "Citation accuracy"),
    ("sentence_accuracy", "Sentence accuracy"),
    ("latency_ms_p50", "Latency p50 (ms)"),
    ("latency_ms_p95", "Latency p95 (ms)"),
)
NOTES = """\
- Retrieval, exact match and F1 are over answerable questions; an abstention scores 0. Recall@k and MRR
  are at document level: a gold source among the documents of the top-k ranked passages (MRR over the top 10).
- No-answer accuracy: share of unanswerable questions where the system abstained. False-abstain rate: share
  of answerable questions where it abstained.
- Citation accuracy: over answered answerable questions only, the share whose first citation's text equals
  document_text[start:end] and whose document is a gold source.
- Sentence accuracy: over answered answerable questions only, the share whose first citation's sentence
  contains a gold answer (normalised as for exact match); for the baselines the answer is that sentence.
- Latency: wall time of one `ask` per question, model loaded and warmed up; for the baselines, retrieval
  plus sentence choice. "—" means the metric has no denominator in that group.
- Baselines: bm25 = lexical retrieval only, dense = dense retrieval only; each answers with the top passage's
  sentence sharing the most question content words, and never abstains unless retrieval returns nothing."""


def _fmt(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key.startswith("latency"):
        return f"{value:.0f}"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    fmt = "  ".join(("{:<%d}" if i == 0 else "{:>%d}") % w for i, w in enumerate(widths))
    out = [fmt.format(*header), "  ".join("-" * w for w in widths)]
    return "\n".join(out + [fmt.format(*r) for r in rows])


def _system(summary: dict[str, Any], name: str) -> dict[str, Any]:
    return summary if name == SYSTEM else summary["baselines"][name]


def _overall_rows(summary: dict[str, Any]) -> list[list[str]]:
    return [[label, *(_fmt(key, _system(summary, s)[key]) for s in SYSTEMS)] for key, label in ROWS]


def _kind_rows(summary: dict[str, Any]) -> list[list[str]]:
    rows = []
    for kind, m in summary["by_kind"].items():
        b = {name: summary["baselines"][name]["by_kind"][kind] for name in BASELINES}
        rows.append(
            [
                kind,
                str(m["n"]),
                str(m["n_answerable"]),
                _fmt("f1", m["f1"]),
                *(_fmt("f1", b[n]["f1"]) for n in BASELINES),
                _fmt("em", m["exact_match"]),
                _fmt("r", m["recall_at_5"]),
                *(_fmt("r", b[n]["recall_at_5"]) for n in BASELINES),
                _fmt("na", m["no_answer_accuracy"]),
                _fmt("fa", m["false_abstain_rate"]),
                _fmt("sa", m["sentence_accuracy"]),
                *(_fmt("sa", b[n]["sentence_accuracy"]) for n in BASELINES),
            ]
        )
    return rows


_KIND_HEADER = [
    "kind",
    "n",
    "answerable",
    "F1 system",
    *(f"F1 {n}" for n in BASELINES),
    "EM system",
    "R@5 system",
    *(f"R@5 {n}" for n in BASELINES),
    "no-answer acc",
    "false abstain",
    "sent acc system",
    *(f"sent acc {n}" for n in BASELINES),
]


def table(summary: dict[str, Any], meta: dict[str, Any]) -> str:
    """The plain-text report printed by `qa eval` without --json."""
    head = (
        f"{meta['gold']}: {summary['n']} questions ({summary['n_answerable']} answerable); "
        f"index {meta['index']}, k={meta['k']}, abstain threshold {meta['threshold']}; {meta['seconds']} s"
    )
    overall = _text_table(["metric", *SYSTEMS], _overall_rows(summary))
    kinds = _text_table(_KIND_HEADER, _kind_rows(summary))
    return (
        f"{head}\n\n{overall}\n\nBy kind\n{kinds}\n\n"
        "Retrieval/EM/F1 on answerable questions; citation and sentence accuracy on answered answerable ones."
    )


def _worst(records: Sequence[Record], threshold: float, n: int = 10) -> list[tuple[Record, Any]]:
    """Wrong answers (F1 < 0.5, wrong abstentions, answered unanswerables), most confident first."""
    wrong = [(r, score(r, SYSTEM, threshold)) for r in records]
    wrong = [(r, s) for r, s in wrong if not s.correct]
    wrong.sort(key=lambda rs: (-(rs[0].runs[SYSTEM].confidence or 0.0), rs[1].f1))
    return wrong[:n]


def markdown(summary: dict[str, Any], records: Sequence[Record], meta: dict[str, Any]) -> str:
    """report.md: overall and per-kind tables, confidence buckets, threshold curve, worst questions."""
    t = meta["threshold"]
    parts = [
        "# docqa evaluation",
        (
            f"Gold `{meta['gold']}`: {summary['n']} questions, {summary['n_answerable']} answerable. "
            f"Index `{meta['index']}`, k = {meta['k']}, abstain threshold {t}. Run time {meta['seconds']} s "
            "(model load, all three systems, warm-up and threshold re-check); "
            f"torch threads {meta.get('torch_threads')}, 1-minute load average at start {meta.get('load_avg')} "
            "(latencies rise steeply when other processes share the CPU)."
        ),
    ]
    if meta.get("warnings"):
        parts.append("**Warnings**\n\n" + "\n".join(f"- {w}" for w in meta["warnings"]))
    parts += [
        "## Overall",
        _md_table(["metric", *SYSTEMS], _overall_rows(summary)),
        NOTES,
        "## By kind: system against baselines",
        _md_table(_KIND_HEADER, _kind_rows(summary)),
        "![F1 by kind](f1_by_kind.png)",
        "## By kind: every system metric",
    ]
    header = ["kind", *(label for _, label in ROWS)]
    for name in SYSTEMS:
        by_kind = _system(summary, name)["by_kind"]
        rows = [[kind, *(_fmt(key, m[key]) for key, _ in ROWS)] for kind, m in by_kind.items()]
        parts += [f"### {name}", _md_table(header, rows)]
    buckets = confidence_buckets(records, t)
    parts += [
        "## Accuracy by confidence (system)",
        (
            "Correct = F1 ≥ 0.5 on an answerable question, or an abstention on an unanswerable one. "
            f"Answered = not abstained at threshold {t}; its precision counts F1 ≥ 0.5 on answerable questions."
        ),
        _md_table(
            ["confidence", "questions", "share correct", "answered", "answered with F1 ≥ 0.5"],
            [
                [
                    f"[{b['lo']:.1f}, {b['hi']:.1f}{']' if b['hi'] >= 1 else ')'}",
                    str(b["n"]),
                    _fmt("x", b["share_correct"]),
                    str(b["answered"]),
                    _fmt("x", b["answered_share_ok"]),
                ]
                for b in buckets
            ],
        ),
    ]
    curve = threshold_curve(records)
    parts += [
        "## Abstention trade-off (system)",
        (
            "The system's recorded answerability (its confidence, for answerers without one) re-thresholded: "
            "an answer with answerability < t becomes an abstention "
            "(one run at threshold 0; `qa ask` gives the same answers at every t). "
            f"The current threshold ({t}) is in bold."
        ),
        _md_table(
            ["threshold", "F1 (answerable)", "EM (answerable)", "no-answer accuracy", "false-abstain rate"],
            [
                [
                    (f"**{c['threshold']:.2f}**" if abs(c["threshold"] - t) < 1e-9 else f"{c['threshold']:.2f}"),
                    _fmt("x", c["f1"]),
                    _fmt("x", c["exact_match"]),
                    _fmt("x", c["no_answer_accuracy"]),
                    _fmt("x", c["false_abstain_rate"]),
                ]
                for c in curve
            ],
        ),
        "![Abstention trade-off](threshold_curve.png)",
        "## Worst questions (system wrong, most confident first)",
    ]
    rows = []
    for rec, s in _worst(records, t):
        g = rec.gold
        gold = " / ".join(g.answers) if g.answerable else "(unanswerable)"
        got = "(abstained)" if s.abstained else s.answer
        cand = rec.runs[SYSTEM].answer if s.abstained and rec.runs[SYSTEM].answer else ""
        rows.append(
            [
                g.id,
                g.kind,
                g.question,
                gold,
                _cell(got) + (f" — candidate: {_cell(cand)}" if cand else ""),
                f"{rec.runs[SYSTEM].confidence:.2f}",
                f"{s.f1:.2f}",
                str(s.first_rank or "—"),
            ]
        )
    parts.append(_md_table(["id", "kind", "question", "gold", "system", "confidence", "F1", "gold doc rank"], rows))
    parts.append("Every question, with all three systems' answers and citations: `results.jsonl`.")
    return "\n\n".join(parts) + "\n"


def _cell(text: str | None) -> str:
    text = " ".join((text or "").split()).replace("|", "\\|")
    return text if len(text) <= 120 else text[:117] + "…"


def _charts(out: Path, summary: dict[str, Any], records: Sequence[Record], threshold: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    # Kinds without answerable questions have no F1: leave them off rather than draw empty slots.
    kinds = ["overall", *(k for k, m in summary["by_kind"].items() if m["n_answerable"])]
    fig, ax = plt.subplots(figsize=(max(8.0, 1.0 * len(kinds)), 4.5))
    width = 0.8 / len(SYSTEMS)
    x = np.arange(len(kinds))
    for i, name in enumerate(SYSTEMS):
        m = _system(summary, name)
        vals = [m["f1"] if kind == "overall" else m["by_kind"][kind]["f1"] for kind in kinds]
        ax.bar(x + (i - (len(SYSTEMS) - 1) / 2) * width, [v if v is not None else 0 for v in vals], width, label=name)
    ax.set_xticks(x, kinds, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("token F1 (answerable questions)")
    ax.set_title("F1 by kind: system against baselines")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "f1_by_kind.png", dpi=110)
    plt.close(fig)

    curve = threshold_curve(records)
    ts = [c["threshold"] for c in curve]
    f1 = [c["f1"] if c["f1"] is not None else np.nan for c in curve]
    na = [c["no_answer_accuracy"] if c["no_answer_accuracy"] is not None else np.nan for c in curve]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    left.plot(ts, f1, marker="o", label="F1 (answerable)")
    left.plot(ts, na, marker="s", label="no-answer accuracy (unanswerable)")
    left.axvline(threshold, color="grey", linestyle="--", label=f"current threshold {threshold}")
    left.set_xlabel("abstention threshold")
    left.set_ylim(0, 1.02)
    left.legend(fontsize=8)
    left.set_title("Scores against threshold")
    right.plot(na, f1, marker="o")
    for t, a, b in zip(ts, na, f1):
        if round(t * 20) % 4 == 0 or abs(t - threshold) < 1e-9:
            right.annotate(f"{t:.2f}", (a, b), fontsize=7, textcoords="offset points", xytext=(4, 4))
    cur = min(range(len(ts)), key=lambda i: abs(ts[i] - threshold))
    right.plot([na[cur]], [f1[cur]], marker="*", markersize=14, color="red", label="current threshold")
    right.set_xlabel("no-answer accuracy (unanswerable)")
    right.set_ylabel("F1 (answerable)")
    right.set_xlim(-0.02, 1.02)
    right.set_ylim(0, 1.02)
    right.legend(fontsize=8)
    right.set_title("Abstention trade-off")
    fig.tight_layout()
    fig.savefig(out / "threshold_curve.png", dpi=110)
    plt.close(fig)


def write(out: Path, summary: dict[str, Any], records: Sequence[Record], meta: dict[str, Any]) -> None:
    """Write report.md, results.jsonl, metrics.json, f1_by_kind.png and threshold_curve.png into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    t = meta["threshold"]
    (out / "report.md").write_text(markdown(summary, records, meta), encoding="utf-8")
    with (out / "results.jsonl").open("w", encoding="utf-8") as f:
        for row in result_rows(records, t):
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out / "metrics.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    _charts(out, summary, records, t)
