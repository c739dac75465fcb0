"""Jinja2 templates with autoescaping, plus the helpers that build highlight markup safely."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlencode

import jinja2
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

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


def doc_href(doc_id: str, start: int | None = None, end: int | None = None) -> str:
    """Link to the document page, with the span to highlight when given."""
    url = "/documents/" + quote(doc_id, safe="/")
    if start is not None and end is not None:
        url += "?" + urlencode({"start": start, "end": end}) + "#hl"
    return url


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
    env.globals.update(highlight=highlight, doc_href=doc_href, snippet=snippet)
    env.filters["thousands"] = lambda n: f"{int(n):,}"
    return env


templates = Jinja2Templates(env=_env())
