"""Word-level normalisation shared by lexical retrieval and the answerer.

Names transliterated from Cyrillic come in many spellings (Thorstrom/Torstrom/Torstrem,
Dmitry/Dmytro/Dmitri, Kharkiv/Harkiv, Ksenia/Xenia). `skeleton` maps such variants to one key
with rules that hold for romanised names in general: fold digraphs, drop vowels after the first
letter, collapse doubled letters.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)

STOPWORDS = frozenset(
    """
    a an the and or but if then else of to in on at by for with from into onto over under about as
    is are was were be been being am do does did doing done have has had having will would shall
    should can could may might must not no nor so too very just than that this these those there
    here what which who whom whose when where why how whatever whichever i me my mine we us our ours
    you your yours he him his she her hers it its they them their theirs one ones some any all
    each every both either neither such own same other another more most much many few also only
    again further once up down out off s t did didn doesn don isn wasn weren aren won wouldn
    tell said say says according like get got let make made many
    """.split()
)

_DIGRAPHS = (
    ("kh", "h"),
    ("ph", "f"),
    ("th", "t"),
    ("ck", "k"),
    ("x", "ks"),
    ("w", "v"),
    ("q", "k"),
    ("j", "i"),
    ("y", "i"),
    ("sch", "sh"),
    ("tch", "ch"),
    ("zh", "z"),
    ("sh", "s"),
    # Ukrainian renders Г as h where Russian has g: Paliuha/Palyuga, Hanna/Ganna.
    ("g", "h"),
)


def ascii_fold(word: str) -> str:
    """Lower-case and strip accents (Žukov → zukov); keeps non-Latin letters as they are."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[tuple[int, int, str]]:
    """(start, end, word) for each word, so callers can map tokens back to character offsets."""
    return [(m.start(), m.end(), m.group(0)) for m in WORD_RE.finditer(text)]


_STEMMER: Any = None  # a Stemmer.Stemmer; PyStemmer ships no type information


def _stemmer() -> Any:
    global _STEMMER
    if _STEMMER is None:
        try:
            import Stemmer
        except ImportError as e:
            raise ImportError("PyStemmer is not installed - pip install PyStemmer") from e
        _STEMMER = Stemmer.Stemmer("english")
    return _STEMMER


@lru_cache(maxsize=500_000)
def stem(word: str) -> str:
    """Snowball (Porter 2) stem of the accent-folded word, possessive dropped: fined/fines → fine."""
    w = ascii_fold(word).replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.replace("'", "")
    return str(_stemmer().stemWord(w))


@lru_cache(maxsize=200_000)
def skeleton(word: str) -> str:
    """Transliteration-insensitive key of a name: first letter plus consonants, digraphs folded."""
    w = ascii_fold(word).replace("’", "").replace("'", "")
    if not w.isalpha() or not w.isascii():
        return ""
    for a, b in _DIGRAPHS:
        w = w.replace(a, b)
    head, rest = w[0], w[1:]
    rest = re.sub(r"[aeiou]", "", rest)
    key = re.sub(r"(.)\1+", r"\1", head + rest)
    return key if len(key) >= 3 else ""


def content_words(text: str) -> list[str]:
    """Stemmed words that carry meaning (stop words dropped)."""
    return [stem(w) for _, _, w in words(text) if w.lower() not in STOPWORDS]


def lexical_terms(text: str) -> list[str]:
    """Index terms for BM25: stemmed content words, plus a skeleton key for each capitalised word."""
    out: list[str] = []
    for _, _, w in words(text):
        lw = w.lower()
        if lw in STOPWORDS:
            continue
        out.append(stem(w))
        if w[0].isupper() and len(w) >= 4:
            key = skeleton(w)
            if key:
                out.append("~" + key)
    return out


def query_terms(text: str) -> list[str]:
    """Query terms: like `lexical_terms`, but every word gets a skeleton (users type names in lower case)."""
    out: list[str] = []
    for _, _, w in words(text):
        if w.lower() in STOPWORDS:
            continue
        out.append(stem(w))
        if len(w) >= 4:
            key = skeleton(w)
            if key:
                out.append("~" + key)
    return out


def edit_distance_limit(word: str) -> int:
    """How many edits still count as a spelling variant of a word this long."""
    n = len(word)
    return 0 if n < 5 else 1 if n < 8 else 2


_UNIT_VALUES = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
        " sixteen seventeen eighteen nineteen".split()
    )
}
_TEN_VALUES = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_SCALE_VALUES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
# The words `figures` reads as numbers ("eighteen", "forty", "thousand"): one list for every caller.
UNIT_WORDS = tuple(_UNIT_VALUES)
TEN_WORDS = tuple(_TEN_VALUES)
SCALE_WORDS = tuple(_SCALE_VALUES)
_NUMBER_TOKEN_RE = re.compile(r"[A-Za-z]+|\d[\d,.]*|[^\sA-Za-z\d-]")


def figures(text: str) -> list[str]:
    """The numbers `text` states, as digits, in order and without repeats: "18" and "Eighteen" both
    give "18", "1,250" gives "1250", "twenty-five thousand" gives "25000".

    A lone "one" is left out: it is far more often a pronoun ("no one", "the one who") than a count.
    """
    out: list[str] = []
    run: list[str] = []

    def close() -> None:
        if run and run != ["one"]:
            total = current = 0
            for w in run:
                if w in _UNIT_VALUES or w in _TEN_VALUES:
                    current += _UNIT_VALUES.get(w, 0) + _TEN_VALUES.get(w, 0)
                elif w == "hundred":
                    current = max(current, 1) * 100
                else:
                    total += max(current, 1) * _SCALE_VALUES[w]
                    current = 0
            out.append(str(total + current))
        run.clear()

    after_digits = False  # the last token was a figure in digits: "3.5 million" scales it
    for tok in _NUMBER_TOKEN_RE.findall(text.replace("-", " ")):
        low = tok.lower()
        if after_digits and low in _SCALE_VALUES and low != "hundred":
            value = float(out[-1]) * _SCALE_VALUES[low]
            out[-1] = str(int(value)) if value.is_integer() else str(value)
        elif low in _UNIT_VALUES or low in _TEN_VALUES or low in _SCALE_VALUES:
            run.append(low)
        elif low == "and" and run:
            continue
        else:
            close()
            figure = tok.rstrip(",.").replace(",", "")
            if tok[0].isdigit() and figure.replace(".", "", 1).isdigit():
                out.append(figure)
                after_digits = True
                continue
        after_digits = False
    close()
    return list(dict.fromkeys(out))
