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
