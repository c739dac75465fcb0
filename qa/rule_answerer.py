"""The extractive answerer: from retrieved passages, pick the shortest verbatim span that answers,
merge the same answer across documents, flag disagreeing figures, and abstain when the documents
have no candidate of the asked-for type near the question's key words."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np

from qa import question as Q
from qa.annotate import LABELS
from qa.chunk import sentence_spans
from qa.gazetteer import CITY_NOUNS, COUNTRY_NOUNS, is_country
from qa.index import IndexData
from qa.metrics import normalize_answer
from qa.models import Alternative, Answer, Citation, Hit
from qa.spans import Candidate, candidates
from qa.text import STOPWORDS, edit_distance_limit, skeleton, stem, words

# Answer types whose values can disagree between sources (counts, amounts, dates).
VALUE_TYPES = frozenset({Q.COUNT, Q.MONEY, Q.QUANTITY, Q.DISTANCE, Q.DURATION, Q.AGE, Q.DATE})
# Answer types that need a typed candidate: without one, the documents don't answer.
STRICT_TYPES = VALUE_TYPES | {Q.PERSON, Q.PLACE, Q.REASON}
# Word-embedding cosine above which two different words count as a paraphrase.
SOFT_MATCH_MIN = 0.5
# Names say what a question is about: a sentence that lacks them rarely answers it.
NAME_WEIGHT = 2.0
# A sentence with a pronoun may name its subject in the sentences just before it (see _context_stems).
_PRONOUN_RE = re.compile(r"\b(?:he|she|him|her|his|they|them|their|it|its)\b", re.I)


@dataclass
class _Sentence:
    doc: int
    start: int
    end: int
    hit: Hit
    coverage: float = 0.0
    got: list[float] = field(default_factory=list)  # per key word: 1 matched, fraction for a paraphrase
    literal: float = 0.0  # coverage by spelling alone (no paraphrase matches)
    sim: float = 0.0  # cosine similarity of question and sentence
    names: float = 1.0  # share of the question's names found in the sentence or just before it
    score: float = 0.0
    matches: list[tuple[int, int, float]] = field(default_factory=list)  # matched key words: span, weight share


@dataclass
class _Scored:
    cand: Candidate
    sent: _Sentence
    score: float
    local: float = 0.0  # share of the question's key words within a clause's reach of the candidate


@lru_cache(maxsize=65536)
def _sentence_words(sentence: str) -> tuple[tuple[int, int, str, str, str, str], ...]:
    """(start, end, word, lower, stem, skeleton-if-capitalised) per word; sentences recur across questions."""
    out = []
    for a, b, w in words(sentence):
        sk = skeleton(w) if len(w) >= 4 and w[0].isupper() else ""
        out.append((a, b, w, w.lower(), stem(w), sk))
    return tuple(out)


@lru_cache(maxsize=65536)
def _levenshtein_ok(a: str, b: str) -> bool:
    limit = min(edit_distance_limit(a), edit_distance_limit(b))
    if not limit or abs(len(a) - len(b)) > limit:
        return False
    from rapidfuzz.distance import Levenshtein

    return bool(Levenshtein.distance(a, b, score_cutoff=limit) <= limit)


class Answerer:
    """Answers from one loaded index generation; `word_vectors` (an Embedder) enables paraphrase matching."""

    def __init__(
        self, data: IndexData, embedder: Any = None, abstain_threshold: float = 0.35, max_sentences: int = 10
    ) -> None:
        self.data = data
        self.embedder = embedder
        self.threshold = abstain_threshold
        self.max_sentences = max_sentences
        self._df = data.document_frequencies()
        self._n = max(1, data.n_passages)
        self._word_vecs: dict[str, np.ndarray] = {}
        self._sent_vecs: dict[tuple[str, int, int], np.ndarray] = {}
        self._doc_sent_cache: dict[int, tuple[tuple[int, int], ...]] = {}
        self._context_cache: dict[tuple[int, int], frozenset[str]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ signals

    def idf(self, kw: Q.Keyword) -> float:
        df = self._df.get(kw.stem, 0)
        if df == 0 and kw.skeleton:
            df = self._df.get("~" + kw.skeleton, 0)
        return math.log(1 + (self._n - df + 0.5) / (df + 0.5))

    def _vectors(self, ws: Sequence[str]) -> dict[str, np.ndarray]:
        """Word vectors from the sentence model, cached for the life of the process."""
        if self.embedder is None:
            return {}
        with self._lock:
            missing = [w for w in dict.fromkeys(ws) if w not in self._word_vecs]
        if missing:
            vecs = self.embedder.encode(missing, batch_size=256)
            with self._lock:
                if len(self._word_vecs) > 200_000:
                    self._word_vecs.clear()
                self._word_vecs.update(zip(missing, vecs))
        with self._lock:
            return {w: self._word_vecs[w] for w in ws if w in self._word_vecs}

    def warm_up(self, max_sentences: int = 20_000) -> int:
        """Embed the sentences and words of a small collection ahead of the questions.

        A long-running process (the server, an evaluation) calls this once, in the background, so
        that first questions don't pay for sentence and word vectors. Larger collections are left to
        the per-question cache. Returns the number of sentences embedded.
        """
        if self.embedder is None:
            return 0
        keys: list[tuple[str, int, int]] = []
        texts: list[str] = []
        vocab: dict[str, None] = {}
        for d, info in enumerate(self.data.docs):
            text = self.data.texts[d]
            for s, e in self._doc_sentences(d, text):
                keys.append((info.sha256, s, e))
                texts.append(text[s:e])
                for t in _sentence_words(text[s:e]):
                    if t[3] not in STOPWORDS:
                        vocab[t[3]] = None
                if len(keys) > max_sentences:
                    return 0
        for i in range(0, len(texts), 256):
            vecs = self.embedder.encode(texts[i : i + 256], batch_size=64)
            with self._lock:
                self._sent_vecs.update(zip(keys[i : i + 256], vecs))
        words_list = list(vocab)
        for i in range(0, len(words_list), 1024):
            self._vectors(words_list[i : i + 1024])
        return len(texts)

    # ------------------------------------------------------------------ stages

    def _sentences(self, hits: Sequence[Hit]) -> list[_Sentence]:
        seen: set[tuple[int, int]] = set()
        out: list[_Sentence] = []
        for hit in hits:
            d = self.data.doc_index[hit.passage.doc_id]
            text = self.data.texts[d]
            for s, e in self._doc_sentences(d, text):
                if s >= hit.passage.start and e <= hit.passage.end and (d, s) not in seen:
                    seen.add((d, s))
                    out.append(_Sentence(d, s, e, hit))
        return out

    def _match(self, info: Q.QuestionInfo, sents: list[_Sentence]) -> None:  # noqa: C901 - rule list; answerer rewrite
        """Key-word coverage of each sentence (IDF-weighted), with name variants and paraphrases."""
        kws = info.keywords
        weights = [self.idf(k) * (NAME_WEIGHT if k.word[:1].isupper() else 1.0) for k in kws]
        total = sum(weights) or 1.0
        # A question typed all in lower case may still name people ("who is john kirby"): then longer
        # words may match names by spelling variants too.
        lowercase_question = not any(w[:1].isupper() for _, _, w in words(info.text)[1:])
        per_sent_words: list[list[tuple[int, int, str]]] = []
        unmatched: list[set[int]] = []
        kw_lower = [k.word.lower() for k in kws]
        variant_ok = [
            bool(k.skeleton) and (k.word[0].isupper() or (lowercase_question and len(k.word) >= 6)) for k in kws
        ]
        for st in sents:
            text = self.data.texts[st.doc]
            toks = _sentence_words(text[st.start : st.end])
            per_sent_words.append([(st.start + a, st.start + b, w) for a, b, w, *_ in toks])
            got = [0.0] * len(kws)
            for a, b, _w, lw, sw, sk in toks:
                for i, k in enumerate(kws):
                    if sw == k.stem or lw == kw_lower[i]:
                        got[i] = 1.0
                        if kw_lower[i] == info.target:
                            continue  # the asked-for noun marks where answers are, not closeness to the question
                    elif variant_ok[i] and sk and (sk == k.skeleton or _levenshtein_ok(lw, kw_lower[i])):
                        got[i] = 1.0
                    else:
                        continue
                    st.matches.append((st.start + a, st.start + b, weights[i] / total))
            st.coverage = sum(g * w for g, w in zip(got, weights)) / total
            st.literal = st.coverage
            unmatched.append({i for i, g in enumerate(got) if g < 1.0})
            st.score = st.coverage  # refined below
            st.got = got
        # Paraphrase matching: a key word absent from the sentence may have a synonym there.
        if self.embedder is not None and kws:
            need = [i for i, um in enumerate(unmatched) if um]
            top = sorted(need, key=lambda j: -sents[j].coverage)[: self.max_sentences]
            vocab: list[str] = [kws[i].word.lower() for i in range(len(kws))]
            for j in top:
                vocab.extend(w.lower() for _, _, w in per_sent_words[j] if w.lower() not in STOPWORDS)
            vecs = self._vectors(vocab)
            for j in top:
                st = sents[j]
                got = st.got
                cand_words = [(a, b, w.lower()) for a, b, w in per_sent_words[j] if w.lower() in vecs]
                if not cand_words:
                    continue
                mat = np.stack([vecs[w] for _, _, w in cand_words])
                for i in unmatched[j]:
                    kv = vecs.get(kws[i].word.lower())
                    if kv is None or kws[i].word[0].isupper():
                        continue  # names are matched by spelling, never by meaning
                    sims = mat @ kv
                    best = int(np.argmax(sims))
                    if sims[best] >= SOFT_MATCH_MIN:
                        got[i] = min(1.0, (float(sims[best]) - 0.35) / 0.35)
                        st.matches.append((*cand_words[best][:2], got[i] * weights[i] / total))
                st.coverage = sum(g * w for g, w in zip(got, weights)) / total
        # Key words missing from a sentence but present just before it (a pronoun's antecedent:
        # "Palyuga … Now the court has fined him …") earn part of their weight.
        sims = self._sentence_similarity(info.text, sents)
        for st, sim in zip(sents, sims):
            st.sim = sim
            got = st.got
            missing = [i for i, g in enumerate(got) if g < 1.0 and kws[i].word[:1].isupper()]
            if missing and _PRONOUN_RE.search(self.data.texts[st.doc][st.start : st.end]):
                ctx = self._context_stems(st)
                extra = sum(
                    (0.6 - 0.6 * got[i]) * weights[i]
                    for i in missing
                    if kws[i].stem in ctx or (kws[i].skeleton and "~" + kws[i].skeleton in ctx)
                )
                st.coverage += extra / total
            name_idx = [i for i, k in enumerate(kws) if k.word[:1].isupper()]
            if name_idx:
                ctx = self._context_stems(st) if any(got[i] < 1.0 for i in name_idx) else frozenset()
                found = sum(
                    weights[i]
                    for i in name_idx
                    if got[i] >= 1.0 or kws[i].stem in ctx or (kws[i].skeleton and "~" + kws[i].skeleton in ctx)
                )
                st.names = found / sum(weights[i] for i in name_idx)
            st.score = 0.5 * st.coverage + 0.2 * st.hit.score + 0.3 * max(0.0, st.sim)

    def _sentence_similarity(self, question: str, sents: list[_Sentence]) -> list[float]:
        """Cosine of question and sentence embeddings; sentence vectors are cached per process."""
        if self.embedder is None or not sents:
            return [s.hit.dense for s in sents]
        keys = [(self.data.docs[s.doc].sha256, s.start, s.end) for s in sents]
        with self._lock:
            missing = [(k, s) for k, s in zip(keys, sents) if k not in self._sent_vecs]
        if missing:
            vecs = self.embedder.encode([self.data.texts[s.doc][s.start : s.end] for _, s in missing], batch_size=32)
            with self._lock:
                if len(self._sent_vecs) > 100_000:
                    self._sent_vecs.clear()
                self._sent_vecs.update(zip([k for k, _ in missing], vecs))
        qv = self.embedder.encode_query(question)
        with self._lock:
            return [float(self._sent_vecs[k] @ qv) for k in keys]

    def _doc_sentences(self, d: int, text: str) -> tuple[tuple[int, int], ...]:
        """Sentence spans of document number `d`, cached for this generation (bounded)."""
        hit = self._doc_sent_cache.get(d)
        if hit is None:
            hit = tuple(sentence_spans(text))
            if len(self._doc_sent_cache) > 4096:
                self._doc_sent_cache.clear()
            self._doc_sent_cache[d] = hit
        return hit

    def _context_stems(self, st: _Sentence) -> frozenset[str]:
        """Stems and name skeletons of the three sentences before `st` in its document."""
        key = (st.doc, st.start)
        hit = self._context_cache.get(key)
        if hit is not None:
            return hit
        text = self.data.texts[st.doc]
        sents = self._doc_sentences(st.doc, text)
        i = int(np.searchsorted(np.asarray([a for a, _ in sents]), st.start))
        out: set[str] = set()
        for a, b in sents[max(0, i - 3) : i]:
            for _, _, _, _, sw, sk in _sentence_words(text[a:b]):
                out.add(sw)
                if sk:
                    out.add("~" + sk)
        if len(self._context_cache) > 16384:
            self._context_cache.clear()
        self._context_cache[key] = frozenset(out)
        return self._context_cache[key]

    def _entities(self, st: _Sentence) -> list[tuple[int, int, str]]:
        rows = self.data.entities_of(st.doc)
        if len(rows) == 0:
            return []
        starts = rows["start"]
        lo = int(np.searchsorted(starts, st.start, "left"))
        hi = int(np.searchsorted(starts, st.end, "left"))
        return [
            (int(r["start"]), int(r["end"]), LABELS[int(r["label"])]) for r in rows[lo:hi] if int(r["end"]) <= st.end
        ]

    def _subject_spans(self, info: Q.QuestionInfo, st: _Sentence) -> list[tuple[int, int]]:
        if not info.subject:
            return []
        text = self.data.texts[st.doc]
        subj = [skeleton(w) or w.lower() for _, _, w in words(info.subject)]
        ws = words(text[st.start : st.end])
        spans = []
        n = len(subj)
        for i in range(len(ws) - n + 1):
            if all((skeleton(ws[i + j][2]) or ws[i + j][2].lower()) == subj[j] for j in range(n)):
                spans.append((st.start + ws[i][0], st.start + ws[i + n - 1][1]))
        if not spans and n > 1:  # surname alone: "Kirby said …"
            last = subj[-1]
            spans = [(st.start + a, st.start + b) for a, b, w in ws if (skeleton(w) or w.lower()) == last]
        return spans

    def _check_type(self, info: Q.QuestionInfo, st: _Sentence, cand: Candidate) -> Candidate:
        """Lower the type fit of a candidate that has the right form but not the asked-for kind."""
        text = self.data.texts[st.doc]
        if info.atype == Q.PLACE and info.target in CITY_NOUNS | COUNTRY_NOUNS:
            if is_country(text[cand.start : cand.end]) != (info.target in COUNTRY_NOUNS):
                return replace(cand, fit=cand.fit * 0.4)  # "which city?" is not answered by a country
        if info.atype == Q.COUNT and info.target and cand.kind in ("COUNT", "CARDINAL"):
            # "how many children" needs a number of children: the unit must follow the number.
            if not self._unit_follows(info.target, text[cand.end : min(st.end, cand.end + 40)]):
                return replace(cand, fit=cand.fit * 0.4)
        return cand

    def _unit_follows(self, unit: str, after: str) -> bool:
        following = [w for _, _, w in words(after)[:3] if w.lower() not in STOPWORDS]
        if not following:
            return False
        u = stem(unit)
        if any(stem(w) == u for w in following):
            return True
        vecs = self._vectors([unit.lower()] + [w.lower() for w in following])
        uv = vecs.get(unit.lower())
        return uv is not None and any(
            float(vecs[w.lower()] @ uv) >= SOFT_MATCH_MIN for w in following if w.lower() in vecs
        )

    @staticmethod
    def _local(st: _Sentence, cand: Candidate, reach: int = 100) -> float:
        seen: dict[tuple[int, int], float] = {}
        for a, b, w in st.matches:
            if cand.start - reach <= a and b <= cand.end + reach and not (a >= cand.start and b <= cand.end):
                seen[(a, b)] = max(seen.get((a, b), 0.0), w)
        return min(1.0, sum(seen.values()))

    def _score(self, info: Q.QuestionInfo, st: _Sentence, cand: Candidate) -> float:  # noqa: C901 - rule list
        text = self.data.texts[st.doc]
        span = text[cand.start : cand.end]
        cws = [t[2] for t in _sentence_words(span)]
        content = [w for w in cws if w.lower() not in STOPWORDS]
        if not content and not re.search(r"\d", span):
            return 0.0
        kst = {k.stem for k in info.keywords if k.word.lower() != info.target}
        if cand.kind == "TARGET":
            kst -= info.target_mods  # "which district council" → "Lomonosovsky District Council" is no echo
        ksk = {k.skeleton for k in info.keywords if k.skeleton}
        echo = [w for w in content if stem(w) in kst or (len(w) >= 4 and skeleton(w) in ksk)]
        frac = len(echo) / len(content) if content else 0.0
        if content and frac >= 1.0 and not re.search(r"\d", span):
            return 0.0  # only repeats the question's own words
        # Closeness: the distance to the nearest matched key word, and how many of the key words
        # sit within a window around the candidate (answers sit among the question's words).
        outside = [(a, b) for a, b, _ in st.matches if not (a >= cand.start and b <= cand.end)]
        if outside:
            dist = min(max(0, a - cand.end, cand.start - b) for a, b in outside)
            prox = 0.3 / (1.0 + dist / 30.0) + 0.7 * self._local(st, cand)
        else:
            prox = 0.2
        cue = 1.0
        before = text[max(st.start, cand.start - 40) : cand.start].lower()
        after = text[cand.end : min(st.end, cand.end + 40)]
        if info.prep and re.search(r"\b" + info.prep + r"\s+(?:the\s+|a\s+|an\s+)?(?:[\w’'-]+\s+){0,2}$", before):
            cue *= 1.5  # "which network did he speak on?" → "… on ABC"
        if info.target and len(info.target) > 2:
            t = stem(info.target)
            adjacent = [w[4] for w in _sentence_words(before)[-2:]] + [w[4] for w in _sentence_words(after)[:1]]
            near = [w[4] for w in _sentence_words(before[-25:])] + [w[4] for w in _sentence_words(after[:20])]
            if cand.kind == "TARGET" or (cand.kind not in ("PHRASE", "QUOTE") and t in [stem(w) for w in cws]):
                cue *= 1.6
            elif t in adjacent:
                cue *= 1.6  # "which outlet" → "news outlet Meduza", "the city of X", "X party"
            elif t in near:
                cue *= 1.2
        if re.match(r"[’']s\b", after):
            tail = stem((words(after[2:30]) or [(0, 0, "")])[0][2])
            owned = [stem(w) for _, _, w in words(after[2:40])[:3]]
            if tail in kst or (info.target and stem(info.target) in owned):
                cue *= 0.4  # a possessor of a phrase the question already names: "Ukraine’s Kharkiv region"
        if info.atype not in (Q.DESCRIPTION,) and re.match(r"\s+(?:[a-z][\w-]*\s+){0,3}[A-Z]", after):
            nxt = re.match(r"\s+(?:[a-z][\w-]*\s+){0,3}([A-Z][\w’'-]*)", after)
            if nxt and (stem(nxt.group(1)) in kst or (skeleton(nxt.group(1)) or "-") in ksk):
                cue *= 0.6  # a title or modifier of a name the question already gives: "… official John Kirby"
        # Entities that run through the whole collection (its topic) are rarely the specific answer.
        if content:
            spread = min(self._df.get(stem(w), 0) for w in content) / self._n
            if spread > 0.25:
                cue *= 0.7
            elif spread > 0.12:
                cue *= 0.85
        length = len(cws)
        brevity = (
            1.0 if length <= 6 or cand.kind in ("REASON", "MANNER", "QUOTE", "APPOSITIVE", "TITLE") else 6.0 / length
        )
        return (
            st.score * (0.35 + 0.65 * cand.fit) * (0.4 + 0.6 * prox) * (1.0 - 0.6 * frac) * (0.8 + 0.2 * brevity) * cue
        )

    # ------------------------------------------------------------------ public

    def answer(
        self,
        question: str,
        hits: Sequence[Hit],
        history: Sequence[dict[str, Any]] | None = None,
        *,
        resolved: str | None = None,
    ) -> Answer:
        """Answer `question` from `hits`; `resolved` is the follow-up already rewritten from `history`."""
        if resolved is None:
            resolved = Q.resolve(question, history)
        info = Q.analyze(resolved)
        sents = self._sentences(hits)
        result = Answer(
            question=question,
            answer=None,
            confidence=0.0,
            abstained=True,
            passages=list(hits),
            resolved_question=resolved if resolved != question else None,
        )
        if not sents:
            return result
        self._match(info, sents)
        sents.sort(key=lambda s: -s.score)
        scored: list[_Scored] = []
        for st in sents[: self.max_sentences]:
            subj = self._subject_spans(info, st)
            for cand in candidates(
                self.data.texts[st.doc], st.start, st.end, self._entities(st), info.atype, info.target, subj
            ):
                cand = self._check_type(info, st, cand)
                sc = self._score(info, st, cand)
                if sc > 0:
                    scored.append(_Scored(cand, st, sc, self._local(st, cand)))
        if not scored:
            result.confidence = round(0.3 * sents[0].score, 4)
            return result
        groups = self._group(scored)
        best = groups[0]
        top = best[0]
        confidence = self._confidence(info, top, best)
        result.confidence = confidence
        if confidence < self.threshold:
            return result
        result.answer = self.data.texts[top.sent.doc][top.cand.start : top.cand.end]
        result.abstained = False
        result.citations = self._citations(best)
        if info.atype in VALUE_TYPES:
            alts = [g for g in groups[1:4] if self._disagrees(best, g)]
            if alts:
                result.conflicting = True
                result.alternatives = [
                    Alternative(self.data.texts[g[0].sent.doc][g[0].cand.start : g[0].cand.end], self._citations(g))
                    for g in alts[:2]
                ]
        return result

    def _confidence(self, info: Q.QuestionInfo, top: _Scored, group: list[_Scored]) -> float:
        """A 0..1 score that rises with key-word coverage, type fit and support from several documents."""
        docs = {s.sent.doc for s in group}
        # Evidence, not rank: how much of the question the answer's sentence covers, how similar it
        # is, whether the candidate has the asked-for type, whether the question's names are there.
        st = top.sent
        evidence = 0.35 * st.coverage + 0.35 * top.local + 0.3 * max(0.0, st.sim)
        if st.literal == 0.0 and not any(k.word[:1].isupper() for k in info.keywords):
            evidence *= 0.3  # not one of the question's words is there: meaning alone is too weak a link
        conf = evidence * (0.5 + 0.5 * top.cand.fit) * (0.4 + 0.6 * st.names) * (1.0 + 0.05 * (len(docs) - 1))
        if (info.atype in STRICT_TYPES and top.cand.fit < 0.6) or (info.atype == Q.ORG and top.cand.fit < 0.45):
            conf *= 0.6  # the asked-for kind of answer is not there; only a weaker form is
        if (info.atype in STRICT_TYPES and top.cand.fit < 0.6) or (info.atype == Q.ORG and top.cand.fit < 0.45):
            conf *= 0.6
        return round(min(1.0, conf), 4)

    def _key(self, text: str) -> str:
        norm = normalize_answer(text)
        toks = norm.split()
        if toks and all(t.isalpha() for t in toks):
            return " ".join(skeleton(t) or t for t in toks)
        return norm

    def _group(self, scored: list[_Scored]) -> list[list[_Scored]]:
        """Same answer (normalised text, name variants, one span inside the other) → one group."""
        scored.sort(key=lambda s: -s.score)
        del scored[60:]  # the tail never wins and grouping is quadratic
        groups: list[list[_Scored]] = []
        keys: list[str] = []
        for s in scored:
            text = self.data.texts[s.sent.doc][s.cand.start : s.cand.end]
            key = self._key(text)
            for g, k in zip(groups, keys):
                same_place = any(
                    m.sent.doc == s.sent.doc and m.cand.start < s.cand.end and s.cand.start < m.cand.end for m in g
                )
                if key == k or same_place:
                    g.append(s)
                    break
            else:
                groups.append([s])
                keys.append(key)
        return groups

    def _disagrees(self, best: list[_Scored], other: list[_Scored]) -> bool:
        o = other[0]
        b = best[0]
        if o.cand.fit < 1.0 or o.score < 0.75 * b.score:
            return False
        # A rival figure must answer the same question: as much of it near the figure, and in its sentence.
        if o.local < 0.75 * b.local or o.sent.coverage < 0.75 * b.sent.coverage:
            return False
        if {s.sent.doc for s in best} & {s.sent.doc for s in other}:
            return False
        tb = self.data.texts[b.sent.doc][b.cand.start : b.cand.end]
        to = self.data.texts[o.sent.doc][o.cand.start : o.cand.end]
        return _numbers(tb) != _numbers(to)

    def _citations(self, group: list[_Scored]) -> list[Citation]:
        out: list[Citation] = []
        seen_docs: set[int] = set()
        for s in group:
            if s.sent.doc in seen_docs:
                continue
            seen_docs.add(s.sent.doc)
            out.append(self.data.citation(s.sent.doc, s.cand.start, s.cand.end, s.sent.start, s.sent.end, s.score))
        return out


def _numbers(text: str) -> tuple[str, ...]:
    return tuple(re.sub(r"[,\u00a0]", "", n) for n in re.findall(r"\d[\d,\u00a0]*(?:\.\d+)?", text)) or (
        normalize_answer(text),
    )
