"""The chat page, the document page and the htmx partials; every page also works without JavaScript."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from qa.config import Settings
from qa.errors import DocumentNotFoundError, UnknownDocumentsError
from qa.indexer import IngestReport
from qa.pipeline import Pipeline
from web.deps import DocIdDep, PipelineDep, SettingsDep, WritesDep, check_api_key, require_uploads_enabled
from web.links import link_is_stale, page_of
from web.settings import MAX_FORM_BYTES, MAX_HISTORY_TURNS, MAX_UPLOAD_FILES
from web.templating import templates
from web.turns import ChatTurn, StoredConversation
from web.uploads import ACCEPT, collect_uploads

router = APIRouter(include_in_schema=False)

__all__ = ["ChatTurn", "router"]


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _page(
    request: Request,
    pipeline: Pipeline,
    settings: Settings,
    turns: list[ChatTurn] | None = None,
    notice: str | None = None,
    warnings: list[str] | None = None,
    checked: Sequence[str] = (),
    error: str | None = None,
    question: str = "",
) -> HTMLResponse:
    """The whole chat page: for GET /, and for form posts made without JavaScript.

    `error` is a refused question's message, shown above the thread; `question` refills the box with it.
    """
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "turns": turns or [],
            "documents": pipeline.documents(),
            "checked": set(checked),
            "uploads_enabled": bool(settings.api_key),
            "max_upload_bytes": settings.max_upload_bytes,
            "accept": ACCEPT,
            "notice": notice,
            "warnings": warnings or [],
            "error": error,
            "question": question,
        },
        status_code=422 if error else 200,
    )


@router.get("/", response_class=HTMLResponse)
def index(request: Request, pipeline: PipelineDep, settings: SettingsDep) -> HTMLResponse:
    return _page(request, pipeline, settings)


def _passage_shas(pipeline: Pipeline, result: dict[str, Any]) -> dict[str, str]:
    """Content hash of each document a passage comes from (passages, unlike citations, don't carry it)."""
    shas: dict[str, str] = {}
    for p in result["passages"]:
        if p["doc_id"] not in shas:
            try:
                shas[p["doc_id"]] = pipeline.document(p["doc_id"]).sha256
            except DocumentNotFoundError:  # removed since it was retrieved: its link simply has no hash
                shas[p["doc_id"]] = ""
    return shas


def _missing_message(missing: Sequence[str]) -> str:
    names = ", ".join(f"“{m}”" for m in missing)
    one = len(missing) == 1
    return (
        f"{names} {'is' if one else 'are'} no longer among the documents (removed since this page was loaded?). "
        "The list of documents is up to date now: tick others, or none to ask all of them, and ask again."
    )


@router.post("/", response_class=HTMLResponse)
def ask(
    request: Request,
    pipeline: PipelineDep,
    settings: SettingsDep,
    question: Annotated[str, Form()] = "",
    history_question: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    history_answer: Annotated[list[str], Form()] = [],  # noqa: B006
    doc_ids: Annotated[list[str], Form()] = [],  # noqa: B006
) -> HTMLResponse:
    """Answer one question: an htmx partial for the chat, or the whole page when JavaScript is off.

    Ticked documents (`doc_ids`) restrict the answer to them; none ticked means all documents.
    """
    # Lists of unequal length only come from hand-made requests: pair what pairs, don't fail.
    pairs = list(zip(history_question, history_answer, strict=False))[-MAX_HISTORY_TURNS:]
    history = [{"question": q, "answer": a or None} for q, a in pairs]
    earlier = [ChatTurn(question=q, answer=a) for q, a in pairs]
    chosen = list(dict.fromkeys(d for d in doc_ids if d))  # a checkbox posted twice counts once
    try:
        answer = pipeline.ask(question, history=history or None, doc_ids=chosen or None).to_dict()
    except UnknownDocumentsError as e:
        # A document deleted after the page was loaded: say so in the thread and refresh the list.
        documents = pipeline.documents()
        message = _missing_message(e.missing)
        still = [d for d in chosen if d not in e.missing]
        if is_htmx(request):
            return templates.TemplateResponse(
                request,
                "partials/ask_error.html",
                {"message": message, "documents": documents, "checked": set(still)},
                status_code=422,
            )
        return _page(request, pipeline, settings, turns=earlier, checked=still, error=message, question=question)
    all_titles = {d.doc_id: d.title for d in pipeline.documents()}
    titles = {p["doc_id"]: all_titles.get(p["doc_id"], p["doc_id"]) for p in answer["passages"]}
    turn = ChatTurn(
        question=answer["question"],
        answer=answer["answer"],
        result=answer,
        titles=titles,
        within=tuple(all_titles.get(d, d) for d in chosen),
        shas=_passage_shas(pipeline, answer),
    )
    if is_htmx(request):
        return templates.TemplateResponse(request, "partials/turn.html", {"turn": turn, "latest": False})
    return _page(request, pipeline, settings, turns=[*earlier, turn], checked=chosen)


@router.post("/turns", response_class=HTMLResponse)
def restore_turns(request: Request, body: StoredConversation) -> HTMLResponse:
    """Render the turns the browser kept (localStorage) after a reload; nothing is stored here."""
    turns = [t.to_turn() for t in body.turns]
    return templates.TemplateResponse(request, "partials/turns.html", {"turns": turns})


@router.get("/documents/{doc_id:path}", response_class=HTMLResponse)
def document(
    request: Request,
    doc_id: DocIdDep,
    pipeline: PipelineDep,
    start: Annotated[int | None, Query(ge=0)] = None,
    end: Annotated[int | None, Query(ge=0)] = None,
    sha: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """The whole document with page breaks, and the cited span highlighted when the offsets fit the text.

    A link whose `sha` names another version of the document gets a notice instead of a highlight:
    the offsets were taken in a text that has since changed.
    """
    doc = pipeline.document(doc_id)
    stale = link_is_stale(sha, doc.sha256)
    span = None
    if not stale and start is not None and end is not None and start < end <= len(doc.text):
        span = (start, end)
    context = {
        "doc": doc,
        "span": span,
        "stale": stale,
        "span_page": page_of(doc.pages, span[0]) if span else None,
    }
    return templates.TemplateResponse(request, "document.html", context)


@router.post("/upload", response_class=HTMLResponse)
async def upload(request: Request, pipeline: PipelineDep, settings: SettingsDep, writes: WritesDep) -> Response:
    """The page's upload form: the API key comes in a password field instead of a bearer header."""
    require_uploads_enabled(settings)  # before reading the body: the key is inside it
    async with request.form(max_files=MAX_UPLOAD_FILES, max_fields=10, max_part_size=MAX_FORM_BYTES) as form:
        key = form.get("key")
        check_api_key(settings, key if isinstance(key, str) else None)
        uploads = await collect_uploads(form, settings.max_upload_bytes)
    report = await writes.ingest(uploads)
    notice = _describe(report)
    if is_htmx(request):
        return templates.TemplateResponse(
            request,
            "partials/upload_result.html",
            {"notice": notice, "warnings": _warnings(report), "documents": pipeline.documents(), "checked": set()},
        )
    return _page(request, pipeline, settings, notice=notice, warnings=_warnings(report))


@router.get("/upload")
def upload_get() -> RedirectResponse:
    """After a no-JS upload the address bar says /upload; reloading it should land on the chat."""
    return RedirectResponse("/", status_code=303)


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI served from web/static/, since the CDN one would break offline and under the CSP."""
    return templates.TemplateResponse(request, "docs.html", {})


def _warnings(report: IngestReport) -> list[str]:
    """What the user should know about how uploaded files were read, one line a warning."""
    return [f"{doc_id}: {message}" for doc_id, message in report.warnings]


def _describe(report: IngestReport) -> str:
    parts = []
    if report.added:
        parts.append(f"added {', '.join(report.added)}")
    if report.updated:
        parts.append(f"updated {', '.join(report.updated)}")
    if report.unchanged:
        parts.append(f"{report.unchanged} already up to date")
    return ("Done: " + "; ".join(parts) + ".") if parts else "Nothing changed."
