"""What a question asks for (its answer type and key words), and follow-ups resolved from history."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from qa.text import STOPWORDS, skeleton, stem, words

# Answer types.
PERSON, ORG, PLACE, DATE, COUNT, MONEY, AGE, DURATION, DISTANCE, QUANTITY = (
    "PERSON",
    "ORG",
    "PLACE",
    "DATE",
    "COUNT",
    "MONEY",
    "AGE",
    "DURATION",
    "DISTANCE",
    "QUANTITY",
)
REASON, MANNER, DESCRIPTION, ENTITY, THING = "REASON", "MANNER", "DESCRIPTION", "ENTITY", "THING"

# General English nouns that name a kind of answer ("which city", "what outlet", "which politician").
PERSON_NOUNS = frozenset(
    """
person people man woman men women politician politicians official officials deputy deputies councilor
councilors councillor councillors councilman councilwoman lawmaker lawmakers legislator leader leaders
critic critics blogger bloggers writer writers author journalist journalists reporter analyst analysts
scientist expert lawyer judge president minister spokesman spokeswoman spokesperson head chief founder
member members candidate director chairman chair mayor governor senator representative activist
correspondent speechwriter commander soldier officer researcher historian professor teacher student
doctor actor artist player coach manager owner ceo employee worker citizen resident colleague friend
mother father son daughter wife husband brother sister child children opponent figure dissident
""".split()
)
ORG_NOUNS = frozenset(
    """
network channel outlet newspaper paper magazine publication agency organization organisation company
firm party council body group institution bank court ministry department committee union government
administration parliament broadcaster station website site media news service university school
newsroom team club army authority association foundation project
""".split()
)
PLACE_NOUNS = frozenset(
    """
city town village country nation region district municipality area place state province capital
location square street neighborhood neighbourhood territory county island continent port harbour
harbor river lake mountain border hometown settlement oblast
""".split()
)
TIME_NOUNS = frozenset("day date month year time week weekday season decade century hour morning evening".split())
NUMBER_NOUNS = frozenset("number amount count total figure sum quantity".split())
SHARE_NOUNS = frozenset("percentage share proportion rate fraction percent".split())

AUX = frozenset(
    """do does did is are was were be been has have had can could will would shall should may
might must""".split()
)
PREPOSITIONS = frozenset(
    """in on at from to for of by with about into near under over as around between through
against during after before behind beyond inside outside across along toward towards within without among via
since until upon""".split()
)
WH = frozenset("who whom whose what which when where why how".split())
PRONOUNS = {
    "he": "",
    "him": "",
    "his": "'s",
    "she": "",
    "her": "",
    "hers": "'s",
    "they": "",
    "them": "",
    "their": "'s",
    "it": "",
    "its": "'s",
}
_FOLLOWUP_LEAD = re.compile(r"^\s*(?:and|but|also|so)?\s*(?:what|how)\s+about\s+|^\s*(?:and|but|also)\s+", re.I)


@dataclass(frozen=True)
class Keyword:
    word: str
    stem: str
    skeleton: str


@dataclass
class QuestionInfo:
    text: str
    atype: str
    target: str = ""  # the noun after which/what ("network"), if any
    keywords: list[Keyword] = field(default_factory=list)
    subject: str = ""  # for "who is X?": X
    prep: str = ""  # a stranded preposition ("which network did he speak on?" → "on")
    target_mods: frozenset[str] = frozenset()  # words qualifying the target noun ("Moscow district" council)


def _words_lower(text: str) -> list[str]:
    """Lower-cased words, possessives dropped ("city's" → "city")."""
    return [re.sub(r"['’]s$", "", w.lower()) for _, _, w in words(text)]


def _noun_category(noun: str) -> str:
    n = noun.lower()
    if n in PERSON_NOUNS:
        return PERSON
    if n in ORG_NOUNS:
        return ORG
    if n in PLACE_NOUNS:
        return PLACE
    if n in TIME_NOUNS:
        return DATE
    if n == "age":
        return AGE
    if n in NUMBER_NOUNS:
        return COUNT
    if n in SHARE_NOUNS:
        return QUANTITY
    return ENTITY


_COMMON_VERBS = frozenset(
    """called said told wrote made gave took left led won lost ran saw met sent put
became began brought bought caught fell felt fought found got grew heard held kept knew paid rose sold
spoke stood struck thought threw went""".split()
)


def _looks_like_verb(word: str) -> bool:
    return word in _COMMON_VERBS or (len(word) > 4 and word.endswith("ed") and not word.endswith("eed"))


def _target_noun(ws: list[str], i: int) -> str:
    """Head noun of the phrase after a wh-word: 'which Russian city did…' → 'city',
    'what is the name of the party…' → 'party'."""
    phrase: list[str] = []
    j = i + 1
    if j + 1 < len(ws) and ws[j] in ("is", "was", "are", "were") and ws[j + 1] in ("the", "a", "an"):
        j += 2
    while j < len(ws) and ws[j] not in AUX and ws[j] not in PREPOSITIONS and ws[j] not in WH:
        if ws[j] in ("other", "more", "different", "separate", "new", "additional", "many", "much"):
            j += 1
            continue
        if phrase and (_looks_like_verb(ws[j])):
            break  # "which storm wrecked …": the noun phrase ends where the verb begins
        phrase.append(ws[j])
        j += 1
        if len(phrase) >= 3:
            break
    if phrase and phrase[-1] in ("name", "kind", "type", "sort") and j < len(ws) and ws[j] == "of":
        return _target_noun(ws, j)
    return phrase[-1] if phrase else ""


def classify(question: str) -> tuple[str, str]:  # noqa: C901 - an ordered table of wording rules
    """(answer type, target noun) from the question's wording."""
    ws = _words_lower(question)
    text = " ".join(ws)
    m = re.search(r"\bhow (many|much)\b", text)
    if m:
        # "how much" is money or another measured amount; "how many" counts things.
        i = ws.index(m.group(1))
        unit = _target_noun(ws, i)
        return (MONEY if m.group(1) == "much" else COUNT), unit
    if re.search(r"\bhow old\b", text):
        return AGE, ""
    if re.search(r"\bhow long\b", text):
        return DURATION, ""
    if re.search(r"\bhow (far|close|near|high|tall|deep|wide)\b", text):
        return DISTANCE, ""  # answered in units of length
    if re.search(r"\bhow (big|large|small|heavy)\b", text):
        return QUANTITY, ""
    if re.search(
        r"\bwhy\b|\bfor what reason\b|\bwhat (was|is|were) the (reason|cause)|\bwhat (caused|led to|prompted|made)\b"
        r"|\bon what grounds\b|\bwhat grounds\b",
        text,
    ):
        return REASON, ""
    if re.search(r"\bhow\b", text):
        return MANNER, ""
    if re.search(r"\bwhen\b|\bsince when\b|\bwhat time\b", text):
        return DATE, ""
    if re.search(r"\bwhere\b", text):
        return PLACE, ""
    m = re.search(r"\b(?:what|which)\s+(?:is|was|are|were)\s+[\w\s.-]+?['’]s\s+(\w+)", question, re.I)
    if m and _noun_category(m.group(1)) != ENTITY:  # "What is Ksenia Thorstrom's age?"
        return _noun_category(m.group(1)), m.group(1).lower()
    for i, w in enumerate(ws):
        if w in ("which", "what"):
            noun = _target_noun(ws, i)
            if noun and noun not in STOPWORDS:
                return _noun_category(noun), noun
            if w == "what" and i + 1 < len(ws) and ws[i + 1] in ("is", "was", "are", "were") and len(ws) <= i + 5:
                return DESCRIPTION, ""
            return THING, ""
        if w in ("who", "whom", "whose"):
            if w == "who" and i + 1 < len(ws) and ws[i + 1] in ("is", "was", "are", "were"):
                rest = ws[i + 2 :]
                if rest and not any(r in AUX for r in rest) and len(rest) <= 4:
                    return DESCRIPTION, ""
            return PERSON, ""
    return THING, ""


_GENERIC_VERBS = frozenset(
    """do does did say said says tell told call called ask asked happen happened
make made get got name named go went come came""".split()
)


# "besides X", "apart from X": X is what the answer is not, so its words are not key words.
_EXCLUSION = re.compile(
    r"\b(?:besides|apart from|aside from|other than|except(?: for)?|excluding|not counting)\b[^,?;]*", re.I
)


def analyze(question: str) -> QuestionInfo:
    atype, target = classify(question)
    kws: list[Keyword] = []
    seen: set[str] = set()
    excluded = [(m.start(), m.end()) for m in _EXCLUSION.finditer(question)]
    for a, _, w in words(question):
        lw = w.lower()
        if lw in STOPWORDS or lw in WH or lw in _GENERIC_VERBS or lw in PRONOUNS or lw == "else":
            continue
        if any(s <= a < e for s, e in excluded):
            continue
        st = stem(w)
        if st in seen:
            continue
        seen.add(st)
        kws.append(Keyword(w, st, skeleton(w) if len(w) >= 4 else ""))
    subject = ""
    if atype == DESCRIPTION:
        m = re.search(r"\b(?:is|was|are|were)\s+(.+?)\s*\??$", question, re.I)
        subject = m.group(1) if m else ""
    ws = _words_lower(question)
    # A stranded preposition has lost its object to the wh-word: "speak on?", "talks with about …?".
    stranded = [
        w for i, w in enumerate(ws[2:], 2) if w in PREPOSITIONS and (i == len(ws) - 1 or ws[i + 1] in PREPOSITIONS)
    ]
    prep = stranded[-1] if stranded else ""
    # A preposition fronted with the wh-word does the same: "Around which city …?" → "around Kherson".
    for i, w in enumerate(ws[:-1]):
        if w in PREPOSITIONS and ws[i + 1] in ("which", "what", "whom", "whose") and not prep:
            prep = w
    mods: set[str] = set()
    if target and target in ws:
        t = ws.index(target)
        w0 = max((i for i in range(t) if ws[i] in ("which", "what")), default=t)
        mods = {stem(w) for w in ws[w0 + 1 : t]}
    return QuestionInfo(question, atype, target, kws, subject, prep, frozenset(mods))


# ---------------------------------------------------------------- follow-up resolution

_NAME_RE = re.compile(r"(?<![\w’'])((?:St\.\s+)?[A-Z][\w’'-]+(?:\s+(?:St\.\s+)?(?:[A-Z][\w’'-]+|of|de|van|von|al))*)")


def _names(text: str) -> list[tuple[int, int, str]]:
    """Capitalised sequences that are not just the first word of the sentence or a wh-word."""
    out = []
    for m in _NAME_RE.finditer(text):
        span = m.group(1)
        parts = span.split()
        start = m.start(1)
        while parts and (parts[0].lower() in WH | AUX | STOPWORDS | {"and", "but"}):
            start += len(parts[0]) + 1
            parts = parts[1:]
        while parts and parts[-1].lower() in ("of", "de", "van", "von", "al"):
            parts = parts[:-1]
        if parts:
            name = " ".join(parts)
            out.append((start, start + len(name), name))
    return out


def _has_pronoun(question: str) -> list[tuple[int, int, str]]:
    return [(s, e, w) for s, e, w in words(question) if w.lower() in PRONOUNS]


def _antecedent(prev_question: str, prev_answer: str | None) -> str:
    names = [n for _, _, n in _names(prev_question)]
    if names:
        # The subject of the previous question: its longest name (a person over a place, usually).
        return max(names, key=lambda n: (len(n.split()), len(n)))
    if prev_answer and prev_answer[:1].isupper() and len(prev_answer.split()) <= 4:
        return prev_answer
    return ""


def _is_fragment(question: str) -> bool:
    ws = _words_lower(question)
    if _FOLLOWUP_LEAD.match(question):
        return True
    return len(ws) <= 4 and not any(w in WH for w in ws) and not any(w in AUX for w in ws)


def resolve(question: str, history: Sequence[dict[str, str | None]] | None) -> str:
    """Rewrite a follow-up ("Which network did he speak on?", "And in the Luhansk region?") as a
    stand-alone question using the previous turns; stand-alone questions come back unchanged."""
    if not history:
        return question
    prev_q = ""
    prev_a: str | None = None
    for turn in history:
        q = str(turn.get("question") or "").strip()
        if not q:
            continue
        prev_q = resolve(q, [{"question": prev_q, "answer": prev_a}]) if prev_q else q
        a = turn.get("answer")
        prev_a = str(a) if a else None
    if not prev_q:
        return question
    if _is_fragment(question):
        return _merge_fragment(question, prev_q)
    pron = _has_pronoun(question)
    if pron and not _names(question):
        ante = _antecedent(prev_q, prev_a)
        if ante:
            s, e, w = pron[0]
            rep = ante + PRONOUNS[w.lower()]
            if (
                w.lower() == "her"
                and re.match(r"\s+[a-z]+\s*(?:[?.,]|$)", question[e:]) is None
                and re.match(r"\s+[a-z]", question[e:])
            ):
                rep = ante + "'s"  # possessive "her": "her mother" → "X's mother"
            return question[:s] + rep + question[e:]
    return question


def _merge_fragment(fragment: str, prev: str) -> str:
    frag = _FOLLOWUP_LEAD.sub("", fragment).strip().rstrip("?.!").strip()
    if not frag:
        return prev
    fw = frag.split()
    prep = fw[0].lower() if fw[0].lower() in PREPOSITIONS else ""
    body = " ".join(fw[1:]) if prep else frag
    bw = body.split()
    if not bw:
        return prev
    head = bw[-1].lower()
    # 1. Replace the phrase of the previous question with the same head noun: "the Kharkiv region".
    m = None
    for cand in re.finditer(
        r"\b((?:[Tt]he|[Aa]n?)\s+)?((?:[A-Z][\w’'.-]*\s+)*)((?i:" + re.escape(head) + r"))\b", prev
    ):
        m = cand
    if m is not None and len(bw) > 1:
        return prev[: m.start()] + body + prev[m.end() :]
    # 2. Replace a name of the previous question with the fragment's name.
    names = _names(prev)
    if names and body[:1].isupper():
        s, e, _ = names[-1]
        if prep:
            before = prev[:s].rstrip().split()
            if before and before[-1].lower() in PREPOSITIONS:
                return prev[:s] + body + prev[e:]
        return prev[:s] + body + prev[e:]
    # 3. Otherwise ask the previous question about the fragment.
    return prev.rstrip("?.! ") + " " + frag + "?"
