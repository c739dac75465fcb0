"""Cleaning up paged text (PDF): running headers and footers, words hyphenated across lines, and
joining pages with a record of where each begins. Pure functions over lists of lines."""

from __future__ import annotations

import re
from collections import Counter

PAGE_SEPARATOR = "\n\n"
# Running headers and footers are looked for in this many lines at the top and bottom of a page,
# in documents of at least MIN_PAGES_FOR_RUNNING_LINES pages, and must repeat on most pages.
RUNNING_ZONE_LINES = 2
MIN_PAGES_FOR_RUNNING_LINES = 3
MAX_RUNNING_LINE_CHARS = 200

_LETTER = r"[^\W\d_]"
_HYPHENATED_BREAK = re.compile(rf"({_LETTER}+)-\n({_LETTER}+)")
_HYPHENATED_WORD = re.compile(rf"(?<![\w-])({_LETTER}+)-({_LETTER}+)(?![\w-])")


def _running_key(line: str) -> str:
    """A line as compared across pages: numbers alike ("Page 3 of 10" ~ "Page 4 of 10"), case and
    spacing ignored."""
    return " ".join(re.sub(r"\d+", "#", line).casefold().split())


def remove_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Pages without the header and footer lines repeated at the top or bottom of most pages.

    Each page is its non-empty lines. Short documents are left alone: with one or two pages a
    repeat is as likely to be content.
    """
    with_text = [lines for lines in pages if lines]
    if len(with_text) < MIN_PAGES_FOR_RUNNING_LINES:
        return pages
    top: Counter[str] = Counter()
    bottom: Counter[str] = Counter()
    for lines in with_text:
        top.update({_running_key(ln) for ln in lines[:RUNNING_ZONE_LINES] if len(ln) <= MAX_RUNNING_LINE_CHARS})
        bottom.update({_running_key(ln) for ln in lines[-RUNNING_ZONE_LINES:] if len(ln) <= MAX_RUNNING_LINE_CHARS})
    heads = {k for k, n in top.items() if k and n >= 2 and 2 * n > len(with_text)}
    feet = {k for k, n in bottom.items() if k and n >= 2 and 2 * n > len(with_text)}
    cleaned: list[list[str]] = []
    for lines in pages:
        i, j = 0, len(lines)
        while i < min(RUNNING_ZONE_LINES, j) and _running_key(lines[i]) in heads:
            i += 1
        while j > i and len(lines) - j < RUNNING_ZONE_LINES and _running_key(lines[j - 1]) in feet:
            j -= 1
        cleaned.append(lines[i:j])
    return cleaned


def join_hyphenated(pages: list[str]) -> list[str]:
    """Pages with words broken across lines made whole: "inter-\\nnational" becomes "international".

    Only a lowercase letter before the hyphen and after the break counts. A word the document also
    writes hyphenated on one line ("well-known") keeps its hyphen and loses only the line break.
    A soft hyphen (U+00AD) at a line end always joins.
    """
    hyphenated = {f"{a}-{b}".casefold() for page in pages for a, b in _HYPHENATED_WORD.findall(page)}

    def join(m: re.Match[str]) -> str:
        left, right = m.group(1), m.group(2)
        if not (left[-1].islower() and right[0].islower()):
            return m.group(0)
        word = f"{left}-{right}"
        return word if word.casefold() in hyphenated else left + right

    return [_HYPHENATED_BREAK.sub(join, page.replace("\u00ad\n", "")) for page in pages]


def join_pages(pages: list[str]) -> tuple[str, tuple[int, ...]]:
    """(the pages' text joined by a blank line, where each page begins in it).

    An empty page holds no text but keeps its number: it begins where the next page does (at the
    end of the text when none follows), so page numbers after it stay right.
    """
    parts: list[str] = []
    starts: list[int] = []
    pos = 0
    for page in pages:
        if page:
            if parts:
                pos += len(PAGE_SEPARATOR)
            starts.append(pos)
            parts.append(page)
            pos += len(page)
        else:
            starts.append(pos + (len(PAGE_SEPARATOR) if parts else 0))
    text = PAGE_SEPARATOR.join(parts)
    return text, tuple(min(s, len(text)) for s in starts)
