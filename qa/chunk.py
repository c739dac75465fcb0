"""Sentence splitting and passage windows, both as exact character offsets into the original text."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from qa.models import Passage, Sentence

# Words that end with a period without ending a sentence. Lower-cased, without the dot.
ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof st sr jr mt ft gen col lt sgt capt cmdr adm gov sen rep pres rev hon
    vs etc inc ltd co corp dept univ est approx ed eds al cf ie eg
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun
    u.s u.k u.n e.u a.m p.m d.c
    """.split()
)

# Abbreviations that only stand before a number ("No. 5", "Fig. 2"); "she said no." ends a sentence.
NUMBER_ABBREVIATIONS = frozenset("no nos vol pp fig art p".split())

# Candidate sentence ends: terminal punctuation, then any closing quotes/brackets.
_END = re.compile(r"""[.!?…]+["'”’»)\]]*|\n\s*\n|(?<=[”"])\s*\n""")
_OPENERS = "\"'“‘«(["


# No abbreviation or dotted acronym is longer; the limit keeps "a.a.a.a…" (one huge run) linear.
_MAX_ABBREVIATION_CHARS = 24


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at `dot` closes an abbreviation or an initial, not a sentence."""
    i = dot
    stop = max(0, dot - _MAX_ABBREVIATION_CHARS)
    while i > stop and (text[i - 1].isalpha() or text[i - 1] == "."):
        i -= 1
    if i == stop and i > 0 and (text[i - 1].isalpha() or text[i - 1] == "."):
        return False  # a run of letters and dots this long is a word, not an abbreviation
    word = text[i:dot].lower().strip(".")
    if not word:
        return False
    if word in ABBREVIATIONS:
        return True
    if word in NUMBER_ABBREVIATIONS:
        rest = text[dot + 1 : dot + 4].lstrip()
        return bool(rest) and rest[0].isdigit()
    # Single capital initial ("J. Smith") or dotted acronym ("U.S.", "R.").
    raw = text[i:dot]
    if len(raw) == 1 and raw.isupper():
        return True
    return "." in raw and all(len(p) <= 2 for p in raw.split(".") if p)


def split_sentences(text: str) -> list[Sentence]:
    """Sentences as (start, end) spans with surrounding white space trimmed off.

    Splits after terminal punctuation followed by white space and a plausible sentence start,
    and at blank lines (headlines and captions often have no final period).
    """
    spans: list[Sentence] = []
    n = len(text)
    start = 0
    pos = 0
    while pos < n:
        m = _END.search(text, pos)
        if m is None:
            break
        end = m.end()
        pos = end
        token = m.group(0)
        if token.strip() and token[0] == ".":
            if len(token.rstrip("\"'”’»)]")) == 1 and _is_abbreviation(text, m.start()):
                continue
        if token.strip() and token[0] in ".!?…":
            # A boundary needs white space after it and something that can begin a sentence.
            if end < n and not text[end].isspace():
                continue
            j = end
            while j < n and text[j] in " \t\r\n":
                j += 1
            if j < n and not (text[j].isupper() or text[j].isdigit() or text[j] in _OPENERS or "\n" in text[end:j]):
                continue
        _append(spans, text, start, end)
        start = end
    _append(spans, text, start, n)
    return spans


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, as `split_sentences` finds them."""
    return [(x.start, x.end) for x in split_sentences(text)]


def _append(spans: list[Sentence], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append(Sentence(start, end))


_TOKEN = re.compile(r"\w+|[^\w\s]")
_LONG_WORD = re.compile(r"\w{8,}")


def approx_tokens(text: str) -> int:
    """Cheap upper-bound estimate of word pieces (words plus punctuation, long words split)."""
    # Counted in C: a line of a million punctuation marks must not loop a million times in Python.
    return len(_TOKEN.findall(text)) + sum(len(w) // 8 for w in _LONG_WORD.findall(text))


def make_passages(
    doc_id: str,
    text: str,
    sentences: Sequence[Sentence],
    max_tokens: int = 200,
    max_sentences: int = 4,
    overlap: int = 1,
    count_tokens: Callable[[str], int] = approx_tokens,
) -> list[Passage]:
    """Windows of up to `max_sentences` whole sentences, sharing `overlap` sentences with the previous.

    A single sentence longer than `max_tokens` becomes its own passages, cut at white space,
    so no text is lost and no passage exceeds the model's window.
    """
    pieces = _fit_sentences(text, sentences, max_tokens, count_tokens)
    passages: list[Passage] = []
    i = 0
    while i < len(pieces):
        j = i + 1
        while j < len(pieces) and j - i < max_sentences:
            if count_tokens(text[pieces[i].start : pieces[j].end]) > max_tokens:
                break
            j += 1
        s, e = pieces[i].start, pieces[j - 1].end
        passages.append(Passage(doc_id, s, e, text[s:e]))
        if j >= len(pieces):
            break
        i = max(i + 1, j - overlap)
    return passages


def _fit_sentences(
    text: str, sentences: Sequence[Sentence], max_tokens: int, count_tokens: Callable[[str], int]
) -> list[Sentence]:
    out: list[Sentence] = []
    widest = max_tokens * 3  # characters
    for s in sentences:
        if count_tokens(text[s.start : s.end]) <= max_tokens:
            out.append(s)
            continue
        # Cut an over-long sentence at white space into pieces under the limit. The width that fitted
        # last is tried first (grown a little), so a dense megabyte line costs one or two counts a piece.
        start = s.start
        width = widest
        while start < s.end:
            end = min(s.end, start + min(widest, width + width // 3))
            while count_tokens(text[start:end]) > max_tokens and end - start > 16:
                end = start + (end - start) * 3 // 4
            width = max(end - start, 16)
            if end < s.end:
                ws = text.rfind(" ", start + 1, end)
                if ws > start:
                    end = ws
            piece = Sentence(start, end)
            _append_piece(out, text, piece)
            start = end
    return out


def _append_piece(out: list[Sentence], text: str, s: Sentence) -> None:
    tmp: list[Sentence] = []
    _append(tmp, text, s.start, s.end)
    out.extend(tmp)
