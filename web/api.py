"""The JSON API: /api/ask, /api/documents (list, read, upload, delete) and /healthz."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import AfterValidator, BaseModel, Field

from qa.config import MAX_QUESTION_CHARS
from qa.indexer import IngestReport
from web.deps import DocIdDep, PipelineDep, SettingsDep, WritesDep, require_api_key
from web.settings import MAX_FORM_BYTES, MAX_UPLOAD_FILES
from web.uploads import collect_uploads

# ---------------------------------------------------------------- schemas (separate from qa.models)


class ErrorOut(BaseModel):
    detail: str = Field(description="One sentence saying what was wrong and how to fix it.")


def _encodable(text: str) -> str:
    # JSON may carry unpaired surrogates (a lone \ud800); the tokenizer fails on them, so refuse at the edge.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(f"contains invalid Unicode (an unpaired surrogate at position {e.start})") from e
    return text


Text = Annotated[str, AfterValidator(_encodable)]


class Turn(BaseModel):
    question: Text = Field(max_length=MAX_QUESTION_CHARS)
    answer: Text | None = Field(default=None, max_length=10 * MAX_QUESTION_CHARS)


class AskRequest(BaseModel):
    question: Text = Field(description=f"1 to {MAX_QUESTION_CHARS:,} characters.", examples=["Who is John Kirby?"])
    k: int | None = Field(default=None, ge=1, le=20, description="Passages to retrieve (default 5).")
    history: list[Turn] = Field(
        default_factory=list,
        max_length=50,
        description="Earlier turns, oldest first, so follow-ups such as 'Which network did he speak on?' resolve.",
    )
    doc_ids: list[Text] = Field(
        default_factory=list,
        max_length=1000,
        description="Answer from these documents only (ids as GET /api/documents lists them); empty: all. "
        "An unknown id is a 422 naming it.",
    )


class Citation(BaseModel):
    doc_id: str
    title: str
    start: int = Field(description="Offset of the answer span in the document text.")
    end: int
    text: str = Field(description="The answer span, verbatim: document text[start:end].")
    sentence: str
    sentence_start: int
    score: float
    page: int | None = Field(default=None, description="The page the span begins on (PDF); null when not paged.")
    doc_sha256: str = Field(
        default="",
        description="SHA-256 of the document's file: a citation link carries it, so opening the link "
        "after the document changed says so instead of highlighting the wrong span.",
    )


class PassageOut(BaseModel):
    doc_id: str
    start: int
    end: int
    text: str
    score: float
    page: int | None = Field(default=None, description="The page the passage begins on (PDF); null when not paged.")


class Alternative(BaseModel):
    answer: str
    citations: list[Citation]


class AskResponse(BaseModel):
    question: str
    answer: str | None = Field(description="The short span, or null when the assistant abstains.")
    confidence: float = Field(
        description="Probability (0..1) that the answer shown is right (F1 >= 0.5 against a reference answer)."
    )
    abstained: bool
    citations: list[Citation]
    passages: list[PassageOut]
    timings_ms: dict[str, float]
    conflicting: bool = Field(description="True when sources give different answers; see `alternatives`.")
    alternatives: list[Alternative]
    resolved_question: str | None = Field(description="The follow-up rewritten with its antecedent, if any.")
    answer_kind: Literal["span", "sentence"] | None = Field(
        default=None,
        description='"span" for a short answer, "sentence" when a whole sentence answers (open questions), '
        "null when the assistant abstains.",
    )
    answerability: float = Field(
        default=0.0,
        description="Probability (0..1) that the documents answer the question at all; below the abstain "
        "threshold the assistant says it found no answer. Equals `confidence` for answerers without a "
        "separate judgement of it (the rule-based one, models without a gate).",
    )


class DocumentSummary(BaseModel):
    doc_id: str
    title: str
    chars: int
    passages: int


class DocumentText(BaseModel):
    doc_id: str
    title: str
    text: str
    sha256: str = Field(description="SHA-256 of the file's bytes; citations carry it as `doc_sha256`.")
    pages: list[int] = Field(description="Where each page begins in `text` (PDF); empty when not paged.")


class IndexChange(BaseModel):
    added: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: int
    documents: int = Field(description="Documents in the index afterwards.")
    passages: int
    warnings: list[str] = Field(
        default_factory=list, description='How documents were read imperfectly, one "doc_id: message" each.'
    )

    @classmethod
    def of(cls, report: IngestReport) -> IndexChange:
        return cls(
            added=report.added,
            updated=report.updated,
            removed=report.removed,
            unchanged=report.unchanged,
            documents=report.total_documents,
            passages=report.total_passages,
            warnings=[f"{doc_id}: {message}" for doc_id, message in report.warnings],
        )


class Health(BaseModel):
    status: str
    documents: int
    passages: int
    model: str


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorOut} for code in codes}


# ---------------------------------------------------------------- routes

router = APIRouter(prefix="/api", tags=["api"])
health_router = APIRouter(tags=["health"])


@router.post("/ask", responses=_errors(413, 422, 503))
def ask(body: AskRequest, pipeline: PipelineDep) -> AskResponse:
    """Answer a question with a verbatim span from the documents and where it comes from."""
    history = [turn.model_dump() for turn in body.history] or None
    answer = pipeline.ask(body.question, k=body.k, history=history, doc_ids=body.doc_ids or None)
    return AskResponse.model_validate(answer.to_dict())


@router.get("/documents")
def list_documents(pipeline: PipelineDep) -> list[DocumentSummary]:
    """The documents the assistant knows about."""
    return [DocumentSummary.model_validate(d, from_attributes=True) for d in pipeline.documents()]


@router.get("/documents/{doc_id:path}", responses=_errors(404))
def get_document(doc_id: DocIdDep, pipeline: PipelineDep) -> DocumentText:
    """One document's full text; citation offsets point into it."""
    return DocumentText.model_validate(pipeline.document(doc_id), from_attributes=True)


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["files"],
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "One or more .txt, .md, .html or .pdf files.",
                        }
                    },
                }
            }
        },
    }
}


@router.post(
    "/documents",
    status_code=201,
    dependencies=[Depends(require_api_key)],
    openapi_extra=_UPLOAD_BODY,
    responses=_errors(400, 401, 403, 413, 415, 422, 507),
)
async def upload_documents(request: Request, settings: SettingsDep, writes: WritesDep) -> IndexChange:
    """Add or replace documents in the live index; answers use them at once. Needs the API key."""
    # The form is parsed here, after the key check, rather than by a File() parameter, which
    # FastAPI would read (up to the size limit) before checking anything.
    async with request.form(max_files=MAX_UPLOAD_FILES, max_fields=10, max_part_size=MAX_FORM_BYTES) as form:
        uploads = await collect_uploads(form, settings.max_upload_bytes)
    report = await writes.ingest(uploads)
    return IndexChange.of(report)


@router.delete(
    "/documents/{doc_id:path}", dependencies=[Depends(require_api_key)], responses=_errors(401, 403, 404, 507)
)
async def remove_document(doc_id: DocIdDep, writes: WritesDep) -> IndexChange:
    """Remove a document from the live index. Needs the API key."""
    report = await writes.delete(doc_id)
    return IndexChange.of(report)


@health_router.get("/healthz")
def healthz(pipeline: PipelineDep) -> Health:
    """Liveness and what is loaded."""
    docs = pipeline.documents()
    return Health(
        status="ok", documents=len(docs), passages=sum(d.passages for d in docs), model=pipeline.embedder.name
    )
