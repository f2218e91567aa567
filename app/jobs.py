"""In-process job running: a pool of processing processes fed from the cases table.

Each slot is a thread in the service that owns one worker process (``app/worker.py``). The thread claims the oldest
queued case (expedited first) with an atomic UPDATE, sends it the files, records progress and results, and enforces
the time limit. A worker that dies or overruns is replaced; its case is retried (up to ``job_attempts``) or failed
with a readable reason, never left in ``processing``. At start-up, cases a crash left in ``processing`` are queued
again.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from datetime import datetime, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import audit, callbacks
from app.db import Database
from app.settings import Settings
from app.tables import Blob, Case, Document
from app.worker import Job, serve

log = logging.getLogger("chartcheck.jobs")
WORKER_ACTOR = "system:worker"
POLL_S = 1.0
PROGRESS_EVERY_S = 0.3
WORKER_START_TIMEOUT_S = 120.0


def now() -> datetime:
    return datetime.now(timezone.utc)


def recover(db: Database) -> int:
    """Queue again every case left in ``processing`` by a crash or restart; returns how many."""
    with db.session() as session:
        stuck = session.scalars(select(Case).where(Case.status == "processing")).all()
        for case in stuck:
            case.status = "queued"
            case.pages_done = 0
            audit.record(session, WORKER_ACTOR, "case.requeued", case.id, {"reason": "service restarted"})
        return len(stuck)


def claim(db: Database) -> str | None:
    """Take the next queued case for this worker, or None. Safe with many workers on one database."""
    with db.session() as session:
        candidates = session.scalars(
            select(Case.id).where(Case.status == "queued")
            .order_by(Case.expedited.desc(), Case.created_at).limit(5)
        ).all()
        for case_id in candidates:
            claimed = session.execute(
                update(Case).where(Case.id == case_id, Case.status == "queued")
                .values(status="processing", attempts=Case.attempts + 1, started_at=now(), pages_done=0, error=None)
            )
            if claimed.rowcount == 1:
                audit.record(session, WORKER_ACTOR, "case.status", case_id, {"from": "queued", "to": "processing"})
                return case_id
    return None


class WorkerDied(Exception):
    pass


def _case(session: Session, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise LookupError(f"case {case_id} is gone")
    return case


class Slot(threading.Thread):
    def __init__(self, runner: JobRunner, number: int) -> None:
        super().__init__(name=f"chartcheck-slot-{number}", daemon=True)
        self.runner = runner
        self.process: multiprocessing.process.BaseProcess | None = None
        self.conn = None
        self.ready = threading.Event()

    # -- the worker process ------------------------------------------------------------------------------------
    def start_process(self) -> None:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self.process = context.Process(
            target=serve, args=(child, self.runner.settings.job_memory_mb), name=self.name + "-worker", daemon=True
        )
        self.process.start()
        child.close()
        self.conn = parent
        try:
            if not parent.poll(WORKER_START_TIMEOUT_S):
                raise WorkerDied("the worker process did not start in time")
            message = parent.recv()
        except (EOFError, OSError):
            raise WorkerDied(f"the worker process exited at start (exit code {self.process.exitcode})") from None
        if message != ("ready",):
            raise WorkerDied(f"unexpected first message {message[0]!r}")
        self.ready.set()

    def stop_process(self) -> None:
        self.ready.clear()
        if self.process is not None and self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        if self.conn is not None:
            self.conn.close()
        self.process = None
        self.conn = None

    # -- the loop -----------------------------------------------------------------------------------------------
    def run(self) -> None:
        stopping = self.runner.stopping
        while not stopping.is_set():
            try:
                if self.process is None or not self.process.is_alive():
                    self.stop_process()
                    self.start_process()
                case_id = claim(self.runner.db)
                if case_id is None:
                    self.runner.work_available.wait(POLL_S)
                    self.runner.work_available.clear()
                    continue
                try:
                    self.process_case(case_id)
                except Exception:
                    log.exception("%s: error while processing case %s", self.name, case_id)
                    self.stop_process()
                    self.retry_or_fail(case_id, "an internal error stopped the processing")
            except WorkerDied as error:
                log.error("%s: %s", self.name, error)
                self.stop_process()
                stopping.wait(1.0)
            except Exception:  # noqa: BLE001 - a database hiccup must not end the slot; it is logged and retried
                log.exception("%s: unexpected error; retrying", self.name)
                stopping.wait(1.0)
        self.stop_process()

    def process_case(self, case_id: str) -> None:
        settings = self.runner.settings
        db = self.runner.db
        with db.session() as session:
            case = _case(session, case_id)
            request = {"request_type": case.request_type, "nonformulary_exception": case.nonformulary_exception}
            documents = [d for d in case.documents if d.status != "rejected"]
            for document in documents:
                document.status, document.error, document.error_kind = "pending", None, None
            files = [
                (d.id, d.filename, session.get(Blob, d.sha256).data)  # type: ignore[union-attr]
                for d in documents
            ]
            page_counts = {d.id: d.page_count for d in documents}
        tracker = Progress(db, case_id, page_counts)
        deadline = time.monotonic() + settings.job_timeout_s
        if self.conn is None:
            raise WorkerDied("no worker process")
        self.conn.send(Job(case_id, request, files))
        del files
        while True:
            remaining = deadline - time.monotonic()
            if self.runner.stopping.is_set():
                self.stop_process()
                self.requeue(case_id, "the service stopped while processing")
                return
            try:
                has_message = self.conn.poll(min(max(remaining, 0.0), 0.5))
            except (EOFError, OSError):
                has_message = True  # recv below raises and reports the death
            if not has_message:
                if remaining <= 0:
                    self.stop_process()
                    self.fail(case_id, f"processing took longer than the {settings.job_timeout_s:g} s limit")
                    return
                continue
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                exitcode = self.process.exitcode if self.process is not None else None
                self.stop_process()
                self.worker_died(case_id, exitcode)
                return
            kind = message[0]
            if kind == "progress":
                tracker.page(message[1], message[2], message[3])
            elif kind == "document_done":
                tracker.document(message[1], "done", pages=message[2])
            elif kind == "document_failed":
                tracker.document(message[1], "failed", error_kind=message[2], error=message[3])
            elif kind == "result":
                self.finish(case_id, message[1])
                return
            elif kind == "error":
                self.fail(case_id, message[1])
                return

    # -- outcomes -----------------------------------------------------------------------------------------------
    def finish(self, case_id: str, determination: dict) -> None:
        with self.runner.db.session() as session:
            case = _case(session, case_id)
            case.determination = determination
            case.suggested_outcome = determination["suggested_outcome"]
            case.safety_flags = [flag["id"] for flag in determination["safety_flags"]]
            case.status = "done"
            case.pages_done = case.pages_total
            case.finished_at = now()
            audit.record(session, WORKER_ACTOR, "case.status", case_id, {"from": "processing", "to": "done"})
            callbacks.enqueue(session, case)
        log.info("case %s done", case_id)

    def fail(self, case_id: str, reason: str) -> None:
        with self.runner.db.session() as session:
            case = _case(session, case_id)
            case.status = "failed"
            case.error = reason
            case.finished_at = now()
            audit.record(session, WORKER_ACTOR, "case.status", case_id, {"from": "processing", "to": "failed"})
            callbacks.enqueue(session, case)
        log.info("case %s failed", case_id)

    def requeue(self, case_id: str, reason: str) -> None:
        with self.runner.db.session() as session:
            case = _case(session, case_id)
            case.status = "queued"
            case.pages_done = 0
            audit.record(session, WORKER_ACTOR, "case.requeued", case_id, {"reason": reason})
        self.runner.work_available.set()

    def worker_died(self, case_id: str, exitcode: int | None) -> None:
        reason = f"the worker process stopped (exit code {exitcode}) while processing"
        if exitcode is not None and exitcode < 0:
            reason += " (killed: usually the memory limit)"
        self.retry_or_fail(case_id, reason)

    def retry_or_fail(self, case_id: str, reason: str) -> None:
        """Queue the case again while it has attempts left, else fail it with the reason."""
        with self.runner.db.session() as session:
            attempts = _case(session, case_id).attempts
        if attempts < self.runner.settings.job_attempts:
            self.requeue(case_id, reason)
        else:
            self.fail(case_id, f"{reason}; tried {attempts} times")


class Progress:
    """Records page progress and each document's outcome, at most every PROGRESS_EVERY_S for pages."""

    def __init__(self, db: Database, case_id: str, page_counts: dict[int, int]) -> None:
        self.db = db
        self.case_id = case_id
        self.page_counts = page_counts
        self.finished_pages = 0
        self.current = 0
        self.last_write = 0.0

    def page(self, doc_id: int, done: int, total: int) -> None:
        self.current = done
        if time.monotonic() - self.last_write >= PROGRESS_EVERY_S or done == total:
            self._write_progress()

    def _write_progress(self) -> None:
        self.last_write = time.monotonic()
        with self.db.session() as session:
            session.execute(
                update(Case).where(Case.id == self.case_id).values(pages_done=self.finished_pages + self.current)
            )

    def document(self, doc_id: int, status: str, pages: list | None = None, error_kind: str | None = None,
                 error: str | None = None) -> None:
        self.finished_pages += self.page_counts.get(doc_id, 0)
        self.current = 0
        with self.db.session() as session:
            document = session.get(Document, doc_id)
            if document is None:
                raise LookupError(f"document {doc_id} is gone")
            document.status = status
            document.error_kind = error_kind
            document.error = error
            if pages is not None:
                document.pages = pages
                document.page_count = len(pages)
            session.execute(update(Case).where(Case.id == self.case_id).values(pages_done=self.finished_pages))


class JobRunner:
    """The embedded default: ``settings.workers`` processing processes inside the service."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.stopping = threading.Event()
        self.work_available = threading.Event()
        self.slots: list[Slot] = []

    def start(self) -> None:
        requeued = recover(self.db)
        if requeued:
            log.info("queued %d interrupted case(s) again", requeued)
        self.slots = [Slot(self, number) for number in range(self.settings.workers)]
        for slot in self.slots:
            slot.start()

    def notify(self) -> None:
        self.work_available.set()

    def ready(self) -> bool:
        return not self.slots or any(slot.ready.is_set() for slot in self.slots)

    def stop(self) -> None:
        self.stopping.set()
        self.work_available.set()
        for slot in self.slots:
            slot.join(15)
