"""/api/v1/cases: submit, read, list, download, decide, finalize."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from app import audit, cases
from app.api import schemas
from app.api.deps import CanCreate, CanDecide, CanDownload, CanRead, CanSeeStatus, DbDep, SessionDep, SettingsDep
from app.export import summary_pdf
from app.pageimages import page_png
from app.tables import Blob, Document
from models import Determination

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])
READ_CHUNK = 1024 * 1024


def read_upload(upload: UploadFile, position: int, limit: int) -> cases.Upload:
    """The file's bytes, reading at most one byte past the limit (check_file then names it too large)."""
    data = bytearray()
    while len(data) <= limit:
        chunk = upload.file.read(READ_CHUNK)
        if not chunk:
            break
        data.extend(chunk)
    return cases.Upload(cases.clean_filename(upload.filename, position), bytes(data[: limit + 1]))


@router.post(
    "", status_code=202, response_model=schemas.CaseCreated,
    responses={200: {"model": schemas.CaseCreated, "description": "the same submission was already received"},
               413: {"model": schemas.UploadRejected}, 422: {"model": schemas.UploadRejected}},
)
def create_case(
    request: Request, db: DbDep, settings: SettingsDep, principal: CanCreate,
    request_type: Annotated[Literal["initial", "reauthorization"], Form()],
    files: Annotated[list[UploadFile] | None, File(description="one or more PDFs (or .txt notes)")] = None,
    uploads: Annotated[str | None, Form(description='files sent before through /api/v1/uploads, as JSON: '
                                                    '[{"sha256": ..., "filename": ...}]')] = None,
    nonformulary_exception: Annotated[bool, Form()] = False,
    external_reference: Annotated[str | None, Form(max_length=200)] = None,
    callback_url: Annotated[str | None, Form(max_length=2000)] = None,
    expedited: Annotated[bool, Form()] = False,
) -> JSONResponse:
    sent = [read_upload(f, i, settings.max_upload_bytes) for i, f in enumerate(files or [])]
    if uploads:
        with db.session() as session:
            sent += cases.staged_uploads(session, uploads, start=len(sent))
    case_id, created = cases.create_case(
        db, settings, principal, sent, request_type, nonformulary_exception,
        external_reference or None, callback_url, expedited,
    )
    if created:
        request.app.state.jobs.notify(case_id)
    with db.session() as session:
        case = cases.get_case(session, case_id)
        body = schemas.CaseCreated(
            id=case.id, status=case.status, created=created,
            documents=[cases.document_public(d) for d in case.documents],
        )
    return JSONResponse(body.model_dump(mode="json"), status_code=202 if created else 200,
                        headers={"Location": f"/api/v1/cases/{case_id}"})


@router.get("", response_model=schemas.CaseList)
def list_cases(
    session: SessionDep, principal: CanSeeStatus,
    status: Literal["queued", "processing", "done", "failed"] | None = None,
    outcome: Literal["meets_criteria", "does_not_meet_criteria", "insufficient_documentation"] | None = None,
    created_from: datetime | None = None, created_to: datetime | None = None,
    sort: Literal["created", "-created", "updated", "-updated"] = "-created",
    limit: Annotated[int, Query(ge=1, le=200)] = 50, offset: Annotated[int, Query(ge=0)] = 0,
) -> schemas.CaseList:
    return cases.list_cases(session, principal, status, outcome, created_from, created_to, limit, offset, sort)


@router.get("/{case_id}", response_model=schemas.CaseDetail)
def read_case(case_id: str, session: SessionDep, principal: CanSeeStatus) -> schemas.CaseDetail:
    case = cases.get_case(session, case_id)
    if principal.can("case:read"):
        audit.record(session, principal.actor, "case.view", case.id)
    return cases.detail(case, principal)


@router.get("/{case_id}/status", response_model=schemas.CaseSummary)
def read_status(case_id: str, session: SessionDep, principal: CanSeeStatus) -> schemas.CaseSummary:
    """Status and progress only: the light read for polling while a case is processed."""
    return cases.summary(cases.get_case(session, case_id), principal)


@router.get("/{case_id}/determination", response_model=Determination)
def read_determination(case_id: str, session: SessionDep, principal: CanRead) -> Determination:
    """The pre-filled determination alone (the contract), once the case is done."""
    case = cases.get_case(session, case_id)
    if case.determination is None:
        raise cases.Conflict(f"the case is {case.status}; it has no determination" +
                             (f" ({case.error})" if case.error else ""))
    audit.record(session, principal.actor, "case.view", case.id, {"part": "determination"})
    return Determination.model_validate(case.determination)


@router.get("/{case_id}/documents/{document_id}/file", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def download(case_id: str, document_id: int, session: SessionDep, principal: CanDownload) -> Response:
    document = session.get(Document, document_id)
    if document is None or document.case_id != case_id:
        raise cases.NotFound(f"no document {document_id} in case {case_id}")
    blob = session.get(Blob, document.sha256)
    if blob is None:
        raise cases.NotFound(f"the file of document {document_id} is missing")
    audit.record(session, principal.actor, "file.download", case_id, {"document": document_id})
    media = "application/pdf" if blob.data.lstrip()[:5] == b"%PDF-" else "application/octet-stream"
    quoted = document.filename.replace('"', "").encode("ascii", "replace").decode()
    return Response(blob.data, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{quoted}"', "X-Content-Type-Options": "nosniff",
    })


@router.get("/{case_id}/documents/{document_id}/pages/{page}/image", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def page_image(case_id: str, document_id: int, page: int, session: SessionDep, settings: SettingsDep,
               principal: CanRead, width: Annotated[int, Query(ge=50, le=2000)] = 800) -> Response:
    """A picture of one page (scans included), for drawing the evidence highlights on."""
    document = session.get(Document, document_id)
    if document is None or document.case_id != case_id:
        raise cases.NotFound(f"no document {document_id} in case {case_id}")
    blob = session.get(Blob, document.sha256)
    if blob is None or blob.data.lstrip()[:5] != b"%PDF-":
        raise cases.NotFound(f"document {document_id} has no page images (not a PDF)")
    try:
        png = page_png(settings.data_dir / "pages", document.sha256, blob.data, page, width)
    except IndexError:
        raise cases.NotFound(f"document {document_id} has no page {page}") from None
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/{case_id}/export.pdf", response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
def export(case_id: str, session: SessionDep, principal: CanRead) -> Response:
    """The reviewed case as a PDF summary for the case file."""
    case = cases.get_case(session, case_id)
    if case.determination is None:
        raise cases.Conflict(f"the case is {case.status}; there is nothing to export yet")
    shown = cases.detail(case, principal)
    now = datetime.now(timezone.utc)
    pdf = summary_pdf(shown, Determination.model_validate(case.determination), principal.actor, now)
    audit.record(session, principal.actor, "case.export", case.id)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="chartcheck-review-{case.id}.pdf"'})


@router.post("/{case_id}/criteria/{criterion_id}/decision", response_model=schemas.ReviewPublic)
def decide(case_id: str, criterion_id: str, body: schemas.DecisionIn, session: SessionDep,
           principal: CanDecide) -> schemas.ReviewPublic:
    case = cases.get_case(session, case_id)
    cases.decide(session, case, principal, criterion_id, body)
    session.flush()
    session.refresh(case)
    return cases.review(case)


@router.post("/{case_id}/finalize", response_model=schemas.ReviewPublic)
def finalize(case_id: str, body: schemas.FinalizeIn, session: SessionDep,
             principal: CanDecide) -> schemas.ReviewPublic:
    case = cases.get_case(session, case_id)
    cases.finalize(session, case, principal, body)
    return cases.review(case)


@router.post("/{case_id}/expedite", response_model=schemas.CaseSummary)
def expedite(case_id: str, body: schemas.ExpediteIn, session: SessionDep,
             principal: CanCreate) -> schemas.CaseSummary:
    """Mark a case expedited (due in 72 hours instead of 7 days); expedited cases are processed first."""
    case = cases.get_case(session, case_id)
    case.expedited = body.expedited
    audit.record(session, principal.actor, "case.expedite", case.id, {"expedited": body.expedited})
    return cases.summary(case, principal)
