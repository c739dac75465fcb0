"""Links to a document page: the highlighted span and the content hash that lets the page tell a stale link."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from urllib.parse import quote, urlencode

# Hex digits of the document's SHA-256 a link carries: enough to tell versions apart, short enough to read.
SHA_PREFIX = 16


def doc_href(doc_id: str, start: int | None = None, end: int | None = None, sha256: str | None = None) -> str:
    """Link to the document page, with the span to highlight and the document's hash when given."""
    url = "/documents/" + quote(doc_id, safe="/")
    if start is not None and end is not None:
        params: dict[str, str | int] = {"start": start, "end": end}
        if sha256:
            params["sha"] = sha256[:SHA_PREFIX].lower()
        url += "?" + urlencode(params) + "#hl"
    return url


def link_is_stale(sha: str | None, sha256: str) -> bool:
    """True when a link's `sha` names another version of the document than the one indexed now.

    No `sha` (links made before hashes) and no stored hash (an old index) cannot tell, so are not stale.
    """
    if not sha or not sha256:
        return False
    return not sha256.lower().startswith(sha.strip().lower())


def page_of(pages: Sequence[int], offset: int) -> int | None:
    """The 1-based page holding character `offset`, given each page's start; None when not paged."""
    return bisect.bisect_right(pages, offset) if pages else None
