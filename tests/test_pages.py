"""The HTML pages and htmx partials (web/pages.py, web/templating.py), without a browser."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from tests.web_fixtures import API_KEY
from web.templating import doc_href, highlight, templates

KIRBY_DOC = "003_4ab8a011891d9a26.txt"
HX = {"HX-Request": "true"}


def no_inline_code(html: str) -> None:
    """The CSP forbids inline script and style; make sure the markup never relies on them."""
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, tag
    for body in re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S):
        assert not body.strip(), "inline script body"
    assert "<style" not in html
    assert re.search(r"\sstyle\s*=", html) is None
    assert re.search(r"\son[a-z]+\s*=", html) is None
    assert "hx-on" not in html


# ---------------------------------------------------------------- templating helpers


def test_highlight_escapes_each_piece() -> None:
    out = highlight("<b>a</b> & <i>span</i> <script>", 11, 22)
    assert str(out) == "&lt;b&gt;a&lt;/b&gt; &amp; <mark>&lt;i&gt;span&lt;/i&gt;</mark> &lt;script&gt;"


def test_highlight_clamps_offsets_and_marks_nothing_for_an_empty_span() -> None:
    assert str(highlight("abc", -5, 99)) == "<mark>abc</mark>"
    assert str(highlight("a<c", 2, 2)) == "a&lt;c"
    assert str(highlight("a<c", 3, 1)) == "a&lt;c"
    assert str(highlight("abc", 1, 2, mark_id='x" onmouseover="y')) == (
        'a<mark id="x&#34; onmouseover=&#34;y">b</mark>c'
    )


def test_doc_href_quotes_the_id() -> None:
    assert doc_href("a b/c?.txt") == "/documents/a%20b/c%3F.txt"
    assert doc_href("x.txt", 3, 9) == "/documents/x.txt?start=3&end=9#hl"


def render_turn(result: dict[str, object]) -> str:
    from web.pages import ChatTurn

    request = Request({"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""})
    turn = ChatTurn(
        question=str(result["question"]),
        answer=result["answer"],
        result=result,  # type: ignore[arg-type]
        titles={"a.txt": "Doc A"},
    )
    return bytes(
        templates.TemplateResponse(request, "partials/turn.html", {"turn": turn, "latest": False}).body
    ).decode()


def citation(doc_id: str, sentence: str, span: str, offset: int = 100) -> dict[str, object]:
    s = sentence.index(span)
    return {
        "doc_id": doc_id,
        "title": f"Title of {doc_id}",
        "start": offset + s,
        "end": offset + s + len(span),
        "text": span,
        "sentence": sentence,
        "sentence_start": offset,
        "score": 0.9,
    }


def test_conflicting_sources_are_shown_with_each_figure() -> None:
    html = render_turn(
        {
            "question": "How many signed?",
            "answer": "47",
            "confidence": 0.8,
            "abstained": False,
            "citations": [citation("a.txt", "So far, 47 officials signed.", "47")],
            "passages": [],
            "timings_ms": {},
            "conflicting": True,
            "alternatives": [
                {"answer": "18", "citations": [citation("b.txt", "It was signed by 18 councilors.", "18")]}
            ],
            "resolved_question": None,
        }
    )
    assert "sources disagree" in html
    assert "<mark>47</mark>" in html and "<mark>18</mark>" in html
    assert 'href="/documents/b.txt?start=117&amp;end=119#hl"' in html


def test_abstention_offers_the_closest_passages() -> None:
    html = render_turn(
        {
            "question": "Why?",
            "answer": None,
            "confidence": 0.1,
            "abstained": True,
            "citations": [],
            "passages": [{"doc_id": "a.txt", "start": 0, "end": 20, "text": "Closest <passage> text", "score": 0.3}],
            "timings_ms": {},
            "conflicting": False,
            "alternatives": [],
            "resolved_question": None,
        }
    )
    assert "The documents don't say." in html
    assert "Closest passages" in html and "Closest &lt;passage&gt; text" in html
    assert "Doc A" in html and '<input type="hidden" form="ask-form" name="history_answer" value="">' in html


# ---------------------------------------------------------------- GET /


def test_index_lists_documents_and_has_a_working_form(api_client: TestClient) -> None:
    r = api_client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert html.count('<a href="/documents/') == 5
    assert 'method="post"' in html and 'name="question"' in html and 'hx-post="/"' in html
    assert '<script src="/static/htmx.min.js"' in html
    assert '"includeIndicatorStyles": false' in html
    assert "Uploads are off" in html and "QA_API_KEY" in html and 'id="upload-form"' not in html
    no_inline_code(html)


def test_index_shows_the_upload_form_when_a_key_is_configured(keyed_client: TestClient) -> None:
    html = keyed_client.get("/").text
    assert 'id="upload-form"' in html and 'type="password"' in html and 'enctype="multipart/form-data"' in html
    no_inline_code(html)


@pytest.mark.parametrize(
    "path",
    [
        "/static/htmx.min.js",
        "/static/app.js",
        "/static/app.css",
        "/static/swagger/swagger-ui-bundle.js",
        "/static/docs.js",
    ],
)
def test_static_files_are_served_locally(api_client: TestClient, path: str) -> None:
    assert api_client.get(path).status_code == 200


# ---------------------------------------------------------------- POST / (ask)


def test_ask_without_javascript_renders_the_whole_page(api_client: TestClient) -> None:
    r = api_client.post("/", data={"question": "Which council does John Kirby work for?"})
    assert r.status_code == 200
    html = r.text
    assert html.startswith("<!doctype html>")
    assert 'id="latest"' in html and "National Security Council" in html
    assert f'href="/documents/{KIRBY_DOC}?start=' in html and "<mark>" in html
    assert 'name="history_question" value="Which council does John Kirby work for?"' in html
    no_inline_code(html)


def test_ask_with_htmx_returns_just_the_turn(api_client: TestClient) -> None:
    r = api_client.post("/", data={"question": "Who is John Kirby?"}, headers=HX)
    assert r.status_code == 200
    html = r.text
    assert "<html" not in html and html.lstrip().startswith(("<article", "{#", "<"))
    assert html.count('<article class="turn"') == 1
    assert 'form="ask-form" name="history_question"' in html
    no_inline_code(html)


def test_follow_up_from_the_page_history_is_understood(api_client: TestClient) -> None:
    r = api_client.post(
        "/",
        headers=HX,
        data={
            "question": "Which network did he speak on?",
            "history_question": ["Who is John Kirby?"],
            "history_answer": ["National Security Council communications official"],
        },
    )
    assert r.status_code == 200
    understood = re.search(r'<p class="understood">(.*?)</p>', r.text)
    assert understood and "Kirby" in understood.group(1)


def test_earlier_turns_are_kept_without_javascript(api_client: TestClient) -> None:
    r = api_client.post(
        "/",
        data={
            "question": "Which network did he speak on?",
            "history_question": ["Who is John Kirby?"],
            "history_answer": ["National Security Council communications official"],
        },
    )
    assert r.text.count('<article class="turn"') == 2
    assert r.text.count('name="history_question"') == 2


def test_abstention_from_the_page(api_client: TestClient) -> None:
    html = api_client.post("/", data={"question": "What is the boiling point of mercury?"}, headers=HX).text
    assert "The documents don't say." in html and "Closest passages" in html


def test_question_text_is_escaped(api_client: TestClient) -> None:
    evil = '<img src=x onerror="alert(1)"> Who is John Kirby?'
    for headers in ({}, HX):
        html = api_client.post("/", data={"question": evil}, headers=headers).text
        assert "<img src=x" not in html
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html


@pytest.mark.parametrize("question, status", [("", 422), ("   ", 422), ("x" * 2001, 422)])
def test_bad_questions_from_the_page(api_client: TestClient, question: str, status: int) -> None:
    r = api_client.post("/", data={"question": question}, headers=HX)
    assert r.status_code == status
    assert '<div class="error" role="alert">' in r.text and "<html" not in r.text
    r = api_client.post("/", data={"question": question}, headers={"Accept": "text/html"})
    assert r.status_code == status
    assert r.text.startswith("<!doctype html>") and "Back to the chat" in r.text


# ---------------------------------------------------------------- GET /documents/{doc_id}


def test_document_page_highlights_the_cited_span(api_client: TestClient) -> None:
    text = api_client.get(f"/api/documents/{KIRBY_DOC}").json()["text"]
    start = text.index("John Kirby")
    html = api_client.get(f"/documents/{KIRBY_DOC}?start={start}&end={start + 10}").text
    assert '<mark id="hl">John Kirby</mark>' in html
    assert html.count("<mark") == 1
    no_inline_code(html)


@pytest.mark.parametrize("query", ["", "?start=5", "?start=9&end=3", "?start=0&end=999999999"])
def test_document_page_without_a_usable_span_shows_the_text(api_client: TestClient, query: str) -> None:
    r = api_client.get(f"/documents/{KIRBY_DOC}{query}")
    assert r.status_code == 200
    assert "<mark" not in r.text and "John Kirby" in r.text


@pytest.mark.parametrize(
    "path", ["/documents/nope.txt", "/documents/..%2F..%2Fetc%2Fpasswd", "/documents/%2E%2E%2F" + KIRBY_DOC]
)
def test_unknown_document_page_is_an_html_404(api_client: TestClient, path: str) -> None:
    r = api_client.get(path, headers={"Accept": "text/html"})
    assert r.status_code == 404
    assert "Not found" in r.text and "No document" in r.text


def test_bad_offsets_are_a_422_page_not_a_500(api_client: TestClient) -> None:
    r = api_client.get(f"/documents/{KIRBY_DOC}?start=-1&end=x", headers={"Accept": "text/html"})
    assert r.status_code == 422 and "start" in r.text


# ---------------------------------------------------------------- POST /upload (the page's form)


def test_page_upload_with_htmx_updates_the_list(make_upload_client: Callable[..., TestClient]) -> None:
    client = make_upload_client()
    r = client.post(
        "/upload",
        headers=HX,
        data={"key": API_KEY},
        files={"files": ("otters.txt", b"Otters\n\nThe otter count in May was 12.")},
    )
    assert r.status_code == 200, r.text
    assert "added otters.txt" in r.text
    assert 'id="doc-list" class="doc-list" hx-swap-oob="true"' in r.text and "otters.txt" in r.text
    assert client.get("/api/documents/otters.txt").status_code == 200


def test_page_upload_shows_warnings_escaped(make_upload_client: Callable[..., TestClient]) -> None:
    from tests.test_ingest_language import GERMAN

    client = make_upload_client()
    r = client.post("/upload", headers=HX, data={"key": API_KEY}, files={"files": ("<b>hafen.txt", GERMAN.encode())})
    assert r.status_code == 200, r.text
    assert "<li>&lt;b&gt;hafen.txt: looks like German (de), not English" in r.text
    assert "<b>hafen" not in r.text
    page = client.post(
        "/upload", data={"key": API_KEY}, files={"files": ("<b>hafen.txt", (GERMAN + " Ende.").encode())}
    )
    assert "&lt;b&gt;hafen.txt: looks like German (de)" in page.text


def test_page_upload_without_javascript_renders_the_page(make_upload_client: Callable[..., TestClient]) -> None:
    client = make_upload_client()
    r = client.post("/upload", data={"key": API_KEY}, files={"files": ("otters.md", b"# Otters\n\nTwelve otters.")})
    assert r.status_code == 200 and r.text.startswith("<!doctype html>")
    assert "added otters.md" in r.text
    assert client.get("/upload", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("key, status", [("", 401), ("wrong", 403)])
def test_page_upload_checks_the_key(make_upload_client: Callable[..., TestClient], key: str, status: int) -> None:
    client = make_upload_client()
    r = client.post("/upload", headers=HX, data={"key": key}, files={"files": ("a.txt", b"Some text.")})
    assert r.status_code == status
    assert '<div class="error" role="alert">' in r.text
    assert client.get("/api/documents/a.txt").status_code == 404


def test_page_upload_is_refused_when_uploads_are_off(api_client: TestClient) -> None:
    r = api_client.post("/upload", headers=HX, data={"key": "anything"}, files={"files": ("a.txt", b"Text.")})
    assert r.status_code == 403 and "QA_API_KEY" in r.text


def test_page_upload_of_an_unreadable_type(make_upload_client: Callable[..., TestClient]) -> None:
    client = make_upload_client()
    r = client.post("/upload", headers=HX, data={"key": API_KEY}, files={"files": ("a.exe", b"MZ")})
    assert r.status_code == 415 and "unsupported file type" in r.text


def test_api_docs_page_loads_swagger_from_local_files(api_client: TestClient) -> None:
    html = api_client.get("/docs").text
    assert '<script src="/static/swagger/swagger-ui-bundle.js">' in html
    assert "cdn" not in html.lower()
    no_inline_code(html)


# ---------------------------------------------------------------- issue 13: pages, sha links, ticks, export

OTHER_DOC = "000_d60922b307c76c22.txt"


def test_doc_href_carries_the_content_hash() -> None:
    sha = "ABCDEF0123456789" + "f" * 48
    assert doc_href("x.txt", 3, 9, sha) == "/documents/x.txt?start=3&end=9&sha=abcdef0123456789#hl"
    assert doc_href("x.txt", 3, 9, "") == "/documents/x.txt?start=3&end=9#hl"


def test_a_link_is_stale_only_when_its_hash_names_another_version() -> None:
    from web.links import link_is_stale

    sha = "abcdef0123456789" + "0" * 48
    assert not link_is_stale("abcdef0123456789", sha)
    assert not link_is_stale("ABCDEF0123456789", sha)
    assert link_is_stale("0000000000000000", sha)
    assert not link_is_stale(None, sha) and not link_is_stale("", sha)  # old links
    assert not link_is_stale("0000000000000000", "")  # an index without hashes cannot tell


def strip_page_breaks(html: str) -> str:
    import html as html_lib

    return html_lib.unescape(re.sub(r"<[^>]+>", "", re.sub(r'<span class="page-break"[^>]*>.*?</span>', "", html)))


def test_page_breaks_sit_between_segments_and_leave_the_text_alone() -> None:
    from web.templating import document_markup

    text = "One <a> & b.\nTwo starts here.\nThree."
    pages = (0, text.index("Two"), text.index("Three"))
    out = str(document_markup(text, pages, (text.index("b."), text.index("starts"))))
    assert [int(n) for n in re.findall(r'<span class="page-break" id="page-(\d+)"', out)] == [1, 2, 3]
    assert 'role="separator" aria-label="Page 2">Page 2</span>' in out
    assert strip_page_breaks(out) == text  # the document text, exactly, around the separators
    # A span across a page break is marked on both sides; only the first mark is the scroll target.
    assert '<mark id="hl">b.\n</mark><span class="page-break" id="page-2"' in out
    assert "</span><mark>Two </mark>starts" in out and out.count('id="hl"') == 1
    assert "One &lt;a&gt; &amp; <mark" in out
    assert str(document_markup("plain <x>", (), None)) == "plain &lt;x&gt;"  # not paged: no separators


def render_document(doc: object, **context: object) -> str:
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""})
    ctx = {"doc": doc, "span": None, "stale": False, "span_page": None, **context}
    return bytes(templates.TemplateResponse(request, "document.html", ctx).body).decode()


def test_document_page_of_a_paged_document_shows_pages_and_the_span_page() -> None:
    from qa.models import DocumentText

    text = "First page text.\nSecond page has the answer 42 here.\n"
    doc = DocumentText("r.pdf", "Report", text, "ab" * 32, (0, text.index("Second")))
    start = text.index("42")
    html = render_document(doc, span=(start, start + 2), span_page=2)
    assert '<mark id="hl">42</mark>' in html
    assert "Page 1</span>" in html and "Page 2</span>" in html and "2 pages" in html
    assert re.search(r"highlighted below \(characters [\d,]+–[\d,]+, <span class=\"page-ref\">page 2</span>\)", html)
    no_inline_code(html)


def test_document_page_says_when_the_link_is_stale(api_client: TestClient) -> None:
    doc = api_client.get(f"/api/documents/{KIRBY_DOC}").json()
    start = doc["text"].index("John Kirby")
    base = f"/documents/{KIRBY_DOC}?start={start}&end={start + 10}"
    fresh = api_client.get(base + "&sha=" + doc["sha256"][:16]).text
    assert '<mark id="hl">John Kirby</mark>' in fresh and "has changed" not in fresh
    stale = api_client.get(base + "&sha=0123456789abcdef").text
    assert "This document has changed since this link was made" in stale
    assert "the passage it pointed to may have moved" in stale
    assert "<mark" not in stale and "John Kirby" in stale  # the text, but no (now wrong) highlight
    old_link = api_client.get(base).text  # links from before hashes behave as they did
    assert '<mark id="hl">John Kirby</mark>' in old_link and "has changed" not in old_link


def test_chat_page_has_a_textarea_and_a_checkbox_per_document(api_client: TestClient) -> None:
    html = api_client.get("/").text
    assert re.search(r'<textarea id="question" name="question"[^>]*required maxlength="2000"', html)
    boxes = re.findall(r'<input type="checkbox" id="(pick-\d+)" name="doc_ids" value="([^"]+)" form="ask-form">', html)
    assert len(boxes) == 5 and (boxes[3][1] == KIRBY_DOC)
    for box_id, _ in boxes:
        assert f'<label for="{box_id}" class="doc-title-label">' in html
    assert 'id="announce"' in html and 'aria-live="polite"' in html
    assert 'id="thread" class="thread">' in html  # the thread itself is not re-read on every answer


def test_ticked_documents_restrict_the_answer(api_client: TestClient) -> None:
    q = {"question": "Which council does John Kirby work for?"}
    unrestricted = api_client.post("/", data=q, headers=HX).text
    assert f'href="/documents/{KIRBY_DOC}?start=' in unrestricted
    html = api_client.post("/", data={**q, "doc_ids": [OTHER_DOC]}, headers=HX).text
    hrefs = re.findall(r'href="/documents/([^"?]+)\?start=', html)
    assert hrefs and set(hrefs) == {OTHER_DOC}, hrefs
    title = next(d["title"] for d in api_client.get("/api/documents").json() if d["doc_id"] == OTHER_DOC)
    assert f"Asked within: {title}" in html.replace("&#39;", "'").replace("&#34;", '"')
    # Without JS the whole page comes back with the same boxes still ticked.
    page = api_client.post("/", data={**q, "doc_ids": [OTHER_DOC, KIRBY_DOC]}).text
    assert page.count(" checked>") == 2 and "Asked within:" in page


def test_asking_within_a_deleted_document_says_so_in_the_thread(api_client: TestClient) -> None:
    data = {"question": "Who is John Kirby?", "doc_ids": [KIRBY_DOC, "gone.txt"]}
    r = api_client.post("/", data=data, headers=HX)
    assert r.status_code == 422
    assert "“gone.txt” is no longer among the documents" in r.text and "Traceback" not in r.text
    assert 'id="doc-list" class="doc-list" hx-swap-oob="true"' in r.text
    assert r.text.count(" checked>") == 1  # the ticked document that still exists stays ticked
    page = api_client.post("/", data=data, headers={"Accept": "text/html"})
    assert page.status_code == 422 and page.text.startswith("<!doctype html>")
    assert "no longer among the documents" in page.text and 'id="ask-form"' in page.text
    assert 'placeholder="Ask a question…">Who is John Kirby?</textarea>' in page.text  # to ask again


def turn_data(html: str) -> dict[str, object]:
    import html as html_lib
    import json

    m = re.search(r'data-turn="([^"]*)"', html)
    assert m, "no data-turn"
    data: dict[str, object] = json.loads(html_lib.unescape(m.group(1)))
    return data


def test_kept_turns_are_rendered_again_from_their_data(api_client: TestClient) -> None:
    first = api_client.post("/", data={"question": "Who is John Kirby?", "doc_ids": [KIRBY_DOC]}, headers=HX).text
    kept = turn_data(first)
    assert set(kept) == {"question", "result", "titles", "within", "shas"}
    r = api_client.post("/turns", json={"turns": [kept, kept]})
    assert r.status_code == 200 and "<html" not in r.text
    assert r.text.count('<article class="turn"') == 2 and r.text.count('id="latest"') == 1
    # The restored turns feed follow-ups exactly like the original one.
    hidden = re.findall(r'name="history_(?:question|answer)" value="[^"]*"', first)
    assert hidden and all(r.text.count(h) == 2 for h in hidden)
    assert "Asked within:" in r.text
    no_inline_code(r.text)


@pytest.mark.parametrize(
    "body",
    [{}, {"turns": [{"question": "x"}]}, {"turns": [{"question": "x", "result": {"answer": 3}}]}],
)
def test_kept_turns_of_the_wrong_shape_are_refused(api_client: TestClient, body: dict[str, object]) -> None:
    assert api_client.post("/turns", json=body).status_code == 422


def test_markdown_escaping_leaves_prose_alone() -> None:
    from web.export import md_escape

    assert md_escape("e.g. 3.5 (approx.) R&D") == "e.g. 3.5 (approx.) R&D"
    assert md_escape("*a* _b_ [c](d) <e> `f` |g|") == r"\*a\* \_b\_ \[c\](d) \<e\> \`f\` \|g\|"
    assert md_escape("# not a heading") == r"\# not a heading"
    assert md_escape("1. not a list") == r"1\. not a list"
    assert md_escape("two\n\nlines") == "two lines"
    assert md_escape("&amp; stays text") == r"\&amp; stays text"


def test_markdown_export_of_a_turn() -> None:
    from web.export import turn_markdown
    from web.pages import ChatTurn

    c = citation("r*1.pdf", "So far, 47 [officials] signed.", "47")
    c.update(title="Report [draft]", page=3, doc_sha256="abcdef0123456789" + "0" * 48)
    result = {
        "question": "How many signed?",
        "answer": "47",
        "abstained": False,
        "citations": [c],
        "passages": [],
        "conflicting": False,
        "alternatives": [],
        "resolved_question": None,
    }
    turn = ChatTurn("How many *signed*?", "47", result, within=("Report [draft]",))
    md = turn_markdown(turn, "http://127.0.0.1:8000/")
    assert md.startswith(r"## How many \*signed\*?" + "\n")
    assert "**Answer:** 47\n" in md
    assert r"*Asked within: Report \[draft\]*" in md
    assert r"> So far, **47** \[officials\] signed." in md
    link = "http://127.0.0.1:8000/documents/r%2A1.pdf?start=108&end=110&sha=abcdef0123456789#hl"
    assert rf"> — [Report \[draft\]]({link}), page 3" in md


def test_answers_on_the_page_carry_their_markdown_export(api_client: TestClient) -> None:
    import html as html_lib

    html = api_client.post("/", data={"question": "Which council does John Kirby work for?"}, headers=HX).text
    m = re.search(r'data-markdown="([^"]*)"', html)
    assert m
    md = html_lib.unescape(m.group(1))
    sha = api_client.get(f"/api/documents/{KIRBY_DOC}").json()["sha256"][:16]
    assert md.startswith("## Which council does John Kirby work for?")
    assert "National Security Council" in md
    doc = re.escape(KIRBY_DOC)
    assert re.search(rf"\(http://testserver/documents/{doc}\?start=\d+&end=\d+&sha={sha}#hl\)", md)
    assert re.search(
        rf'class="source-link citation" href="/documents/{doc}\?start=\d+&amp;end=\d+&amp;sha={sha}#hl"', html
    )


def test_citations_of_a_paged_document_show_their_page() -> None:
    c = citation("r.pdf", "The answer is 42.", "42")
    c.update(page=2, doc_sha256="ff" * 32)
    html = render_turn(
        {
            "question": "What is it?",
            "answer": "42",
            "confidence": 0.9,
            "abstained": False,
            "citations": [c],
            "passages": [],
            "timings_ms": {},
            "conflicting": False,
            "alternatives": [],
            "resolved_question": None,
        }
    )
    assert re.search(r'sha=ffffffffffffffff#hl"[^>]*>Title of r.pdf</a> <span class="page-ref">page 2</span>', html)
