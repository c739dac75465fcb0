"""Paged text: running headers and footers go, hyphenated line breaks mend, page starts are exact."""

from __future__ import annotations

from qa.ingest.pages import join_hyphenated, join_pages, remove_running_lines


def test_running_headers_and_footers_are_removed_page_numbers_and_all() -> None:
    bodies = [
        ["The board met in March.", "Dredging was discussed."],
        ["The pilots asked for a new boat.", "It was approved."],
        ["Fees rise in June.", "The vote was close."],
        ["The next meeting is in May.", "Minutes end here."],
    ]
    pages = [["Harbour Board minutes", *body, f"Page {n} of 4"] for n, body in enumerate(bodies, 1)]
    assert remove_running_lines(pages) == bodies


def test_two_pages_are_left_alone() -> None:
    pages = [["Header", "One."], ["Header", "Two."]]
    assert remove_running_lines(pages) == pages


def test_a_line_on_only_some_pages_stays() -> None:
    pages = [["Chapter one", "A."], ["B."], ["C."], ["Chapter one", "D."], ["E."]]
    assert remove_running_lines(pages) == pages


def test_hyphenated_line_breaks_join_unless_the_word_is_hyphenated_elsewhere() -> None:
    pages = ["An inter-\nnational port and a well-\nknown pier.", "The well-known pier again. Kiel-\nHarbour."]
    assert join_hyphenated(pages) == [
        "An international port and a well-known pier.",
        "The well-known pier again. Kiel-\nHarbour.",  # a capital on either side: a name, left alone
    ]


def test_page_starts_point_at_each_page_in_the_joined_text() -> None:
    text, starts = join_pages(["", "One.", "", "Three.", ""])
    assert text == "One.\n\nThree."
    assert starts == (0, 0, 6, 6, len(text))
    assert text[starts[3] :].startswith("Three.")
