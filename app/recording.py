"""Recording a case's processing in the database, shared by both ways of running it: the embedded worker
processes (``app/jobs.py``) and Celery workers (``app/tasks.py``).

Processing code (``app/worker.py``) reports through ``send(message)``; ``CaseRecorder.send`` writes each message.
Writes are fenced by the claim: a recorder whose claim was taken over (its lease ran out and another worker
claimed the case) changes nothing, so a case is never recorded twice.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from app import audit, callbacks, metrics
from app.db import Database
from app.settings import Settings
from app.tables import Blob, Case, Document
from app.worker import Job

WORKER_ACTOR = "system:worker"
PROGRESS_EVERY_S = 0.3


def now() -> datetime:
    return datetime.now(timezone.utc)


def get_case(session: Session, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise LookupError(f"case {case_id} is gone")
    return case


def claim_case(db: Database, case_id: str, worker: str, lease_s: float) -> bool:
    """Take this case for `worker` if it is queued, or processing under a lease that ran out. Atomic, so of many
    workers handed the same case exactly one gets it."""
    moment = now()
    with db.session() as session:
        claimed = session.execute(
            update(Case).where(
                Case.id == case_id,
                or_(Case.status == "queued", (Case.status == "processing") & (Case.lease_until < moment)),
            ).values(status="processing", attempts=Case.attempts + 1, started_at=moment, pages_done=0, error=None,
                     worker=worker, lease_until=moment + timedelta(seconds=lease_s))
        )
        if claimed.rowcount != 1:
            return False
        audit.record(session, WORKER_ACTOR, "case.status", case_id, {"to": "processing", "worker": worker})
        return True


def load_job(db: Database, case_id: str) -> tuple[Job, dict[int, int]]:
    """The case's request and readable files, and each document's page count."""
    with db.session() as session:
        case = get_case(session, case_id)
        request = {"request_type": case.request_type, "nonformulary_exception": case.nonformulary_exception}
        documents = [d for d in case.documents if d.status != "rejected"]
        for document in documents:
            document.status, document.error, document.error_kind = "pending", None, None
        files = []
        for document in documents:
            blob = session.get(Blob, document.sha256)
            if blob is None:
                raise LookupError(f"the file of document {document.id} is missing")
            files.append((document.id, document.filename, blob.data))
        return Job(case_id, request, files), {d.id: d.page_count for d in documents}


def requeue(db: Database, case_id: str, reason: str) -> None:
    with db.session() as session:
        case = get_case(session, case_id)
        case.status = "queued"
        case.pages_done = 0
        case.worker = None
        case.lease_until = None
        audit.record(session, WORKER_ACTOR, "case.requeued", case_id, {"reason": reason})


def fail(db: Database, case_id: str, reason: str, worker: str | None = None) -> bool:
    """Mark the case failed with a readable reason (only if `worker` still holds it, when given)."""
    with db.session() as session:
        case = get_case(session, case_id)
        if worker is not None and case.worker != worker:
            return False
        case.status = "failed"
        case.error = reason
        case.finished_at = now()
        case.lease_until = None
        audit.record(session, WORKER_ACTOR, "case.status", case_id, {"to": "failed"})
        callbacks.enqueue(session, case)
        return True


def retry_or_fail(db: Database, settings: Settings, case_id: str, reason: str) -> None:
    """Queue the case again while it has attempts left, else fail it with the reason."""
    with db.session() as session:
        attempts = get_case(session, case_id).attempts
    if attempts < settings.job_attempts:
        requeue(db, case_id, reason)
    else:
        fail(db, case_id, f"{reason}; tried {attempts} times")


class Superseded(Exception):
    """This worker's claim on the case was taken over; stop without recording anything."""


class CaseRecorder:
    """Writes one case's processing messages: page progress, each document's outcome, the result or the failure."""

    def __init__(self, db: Database, case_id: str, page_counts: dict[int, int], worker: str | None = None,
                 lease_s: float | None = None) -> None:
        self.db = db
        self.case_id = case_id
        self.page_counts = page_counts
        self.worker = worker
        self.lease_s = lease_s
        self.finished_pages = 0
        self.current = 0
        self.last_write = 0.0
        self.outcome: str | None = None  # "done" / "failed" once recorded

    def send(self, message: tuple) -> None:
        kind = message[0]
        if kind == "progress":
            self.page(message[1], message[2], message[3])
        elif kind == "document_done":
            self.document(message[1], "done", pages=message[2])
        elif kind == "document_failed":
            self.document(message[1], "failed", error_kind=message[2], error=message[3])
        elif kind == "timing":
            metrics.observe(message)
        elif kind == "result":
            self.finish(message[1])
            metrics.CASES.labels("done").inc()
        elif kind == "error":
            self.fail(message[1])
            metrics.CASES.labels("failed").inc()

    # -- writes, each fenced by the claim --
    def _mine(self):  # type: ignore[no-untyped-def]
        condition = Case.id == self.case_id
        if self.worker is not None:
            condition = condition & (Case.worker == self.worker)
        return condition

    def _values(self, **values: object) -> dict[str, object]:
        if self.lease_s is not None:
            values["lease_until"] = now() + timedelta(seconds=self.lease_s)
        return values

    def _update_case(self, session: Session, **values: object) -> None:
        done = session.execute(update(Case).where(self._mine()).values(**self._values(**values)))
        if done.rowcount != 1:
            raise Superseded(self.case_id)

    def page(self, doc_id: int, done: int, total: int) -> None:
        self.current = done
        if time.monotonic() - self.last_write >= PROGRESS_EVERY_S or done == total:
            self.last_write = time.monotonic()
            with self.db.session() as session:
                self._update_case(session, pages_done=self.finished_pages + self.current)

    def document(self, doc_id: int, status: str, pages: list | None = None, error_kind: str | None = None,
                 error: str | None = None) -> None:
        self.finished_pages += self.page_counts.get(doc_id, 0)
        self.current = 0
        with self.db.session() as session:
            self._update_case(session, pages_done=self.finished_pages)
            document = session.get(Document, doc_id)
            if document is None:
                raise LookupError(f"document {doc_id} is gone")
            document.status = status
            document.error_kind = error_kind
            document.error = error
            if pages is not None:
                document.pages = pages
                document.page_count = len(pages)

    def finish(self, determination: dict) -> None:
        with self.db.session() as session:
            self._update_case(
                session, determination=determination, suggested_outcome=determination["suggested_outcome"],
                safety_flags=[flag["id"] for flag in determination["safety_flags"]], status="done",
                pages_done=Case.pages_total, finished_at=now(),
            )
            session.execute(update(Case).where(Case.id == self.case_id).values(lease_until=None))
            audit.record(session, WORKER_ACTOR, "case.status", self.case_id, {"to": "done"})
            callbacks.enqueue(session, get_case(session, self.case_id))
        self.outcome = "done"

    def fail(self, reason: str) -> None:
        if not fail(self.db, self.case_id, reason, self.worker):
            raise Superseded(self.case_id)
        self.outcome = "failed"
