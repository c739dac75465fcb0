"""Hostile and broken input: arbitrary Unicode, damaged and malicious files, API fuzzing, attacks on
the upload endpoints, and markup smuggled into documents and questions."""

from __future__ import annotations

import codecs
import inspect
import io
import json
import os
import re
import socket
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from qa import annotate, ingest
from qa.chunk import approx_tokens, make_passages, split_sentences
from qa.config import Settings
from qa.errors import DocQAError, InvalidQuestionError
from qa.indexer import update_index
from qa.models import Answer
from qa.pipeline import Pipeline
from tests.fakes import FakeEmbedder
from tests.pdfgen import assemble_pdf, make_pdf
from tests.servers import (
    require_slow,
    uvicorn_in_thread,
)
from tests.web_fixtures import API_KEY, copy_index

AUTH = {"Authorization": f"Bearer {API_KEY}"}

# ---------------------------------------------------------------- hostile text

# Pieces that break naive text code: combining marks, emoji and ZWJ sequences, flags, RTL text and
# direction overrides, every kind of line break, NUL, BOMs, letters whose case changes their length
# (İ lowers to two characters, ß uppers to two), ligatures, abbreviations and sentence punctuation.
NASTY = [
    "e\u0301",
    "\u0651",
    "\u20dd",
    "😀",
    "👩\u200d👩\u200d👧",
    "🇸🇪",
    "\u200f",
    "\u202e",
    "\u2066",
    "\u200b",
    "\ufeff",
    "\r\n",
    "\r",
    "\n",
    "\n\n",
    "\x00",
    "\t",
    "\x0b",
    "\x0c",
    "\x85",
    "\u2028",
    "\u2029",
    " ",
    "   ",
    ".",
    "!",
    "?",
    "…",
    "...",
    "“",
    "”",
    '"',
    "'",
    "«",
    "»",
    "(",
    ")",
    "[",
    "]",
    "Mr.",
    "U.S.",
    "e.g.",
    "No. 5",
    "שָׁלוֹם",
    "مرحبا",
    "中文。",
    "İ",
    "ß",
    "ﬁ",
    "Σ",
    "ǅ",
    "ﷺ",
    "\U0001d54f",
    "3.5",
    "1,000",
    "$12",
    "10 km",
]
WORDS = [
    "Ansel",
    "Brandt",
    "Orvella",
    "lighthouse",
    "keeper",
    "founded",
    "1987",
    "island",
    "Kaldor",
    "ferry",
    "Visby",
    "the",
    "is",
    "of",
    "in",
    "was",
    "by",
    "Quell",
    "Marta",
    "rubles",
    "officials",
    "signed",
]

piece = st.one_of(
    st.sampled_from(NASTY),
    st.sampled_from(WORDS),
    st.text(st.characters(codec="utf-8"), max_size=4),  # anything encodable, unassigned code points included
)
hostile_text = st.lists(piece, max_size=120).map("".join)
sentence_of_words = st.lists(st.sampled_from(WORDS), min_size=3, max_size=10).map(" ".join)


def check_sentences(text: str) -> None:
    sents = split_sentences(text)
    prev_end = 0
    for s in sents:
        assert prev_end <= s.start < s.end <= len(text), (s, len(text))
        assert not text[s.start].isspace() and not text[s.end - 1].isspace()
        prev_end = s.end
    covered = "".join(text[s.start : s.end] for s in sents)
    assert "".join(covered.split()) == "".join(text.split())  # nothing lost but white space


def check_passages(text: str, count_tokens: Callable[[str], int] = approx_tokens, max_tokens: int = 200) -> None:
    passages = make_passages("d", text, split_sentences(text), max_tokens=max_tokens, count_tokens=count_tokens)
    covered = bytearray(len(text))
    for a, b in zip(passages, passages[1:]):
        assert a.start <= b.start
    for p in passages:
        assert 0 <= p.start < p.end <= len(text)
        assert p.text == text[p.start : p.end]
        assert count_tokens(p.text) <= max_tokens
        covered[p.start : p.end] = b"\x01" * (p.end - p.start)
    # Every character no passage holds is white space: no text is lost.
    gaps = re.finditer(rb"\x00+", bytes(covered))
    assert all(text[m.start() : m.end()].isspace() for m in gaps)


@settings(max_examples=300, deadline=None)
@given(text=hostile_text)
def test_sentences_and_passages_are_exact_offsets_over_any_unicode(text: str) -> None:
    check_sentences(text)
    check_passages(text)
    check_passages(text, max_tokens=20)  # tiny windows (the cutter never goes below 16 characters)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=hostile_text)
def test_passages_fit_the_real_tokenizer_over_any_unicode(embedder: Any, text: str) -> None:
    check_passages(text, count_tokens=embedder.count_tokens)


# A 5 MB line with no line break: every kind of piece above, repeated.
FIVE_MB_UNIT = "Kaldor😀 שָׁלוֹם e\u0301te\u0301 مرحبا …「中文」\x00 İß \u202e(x) Mr. U.S. " * 4
PATHOLOGICAL_LINES = {
    "mixed": lambda n: (FIVE_MB_UNIT * (n // len(FIVE_MB_UNIT) + 1))[:n],
    "a.a.a.": lambda n: "a." * (n // 2),  # was quadratic: every '.' walked back over the whole run
    "dots": lambda n: "." * n,
    "no-space": lambda n: "x" * n,
    "words": lambda n: ("word " * (n // 5))[:n],
}


@pytest.mark.parametrize("kind", ["mixed", "a.a.a."])
def test_a_5mb_single_line_is_chunked_exactly_and_quickly(kind: str) -> None:
    text = PATHOLOGICAL_LINES[kind](5_000_000 if kind == "mixed" else 1_000_000)
    t0 = time.perf_counter()
    check_sentences(text)
    passages = make_passages("d", text, split_sentences(text))
    elapsed = time.perf_counter() - t0
    assert passages[0].start == 0 or text[: passages[0].start].isspace()
    assert all(p.text == text[p.start : p.end] for p in passages)
    assert elapsed < 120, f"{elapsed:.0f} s"


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(PATHOLOGICAL_LINES))
def test_every_pathological_5mb_line_is_chunked_exactly(request: pytest.FixtureRequest, kind: str) -> None:
    require_slow(request)
    text = PATHOLOGICAL_LINES[kind](5_000_000)
    t0 = time.perf_counter()
    check_sentences(text)
    check_passages(text)
    assert time.perf_counter() - t0 < 300


# ---------------------------------------------------------------- the answerer over hostile text


def check_answer(pipe: Pipeline, ans: Answer) -> None:
    """Every offset the answer gives slices the stored document exactly; the JSON form serialises."""
    data = pipe.live.data
    json.dumps(ans.to_dict(), ensure_ascii=False)
    cites = list(ans.citations) + [c for alt in ans.alternatives for c in alt.citations]
    if not ans.abstained:
        assert ans.answer and cites
    for c in cites:
        text = data.text_of(c.doc_id)
        assert 0 <= c.start <= c.end <= len(text)
        assert text[c.start : c.end] == c.text
        assert text[c.sentence_start : c.sentence_start + len(c.sentence)] == c.sentence
        assert c.sentence_start <= c.start and c.end <= c.sentence_start + len(c.sentence)
    for h in ans.passages:
        p = h.passage
        assert data.text_of(p.doc_id)[p.start : p.end] == p.text


question_text = st.one_of(
    hostile_text,
    st.builds(
        lambda w, q: f"{q} {w}?",
        st.sampled_from(WORDS),
        st.sampled_from(["Who is", "What is", "How many", "When was", "Where is", "Who founded"]),
    ),
    st.text(st.characters(codec=None), max_size=40),  # lone surrogates too: refused, never a crash
)
hostile_doc = st.tuples(sentence_of_words, hostile_text, sentence_of_words, hostile_text).map(
    lambda t: f"{t[0]}. {t[1]}\n\n{t[2]}. {t[3]}".replace("\x00", "")
)  # NUL up front reads as binary


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    docs=st.lists(hostile_doc, min_size=1, max_size=3),
    questions=st.lists(question_text, min_size=1, max_size=4),
    follow_up=st.booleans(),
)
def test_answers_over_hostile_documents_cite_exact_offsets(
    embedder: Any, tmp_path_factory: pytest.TempPathFactory, docs: list[str], questions: list[str], follow_up: bool
) -> None:
    pipe = Pipeline(Settings(index_dir=tmp_path_factory.mktemp("hostile")), embedder=embedder)
    pipe.ingest(uploads=[(f"d{i}.txt", t.encode("utf-8")) for i, t in enumerate(docs)])
    history: list[dict[str, Any]] = []
    for q in questions:
        try:
            ans = pipe.ask(q, history=history if follow_up else None)
        except InvalidQuestionError:
            assert not q.strip() or len(q) > 2000 or any(0xD800 <= ord(ch) <= 0xDFFF for ch in q)
            continue
        check_answer(pipe, ans)
        history.append({"question": q, "answer": ans.answer})


def test_nul_bytes_past_the_binary_sniffing_window_are_answerable(embedder: Any, tmp_path: Path) -> None:
    text = "Harbour log.\n\n" + "The tide was calm today. " * 400 + "\n\nThe keeper\x00 of Orvella is Ansel\x00Brandt."
    pipe = Pipeline(Settings(index_dir=tmp_path / "ix"), embedder=embedder)
    pipe.ingest(uploads=[("nul.txt", text.encode())])
    for q in ("Who is the keeper of Orvella?", "Who is\x00 the keeper?", "\x00"):
        check_answer(pipe, pipe.ask(q))


def test_a_large_single_line_document_is_ingested_and_answered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Named-entity search is stubbed: spaCy needs minutes for megabytes (measured separately), and it
    # is the chunker, the index and the answerer that a long line can break.
    monkeypatch.setattr(annotate, "entities", lambda texts: [[] for _ in texts])
    line = "The keeper of the Orvella lighthouse is Ansel Brandt. " + PATHOLOGICAL_LINES["mixed"](1_000_000)
    pipe = Pipeline(Settings(index_dir=tmp_path / "ix"), embedder=FakeEmbedder())
    pipe.ingest(uploads=[("line.txt", line.replace("\x00", "").encode())])
    for q in ("Who is the keeper of the Orvella lighthouse?", "What is Kaldor?", "e\u0301te\u0301?"):
        check_answer(pipe, pipe.ask(q))


@pytest.mark.slow
def test_a_5mb_single_line_document_is_ingested_and_answered(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_slow(request)
    monkeypatch.setattr(annotate, "entities", lambda texts: [[] for _ in texts])
    line = "The keeper of the Orvella lighthouse is Ansel Brandt. " + PATHOLOGICAL_LINES["mixed"](5_000_000)
    pipe = Pipeline(Settings(index_dir=tmp_path / "ix"), embedder=FakeEmbedder())
    pipe.ingest(uploads=[("line.txt", line.replace("\x00", "").encode())])
    for q in ("Who is the keeper of the Orvella lighthouse?", "What is Kaldor?"):
        check_answer(pipe, pipe.ask(q))


# ---------------------------------------------------------------- hostile files


def flate_pdf(content: bytes | Iterator[bytes]) -> bytes:
    """A one-page PDF whose content stream is `content`, FlateDecode-compressed (streamed in)."""
    comp = zlib.compressobj(9)
    chunks = [content] if isinstance(content, bytes) else content
    stream = b"".join([*(comp.compress(c) for c in chunks), comp.flush()])
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    return assemble_pdf(objects)


def repeated(unit: bytes, total: int) -> Iterator[bytes]:
    block = unit * max(1, (1 << 20) // len(unit))
    yield b"BT /F1 12 Tf 72 720 Td\n"
    for _ in range(total // len(block)):
        yield block
    yield b"ET\n"


def encrypted_pdf(user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(["Vault notes", "The vault opens at nine."]))))
    writer.encrypt(user_password=user_password, owner_password="owner-secret")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


HOSTILE_HTML = b"""<!doctype html><html><head><title>Pilot &lt;notes&gt;</title>
<script>alert('head')</script><style>body { background: url(javascript:alert(1)) }</style></head>
<body onload="alert('load')"><p>The pilot boat <b onclick="steal()">Sula</b> leaves at dawn.</p>
<img src=x onerror="alert('img')"><a href="javascript:alert('link')">harbour timetable</a>
<svg onload="alert('svg')"><script>alert('svg-script')</script></svg>
<iframe src="javascript:alert('frame')"></iframe><noscript>enable javascript</noscript>
<p>"><img src=x onerror=alert('attr')></p><script>unclosed("""


@cache
def hostile_files() -> dict[str, tuple[bytes, str, str]]:
    """name -> (bytes, expected outcome 'ingested' | 'skipped', a word the text or the reason must contain)."""
    rng = __import__("random").Random(8)
    good = make_pdf(["Harbour Authority report", "The tug Neptune was built in 1961."])
    return {
        "good.txt": (b"Ferry news\n\nThe ferry Aurora sails to Visby at noon.\n", "ingested", "Aurora"),
        "empty.txt": (b"", "skipped", "empty"),
        "blank.md": (b" \n\t\r\n ", "skipped", "empty"),
        "binary.txt": (bytes(rng.randrange(256) for _ in range(4096)), "skipped", "binary"),
        "invalid-utf8.txt": (b"Caf\xe9 notes\n\nThe caf\xe9 opens at \xff\xfe eight.", "ingested", "Café"),
        "utf16.txt": (codecs.BOM_UTF16_LE + "Zürich – “quoted” café.".encode("utf-16-le"), "ingested", "Zürich"),
        "utf16be.md": (codecs.BOM_UTF16_BE + "Ærø ferry notes.".encode("utf-16-be"), "ingested", "Ærø"),
        "utf32.txt": (codecs.BOM_UTF32_LE + "Ålesund harbour.".encode("utf-32-le"), "ingested", "Ålesund"),
        "bad-utf16.txt": (codecs.BOM_UTF16_LE + b"\x00\xd8\x41", "skipped", "utf-16"),
        "hostile.html": (HOSTILE_HTML, "ingested", "pilot boat Sula leaves at dawn"),
        "only-script.html": (b"<html><script>alert(1)</script></html>", "skipped", "no text"),
        "deep.html": (b"<div>" * 50_000 + b"Deep inside." + b"</div>" * 50_000, "ingested", "Deep inside"),
        "good.pdf": (good, "ingested", "Neptune"),
        "fake.pdf": (b"This is plain text named .pdf", "skipped", "%PDF"),
        "garbage.pdf": (b"%PDF-1.7\n" + bytes(rng.randrange(256) for _ in range(3000)), "skipped", "PDF"),
        "truncated.pdf": (good[: len(good) // 2], "either", ""),
        "encrypted.pdf": (encrypted_pdf("secret"), "skipped", "encrypted"),
        "restricted.pdf": (encrypted_pdf(""), "ingested", "vault opens at nine"),  # no password to open
        "bomb.pdf": (flate_pdf(repeated(b"\0", 100_000_000)), "skipped", "enormous"),
        "dense.pdf": (
            flate_pdf(repeated(b"(AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA) Tj\n", 6_000_000)),
            "skipped",
            "drawing instructions",
        ),
        "naïve résumé ✓.md": ("# Résumé\n\nThe naïve résumé lists three ships.".encode(), "ingested", "three ships"),
    }


HUNDRED_MB = 100 * 1024 * 1024


def write_hostile_folder(folder: Path) -> dict[str, tuple[bytes, str, str]]:
    files = hostile_files()
    for name, (data, _, _) in files.items():
        (folder / name).write_bytes(data)
    # Files that must never be opened: a FIFO would block a reader forever, /dev/zero never ends.
    os.mkfifo(folder / "pipe.txt")
    (folder / "zero.txt").symlink_to("/dev/zero")
    (folder / "loop").symlink_to(folder)
    with (folder / "huge.txt").open("wb") as f:
        block = b"The quick brown fox jumps over the lazy dog. " * 23_000
        while f.tell() < HUNDRED_MB:
            f.write(block)
    return files


def bytes_read_by_this_process() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise RuntimeError("no rchar")


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple[bytes, str, str]]]:
    folder = tmp_path_factory.mktemp("hostile-docs")
    return folder, write_hostile_folder(folder)


def test_a_batch_of_hostile_files_is_ingested_or_refused_with_reasons(
    hostile_folder: tuple[Path, dict[str, tuple[bytes, str, str]]], tmp_path: Path
) -> None:
    folder, files = hostile_folder
    warnings: list[str] = []
    t0 = time.monotonic()
    report = update_index(Settings(index_dir=tmp_path / "ix"), FakeEmbedder(), roots=[folder], warn=warnings.append)
    elapsed = time.monotonic() - t0
    assert elapsed < 180, f"the batch took {elapsed:.0f} s"
    skipped = {Path(p).name: reason for p, reason in report.skipped}
    pipe = Pipeline(Settings(index_dir=tmp_path / "ix"), embedder=FakeEmbedder()).load()
    ingested = {d.doc_id for d in pipe.documents()}
    outcomes = {}
    for name, (_, expected, needle) in files.items():
        if name in ingested:
            outcomes[name] = "ingested"
            text = pipe.document(name).text
            assert needle in text, (name, text[:200])
        else:
            assert name in skipped, f"{name} neither ingested nor reported"
            outcomes[name] = "skipped: " + skipped[name]
            assert needle.lower() in skipped[name].lower() and name in skipped[name], (name, skipped[name])
        assert expected in ("either", outcomes[name].split(":")[0]), (name, outcomes[name])
    # The 100 MB file is refused by its size; the FIFO, /dev/zero and the symlink loop are never opened.
    assert "huge.txt" in skipped and "limit" in skipped["huge.txt"], skipped.get("huge.txt")
    assert not {"pipe.txt", "zero.txt"} & (ingested | set(skipped))
    # Everything readable in the batch landed; nothing else did.
    assert ingested == {n for n, o in outcomes.items() if o == "ingested"}
    assert len(warnings) == len(report.skipped)
    hostile = pipe.document("hostile.html")
    assert hostile.title == "Pilot <notes>"
    for bad in ("alert", "onerror", "onclick", "javascript", "steal", "unclosed"):
        assert bad not in hostile.text, bad
    print("\n".join(f"{n}: {o} " for n, o in sorted(outcomes.items())))


def test_a_100mb_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text("Ferry news\n\nThe ferry Aurora sails to Visby at noon.\n")
    with (folder / "huge.txt").open("wb") as f:
        f.truncate(HUNDRED_MB)  # sparse: only the size matters, and reading it would show in rchar
    before = bytes_read_by_this_process()
    report = update_index(Settings(index_dir=tmp_path / "ix"), FakeEmbedder(), roots=[folder])
    read = bytes_read_by_this_process() - before
    assert report.added == ["good.txt"] and [Path(p).name for p, _ in report.skipped] == ["huge.txt"]
    assert read < 20 * 1024 * 1024, f"{read / 1e6:.0f} MB read"


def test_read_file_refuses_a_large_file_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "huge.txt"
    with big.open("wb") as f:
        f.truncate(HUNDRED_MB)
    before = bytes_read_by_this_process()
    with pytest.raises(DocQAError, match=r"huge.txt: the file is 100.0 MB; the limit is 64.0 MB"):
        ingest.read_file(big)
    assert bytes_read_by_this_process() - before < 1024 * 1024
    small = tmp_path / "small.txt"
    small.write_bytes(b"x" * 100)
    assert ingest.read_file(small) == b"x" * 100
    with pytest.raises(DocQAError, match="limit"):
        ingest.read_file(small, max_bytes=99)


def test_parse_document_refuses_more_than_the_file_limit() -> None:
    with pytest.raises(DocQAError, match="limit"):
        ingest.parse_document("big.txt", b"a" * (ingest.MAX_FILE_BYTES + 1))


pdf_base = make_pdf(["Harbour Authority report", "The tug Neptune was built in 1961.", "Page three."])


@st.composite
def damaged_pdfs(draw: st.DrawFn) -> bytes:
    data = bytearray(pdf_base)
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "digits"]))
        pos = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[pos] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[pos : pos + draw(st.integers(1, 200))]
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(max_size=50)) + draw(
                st.sampled_from(
                    [
                        b"",
                        b" obj ",
                        b"<<",
                        b">>",
                        b"[",
                        b"stream\n",
                        b"/Length 999999999",
                        b"/Filter /FlateDecode",
                        b"9999999999 0 R",
                        b"/Count 100000000",
                        b"/Kids [1 0 R]",
                        b"((((((((",
                    ]
                )
            )
        else:
            data[pos : pos + 1] = str(draw(st.integers(0, 10**12))).encode()
        if not data:
            data = bytearray(b"%PDF")
    return bytes(data)


@settings(max_examples=150, deadline=None)
@given(data=damaged_pdfs())
def test_damaged_pdfs_are_read_or_refused_never_a_crash(data: bytes) -> None:
    assume(data.startswith(b"%PDF"))
    t0 = time.perf_counter()
    try:
        doc = ingest.parse_document("d.pdf", data)
    except DocQAError as e:
        assert "d.pdf" in str(e)
    else:
        assert doc.text.strip()
    assert time.perf_counter() - t0 < 30


def test_hostile_files_uploaded_one_by_one_get_clear_statuses(
    make_upload_client: Callable[..., TestClient],
) -> None:
    client = make_upload_client()
    statuses = {}
    for name, (data, expected, _) in hostile_files().items():
        r = client.post("/api/documents", files={"files": (name, data)}, headers=AUTH)
        statuses[name] = r.status_code
        assert r.status_code in (201, 400, 413, 415), (name, r.status_code, r.text)
        if r.status_code != 201:
            assert set(r.json()) == {"detail"} and name in r.json()["detail"], r.text
        if expected != "either":
            assert (r.status_code == 201) == (expected == "ingested"), (name, r.status_code, r.text)
    r = client.post("/api/documents", files={"files": ("huge.txt", b"w" * HUNDRED_MB)}, headers=AUTH)
    assert r.status_code == 413
    assert client.get("/healthz").json()["documents"] == 5 + sum(s == 201 for s in statuses.values())


# ---------------------------------------------------------------- API fuzzing from the OpenAPI schema


FUZZ = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def fuzz(app: Any, mode: str, **include: Any) -> list[str]:
    """Up to 30 generated requests per operation of the app's OpenAPI schema (valid ones, or ones that
    break the schema on purpose); fails on any 5xx, or an error without a JSON `detail`."""
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    if include:
        schema = schema.include(**include)
    done = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @FUZZ
        @given(case=operation.as_strategy(generation_mode=GenerationMode(mode)))
        def check(case: Any) -> None:
            response = case.call(headers=AUTH)
            assert response.status_code < 500, (
                case.method,
                case.formatted_path,
                response.status_code,
                response.text[:500],
            )
            if response.status_code >= 400:
                assert "detail" in response.json(), response.text[:300]

        try:
            check()
        except Unsatisfiable:
            assert mode == "negative"  # an operation without parameters has nothing to break
            continue
        done.append(f"{operation.method.upper()} {operation.path}")
    return done


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_fuzzed_requests_never_get_a_500(web_pipeline: Pipeline, mode: str) -> None:
    """Every operation over the shared index; writes are refused there (no key configured)."""
    from web.app import create_app

    done = fuzz(create_app(replace(web_pipeline.settings, api_key=None), web_pipeline), mode)
    assert len(done) == 6 if mode == "positive" else "POST /api/ask" in done, done


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_fuzzed_uploads_and_deletes_never_get_a_500(web_pipeline: Pipeline, tmp_path: Path, mode: str) -> None:
    """Uploads and deletes with the key, against a private copy of the index."""
    from web.app import create_app

    index = copy_index(web_pipeline.settings.index_dir, tmp_path / "index")
    settings_ = replace(web_pipeline.settings, index_dir=index, api_key=API_KEY)
    app = create_app(settings_, Pipeline(settings_, embedder=web_pipeline.embedder).load())
    done = fuzz(app, mode, path_regex=r"^/api/documents", method=["POST", "DELETE"])
    assert len(done) == 2, done


# ---------------------------------------------------------------- who may write


def test_the_api_key_is_compared_in_constant_time(keyed_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    from web import deps

    source = inspect.getsource(deps.check_api_key)
    assert "compare_digest(" in source
    assert not re.search(r"(given|expected|api_key)\s*[!=]=\s*(given|expected|settings\.api_key)", source)
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert (
        keyed_client.post(
            "/api/documents", files={"files": ("a.txt", b"x")}, headers={"Authorization": "Bearer nope"}
        ).status_code
        == 403
    )
    assert keyed_client.post("/upload", data={"key": "nope"}, files={"files": ("a.txt", b"x")}).status_code == 403
    assert calls == [(b"nope", API_KEY.encode())] * 2


@pytest.mark.parametrize(
    "path",
    [
        "/api/documents/..%2F..%2Fetc%2Fpasswd",
        "/api/documents/%2E%2E/index/CURRENT",
        "/api/documents/%2Fetc%2Fpasswd",
        "/api/documents/..%5C003_4ab8a011891d9a26.txt",
        "/api/documents/%2E%2F003_4ab8a011891d9a26.txt",
    ],
)
def test_deleting_a_path_like_document_id_is_404_and_deletes_nothing(
    make_upload_client: Callable[..., TestClient], path: str
) -> None:
    client = make_upload_client()
    r = client.delete(path, headers=AUTH)
    assert r.status_code == 404, r.text
    assert client.get("/healthz").json()["documents"] == 5


@pytest.mark.parametrize(
    "filename",
    [
        "/tmp/docqa-evil-absolute.txt",
        "C:\\docqa-evil.txt",
        "..",
        "../docqa-evil.txt",
        "sub/../../docqa-evil.txt",
        "evil\x00.txt",
        "evil\n.txt",
    ],
)
def test_upload_names_that_are_paths_cannot_write_outside_the_index(
    make_upload_client: Callable[..., TestClient], tmp_path: Path, filename: str
) -> None:
    client = make_upload_client()
    outside_before = sorted(p.name for p in tmp_path.iterdir())
    disp = filename.replace("\\", "\\\\").replace('"', '\\"')
    body = (
        f'--b\r\nContent-Disposition: form-data; name="files"; filename="{disp}"\r\n'
        "Content-Type: text/plain\r\n\r\nEvil text about otters.\r\n--b--\r\n"
    ).encode()
    r = client.post("/api/documents", content=body, headers={**AUTH, "Content-Type": "multipart/form-data; boundary=b"})
    # Refused, or (a Windows path, which the multipart parser cuts to its last part) stored under a plain name.
    assert r.status_code in (201, 400, 422), r.text
    ids = {d["doc_id"] for d in client.get("/api/documents").json()}
    assert not any("/" in i or "\\" in i or i.startswith(".") for i in ids), ids
    assert len(ids) == 5 + (r.status_code == 201)
    assert not Path("/tmp/docqa-evil-absolute.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == outside_before


def test_rfc5987_file_names_cannot_smuggle_a_path(make_upload_client: Callable[..., TestClient]) -> None:
    client = make_upload_client()
    body = (
        b'--b\r\nContent-Disposition: form-data; name="files"; filename="ok.txt"; '
        b"filename*=UTF-8''..%2F..%2Fdocqa-evil.txt\r\n\r\nOtters.\r\n--b--\r\n"
    )
    r = client.post("/api/documents", content=body, headers={**AUTH, "Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code in (201, 400), r.text
    ids = {d["doc_id"] for d in client.get("/api/documents").json()}
    assert not any("/" in i or ".." in i for i in ids), ids


def send_streaming(url: str, path: str, headers: dict[str, str], total: int) -> tuple[int, int]:
    """POST a chunked body of `total` bytes over a raw socket; returns (status, bytes sent before the server
    answered or hung up). Stops as soon as a response arrives."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    part = b'--b\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n\r\n'
    sent = 0
    chunk = b"word " * 13107
    frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    try:
        sock.sendall(head.encode() + b"%x\r\n" % len(part) + part + b"\r\n")
        sock.settimeout(0.0)
        while sent < total:
            try:
                if sock.recv(1, socket.MSG_PEEK):
                    break  # the server has answered
            except BlockingIOError:
                pass
            try:
                sent += sock.send(frame) or 0
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:
                break  # reset: the server stopped reading
        sock.settimeout(30)
        status = int(sock.recv(4096).split(b" ", 2)[1])
    finally:
        sock.close()
    return status, sent


@pytest.mark.parametrize("key, status", [(API_KEY, 413), (None, 401)])
def test_a_huge_streamed_upload_is_cut_off_early(
    web_pipeline: Pipeline, tmp_path: Path, key: str | None, status: int
) -> None:
    from web.app import create_app

    index = copy_index(web_pipeline.settings.index_dir, tmp_path / "index")
    settings = replace(web_pipeline.settings, index_dir=index, api_key=API_KEY, max_upload_bytes=1024 * 1024)
    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    with uvicorn_in_thread(create_app(settings, Pipeline(settings, embedder=web_pipeline.embedder).load())) as url:
        got, sent = send_streaming(url, "/api/documents", headers, total=2 * 1024**3)
    assert got == status
    # 2 GB offered; the server stopped after about its 1 MB limit (plus what socket buffers hold).
    assert sent < 64 * 1024 * 1024, f"{sent / 1e6:.0f} MB sent before the server answered"


# ---------------------------------------------------------------- markup in documents and questions

PAYLOADS = [
    '<script>alert("s")</script>',
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(2)",
    "'><svg onload=alert(3)>",
]


class _Audit(HTMLParser):
    """Finds anything in a page that a browser would run: inline script, handlers, javascript: links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("img", "svg", "iframe", "object", "embed", "base"):
            self.problems.append(f"<{tag}>")
        if tag == "script":
            self.in_script = True
            if not (dict(attrs).get("src") or "").startswith("/static/"):
                self.problems.append(f"script {attrs}")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}={value}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script and data.strip():
            self.problems.append(f"inline script {data[:40]!r}")


def no_live_markup(html: str) -> None:
    audit = _Audit()
    audit.feed(html)
    audit.close()
    assert not audit.problems, audit.problems


def test_markup_in_documents_names_and_questions_is_shown_as_text(
    make_upload_client: Callable[..., TestClient],
) -> None:
    client = make_upload_client()
    text = (
        "Gate notes\n\n"
        + " ".join(f"Code {i} is {p} for the gate." for i, p in enumerate(PAYLOADS))
        + '\n\nThe password of the Pelmora gate is "><img src=x onerror=alert(1)>.\n'
    ).encode()
    name = '"><img src=x onerror=alert(9)>.txt'
    html_doc = b'<p>Click <a href="javascript:alert(4)" onclick="alert(5)">javascript:alert(6)</a> now.</p>'
    r = client.post(
        "/api/documents", headers=AUTH, files=[("files", (name, text)), ("files", ("links.html", html_doc))]
    )
    assert r.status_code == 201, r.text
    doc_id = next(d for d in r.json()["added"] if d != "links.html")  # httpx sends the quote as %22
    assert "<img" in doc_id

    html = {"accept": "text/html"}
    # Through a real server: the test client decodes a '%' in the path twice (/documents/%2522 -> '"').
    with uvicorn_in_thread(client.app) as url:
        doc_page = httpx.get(url + "/documents/" + quote(doc_id, safe="") + "?start=12&end=30", headers=html)
    assert doc_page.status_code == 200
    pages = [
        client.get("/", headers=html),
        doc_page,
        client.get("/documents/links.html", headers=html),
        client.get("/documents/" + quote(name, safe=""), headers=html),
    ]  # a 404 page echoing the id
    for q in ["What is the password of the Pelmora gate?", *PAYLOADS, "What is code 1?"]:
        for headers in ({"HX-Request": "true"}, {}):
            r = client.post(
                "/",
                data={"question": q, "history_question": PAYLOADS, "history_answer": PAYLOADS},
                headers={**html, **headers},
            )
            assert r.status_code in (200, 422), r.text
            pages.append(r)
    for r in pages:
        assert r.headers["content-type"].startswith("text/html"), r.headers["content-type"]
        no_live_markup(r.text)
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages[1].text
    assert "&lt;script&gt;alert(" in "".join(r.text for r in pages)
    assert "javascript:alert(6)" in pages[2].text  # the link's text survives, as text
    # JSON echoing the same id is JSON, and browsers are told not to sniff it into HTML.
    r = client.get("/api/documents/" + quote(name, safe=""))
    assert r.status_code == 404 and r.headers["content-type"] == "application/json"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_templates_have_no_inline_script_or_handlers() -> None:
    from web.templating import TEMPLATES_DIR

    for path in TEMPLATES_DIR.rglob("*.html"):
        src = path.read_text()
        for body in re.findall(r"<script\b[^>]*>(.*?)</script>", src, flags=re.S | re.I):
            assert not body.strip(), f"inline script in {path.name}"
        assert not re.search(r"\son\w+\s*=", src), f"event handler attribute in {path.name}"
        assert "javascript:" not in src, path.name


def test_the_csp_forbids_inline_script_on_every_kind_of_response(api_client: TestClient) -> None:
    responses = [
        api_client.get("/"),
        api_client.get("/nope", headers={"accept": "text/html"}),
        api_client.post("/api/ask", json={}),
        api_client.get("/static/app.css"),
        api_client.post("/", data={"question": "<script>x</script>"}, headers={"HX-Request": "true"}),
    ]
    for r in responses:
        csp = {d.split()[0]: d.split()[1:] for d in r.headers["content-security-policy"].split("; ")}
        assert csp["script-src"] == ["'self'"] and csp["default-src"] == ["'self'"], csp
        assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
        assert r.headers["x-content-type-options"] == "nosniff"


def test_serve_binds_to_loopback_unless_told_otherwise() -> None:
    from qa.cli import build_parser

    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"
    assert "HOST   ?= 127.0.0.1" in (Path(__file__).resolve().parent.parent / "Makefile").read_text()


@cache
def docx_base() -> bytes:
    from tests.test_ingest_docx import make_docx

    return make_docx(title="Tide tables")


@settings(max_examples=100, deadline=None)
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(["flip", "cut", "insert"]), st.floats(0, 1), st.binary(min_size=1, max_size=40)),
        min_size=1,
        max_size=5,
    )
)
def test_damaged_docx_files_are_read_or_refused_never_a_crash(edits: list[tuple[str, float, bytes]]) -> None:
    data = bytearray(docx_base())
    for kind, where, junk in edits:
        pos = int(where * (len(data) - 1))
        if kind == "flip":
            data[pos] ^= junk[0] or 1
        elif kind == "cut":
            del data[pos : pos + 8 * len(junk)]
        else:
            data[pos:pos] = junk
    t0 = time.perf_counter()
    try:
        doc = ingest.parse_document("d.docx", bytes(data))
    except DocQAError as e:
        assert "d.docx" in str(e)
    else:
        assert doc.text.strip()
    assert time.perf_counter() - t0 < 30
