"""What the API does with cases, apart from HTTP: checking uploads, creating cases idempotently, showing them to
each role, and recording reviewer decisions. Routers stay thin and call these."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.api import schemas
from app.db import Database
from app.security import Principal
from app.settings import Settings
from app.tables import Blob, Case, CriterionDecision, Document
from extractor.errors import TooLarge, UnreadableDocument
from extractor.pdf import open_pdf
from extractor.read import decode_text, file_kind
from models import Determination

MAX_FILENAME = 255


class NotFound(Exception):
    pass


class Conflict(Exception):
    pass


class Invalid(Exception):
    pass


class AllFilesRejected(Exception):
    def __init__(self, errors: list[schemas.FileError]) -> None:
        super().__init__("no submitted file can be read")
        self.errors = errors


@dataclass
class Upload:
    filename: str
    data: bytes


def clean_filename(name: str | None, position: int) -> str:
    """The file's own name, without any folder part a browser or client sent."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name.strip().replace("\x00", "")
    return (base or f"document-{position + 1}.pdf")[:MAX_FILENAME]


def check_file(upload: Upload, settings: Settings) -> int:
    """Quick checks before a file is accepted; returns its page count or raises a named UnreadableDocument."""
    name, data = upload.filename, upload.data
    kind = file_kind(name, data)
    if len(data) > settings.max_upload_bytes:
        raise TooLarge(name, f"the file is larger than the {settings.max_upload_mb} MB limit")
    if kind == "text":
        decode_text(name, data)
        return 1
    document = open_pdf(name, data)
    try:
        pages = len(document)
    finally:
        document.close()
    if pages > settings.max_pages:
        raise TooLarge(name, f"the PDF has {pages} pages; at most {settings.max_pages} are accepted")
    return pages


def staged_uploads(session: Session, raw: str, start: int = 0) -> list[Upload]:
    """Files sent before through /api/v1/uploads, named by content hash. Knowing a file's SHA-256 means having had
    the file, so naming one grants nothing new."""
    try:
        items = json.loads(raw)
        pairs = [(str(item["sha256"]), str(item["filename"])) for item in items]
    except (ValueError, TypeError, KeyError):
        raise Invalid('uploads must be JSON: [{"sha256": ..., "filename": ...}]') from None
    found = []
    for position, (digest, filename) in enumerate(pairs, start=start):
        blob = session.get(Blob, digest)
        if blob is None:
            raise Invalid(f"upload {filename} is not on the server; send it again")
        found.append(Upload(clean_filename(filename, position), blob.data))
    return found


def stage_upload(db: Database, settings: Settings, upload: Upload) -> tuple[str, int]:
    """Check one file at once (so intake sees a bad file's reason next to its name) and keep its bytes for the case
    that will name it. Returns (sha256, pages); raises the file's UnreadableDocument."""
    pages = check_file(upload, settings)
    digest = hashlib.sha256(upload.data).hexdigest()
    with db.session() as session:
        _store_blob(session, digest, upload.data)
    return digest, pages


def check_callback_url(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid("callback_url must be an http:// or https:// URL")
    return url


def request_key(hashes: list[str], request_type: str, nonformulary: bool, external_reference: str | None) -> str:
    """Same files (by content) and same request → same case, so a retried submission is safe."""
    key = json.dumps([request_type, nonformulary, external_reference, hashes])
    return hashlib.sha256(key.encode()).hexdigest()


def create_case(
    db: Database, settings: Settings, principal: Principal, uploads: list[Upload], request_type: str,
    nonformulary_exception: bool, external_reference: str | None, callback_url: str | None, expedited: bool,
) -> tuple[str, bool]:
    """Store the files and queue the case. Returns (case id, created). A file that fails the quick checks is kept
    as a ``rejected`` document with its reason; if every file fails, nothing is stored and AllFilesRejected says why.
    """
    if not uploads:
        raise Invalid("no files were uploaded")
    if len(uploads) > settings.max_files_per_case:
        raise Invalid(f"{len(uploads)} files; at most {settings.max_files_per_case} per case")
    callback_url = check_callback_url(callback_url)
    checked: list[tuple[Upload, str, int, UnreadableDocument | None]] = []
    for upload in uploads:
        digest = hashlib.sha256(upload.data).hexdigest()
        try:
            checked.append((upload, digest, check_file(upload, settings), None))
        except UnreadableDocument as error:
            checked.append((upload, digest, 0, error))
    if all(error is not None for *_, error in checked):
        raise AllFilesRejected([
            schemas.FileError(filename=u.filename, error=e.kind, message=e.cause) for u, _, _, e in checked if e
        ])
    key = request_key([digest for _, digest, _, _ in checked], request_type, nonformulary_exception, external_reference)
    with db.session() as session:
        existing = session.scalar(select(Case.id).where(Case.request_key == key))
        if existing is not None:
            audit.record(session, principal.actor, "case.resubmitted", existing)
            return existing, False
    try:
        with db.session() as session:
            case = Case(
                id=str(uuid.uuid4()), request_key=key, request_type=request_type,
                nonformulary_exception=nonformulary_exception, external_reference=external_reference,
                callback_url=callback_url, expedited=expedited, status="queued", created_by=principal.actor,
                pages_total=sum(pages for _, _, pages, error in checked if error is None),
            )
            session.add(case)
            for position, (upload, digest, pages, error) in enumerate(checked):
                _store_blob(session, digest, upload.data)
                session.add(Document(
                    case_id=case.id, position=position, filename=upload.filename, sha256=digest,
                    size=len(upload.data), page_count=pages,
                    status="rejected" if error else "pending",
                    error_kind=error.kind if error else None, error=error.cause if error else None,
                ))
            audit.record(session, principal.actor, "case.create", case.id, {
                "documents": len(checked), "rejected": sum(1 for *_, e in checked if e),
            })
            return case.id, True
    except IntegrityError:
        # The same submission raced with itself; the first one won.
        with db.session() as session:
            existing = session.scalar(select(Case.id).where(Case.request_key == key))
        if existing is None:
            raise
        return existing, False


def _store_blob(session: Session, digest: str, data: bytes) -> None:
    if session.get(Blob, digest) is not None:
        return
    try:
        with session.begin_nested():
            session.add(Blob(sha256=digest, size=len(data), data=data))
    except IntegrityError:
        pass  # stored meanwhile by a concurrent upload of the same file


def get_case(session: Session, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case


def document_public(document: Document) -> schemas.DocumentPublic:
    return schemas.DocumentPublic(
        id=document.id, filename=document.filename, sha256=document.sha256, size=document.size,
        status=document.status, error=document.error, error_kind=document.error_kind,
        page_count=document.page_count, pages=document.pages,
    )


def summary(case: Case, principal: Principal) -> schemas.CaseSummary:
    readable = principal.can("case:read")
    return schemas.CaseSummary(
        id=case.id, status=case.status, request_type=case.request_type,
        nonformulary_exception=case.nonformulary_exception, external_reference=case.external_reference,
        expedited=case.expedited, progress=schemas.Progress(pages_done=case.pages_done, pages_total=case.pages_total),
        created_at=case.created_at, updated_at=case.updated_at, finished_at=case.finished_at, error=case.error,
        suggested_outcome=case.suggested_outcome if readable else None,
        safety_flags=case.safety_flags if readable else None,
        final_outcome=case.final_outcome if readable else None,
    )


def detail(case: Case, principal: Principal) -> schemas.CaseDetail:
    base = summary(case, principal).model_dump()
    readable = principal.can("case:read")
    return schemas.CaseDetail(
        **base,
        documents=[document_public(d) for d in case.documents],
        determination=Determination.model_validate(case.determination) if readable and case.determination else None,
        review=review(case) if readable else None,
    )


def _decision_public(row: CriterionDecision) -> schemas.CriterionDecisionPublic:
    return schemas.CriterionDecisionPublic(
        criterion_id=row.criterion_id, action=row.action, status=row.status, reason=row.reason,
        decided_by=row.decided_by, decided_at=row.decided_at,
    )


def review(case: Case) -> schemas.ReviewPublic:
    latest: dict[str, CriterionDecision] = {}
    for row in case.decisions:
        latest[row.criterion_id] = row
    return schemas.ReviewPublic(
        decisions=[_decision_public(row) for row in latest.values()],
        history=[_decision_public(row) for row in case.decisions],
        final_outcome=case.final_outcome, final_approval_months=case.final_approval_months,
        final_reason=case.final_reason, finalized_by=case.finalized_by, finalized_at=case.finalized_at,
    )


def _prefilled(case: Case) -> Determination:
    if case.status != "done" or case.determination is None:
        raise Conflict(f"the case is {case.status}; decisions need a processed case")
    if case.finalized_at is not None:
        raise Conflict("the case is finalized; its decisions can no longer change")
    return Determination.model_validate(case.determination)


def decide(session: Session, case: Case, principal: Principal, criterion_id: str, body: schemas.DecisionIn) -> None:
    """Accept the pre-filled status of one criterion, or override it with a status and a reason."""
    determination = _prefilled(case)
    try:
        prefilled = determination.criterion(criterion_id)
    except KeyError:
        raise NotFound(f"no criterion {criterion_id} in policy {determination.policy_id}") from None
    reason = (body.reason or "").strip() or None
    if body.action == "override":
        if body.status is None:
            raise Invalid("an override needs the reviewer's status")
        if reason is None:
            raise Invalid("an override needs a reason")
        status = body.status
    else:
        if body.status is not None and body.status != prefilled.status:
            raise Invalid("accept takes the pre-filled status; use override to change it")
        status = prefilled.status
    session.add(CriterionDecision(
        case_id=case.id, criterion_id=criterion_id, action=body.action, status=status, reason=reason,
        decided_by=principal.actor,
    ))
    audit.record(session, principal.actor, f"criterion.{body.action}", case.id, {
        "criterion": criterion_id, "prefilled": prefilled.status, "status": status,
    })


def finalize(session: Session, case: Case, principal: Principal, body: schemas.FinalizeIn) -> None:
    """Record the reviewer's decision on the case. Every criterion must have been accepted or overridden."""
    determination = _prefilled(case)
    session.flush()
    decided = {row.criterion_id for row in case.decisions}
    missing = [c.id for c in determination.criteria if c.id not in decided]
    if missing:
        raise Invalid("decide every criterion first; undecided: " + ", ".join(missing))
    if body.outcome == "meets_criteria" and body.approval_months is None:
        raise Invalid("an approval needs approval_months")
    if body.outcome != "meets_criteria" and body.approval_months is not None:
        raise Invalid("approval_months is only for meets_criteria")
    if body.outcome != determination.suggested_outcome and not (body.reason or "").strip():
        raise Invalid("a final outcome that differs from the suggested one needs a reason")
    case.final_outcome = body.outcome
    case.final_approval_months = body.approval_months
    case.final_reason = (body.reason or "").strip() or None
    case.finalized_by = principal.actor
    case.finalized_at = datetime.now(timezone.utc)
    audit.record(session, principal.actor, "case.finalize", case.id, {
        "suggested": determination.suggested_outcome, "final": body.outcome, "approval_months": body.approval_months,
    })


def list_cases(
    session: Session, principal: Principal, status: str | None, outcome: str | None,
    created_from: datetime | None, created_to: datetime | None, limit: int, offset: int, sort: str,
) -> schemas.CaseList:
    query = select(Case)
    if status:
        query = query.where(Case.status == status)
    if outcome:
        if not principal.can("case:read"):
            raise Invalid("filtering by outcome needs the reviewer role")
        query = query.where(Case.suggested_outcome == outcome)
    if created_from:
        query = query.where(Case.created_at >= created_from)
    if created_to:
        query = query.where(Case.created_at < created_to)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = {
        "created": Case.created_at.asc(), "-created": Case.created_at.desc(),
        "updated": Case.updated_at.asc(), "-updated": Case.updated_at.desc(),
    }[sort]
    rows = session.scalars(query.order_by(Case.expedited.desc(), order, Case.id).limit(limit).offset(offset)).all()
    return schemas.CaseList(items=[summary(c, principal) for c in rows], total=total, limit=limit, offset=offset)
