"""Saved web pages: the article's text, without navigation, cookie banners, footers or link lists.

trafilatura finds the main content (it scored best of the rules tried, see the commit adding
this); pages it finds too little in (short pages, plain HTML fragments) keep all their visible
text, read by a small parser that drops only what a browser would not show.
"""

from __future__ import annotations

import html as html_lib
import logging
import re
from html.parser import HTMLParser

from qa.ingest.parsed import Parsed

log = logging.getLogger(__name__)

# trafilatura's text is kept when it holds at least this much, and this share of the visible text:
# below either it has most likely missed the content (or the page is a fragment with no boilerplate).
MIN_MAIN_CHARS = 200
MIN_MAIN_SHARE = 0.10
# Past this size a page is read by the visible-text parser alone: trafilatura's tree work would be slow.
MAX_MAIN_CONTENT_MARKUP = 8 * 1024 * 1024
# " | Site name", " - Blog", " — Docs": a title's segments, split where a separator has spaces around it.
_TITLE_SEPARATORS = re.compile(r"\s+(?:\||–|—|-|·|::|»)\s+")
_SITE_SUFFIX_MAX_WORDS = 5


class _VisibleText(HTMLParser):
    """Collects the text a browser would show; drops script, style and other invisible elements."""

    _HIDDEN = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object"}
    _BLOCK = {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "table",
        "section",
        "article",
        "header",
        "footer",
        "blockquote",
        "pre",
        "title",
        "dd",
        "dt",
        "hr",
    }
    _HEADINGS = {"h1", "h2", "h3"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: str = ""
        self.headings: list[tuple[str, str]] = []  # (tag, text) of h1-h3, in page order
        self._hidden = 0
        self._in_title = False
        self._heading: str | None = None
        self._heading_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._HEADINGS and not self._hidden:
            self._heading, self._heading_text = tag, []
        if tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self._HIDDEN and self._hidden:
            self._hidden -= 1
        elif tag == self._heading:
            text = " ".join("".join(self._heading_text).split())
            if text:
                self.headings.append((tag, text))
            self._heading = None
        if tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._hidden:
            # Browsers fold white space (line breaks included) inside running text.
            self.parts.append(re.sub(r"[ \t\r\n\f\v]+", " ", data))
            if self._heading is not None:
                self._heading_text.append(data)


def _visible(markup: str) -> _VisibleText:
    parser = _VisibleText()
    parser.feed(markup)
    parser.close()
    return parser


def _tidy(raw: str) -> str:
    lines = [re.sub(r"[ \t\r\f\v]+", " ", ln).strip() for ln in raw.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(markup: str) -> tuple[str, str]:
    """(visible text, <title>) with white space tidied so sentences and paragraphs survive."""
    parser = _visible(markup)
    return _tidy("".join(parser.parts)), html_lib.unescape(parser.title).strip()


def main_content(markup: str) -> str:
    """The page's main content by trafilatura, one paragraph (or heading, list item, table row) a
    paragraph; "" when it finds none or cannot read the page."""
    if len(markup) > MAX_MAIN_CONTENT_MARKUP:
        return ""
    # trafilatura logs ERROR for every fragment it finds no tree in ("empty HTML tree"); for docqa
    # that is the normal path to the visible-text parser, not something to show on a terminal.
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    try:
        import trafilatura

        found = trafilatura.extract(
            markup, include_comments=False, include_tables=True, favor_precision=True, output_format="txt"
        )
    except Exception as e:  # a page lxml cannot build a tree of: the visible text still stands
        log.debug("trafilatura could not read the page: %s", e)
        return ""
    if not found:
        return ""
    # Its blocks come one a line; a blank line between them keeps headings out of the next sentence.
    return "\n\n".join(line for line in (" ".join(ln.split()) for ln in found.splitlines()) if line)


def page_title(title: str, headings: list[tuple[str, str]]) -> str:
    """The page's own title: its <title> less a site name around it, else its first <h1>."""
    title = " ".join(title.split())
    h1 = next((text for tag, text in headings if tag == "h1"), "")
    if not title:
        return h1
    folded = title.casefold()
    if h1 and h1.casefold() in folded:
        return h1  # "<h1> | Site name": the heading without the decoration
    separators = list(_TITLE_SEPARATORS.finditer(title))
    if separators:
        heading_texts = {text.casefold() for _, text in headings}
        for segment in _TITLE_SEPARATORS.split(title):
            if segment.casefold() in heading_texts:
                return segment
        last = separators[-1]
        if len(title[last.end() :].split()) <= _SITE_SUFFIX_MAX_WORDS:
            return title[: last.start()]
    return title


def read_html(markup: str) -> Parsed:
    """A saved page's main content (or all its visible text) and its title."""
    parser = _visible(markup)
    visible = _tidy("".join(parser.parts))
    main = main_content(markup)
    text = main if len(main) >= max(MIN_MAIN_CHARS, MIN_MAIN_SHARE * len(visible)) else visible
    return Parsed(text=text, title=page_title(html_lib.unescape(parser.title), parser.headings))
