"""Jinja2 templates with autoescaping, plus the helpers that build highlight and page-break markup safely."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import jinja2
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from web.export import turn_markdown
from web.links import doc_href, page_of

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def highlight(text: str, start: int, end: int, mark_id: str | None = None) -> Markup:
    """`text` with text[start:end] in a <mark>; each of the three pieces is escaped on its own.

    Offsets outside the text are clamped, and an empty span gives the escaped text unmarked.
    """
    start = max(0, min(int(start), len(text)))
    end = max(start, min(int(end), len(text)))
    if start == end:
        return escape(text)
    open_tag = Markup('<mark id="{}">').format(mark_id) if mark_id else Markup("<mark>")
    return escape(text[:start]) + open_tag + escape(text[start:end]) + Markup("</mark>") + escape(text[end:])


def page_break(number: int) -> Markup:
    """The labelled separator shown where page `number` begins; not part of the document text."""
    return Markup(
        '<span class="page-break" id="page-{0}" role="separator" aria-label="Page {0}">Page {0}</span>'
    ).format(int(number))


def document_markup(text: str, pages: Sequence[int] = (), span: tuple[int, int] | None = None) -> Markup:
    """The whole text, escaped, with `span` in <mark> and a separator where each page begins.

    The separators sit between text segments, so the text (and the span's offsets) stay exactly the
    document's. A span that crosses a page break is marked on both sides; only the first mark has id="hl".
    """
    starts = sorted({p for p in pages if 0 < p < len(text)})
    cuts = set(starts)
    if span is not None:
        cuts.update(span)
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(text)), len(text)]
    out = [page_break(1)] if pages else []
    page = 1
    first_mark = True
    for a, b in zip(bounds, bounds[1:]):
        while page < len(starts) + 1 and starts[page - 1] == a:
            page += 1
            out.append(page_break(page))
        piece = escape(text[a:b])
        if span is not None and span[0] <= a and b <= span[1] and a < b:
            tag = Markup('<mark id="hl">') if first_mark else Markup("<mark>")
            first_mark = False
            piece = tag + piece + Markup("</mark>")
        out.append(piece)
    return Markup("").join(out)


def snippet(text: str, limit: int = 320) -> str:
    """White space collapsed and cut at a word boundary, for passages shown as previews."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat.rfind(" ", 0, limit)
    return flat[: cut if cut > limit // 2 else limit] + " …"


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        highlight=highlight,
        doc_href=doc_href,
        snippet=snippet,
        document_markup=document_markup,
        turn_markdown=turn_markdown,
        page_of=page_of,
    )
    env.filters["thousands"] = lambda n: f"{int(n):,}"
    return env


templates = Jinja2Templates(env=_env())
