"""A document's title: its first heading-like line, never a date, byline, URL or `key: value` line.

Formats that declare a title (HTML, PDF and .docx metadata, Markdown headings) are checked here
too, because declared titles are often junk ("Untitled", "Microsoft Word - report.docx").
"""

from __future__ import annotations

import re

MAX_TITLE_CHARS = 150
# Lines looked at for a headline before giving up on the text and using the file name.
_MAX_LINES = 40
# A cut at a comma or dash is kept when at least this much is left; else the cut is at a word.
_MIN_CLAUSE_CHARS = 40

_MONTHS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?"
    "|nov(?:ember)?|dec(?:ember)?"
)
_WEEKDAYS = "mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:rs(?:day)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?"
_NUMERIC_DATE = r"\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?\S*)?|\d{1,2}[./]\d{1,2}[./]\d{2,4}"
# Words and marks that a date or time line is made of, removed to see whether anything is left.
_DATE_WORDS = re.compile(rf"\b(?:{_MONTHS}|{_WEEKDAYS}|am|pm|utc|gmt|[ap]\.m\.)\b\.?", re.IGNORECASE)
# "date 2022-09-12 Story begins": one word (or none) naming a date, the date, then the headline.
_DATE_PREFIX = re.compile(rf"^(?:[A-Za-z]{{1,12}}:?\s+)?(?:{_NUMERIC_DATE})[\s,;:|-]+(?=\S)")
_KEY_VALUE = re.compile(r"^([A-Za-z][A-Za-z _-]{0,24}?)\s*:\s+(\S.*)$")
_URL = re.compile(r"^(?:<?(?:https?://|www\.)\S+>?|\S+@\S+\.\w+)$", re.IGNORECASE)
_BYLINE = re.compile(r"^(?:by|written by|posted by|photo(?:graph)?s? by)\s+\S", re.IGNORECASE)
_MARKDOWN_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+\s*)?$")
_SETEXT_UNDERLINE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*\s+(?=[\"'“‘«(\[]?[A-Z0-9])")
_CLAUSE_BREAK = re.compile(r"\s*(?:[,;:]|\s[–—-])\s")
# A declared title that says nothing: a placeholder, or a file or program name instead of a title.
_JUNK_TITLE = re.compile(
    r"^(?:untitled|no title|title|document\d*|doc\d*|new document|slide \d+|page \d+|"
    r"microsoft (?:word|powerpoint|excel)\b.*|.*\.(?:docx?|pdf|txt|rtf|odt|pptx?|xlsx?|indd|tex|html?)|"
    r"(?:[a-z]:\\|/|~/)\S*)$",
    re.IGNORECASE,
)


def _letters(s: str) -> int:
    return sum(ch.isalpha() for ch in s)


def _no_words(s: str) -> bool:
    """Only digits, dates, times and marks: "12 September 2022, 10:30 am", "- 3 -"."""
    return _letters(_DATE_WORDS.sub(" ", s)) < 3


def is_metadata_line(line: str) -> bool:
    """A line that describes the document rather than naming it: a date, URL, byline or `key: value`."""
    if _URL.match(line) or _BYLINE.match(line) or _no_words(line):
        return True
    m = _KEY_VALUE.match(line)
    if m is None:
        return False
    # A short label and a short or dateless value ("Posted: 3 May 2021", "Author: Jane Smith");
    # a headline with a colon ("Storm warning: all ferries stay in port today") is not one.
    return len(m.group(1).split()) <= 2 and (len(m.group(2).split()) <= 4 or _no_words(m.group(2)))


def _first_sentence(line: str) -> str:
    for m in _SENTENCE_END.finditer(line):
        before = line[: m.start() + 1]
        words = before.split()
        last = words[-1].rstrip(".!?…\"'”’»)]") if words else ""
        if len(words) >= 3 and not (len(last) <= 3 and last[:1].isupper()):  # "Mr.", "Dr.", "U.S."
            return before
    return line


def shorten(line: str, limit: int = MAX_TITLE_CHARS) -> str:
    """A headline from a line: its first sentence, cut at a clause or word to fit `limit`."""
    line = _first_sentence(" ".join(line.split()))
    if len(line) > limit:
        clauses = [c.start() for c in _CLAUSE_BREAK.finditer(line, 0, limit) if c.start() >= _MIN_CLAUSE_CHARS]
        if clauses:
            line = line[: clauses[-1]]
        else:
            cut = line.rfind(" ", 0, limit)
            line = line[: cut if cut > _MIN_CLAUSE_CHARS else limit].rstrip(" ,;:-–—") + "…"
    if line.endswith(".") and not line.endswith(".."):
        line = line[:-1]  # a sentence used as a headline loses its full stop
    return line.strip()


def headline(text: str) -> str:
    """The first line of `text` that reads like a headline, shortened; "" when none does."""
    seen = 0
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line:
            continue
        seen += 1
        if seen > _MAX_LINES:
            break
        m = _MARKDOWN_ATX.match(line)
        if m:
            line = m.group(2).strip()
        kv = _KEY_VALUE.match(line)
        if kv and kv.group(1).strip().lower() == "title":
            return shorten(kv.group(2))
        line = _DATE_PREFIX.sub("", line)
        if not line or is_metadata_line(line) or _SETEXT_UNDERLINE.match(line):
            continue
        return shorten(line)
    return ""


def markdown_title(text: str) -> str:
    """A Markdown document's title: `title:` in its front matter, its first `#` heading (or
    underlined heading) when that starts the document, else its first level-1 heading."""
    lines = text.splitlines()
    start = 0
    if lines and lines[0].strip() == "---":  # YAML front matter
        for i in range(1, min(len(lines), 200)):
            kv = _KEY_VALUE.match(lines[i].strip())
            if kv and kv.group(1).strip().lower() == "title":
                value = kv.group(2).strip().strip("\"'")
                if value:
                    return shorten(value)
            if lines[i].strip() in ("---", "..."):
                start = i + 1
                break
    body = [(i, ln) for i, ln in enumerate(lines) if i >= start and ln.strip()]
    if not body:
        return ""
    i, first = body[0]
    m = _MARKDOWN_ATX.match(first)
    if m and m.group(2).strip():
        return shorten(m.group(2))
    if i + 1 < len(lines) and _SETEXT_UNDERLINE.match(lines[i + 1]) and not is_metadata_line(first.strip()):
        return shorten(first)
    for _, line in body:
        m = _MARKDOWN_ATX.match(line)
        if m and len(m.group(1)) == 1 and m.group(2).strip():
            return shorten(m.group(2))
    return ""


def declared_title(title: str) -> str:
    """A title from a file's metadata, or "" when it is junk (a placeholder, a file name)."""
    title = " ".join(title.split()).strip("\"' ")
    if not title or _JUNK_TITLE.match(title) or is_metadata_line(title) or _letters(title) < 2:
        return ""
    return shorten(title)


def choose_title(declared: str, text: str, fallback: str) -> str:
    """The declared title when it is one, else the text's first headline, else `fallback`."""
    return declared_title(declared) or headline(text) or fallback
