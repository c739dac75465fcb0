"""Candidate answer spans inside one sentence, from its own structure: entities, numbers, dates,
reason and manner clauses, appositives and noun phrases. Offsets are absolute (into the document)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa import question as Q
from qa.text import STOPWORDS, TEN_WORDS
from qa.text import UNIT_WORDS as NUMBER_UNITS

NUM = r"(?:\d{1,3}(?:[,\u00a0]\d{3})+|\d+)(?:\.\d+)?"
# The number words of `qa.text` (less "zero": not a count a span answers with) and the round plurals.
NUM_WORDS = " ".join((*NUMBER_UNITS[1:], *TEN_WORDS, "hundred", "dozen", "dozens", "hundreds", "thousands", "millions"))
_NUMWORD = r"(?:" + "|".join(NUM_WORDS.split()) + r")(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?"
_SCALE = r"(?:\s*(?:million|billion|thousand|trillion|bn|m|k)\b)?"
CURRENCY_WORDS = (
    "dollars|dollar|euros|euro|pounds|pound|rubles|ruble|roubles|rouble|yen|yuan|francs|franc|"
    "kroner|krona|kronor|hryvnias|hryvnia|rupees|rupee|pesos|peso|cents|pence"
)
_CURRENCY_SYM = r"[$€£¥₽₴]"
MONEY_RE = re.compile(
    r"(?:(?:about|around|nearly|almost|roughly|some|over|more than|less than|up to|only)\s+)?"
    r"(?:(?:[A-Z]{1,3})?"
    + _CURRENCY_SYM
    + r"\s?"
    + NUM
    + _SCALE
    + r"|"
    + NUM
    + _SCALE
    + r"\s+(?:"
    + CURRENCY_WORDS
    + r")\b)"
    r"(?:\s*\((?:about\s+|around\s+)?(?:[A-Z]{1,3})?" + _CURRENCY_SYM + r"?\s?" + NUM + _SCALE + r"(?:\s+\w+)?\))?",
    re.I,
)
LENGTH_UNITS = r"kilometers|kilometres|km|miles|mile|meters|metres|m|feet|foot|ft|inches|cm|mm|yards"
UNIT_WORDS = (
    r"kilometers|kilometres|km|miles|mile|meters|metres|m|feet|foot|ft|inches|cm|mm|kg|kilograms|tons|tonnes|"
    r"pounds|lbs|percent|per cent|%|degrees|hectares|acres|liters|litres|square kilometers|sq km"
)
QUANTITY_RE = re.compile(
    r"(?:(?:about|around|nearly|almost|roughly|some|over|more than|less than|up to|only|at least)\s+)?"
    r"(?:" + NUM + r"|" + _NUMWORD + r")" + _SCALE + r"\s*(?:" + UNIT_WORDS + r")\b(?:\s+away)?",
    re.I,
)
COUNT_RE = re.compile(
    r"(?:(?:about|around|nearly|almost|roughly|some|over|more than|less than|up to|only|at least|so far,?)\s+)?"
    r"\b(?:" + NUM + r"|" + _NUMWORD + r")" + _SCALE + r"\b",
    re.I,
)
DURATION_RE = re.compile(
    r"(?:(?:about|around|nearly|almost|some|over|more than|less than|up to|only|at least)\s+)?"
    r"\b(?:"
    + NUM
    + r"|"
    + _NUMWORD
    + r"|a|an|several|a few)\s+(?:years?|months?|weeks?|days?|hours?|minutes?|decades?|centuries)\b",
    re.I,
)
MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
DATE_RE = re.compile(
    r"\b(?:(?:" + WEEKDAYS + r"),?\s+)?(?:(?:" + MONTHS + r")\.?\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:" + MONTHS + r")(?:,?\s+\d{4})?"
    r"|(?:" + MONTHS + r")\s+\d{4}|(?:in|since|by|until)\s+(?:" + MONTHS + r")\b|\d{4}-\d{2}-\d{2}"
    r"|(?:" + WEEKDAYS + r")|(?:last|next|this)\s+(?:week|month|year|" + WEEKDAYS + r")"
    r"|(?:early|late|mid)[- ]\d{4}|\b(?:1[5-9]|20)\d{2}\b)",
)
REASON_MARKERS = re.compile(
    r"\b(?:because(?:\s+of)?|due\s+to|as\s+a\s+result\s+of|owing\s+to|thanks\s+to|so\s+that|in\s+order\s+to|"
    r"in\s+protest\s+(?:at|against|of)|in\s+response\s+to|on\s+(?:the\s+)?grounds\s+(?:of|that)|citing|"
    r"for\s+(?=[“\"‘']?\w+ing\b)|for\s+(?=[“\"‘']))",
    re.I,
)
MANNER_MARKERS = re.compile(
    r"\b(?:by\s+(?=\w+ing\b)|through|via|using|with\s+the\s+help\s+of|on\s+Twitter|in\s+a\s+letter)\b", re.I
)
_CLAUSE_END = re.compile(r"[;:,]|[.!?](?=\s|$)|\s[–—-]\s")
_TITLE_WORDS = frozenset(
    """president minister official spokesman spokeswoman spokesperson deputy councilor councillor
leader head chief founder director secretary governor mayor senator chairman analyst blogger writer
journalist correspondent politician lawmaker speechwriter scientist author researcher lawyer judge""".split()
)

ENT_TYPES = {
    Q.PERSON: {"PERSON": 1.0, "ORG": 0.5, "NORP": 0.4},
    Q.ORG: {"ORG": 1.0, "NORP": 0.6, "PERSON": 0.3, "GPE": 0.3, "WORK_OF_ART": 0.5, "PRODUCT": 0.5},
    Q.PLACE: {"GPE": 1.0, "LOC": 1.0, "FAC": 0.9, "ORG": 0.4},
    Q.DATE: {"DATE": 1.0, "TIME": 0.9},
    Q.COUNT: {"CARDINAL": 1.0, "QUANTITY": 0.6, "MONEY": 0.3, "PERCENT": 0.5},
    Q.MONEY: {"MONEY": 1.0, "QUANTITY": 0.5, "CARDINAL": 0.4, "PERCENT": 0.6},
    Q.QUANTITY: {"QUANTITY": 1.0, "CARDINAL": 0.6, "PERCENT": 1.0, "MONEY": 0.6},
    Q.DISTANCE: {"CARDINAL": 0.3},
    Q.DURATION: {"DATE": 0.8, "TIME": 0.7, "CARDINAL": 0.3},
    Q.AGE: {"CARDINAL": 0.3},
    Q.ENTITY: {
        "ORG": 0.6,
        "PERSON": 0.6,
        "GPE": 0.6,
        "LOC": 0.6,
        "NORP": 0.6,
        "WORK_OF_ART": 0.6,
        "EVENT": 0.6,
        "LAW": 0.6,
        "PRODUCT": 0.6,
        "FAC": 0.6,
    },
    Q.THING: {"ORG": 0.5, "PERSON": 0.5, "GPE": 0.5, "NORP": 0.5, "WORK_OF_ART": 0.6, "EVENT": 0.5, "LAW": 0.5},
}


@dataclass(frozen=True)
class Candidate:
    start: int  # absolute offsets into the document
    end: int
    kind: str  # what produced it: an entity label, MONEY_RE, REASON, …
    fit: float  # how well its kind fits the question's answer type, 0..1


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    """Strip spaces, trailing punctuation and unbalanced quotes/brackets from a span."""
    while s < e and (text[s].isspace() or text[s] in ",;:–—-"):
        s += 1
    while e > s and (text[e - 1].isspace() or text[e - 1] in ",;:.–—-"):
        e -= 1
    for o, c in (("(", ")"), ("“", "”"), ("[", "]")):
        seg = text[s:e]
        if seg.count(o) < seg.count(c) and text[e - 1] == c:
            e -= 1
        elif seg.count(o) > seg.count(c) and text[s] == o:
            s += 1
    seg = text[s:e]
    if seg.count('"') % 2 == 1:
        if text[s] == '"':
            s += 1
        elif text[e - 1] == '"':
            e -= 1
    while e > s and text[e - 1] in " ,;:.":
        e -= 1
    if e > s and text[e - 1] in "”’" and "“" not in text[s:e] and "‘" not in text[s:e]:
        e -= 1
    return s, e


def _clause_after(text: str, start: int, limit: int) -> int:
    m = _CLAUSE_END.search(text, start, limit)
    return m.start() if m else limit


def candidates(  # noqa: C901 - one extractor per answer type; the answerer rewrite splits it
    text: str,
    s0: int,
    s1: int,
    ents: list[tuple[int, int, str]],
    atype: str,
    target: str,
    subject_spans: list[tuple[int, int]],
) -> list[Candidate]:
    """Candidates of the sentence text[s0:s1] for a question of answer type `atype`."""
    out: list[Candidate] = []
    sent = text[s0:s1]
    table = ENT_TYPES.get(atype, {})

    def add(s: int, e: int, kind: str, fit: float) -> None:
        s, e = _trim(text, s, e)
        if e > s and fit > 0:
            out.append(Candidate(s, e, kind, fit))

    for es, ee, label in ents:
        fit = table.get(label, 0.0)
        if atype == Q.DATE and target == "year" and not re.search(r"\b\d{4}\b", text[es:ee]):
            fit *= 0.5  # "in what year?" wants a year, not "a hundred years later"
        if fit:
            if label in ("ORG", "FAC", "WORK_OF_ART", "EVENT", "LAW") and text[es : es + 4].lower() == "the ":
                es += 4
            add(es, ee, label, fit)

    def scan(regex: re.Pattern[str], kind: str, fit: float) -> None:
        for m in regex.finditer(sent):
            add(s0 + m.start(), s0 + m.end(), kind, fit)

    if atype == Q.MONEY:
        scan(MONEY_RE, "MONEY", 1.0)
        scan(QUANTITY_RE, "QUANTITY", 0.5)
    elif atype == Q.COUNT:
        for m in COUNT_RE.finditer(sent):
            tail = sent[m.end() : m.end() + 12]
            if re.match(r"\s*(?:%|percent|per cent)", tail) or re.match(r"\d{4}$", m.group(0).strip()):
                continue
            add(s0 + m.start(), s0 + m.end(), "COUNT", 1.0)
    elif atype == Q.DISTANCE:
        for m in QUANTITY_RE.finditer(sent):
            if re.search(r"\b(?:" + LENGTH_UNITS + r")\b(?:\s+away)?$", m.group(0), re.I):
                add(s0 + m.start(), s0 + m.end(), "DISTANCE", 1.0)
    elif atype == Q.QUANTITY:
        scan(QUANTITY_RE, "QUANTITY", 1.0)
        scan(MONEY_RE, "MONEY", 0.7)
    elif atype == Q.DURATION:
        scan(DURATION_RE, "DURATION", 1.0)
    elif atype == Q.AGE:
        for m in re.finditer(r"(?<=[A-Za-z]),\s+(\d{1,3}),", sent):  # "Nikita Yuferev, 34,"
            add(s0 + m.start(1), s0 + m.end(1), "AGE", 1.0)
        for m in re.finditer(
            r"\b(\d{1,3})[- ]years?[- ]old\b|\baged\s+(\d{1,3})\b|\bage(?:\s+of)?\s+(\d{1,3})\b", sent
        ):
            g = next(i for i in (1, 2, 3) if m.group(i))
            add(s0 + m.start(g), s0 + m.end(g), "AGE", 1.0)
    elif atype == Q.DATE:
        if target == "year":
            for m in re.finditer(r"\b(?:1[5-9]|20)\d{2}\b", sent):
                add(s0 + m.start(), s0 + m.end(), "YEAR", 1.0)
            scan(DATE_RE, "DATE", 0.7)
        else:
            scan(DATE_RE, "DATE", 1.0)
    elif atype == Q.REASON:
        for m in REASON_MARKERS.finditer(sent):
            end = _clause_after(sent, m.end() + 1, len(sent))
            add(s0 + m.start(), s0 + end, "REASON", 1.0)
        for m in re.finditer(r"(?<!^)\bsince\s+(?!\d)", sent):  # causal "since" (a leading one is usually temporal)
            end = _clause_after(sent, m.end() + 1, len(sent))
            add(s0 + m.start(), s0 + end, "REASON", 0.6)
        for m in re.finditer(r"\bon\s+(?:[\w-]+\s+){0,4}grounds\b", sent):  # "on humanitarian and legal grounds"
            add(s0 + m.start(), s0 + m.end(), "REASON", 1.0)
        for m in re.finditer(
            r"\b(?:over|after|for|amid|against|from)\s+(?=(?:his|her|their|its|the|a|an|[a-z]+ing)\b)", sent
        ):
            end = _clause_after(sent, m.end() + 1, len(sent))
            add(s0 + m.start(), s0 + end, "REASON", 0.7)
    elif atype == Q.MANNER:
        for m in MANNER_MARKERS.finditer(sent):
            end = _clause_after(sent, m.end() + 1, len(sent))
            add(s0 + m.start(), s0 + end, "MANNER", 1.0)
        # "in a phone interview", "in secret": a manner adverbial.
        for m in re.finditer(
            r"\b(?:in|over)\s+a\s+(?:[\w-]+\s+){0,2}(?:interview|call|letter|statement|message|post|video|speech)\b",
            sent,
        ):
            add(s0 + m.start(), s0 + m.end(), "MANNER", 1.0)
    if atype in (Q.MANNER, Q.THING, Q.ENTITY):
        # The predicate after an auxiliary: "was shot in the back", "simply ignored and fled without fighting".
        for m in re.finditer(
            r"\b(?:was|were|been|being|got|have|has|had)\s+((?:\w+ly\s+)?[a-z]+(?:ed|en|t|wn|ng)\b)", sent
        ):
            end = _clause_after(sent, m.end(1), len(sent))
            if end - m.start(1) < 80:
                add(s0 + m.start(1), s0 + end, "PREDICATE", 0.6)
    elif atype == Q.DESCRIPTION:
        out.extend(_descriptions(text, s0, s1, subject_spans))
    if target and atype in (Q.PLACE, Q.ORG, Q.PERSON, Q.ENTITY, Q.THING):
        out.extend(_around_target(text, s0, s1, atype, target))
    if atype == Q.PERSON:
        # "who came with them?" → "a lawyer": a person named by role.
        nouns = "|".join(sorted(Q.PERSON_NOUNS, key=len, reverse=True))
        for m in re.finditer(r"\b(?:a|an|the|his|her|their)\s+(?:[a-z-]+\s+)?(?:" + nouns + r")\b", sent):
            # A role next to a name ("Stanova, the founder", "the founder Stanova") defers to the name.
            if re.search(r"[A-Z][\w’'-]+,?\s*$", sent[: m.start()]) or re.match(r"\s+[A-Z]", sent[m.end() :]):
                continue
            add(s0 + m.start(), s0 + m.end(), "ROLE", 0.6)
    if atype == Q.PLACE:
        # "where did they post it?" → "on Twitter": a named thing after a locative preposition.
        for es, ee, label in ents:
            if label in ("ORG", "PRODUCT", "WORK_OF_ART", "PERSON") and re.search(
                r"\b(?:on|at|in|around|near|outside|inside|from|to|towards?|across)\s+$", text[max(s0, es - 9) : es]
            ):
                add(es, ee, "LOCATIVE", 0.8)
    if atype in (Q.ENTITY, Q.THING, Q.PERSON, Q.ORG, Q.PLACE, Q.DESCRIPTION, Q.REASON, Q.MANNER):
        out.extend(_phrases(text, s0, s1, atype, target))
    return out


_DETERMINERS = frozenset("the a an this that these those his her their its our my your some any".split())


def _around_target(text: str, s0: int, s1: int, atype: str, target: str) -> list[Candidate]:
    """Spans that the question's noun names: "Kharkiv region", "Semenovsky District",
    "the charge of treason", "treason charges", "news outlet Meduza", "a city … called Kreminna"."""
    out: list[Candidate] = []
    sent = text[s0:s1]
    stem_t = target[:-1] if target.endswith("s") and len(target) > 3 else target
    named = atype in (Q.PLACE, Q.ORG, Q.PERSON)
    for m in re.finditer(r"\b" + re.escape(stem_t) + r"(?:s|es)?\b", sent, re.I):
        ts, te = s0 + m.start(), s0 + m.end()
        before = text[s0:ts]
        caps = re.search(r"((?:(?:St\.\s)?[A-Z][\w’'.-]*\s+){1,3})$", before)
        if caps and atype != Q.PERSON:  # "City councilors" is not a person's name
            cs = ts - len(caps.group(1))
            # Keep what follows a possessor or a leading function word:
            # "In Ukraine’s Kharkiv region" → "Kharkiv region".
            poss = list(re.finditer(r"[’']s\s+", text[cs:ts]))
            if poss:
                cs += poss[-1].end()
            lead = re.match(r"(?:[A-Z][a-z]*\s+)", text[cs:ts])
            while lead and lead.group(0).strip().lower() in STOPWORDS | Q.PREPOSITIONS:
                cs += lead.end()
                lead = re.match(r"(?:[A-Z][a-z]*\s+)", text[cs:ts])
            if cs < ts:
                out.append(Candidate(cs, te, "TARGET", 1.0))
        elif not named:
            low = re.search(r"(?:^|\s)((?:[a-z][\w-]+\s+){1,2})$", before)
            if low:
                ws = low.group(1).split()
                while ws and ws[0].lower() in _DETERMINERS:
                    ws = ws[1:]
                if ws and ws[-1].lower() not in _DETERMINERS and ws[-1].lower() not in Q.PREPOSITIONS:
                    phrase = " ".join(ws)
                    cs = ts - len(low.group(1)) + low.group(1).find(phrase)
                    out.append(Candidate(cs, cs + len(phrase), "TARGET", 0.9))
        after = text[te:s1]
        m3 = re.match(
            r"\s+(?:of|called|named|known as)\s+((?:the\s+)?[\w’'-]+(?:\s+[A-Z][\w’'-]*)*)", after
        ) or re.match(
            r"(?:\s+[\w’'.-]+){1,6}?\s+(?:called|named|known as)\s+([A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*)", after
        )
        if m3:
            cs = te + m3.start(1)
            out.append(Candidate(cs, cs + len(m3.group(1)), "TARGET", 0.9))
        m4 = re.match(r"\s+((?:[A-Z][\w’'-]*\s?){1,4})", after)
        if m4:
            # A capitalised noun is part of the name: "Storm Idris", "Lake Geneva".
            cs = ts if text[ts].isupper() else te + m4.start(1)
            ce = cs + len(m4.group(1).rstrip())
            out.append(Candidate(cs, ce, "TARGET", 1.0))
    return out


def _descriptions(text: str, s0: int, s1: int, subject_spans: list[tuple[int, int]]) -> list[Candidate]:
    """For "who is X?": the appositive after X ("X, a politician from …") or the title before it."""
    out: list[Candidate] = []
    for ss, se in subject_spans:
        if not (s0 <= ss < s1):
            continue
        m = re.match(r",\s+((?:a|an|the)\s+[^,;.“”]+|[a-z][^,;.“”]+)", text[se:s1])
        if m:
            s, e = _trim(text, se + m.start(1), se + m.end(1))
            out.append(Candidate(s, e, "APPOSITIVE", 1.0))
        # Title words before the name: "National Security Council communications official John Kirby".
        before = text[s0:ss]
        m2 = re.search(r"((?:[A-Z][\w’'-]*\s+|[a-z][\w’'-]*\s+){1,7})$", before)
        if m2:
            words_before = m2.group(1).split()
            # Keep the run from the first capitalised word or from a determiner boundary.
            while words_before and words_before[0].lower() in ("the", "a", "an", "and", "said", "says", "by", "of"):
                words_before = words_before[1:]
            if words_before and words_before[-1].lower().rstrip("s") in _TITLE_WORDS | {"communications"} | set(
                w for w in _TITLE_WORDS
            ):
                phrase = " ".join(words_before)
                idx = before.rfind(phrase)
                if idx >= 0:
                    out.append(Candidate(s0 + idx, s0 + idx + len(phrase), "TITLE", 1.0))
    return out


_CALENDAR = re.compile(r"(?:" + MONTHS + "|" + WEEKDAYS + r")", re.I)
_PHRASE_SPLIT = re.compile(
    r"[,;:()“”\"]|\s[–—-]\s|\b(?:and|or|but|that|which|who|because|while|when|after|"
    r"is|are|was|were|has|have|had|said|says|told|will|would)\b"
)


def _phrases(text: str, s0: int, s1: int, atype: str, target: str) -> list[Candidate]:
    """Quoted text, capitalised sequences and short noun-phrase chunks as low-prior candidates."""
    out: list[Candidate] = []
    sent = text[s0:s1]
    for m in re.finditer(r"[“\"‘]([^”\"’]{2,120})[”\"’]", sent):
        out.append(Candidate(s0 + m.start(1), s0 + m.end(1), "QUOTE", 0.5 if atype in (Q.THING, Q.ENTITY) else 0.2))
    cap_fit = {Q.PERSON: 0.5, Q.ORG: 0.5, Q.PLACE: 0.4, Q.ENTITY: 0.5, Q.THING: 0.4}.get(atype, 0.0)
    if cap_fit:
        for m in re.finditer(
            r"(?<![\w’'])(?:St\.\s)?[A-Z][\w’'.-]*(?:\s+(?:of\s+|the\s+|de\s+)?(?:St\.\s)?[A-Z][\w’'.-]*)*", sent
        ):
            if m.start() == 0 and " " not in m.group(0):
                continue  # a lone capitalised first word is usually not a name
            s, e = _trim(text, s0 + m.start(), s0 + m.end())
            poss = re.search(r"[’']s\s+", text[s:e])
            spans = [(s, s + poss.start()), (s + poss.end(), e)] if poss else [(s, e)]  # "Russia’s Semenovsky District"
            for a, b in spans:
                if b > a and not re.search(r"-[a-z]+$", text[a:b]) and not _CALENDAR.fullmatch(text[a:b]):
                    out.append(Candidate(a, b, "CAPS", cap_fit))
    if atype in (Q.THING, Q.ENTITY, Q.DESCRIPTION) or target:
        pos = 0
        splits: list[re.Match[str] | None] = [*_PHRASE_SPLIT.finditer(sent), None]
        for split in splits:
            end = split.start() if split else len(sent)
            s, e = _trim(text, s0 + pos, s0 + end)
            n_words = len(text[s:e].split())
            if 1 <= n_words <= 8:
                has_target = bool(target) and re.search(
                    r"\b" + re.escape(target[:-1] if len(target) > 4 else target), text[s:e], re.I
                )
                fit = 0.8 if has_target else (0.35 if atype in (Q.THING, Q.DESCRIPTION) else 0.25)
                out.append(Candidate(s, e, "PHRASE", fit))
            pos = split.end() if split else len(sent)
    return out
