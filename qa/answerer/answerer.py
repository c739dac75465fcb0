"""The learned answerer: read the best sentences, score candidates, merge, cite or abstain.

retrieved passages → their sentences, measured against the question (`read.measure`) → short
windows read by the span reader plus the parse's candidates (`read.read`) → ranked by the scorer →
same answers merged across documents (name variants, overlapping spans) → conflicting figures
flagged → the no-answer model's probability decides between a cited answer and "not found".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qa.answerer.candidates import Kind
from qa.answerer.features import COUNTING, SentenceEvidence
from qa.answerer.gate import gate_vector
from qa.answerer.model import AnswererModel
from qa.answerer.parsed import AnswerType, ParsedQuestion, default_idf, parse_question
from qa.answerer.read import RawSentence, Reading, Scored, measure, name_skeletons, read
from qa.answerer.rerank import DEPTH, reorder
from qa.answerer.scorer import Scorer, get_scorer, noanswer_vector, probability, reads_context
from qa.answerer.select import by_selection
from qa.answerer.state import AnswerState
from qa.index import IndexData
from qa.metrics import normalize_answer
from qa.models import Alternative, Answer, Citation, Hit
from qa.text import figures, skeleton

# Answer types whose values can disagree between sources (counts, amounts, dates).
VALUE_TYPES = frozenset(
    {
        AnswerType.COUNT,
        AnswerType.MONEY,
        AnswerType.QUANTITY,
        AnswerType.DISTANCE,
        AnswerType.DURATION,
        AnswerType.AGE,
        AnswerType.DATE,
    }
)


class LearnedAnswerer:
    """Answers from one loaded index generation with a trained model."""

    name = "learned"

    def __init__(
        self,
        data: IndexData,
        embedder: Any,
        model: AnswererModel,
        abstain_threshold: float | None = None,
        scorer: str = "learned",
    ) -> None:
        self.data = data
        self.state = AnswerState(data, embedder)
        self.model = model
        self.variant = model.variant(scorer)
        self.scorer: Scorer = get_scorer(scorer, self.variant.scorer)
        self.threshold = self.variant.threshold if abstain_threshold is None else abstain_threshold
        # The second stage was trained on the learned scorer's rankings; other scorers go without it,
        # and so without the gate, which reads the second stage's predictions.
        self.reranker = model.reranker if scorer == "learned" else None
        self.gate = model.gate if self.reranker is not None else None

    def warm_up(self) -> int:
        return self.state.warm_up()

    def parse(self, question: str) -> ParsedQuestion:
        return parse_question(question, default_idf(self.state.n_passages, self.state.df))

    def first_stage(self, question: str, hits: Sequence[Hit]) -> tuple[ParsedQuestion, Reading, list[Scored]] | None:
        """The question parsed, its reading of `hits`, and the scorer's ranking (None: nothing to read).

        The second stage trains on exactly this (`qa/training/stage2.py`).
        """
        measured = self.evidence(question, hits)
        if measured is None:
            return None
        pq, evidence = measured
        selector = self.model.selector
        chosen = None
        if selector is not None:
            evidence = selector.annotate(pq, evidence, self.data.texts)
            chosen = by_selection(evidence)
        reading = read(pq, evidence, self.data.texts, self.state.doc_sentences, self.model.reader, chosen=chosen)
        ranked = self.scorer.rank(reading)
        return (pq, reading, ranked) if ranked else None

    def evidence(self, question: str, hits: Sequence[Hit]) -> tuple[ParsedQuestion, list[SentenceEvidence]] | None:
        """The question parsed and the sentences of `hits` measured against it, by `read.measure`'s
        blend (None: the hits hold no sentence). The sentence selector trains on exactly this."""
        raws = self._sentences(hits)
        if not raws:
            return None
        pq = self.parse(question)
        qvec = self.state.embedder.encode_query(question)
        vecs = self.state.sentence_vectors([(r.doc, r.start, r.end) for r in raws])
        return pq, measure(pq, qvec, raws, vecs, self.data.texts, name_skeletons(pq, question))

    def answer(
        self,
        question: str,
        hits: Sequence[Hit],
        history: Sequence[dict[str, Any]] | None = None,
        *,
        resolved: str | None = None,
    ) -> Answer:
        """Answer `question` from `hits`; `resolved` is the stand-alone form of a follow-up."""
        stand_alone = resolved if resolved is not None else question
        result = Answer(
            question=question,
            answer=None,
            confidence=0.0,
            abstained=True,
            passages=list(hits),
            resolved_question=resolved if resolved is not None and resolved != question else None,
        )
        first = self.first_stage(stand_alone, hits)
        if first is None:
            return result
        pq, reading, ranked = first
        texts = self.data.texts
        columns = self.model.noanswer_columns
        # The context features are worked out only when a model reads them (the gate reads them all).
        needs_context = self.gate is not None or reads_context(columns)
        na = noanswer_vector(reading, ranked, pq, texts if needs_context else ())
        conf = probability(self.variant.noanswer, na, columns)
        result.confidence = result.answerability = round(conf, 4)
        if self.gate is None and conf < self.threshold:
            return result
        if self.reranker is not None:
            rows, pred = self.reranker.predict(ranked, texts)
            first_order = ranked[: len(pred)]
            ranked = prefer_count(tighten(reorder(ranked, pred)), pq)
            if self.gate is not None and len(pred):
                # Judge the span shown, which the second stage and tighten/prefer_count may have changed.
                pick = next((i for i, s in enumerate(first_order) if s.cand is ranked[0].cand), int(pred.argmax()))
                judged = self.gate.judge(gate_vector(rows, pred, pick, conf, na))
                result.confidence = round(judged.confidence, 4)
                result.answerability = round(judged.answerability, 4)
                if judged.answerability < self.threshold:
                    return result
        else:
            ranked = prefer_count(tighten(ranked), pq)
        groups = self._group(ranked, by_figure=pq.atype in VALUE_TYPES)
        best = groups[0]
        top = best[0]
        result.answer = texts[top.cand.doc][top.cand.start : top.cand.end]
        result.abstained = False
        result.answer_kind = "sentence" if top.cand.kinds & Kind.SENTENCE else "span"
        result.citations = self._citations(best)
        if pq.atype in VALUE_TYPES:
            alts = [g for g in groups[1:4] if self._disagrees(best, g)]
            if alts:
                result.conflicting = True
                result.alternatives = [
                    Alternative(self.data.texts[g[0].cand.doc][g[0].cand.start : g[0].cand.end], self._citations(g))
                    for g in alts[:2]
                ]
        return result

    def _sentences(self, hits: Sequence[Hit]) -> list[RawSentence]:
        seen: set[tuple[int, int]] = set()
        out: list[RawSentence] = []
        for rank, hit in enumerate(hits):
            d = self.data.doc_index[hit.passage.doc_id]
            for s, e in self.state.doc_sentences(d):
                if s >= hit.passage.start and e <= hit.passage.end and (d, s) not in seen:
                    seen.add((d, s))
                    out.append(RawSentence(d, s, e, hit.score, rank, hit.dense, hit.lexical))
        return out

    def _key(self, text: str, by_figure: bool = False) -> str:
        stated = figures(text) if by_figure else []
        if stated:
            # "about 340" and "340 people" state one figure, and so do "18" and "Eighteen": one
            # answer, cited from both places.
            return " ".join(stated)
        toks = normalize_answer(text).split()
        if toks and all(t.isalpha() for t in toks):
            return " ".join(skeleton(t) or t for t in toks)
        return " ".join(toks)

    def _group(self, ranked: list[Scored], by_figure: bool = False) -> list[list[Scored]]:
        """Same answer (normalised text, name variants, overlapping spans in one document; with
        `by_figure`, the same numbers) → one group."""
        groups: list[list[Scored]] = []
        keys: list[str] = []
        for s in ranked[:40]:
            key = self._key(self.data.texts[s.cand.doc][s.cand.start : s.cand.end], by_figure)
            for g, k in zip(groups, keys):
                lead = g[0]
                same_place = (
                    lead.cand.doc == s.cand.doc and lead.cand.start < s.cand.end and s.cand.start < lead.cand.end
                )
                if key == k or same_place:
                    g.append(s)
                    break
            else:
                groups.append([s])
                keys.append(key)
        return groups

    def _disagrees(self, best: list[Scored], other: list[Scored]) -> bool:
        """A rival figure, in a sentence that covers the question as well, scored at least half as
        well, with different numbers, where some document backing it is not one backing the best
        (two figures in one document alone are usually two facts, not a disagreement)."""
        b, o = best[0], other[0]
        if o.score < 0.5 * b.score or o.evidence.coverage < 0.75 * b.evidence.coverage:
            return False
        if not any(x.cand.doc != y.cand.doc for x in best for y in other):
            return False
        nb = figures(self.data.texts[b.cand.doc][b.cand.start : b.cand.end])
        no = figures(self.data.texts[o.cand.doc][o.cand.start : o.cand.end])
        return bool(nb) and bool(no) and nb != no

    def _citations(self, group: list[Scored]) -> list[Citation]:
        """One citation per document, best first (later documents giving the same answer back it up)."""
        out: list[Citation] = []
        seen: set[int] = set()
        for s in group:
            if s.cand.doc in seen:
                continue
            seen.add(s.cand.doc)
            c = s.cand
            out.append(self.data.citation(c.doc, c.start, c.end, c.sent_start, c.sent_end, s.score))
        return out


def prefer_count(ranked: list[Scored], pq: ParsedQuestion) -> list[Scored]:
    """For "how many/how much", put first the best span that states a number when the top one states none.

    A span without a number ("municipal deputies") cannot answer a count; the scorers learn that from
    `type_fit` but can still rank it first on the reader's score and its agreement with other spans.
    The number is taken only when the model scores it at least half as well as the top span, so a
    count it barely believes does not replace a confident answer.
    """
    if not ranked or pq.atype not in COUNTING or ranked[0].features.type_fit >= 0:
        return ranked
    top = ranked[0]
    pick = next((s for s in ranked[1:DEPTH] if s.features.type_fit >= 1 and s.score >= 0.5 * top.score), None)
    if pick is None:
        return ranked
    return [pick] + [s for s in ranked if s is not pick]


def tighten(ranked: list[Scored]) -> list[Scored]:
    """Prefer, inside the best span, a candidate of the asked type that repeats no question words.

    A span that restates the question around its answer ("chief executive, Marek Nowak, 52" for
    "How old is Marek Nowak?") is a worse answer than the value it contains, when that value is
    scored nearly as well (at least half as well) by the model.
    """
    if not ranked:
        return ranked
    top = ranked[0]
    if top.features.echo <= 0 or top.features.type_fit >= 1:
        return ranked
    inner = [
        s
        for s in ranked[1:]
        if s.cand.doc == top.cand.doc
        and top.cand.start <= s.cand.start
        and s.cand.end <= top.cand.end
        and s.features.type_fit >= 1
        and s.features.echo <= 0
        and s.score >= 0.5 * top.score
    ]
    if not inner:
        return ranked
    pick = max(inner, key=lambda s: s.score)
    return [pick] + [s for s in ranked if s is not pick]
