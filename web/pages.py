"""The chat page, the document page and the htmx partials; every page also works without JavaScript."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from qa.config import Settings
from qa.indexer import IngestReport
from qa.pipeline import Pipeline
from web.deps import DocIdDep, IngestLockDep, PipelineDep, SettingsDep, check_api_key, require_uploads_enabled
from web.settings import MAX_FORM_BYTES, MAX_HISTORY_TURNS, MAX_UPLOAD_FILES
from web.templating import templates
from web.uploads import ACCEPT, collect_uploads, ingest_uploads

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class ChatTurn:
    """One exchange on the page. `result` (Answer.to_dict()) is None for earlier turns re-rendered without JS."""

    question: str
    answer: str | None
    result: dict[str, Any] | None = None
    titles: dict[str, str] = field(default_factory=dict)

    @property
    def history_question(self) -> str:
        # The self-contained form helps the next follow-up more than "did he ...?" would.
        if self.result is not None and self.result.get("resolved_question"):
            return str(self.result["resolved_question"])
        return self.question


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _page(
    request: Request,
    pipeline: Pipeline,
    settings: Settings,
    turns: list[ChatTurn] | None = None,
    notice: str | None = None,
    warnings: list[str] | None = None,
) -> HTMLResponse:
    """The whole chat page: for GET /, and for form posts made without JavaScript."""
    return templates.TemplateResponse(
        request,
        "index.html",
        {
            "turns": turns or [],
            "documents": pipeline.documents(),
            "uploads_enabled": bool(settings.api_key),
            "max_upload_bytes": settings.max_upload_bytes,
            "accept": ACCEPT,
            "notice": notice,
            "warnings": warnings or [],
        },
    )


@router.get("/", response_class=HTMLResponse)
def index(request: Request, pipeline: PipelineDep, settings: SettingsDep) -> HTMLResponse:
    return _page(request, pipeline, settings)


@router.post("/", response_class=HTMLResponse)
def ask(
    request: Request,
    pipeline: PipelineDep,
    settings: SettingsDep,
    question: Annotated[str, Form()] = "",
    history_question: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    history_answer: Annotated[list[str], Form()] = [],  # noqa: B006
) -> HTMLResponse:
    """Answer one question: an htmx partial for the chat, or the whole page when JavaScript is off."""
    # Lists of unequal length only come from hand-made requests: pair what pairs, don't fail.
    pairs = list(zip(history_question, history_answer, strict=False))[-MAX_HISTORY_TURNS:]
    history = [{"question": q, "answer": a or None} for q, a in pairs]
    answer = pipeline.ask(question, history=history or None).to_dict()
    titles = {d.doc_id: d.title for d in pipeline.documents()}
    turn = ChatTurn(question=answer["question"], answer=answer["answer"], result=answer, titles=titles)
    if is_htmx(request):
        return templates.TemplateResponse(request, "partials/turn.html", {"turn": turn, "latest": False})
    earlier = [ChatTurn(question=q, answer=a) for q, a in pairs]
    return _page(request, pipeline, settings, turns=[*earlier, turn])


@router.get("/documents/{doc_id:path}", response_class=HTMLResponse)
def document(
    request: Request,
    doc_id: DocIdDep,
    pipeline: PipelineDep,
    start: Annotated[int | None, Query(ge=0)] = None,
    end: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:
    """The whole document, with the cited span highlighted (when the offsets fit the text)."""
    doc = pipeline.document(doc_id)
    span = None
    if start is not None and end is not None and start < end <= len(doc.text):
        span = (start, end)
    return templates.TemplateResponse(request, "document.html", {"doc": doc, "span": span})


@router.post("/upload", response_class=HTMLResponse)
async def upload(request: Request, pipeline: PipelineDep, settings: SettingsDep, lock: IngestLockDep) -> Response:
    """The page's upload form: the API key comes in a password field instead of a bearer header."""
    require_uploads_enabled(settings)  # before reading the body: the key is inside it
    async with request.form(max_files=MAX_UPLOAD_FILES, max_fields=10, max_part_size=MAX_FORM_BYTES) as form:
        key = form.get("key")
        check_api_key(settings, key if isinstance(key, str) else None)
        uploads = await collect_uploads(form, settings.max_upload_bytes)
    report = await run_in_threadpool(ingest_uploads, pipeline, lock, uploads)
    notice = _describe(report)
    if is_htmx(request):
        return templates.TemplateResponse(
            request,
            "partials/upload_result.html",
            {"notice": notice, "warnings": _warnings(report), "documents": pipeline.documents()},
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
