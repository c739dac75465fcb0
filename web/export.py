"""A chat turn as Markdown, for the page's export buttons: quotes with titles, pages and absolute links."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from web.links import doc_href
from web.turns import ChatTurn

# Characters that make Markdown out of plain text anywhere in a line.
# "&" only where it would start a character reference ("&amp;"), so "R&D" stays as it is.
_INLINE = re.compile(r"([\\`*_\[\]<>|~]|&(?=#?\w+;))")
# What only matters at the start of a line: headings, quotes, list and rule markers, "1." and "1)".
_LINE_START = re.compile(r"^([#>+\-=]|\d+(?=[.)]))")


def _escape_inline(text: str) -> str:
    return _INLINE.sub(r"\\\1", text)


def _escape_line_start(text: str) -> str:
    def fix(m: re.Match[str]) -> str:
        marker = m.group(1)
        return marker + "\\" if marker.isdigit() else "\\" + marker

    return _LINE_START.sub(fix, text)


def md_escape(text: str) -> str:
    """`text` on one line with the characters Markdown would act on backslash-escaped.

    Only what changes the rendering is escaped (emphasis, code, links, HTML, tables, line-start
    markers), so ordinary prose such as "e.g. 3.5 (approx.)" stays readable.
    """
    return _escape_line_start(_escape_inline(" ".join(text.split())))


def _link_text(text: str) -> str:
    return md_escape(text) or "document"


def _absolute(base_url: str, href: str) -> str:
    # doc_href percent-encodes the id, so spaces and parentheses cannot end the Markdown link early.
    return base_url.rstrip("/") + href.replace("(", "%28").replace(")", "%29")


def _quote(c: Mapping[str, Any], base_url: str) -> list[str]:
    """One citation: its sentence as a `>` quote with the span in bold, then where it comes from."""
    sentence = str(c["sentence"])
    a = max(0, min(len(sentence), int(c["start"]) - int(c["sentence_start"])))
    b = max(a, min(len(sentence), int(c["end"]) - int(c["sentence_start"])))
    # The span in bold; white space at its edges goes outside the ** or they would not count.
    raw = sentence[a:b]
    core = raw.strip()
    lead, trail = raw[: len(raw) - len(raw.lstrip())], raw[len(raw.rstrip()) :]
    bold = f"{lead}**{_escape_inline(core)}**{trail}" if core else raw
    quoted = _escape_line_start(" ".join((_escape_inline(sentence[:a]) + bold + _escape_inline(sentence[b:])).split()))
    href = doc_href(str(c["doc_id"]), int(c["start"]), int(c["end"]), c.get("doc_sha256") or None)
    return [f"> {quoted}", ">", f"> — {_source(c.get('title') or c['doc_id'], c.get('page'), base_url, href)}", ""]


def _source(title: str, page: Any, base_url: str, href: str) -> str:
    where = f"[{_link_text(str(title))}]({_absolute(base_url, href)})"
    return where + (f", page {int(page)}" if page else "")


def turn_markdown(turn: ChatTurn, base_url: str) -> str:
    """The question, the answer and each citation of one turn; empty for turns without a result."""
    r = turn.result
    if r is None:
        return ""
    lines = [f"## {md_escape(turn.question)}", ""]
    resolved = r.get("resolved_question")
    if resolved and resolved != r.get("question"):
        lines += [f"*Understood as: {md_escape(str(resolved))}*", ""]
    if turn.within:
        lines += [f"*Asked within: {md_escape(', '.join(turn.within))}*", ""]
    if r.get("abstained") or r.get("answer") is None:
        lines += ["**Answer:** The documents don't say.", ""]
        passages = r.get("passages") or []
        if passages:
            lines += ["Closest passages:", ""]
        for p in passages[:3]:
            title = turn.titles.get(p["doc_id"], p["doc_id"])
            href = doc_href(p["doc_id"], p["start"], p["end"], turn.shas.get(p["doc_id"]))
            lines += [f"> {md_escape(str(p['text']))}", ">", f"> — {_source(title, p.get('page'), base_url, href)}", ""]
        return "\n".join(lines).rstrip() + "\n"
    lines += [f"**Answer:** {md_escape(str(r['answer']))}", ""]
    citations = r.get("citations") or []
    if citations:
        lines += ["Sources:" if len(citations) > 1 else "Source:", ""]
    for c in citations:
        lines += _quote(c, base_url)
    alternatives = (r.get("alternatives") or []) if r.get("conflicting") else []
    for alt in alternatives:
        lines += [f"The sources disagree; another says: **{md_escape(str(alt['answer']))}**", ""]
        for c in alt.get("citations") or []:
            lines += _quote(c, base_url)
    return "\n".join(lines).rstrip() + "\n"
