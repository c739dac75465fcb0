"""End to end, issue 13: ticked documents, a conversation kept in the browser, export, keyboard, stale links, axe.

Reuses the server, browser and session fixtures of tests/test_e2e.py (a server of its own, since the
last test here uploads a document).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.pdfgen import make_pdf
from tests.test_e2e import (
    DESKTOP,
    E2E_KEY,
    PHONE,
    ask,
    assert_fits_width,
    browser,
    open_citation,
    server,
    session_factory,
)

__all__ = ["browser", "server", "session_factory"]  # fixtures, used by name

pytestmark = pytest.mark.e2e

KIRBY_DOC = "003_4ab8a011891d9a26.txt"
PICKED = ["000_d60922b307c76c22.txt", "002_a6792d8b72d2b792.txt"]


def tick(page: Any, doc_id: str) -> str:
    """Tick a document's box by clicking its label (the title); returns the title."""
    box = page.locator(f"#doc-list input[value='{doc_id}']")
    label = page.locator(f"label[for='{box.get_attribute('id')}']")
    title = label.inner_text().strip()
    label.click()
    assert box.is_checked()
    return title


def source_docs(turn: Any) -> set[str]:
    hrefs = [a.get_attribute("href") for a in turn.locator(".sources a").all()]
    return {re.sub(r"^/documents/([^?]+)\?.*$", r"\1", h) for h in hrefs}


def test_ticked_documents_restrict_the_answer(session_factory: Any) -> None:
    from playwright.sync_api import expect

    s = session_factory(viewport=DESKTOP)
    page = s.page
    page.goto("/")
    titles = [tick(page, d) for d in PICKED]
    expect(page.locator("#within")).to_have_text("Asking within 2 documents: " + ", ".join(titles))
    turn = ask(page, "Which council does John Kirby work for?", 0)
    expect(turn.locator(".within-note")).to_have_text("Asked within: " + ", ".join(titles))
    expect(turn.locator(".sources a").first).to_be_visible()
    docs = source_docs(turn)
    assert docs and docs <= set(PICKED), docs  # never Kirby's own document, which is not ticked
    # Unticked again: the same question finds Kirby's document.
    for d in PICKED:
        page.locator(f"#doc-list input[value='{d}']").uncheck()
    expect(page.locator("#within")).to_be_hidden()
    second = ask(page, "Which council does John Kirby work for?", 1)
    expect(second.locator(".answer")).to_contain_text("National Security Council")
    assert KIRBY_DOC in source_docs(second)
    s.shot(page, "desktop-8-ticked")


def test_conversation_survives_a_reload_and_new_conversation_clears_it(session_factory: Any) -> None:
    from playwright.sync_api import expect

    s = session_factory(viewport=DESKTOP)
    page = s.page
    page.goto("/")
    first = ask(page, "Which council does John Kirby work for?", 0)
    expect(page.locator("#announce")).to_contain_text("Answer: National Security Council")  # the new answer, read out
    expect(page.locator("#question")).to_be_focused()  # ready for the follow-up
    answer = first.locator(".answer").inner_text()
    tick(page, KIRBY_DOC)
    page.reload()
    turns = page.locator("#thread .turn")
    expect(turns).to_have_count(1)
    expect(turns.first.locator(".question")).to_contain_text("Which council does John Kirby work for?")
    expect(turns.first.locator(".answer")).to_have_text(answer)
    expect(turns.first.locator("a.citation").first).to_have_attribute("href", re.compile(r"&sha=[0-9a-f]{16}#hl$"))
    expect(page.locator(f"#doc-list input[value='{KIRBY_DOC}']")).to_be_checked()  # ticks kept too
    # The restored turn still feeds the follow-up.
    follow = ask(page, "Which network did he speak on?", 1)
    expect(follow.locator(".understood")).to_contain_text("Kirby")
    page.reload()
    expect(page.locator("#thread .turn")).to_have_count(2)
    s.shot(page, "desktop-9-restored")
    page.locator("#new-conversation").click()
    page.wait_for_load_state()
    expect(page.locator("#thread .turn")).to_have_count(0)
    page.reload()
    page.wait_for_timeout(300)  # a restore, were anything kept, would have come back by now
    expect(page.locator("#thread .turn")).to_have_count(0)
    expect(page.locator(".intro")).to_have_css("position", "static")  # the welcome is back in view


def test_export_downloads_markdown(session_factory: Any, server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    s = session_factory(viewport=DESKTOP, permissions=["clipboard-read", "clipboard-write"])
    page = s.page
    page.goto("/")
    turn = ask(page, "Which council does John Kirby work for?", 0)
    ask(page, "Who is John Kirby?", 1)
    with page.expect_download() as info:
        turn.locator("[data-action=export-turn]").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.name == "docqa-which-council-does-john-kirby-work-for.md"
    md = path.read_text(encoding="utf-8")
    print(md)
    sha = httpx.get(f"{server}/api/documents/{KIRBY_DOC}").json()["sha256"][:16]
    assert md.startswith("## Which council does John Kirby work for?\n")
    assert re.search(r"^\*\*Answer:\*\* .*National Security Council", md, re.M)
    assert re.search(r"^> .*\*\*.+\*\*", md, re.M)  # the sentence quoted, the span in bold
    link = re.search(r"^> — \[(.+)\]\((\S+)\)", md, re.M)
    assert link and link.group(2).startswith(f"{server}/documents/{KIRBY_DOC}?start=")
    assert link.group(2).endswith(f"&sha={sha}#hl")
    assert httpx.get(link.group(2)).status_code == 200  # the exported link opens the passage
    with page.expect_download() as info:
        page.locator("[data-action=export-all]").click()
    whole = tmp_path / "all.md"
    info.value.save_as(whole)
    text = whole.read_text(encoding="utf-8")
    assert text.startswith("# docqa conversation\n")
    assert "## Which council does John Kirby work for?" in text and "## Who is John Kirby?" in text
    copy = turn.locator("[data-action=copy-turn]")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == md


def test_enter_sends_and_shift_enter_starts_a_new_line(session_factory: Any) -> None:
    from playwright.sync_api import expect

    s = session_factory(viewport=DESKTOP)
    page = s.page
    page.goto("/")
    box = page.locator("#question")
    box.click()
    box.type("Which council")
    box.press("Shift+Enter")
    box.type("does John Kirby work for?")
    expect(box).to_have_value("Which council\ndoes John Kirby work for?")
    page.wait_for_timeout(300)
    expect(page.locator("#thread .turn")).to_have_count(0)  # Shift+Enter did not send
    box.press("Enter")
    expect(page.locator("#thread .turn")).to_have_count(1)
    expect(page.locator("#thread .turn .answer")).to_contain_text("National Security Council")
    expect(box).to_have_value("")


def test_a_stale_link_says_so_and_highlights_nothing(session_factory: Any, server: str) -> None:
    from playwright.sync_api import expect

    text = httpx.get(f"{server}/api/documents/{KIRBY_DOC}").json()["text"]
    start = text.index("John Kirby")
    s = session_factory(viewport=DESKTOP)
    page = s.page
    page.goto(f"/documents/{KIRBY_DOC}?start={start}&end={start + 10}&sha=0123456789abcdef#hl")
    expect(page.locator(".stale-notice")).to_contain_text(
        "This document has changed since this link was made; the passage it pointed to may have moved"
    )
    expect(page.locator("mark")).to_have_count(0)
    s.shot(page, "desktop-10-stale-link")


def check_axe(page: Any, name: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = results.response["violations"]
    for v in violations:
        print(f"axe {name}: {v['id']} ({v['impact']}): {v['help']} x{len(v['nodes'])}")
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, results.generate_report()


def test_axe_finds_nothing_serious(session_factory: Any) -> None:
    from playwright.sync_api import expect

    s = session_factory(viewport=DESKTOP)
    page = s.page
    page.goto("/")
    tick(page, KIRBY_DOC)
    turn = ask(page, "Which council does John Kirby work for?", 0)
    expect(turn.locator("a.citation").first).to_be_visible()
    check_axe(page, "chat")
    doc = open_citation(s, turn.locator("a.citation").first)
    assert doc.locator("mark#hl").count() == 1
    check_axe(doc, "document")


def test_phone_width_with_ticks_and_an_answer(session_factory: Any) -> None:
    from playwright.sync_api import expect

    s = session_factory(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = s.page
    page.goto("/")
    page.locator("#library").scroll_into_view_if_needed()
    tick(page, KIRBY_DOC)
    tick(page, PICKED[0])
    s.shot(page, "phone-4-ticked")
    turn = ask(page, "Which council does John Kirby work for?", 0)
    expect(turn.locator(".answer")).to_contain_text("National Security Council")
    page.wait_for_timeout(400)
    s.shot(page, "phone-5-answer-within")
    assert_fits_width(page, (".turn", ".ask", ".library", ".thread-tools", ".turn-tools"))
    doc = open_citation(s, turn.locator("a.citation").first)
    expect(doc.locator("mark#hl")).to_be_in_viewport()
    s.shot(doc, "phone-6-document")


def test_a_docx_and_a_two_page_pdf_uploaded_through_the_page(session_factory: Any, server: str, tmp_path: Path) -> None:
    # What a user does with their own files: pick a Word file and a PDF in the upload form, then
    # ask; the PDF answer names its page, the document page shows the page breaks.
    import docx
    from playwright.sync_api import expect

    pdf = tmp_path / "harbour.pdf"
    pdf.write_bytes(
        make_pdf(
            [
                "Harbour report\nThe harbour opened in 1901 after a long survey.",
                "Second part\nThe harbour master in 1950 was Ingrid Oduya.",
            ]
        )
    )
    word = docx.Document()
    word.add_heading("Lighthouse keepers", level=1)
    word.add_paragraph("The lighthouse on Skarv island was lit by paraffin until 1962.")
    table = word.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Keeper", "Years"
    table.cell(1, 0).text, table.cell(1, 1).text = "Tor Halvorsen", "1931-1958"
    word.save(str(tmp_path / "keepers.docx"))

    s = session_factory(viewport=DESKTOP)
    page = s.page
    page.goto("/")
    page.locator("#files").set_input_files([str(pdf), str(tmp_path / "keepers.docx")])
    page.locator("#key").fill(E2E_KEY)
    page.locator("#upload-form button").click()
    expect(page.locator("#upload-status .notice").first).to_contain_text("added harbour.pdf, keepers.docx")
    expect(page.locator("#doc-list")).to_contain_text("Lighthouse keepers")  # the .docx heading is its title

    turn = ask(page, "Who was the harbour master in 1950?", 0)
    expect(turn.locator(".answer")).to_contain_text("Ingrid Oduya")
    expect(turn.locator(".sources .page-ref").first).to_have_text("page 2")
    turn = ask(page, "Until when was the Skarv lighthouse lit by paraffin?", 1)
    expect(turn.locator(".answer")).to_contain_text("1962")
    assert source_docs(turn) == {"keepers.docx"}
    expect(turn.locator(".sources .page-ref")).to_have_count(0)  # a Word file has no pages

    doc = httpx.get(f"{server}/api/documents/harbour.pdf").json()
    docpage = open_citation(s, page.locator(".turn").nth(0).locator("a.citation").first)
    expect(docpage.locator(".page-break")).to_have_text(["Page 1", "Page 2"])
    expect(docpage.locator(".span-note .page-ref")).to_have_text("page 2")
    assert (
        docpage.locator(".doc-text").evaluate(
            "el => { const c = el.cloneNode(true); c.querySelectorAll('.page-break').forEach(b => b.remove());"
            " return c.textContent; }"
        )
        == doc["text"]
    )
    s.shot(docpage, "desktop-11-pdf-pages")


def test_page_breaks_on_the_document_page_at_phone_width(session_factory: Any, server: str) -> None:
    """A real three-page PDF, uploaded and read back: its document page at phone width."""
    from playwright.sync_api import expect

    pdf = make_pdf(
        [
            "Tide survey\nThe tide survey of the bay began in 1903 and took four summers.",
            "Keepers\nThe tide tables were kept by Ingrid Oduya from 1950.",
            "Later years\nThe tide gauge was rebuilt in 1987.",
        ]
    )
    r = httpx.post(
        f"{server}/api/documents",
        headers={"Authorization": f"Bearer {E2E_KEY}"},
        files={"files": ("tides.pdf", pdf, "application/pdf")},
        timeout=120,
    )
    assert r.status_code == 201, r.text
    doc = httpx.get(f"{server}/api/documents/tides.pdf").json()
    assert len(doc["pages"]) == 3
    start = doc["text"].index("Ingrid Oduya")
    s = session_factory(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = s.page
    sha = doc["sha256"][:16]
    page.goto(f"{server}/documents/tides.pdf?start={start}&end={start + 12}&sha={sha}#hl")
    expect(page.locator(".page-break")).to_have_text(["Page 1", "Page 2", "Page 3"])
    expect(page.locator("mark#hl")).to_have_text("Ingrid Oduya")
    expect(page.locator("mark#hl")).to_be_in_viewport()
    expect(page.locator(".span-note")).to_contain_text("page 2")
    s.shot(page, "phone-7-document-pages", full_page=True)


def test_asking_within_a_document_deleted_meanwhile_says_so(session_factory: Any, server: str) -> None:
    from playwright.sync_api import expect

    auth = {"Authorization": f"Bearer {E2E_KEY}"}
    r = httpx.post(f"{server}/api/documents", headers=auth, files={"files": ("otters.txt", b"Otters\n\nTwelve.")})
    assert r.status_code == 201, r.text
    s = session_factory(viewport=DESKTOP)
    page = s.page
    page.goto("/")
    tick(page, "otters.txt")
    tick(page, KIRBY_DOC)
    assert httpx.delete(f"{server}/api/documents/otters.txt", headers=auth).status_code == 200
    page.locator("#question").fill("How many otters?")
    page.locator("#question").press("Enter")
    expect(page.locator("#thread .error")).to_contain_text("“otters.txt” is no longer among the documents")
    s.problems.remove("Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)")
    expect(page.locator("#doc-list input[value='otters.txt']")).to_have_count(0)  # the list is fresh
    expect(page.locator(f"#doc-list input[value='{KIRBY_DOC}']")).to_be_checked()
    expect(page.locator("#question")).to_have_value("How many otters?")  # kept, to ask again
    expect(page.locator("#thread .turn")).to_have_count(0)
