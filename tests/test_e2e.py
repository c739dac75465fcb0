"""End to end: `qa serve` in a subprocess, driven by a real Chromium through Playwright."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.servers import qa_serve
from tests.web_fixtures import copy_index

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
E2E_KEY = "e2e-secret-key"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
ANSWER_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def server(web_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`qa serve` on a free loopback port over a private copy of the index (the upload test writes to it)."""
    index = copy_index(web_index, tmp_path_factory.mktemp("e2e") / "index")
    log = tmp_path_factory.mktemp("e2e-log") / "serve.log"
    env = {"QA_API_KEY": E2E_KEY, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with qa_serve(index, log, env=env, host="127.0.0.1", timeout=120) as (_, url):
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (`make browser`) to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Session:
    """One browser context plus the console problems it logged (CSP violations, script errors)."""

    def __init__(self, browser: Any, base_url: str, shots: Path, **context_args: Any) -> None:
        self.context = browser.new_context(base_url=base_url, **context_args)
        self.problems: list[str] = []
        self.shots = shots
        self.context.on("page", self.watch)
        self.page = self.context.new_page()

    def watch(self, page: Any) -> None:
        page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.problems.append(str(e)))

    def shot(self, page: Any, name: str, full_page: bool = False) -> None:
        path = self.shots / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        print(f"screenshot: {path}")


@pytest.fixture
def session_factory(browser: Any, server: str, screenshot_dir: Path) -> Iterator[Any]:
    from playwright.sync_api import expect

    expect.set_options(timeout=ANSWER_TIMEOUT_MS)
    sessions: list[Session] = []

    def make(**context_args: Any) -> Session:
        s = Session(browser, server, screenshot_dir, **context_args)
        sessions.append(s)
        return s

    yield make
    for s in sessions:
        s.context.close()
    problems = [p for s in sessions for p in s.problems]
    assert not problems, f"console errors (CSP violations?): {problems}"


def assert_fits_width(page: Any, selectors: Sequence[str], width: int = PHONE["width"]) -> None:
    """Every element matching each selector lies within the window's width: nothing scrolls sideways."""
    for selector in selectors:
        for box in (el.bounding_box() for el in page.locator(selector).all()):
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, selector


def ask(page: Any, question: str, turns_before: int) -> Any:
    from playwright.sync_api import expect

    page.locator("#question").fill(question)
    page.locator("#question").press("Enter")
    turn = page.locator("#thread .turn").nth(turns_before)
    expect(page.locator("#thread .turn")).to_have_count(turns_before + 1)
    return turn


def open_citation(s: Any, citation: Any) -> Any:
    """Click a citation, which opens the document in a new tab, and return that tab once loaded."""
    with s.context.expect_page() as opened:
        citation.click()
    doc = opened.value
    doc.wait_for_load_state()
    return doc


# ---------------------------------------------------------------- the tests


def test_ask_see_the_answer_and_open_the_citation(session_factory: Any) -> None:
    from playwright.sync_api import expect

    s = session_factory(viewport=DESKTOP)
    page = s.page
    page.goto("/")
    expect(page.locator(".doc-list li")).to_have_count(5)
    s.shot(page, "desktop-0-start")

    page.locator("#question").fill("Which council does John Kirby work for?")
    page.locator("#question").press("Enter")
    expect(page.locator("#loading")).to_be_visible()  # the indicator shows while the server works
    turn = page.locator("#thread .turn").first
    expect(turn.locator(".answer")).to_contain_text("National Security Council")
    expect(page.locator("#loading")).to_be_hidden()
    expect(page.locator("#question")).to_have_value("")
    assert "#latest" not in page.url  # htmx swapped the answer in; the no-JS form post would have navigated
    citation = turn.locator("a.citation").first
    expect(citation).to_be_visible()
    span = turn.locator(".sources blockquote mark").first.inner_text()
    assert span.strip()
    s.shot(page, "desktop-1-answer")

    doc = open_citation(s, citation)
    assert "/documents/003_4ab8a011891d9a26.txt?start=" in doc.url
    mark = doc.locator("mark#hl")
    expect(mark).to_have_text(span)
    expect(mark).to_be_in_viewport()
    s.shot(doc, "desktop-2-document")


def test_follow_up_question_is_understood(session_factory: Any) -> None:
    from playwright.sync_api import expect

    s = session_factory(viewport=DESKTOP)
    page = s.page
    page.goto("/")
    ask(page, "Who is John Kirby?", 0)
    second = ask(page, "Which network did he speak on?", 1)
    expect(second.locator(".understood")).to_contain_text("Kirby")
    expect(second.locator(".reply")).to_be_visible()
    s.shot(page, "desktop-3-follow-up")
    third = ask(page, "What is the boiling point of mercury?", 2)
    expect(third.locator(".answer.abstain")).to_have_text("The documents don't say.")
    expect(third.locator(".sources li").first).to_be_visible()
    ask(page, "How many officials signed the petition?", 3)
    s.shot(page, "desktop-4-abstention-and-more", full_page=True)


def test_phone_width_layout_holds(session_factory: Any) -> None:
    from playwright.sync_api import expect

    s = session_factory(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = s.page
    page.goto("/")
    s.shot(page, "phone-0-start")
    turn = ask(page, "Which council does John Kirby work for?", 0)
    expect(turn.locator(".answer")).to_be_visible()
    ask(page, "Which network did he speak on?", 1)
    page.wait_for_timeout(400)  # let the smooth scroll settle before the screenshot
    s.shot(page, "phone-1-answers")
    assert_fits_width(page, (".layout", ".turn", ".ask", ".library", ".topbar"))
    doc = open_citation(s, turn.locator("a.citation").first)
    expect(doc.locator("mark#hl")).to_be_in_viewport()
    s.shot(doc, "phone-2-document")
    page.locator("#library").scroll_into_view_if_needed()
    s.shot(page, "phone-3-documents")


def test_works_without_javascript(session_factory: Any) -> None:
    from playwright.sync_api import expect

    s = session_factory(viewport=DESKTOP, java_script_enabled=False)
    page = s.page
    page.goto("/")
    # Without JS the question box is a plain <textarea>: Enter is a new line, the Ask button sends.
    page.locator("#question").fill("Which council does John Kirby work for?")
    with page.expect_navigation():
        page.locator("#ask-form button[type=submit]").click()
    expect(page.locator("#thread .turn .answer")).to_contain_text("National Security Council")
    expect(page.locator("[data-action=export-turn]")).to_be_hidden()  # JS-only buttons stay out of the way
    page.locator("#question").fill("Which network did he speak on?")
    with page.expect_navigation():
        page.locator("#ask-form button[type=submit]").click()
    expect(page.locator("#thread .turn")).to_have_count(2)
    expect(page.locator("#thread .turn").nth(1).locator(".understood")).to_contain_text("Kirby")
    s.shot(page, "nojs-1-follow-up")


def test_upload_from_the_page_then_ask_about_it(session_factory: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    note = tmp_path / "glaciers.txt"
    note.write_text(
        "Glacier survey\n\nThe Vatnajokull survey counted 27 outlet glaciers in 2021. "
        "The survey was led by Ragna Sig.\n",
        encoding="utf-8",
    )
    s = session_factory(viewport=DESKTOP)
    page = s.page
    page.goto("/")
    page.locator("#files").set_input_files(str(note))
    page.locator("#key").fill("not-the-key")
    page.locator("#upload-form button").click()
    expect(page.locator("#upload-status .error")).to_contain_text("wrong")
    s.problems.remove("Failed to load resource: the server responded with a status of 403 (Forbidden)")
    page.locator("#key").fill(E2E_KEY)
    ticked = page.locator("#doc-list input[value='003_4ab8a011891d9a26.txt']")
    ticked.check()
    page.locator("#upload-form button").click()
    expect(page.locator("#upload-status .notice")).to_contain_text("added glaciers.txt")
    expect(page.locator("#doc-list")).to_contain_text("glaciers.txt")
    expect(page.locator("#doc-count")).to_have_text("6")
    # The list was swapped in afresh; what was ticked stays ticked, the new document is not.
    expect(page.locator("#doc-list input[value='003_4ab8a011891d9a26.txt']")).to_be_checked()
    expect(page.locator("#doc-list input[value='glaciers.txt']")).not_to_be_checked()
    page.locator("#doc-list input[value='003_4ab8a011891d9a26.txt']").uncheck()
    page.locator("#upload-status").scroll_into_view_if_needed()
    s.shot(page, "desktop-5-uploaded")
    turn = ask(page, "How many outlet glaciers did the Vatnajokull survey count?", 0)
    expect(turn.locator(".answer")).to_contain_text("27")
    link = turn.locator("a.citation").first
    expect(link).to_have_attribute("href", re.compile(r"^/documents/glaciers\.txt\?start=\d+"))
    s.shot(page, "desktop-6-answer-from-upload")


def test_api_docs_render_offline_under_the_csp(session_factory: Any) -> None:
    from playwright.sync_api import expect

    s = session_factory(viewport=DESKTOP)
    page = s.page
    page.goto("/docs")
    expect(page.locator(".swagger-ui .opblock")).to_have_count(6)
    s.shot(page, "desktop-7-api-docs")
