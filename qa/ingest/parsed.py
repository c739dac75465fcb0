"""What a format reader hands back: the text docqa stores and shows, and what it learned reading it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Parsed:
    """One file's text; `pages` and every later offset point into exactly this `text`."""

    text: str
    # A title the format itself gives (HTML <h1>, PDF or .docx metadata, a Markdown heading); ""
    # when it gives none, and the title is then found in the text (qa.ingest.titles).
    title: str = ""
    # Where each page begins in `text` (pages[0] == 0), for paged formats; () otherwise.
    pages: tuple[int, ...] = ()
    warnings: tuple[str, ...] = ()
