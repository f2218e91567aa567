"""In-process job running (the embedded default): a pool of processing processes fed from the cases table.

Each slot is a thread in the service that owns one worker process (``app/worker.py``). The thread claims the oldest
queued case (expedited first) with an atomic UPDATE, sends it the files, records progress and results
(``app/recording.py``), and enforces the time limit. A worker that dies or overruns is replaced; its case is retried
(up to ``job_attempts``) or failed with a readable reason, never left in ``processing``. At start-up, cases a crash
left in ``processing`` are queued again.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import threading
import time

from sqlalchemy import or_, select

from app import audit
from app.db import Database
from app.recording import (
    WORKER_ACTOR, CaseRecorder, Superseded, claim_case, fail, load_job, requeue, retry_or_fail,
)
from app.settings import Settings
from app.tables import Case
from app.worker import serve

log = logging.getLogger("chartcheck.jobs")
POLL_S = 1.0
WORKER_START_TIMEOUT_S = 120.0
EMBEDDED = "embedded"


def recover(db: Database) -> int:
    """Queue again every case this kind of service left in ``processing`` (a crash or restart); returns how many."""
    with db.session() as session:
        stuck = session.scalars(select(Case).where(
            Case.status == "processing", or_(Case.worker.is_(None), Case.worker.like(f"{EMBEDDED}:%"))
        )).all()
        for case in stuck:
            case.status = "queued"
            case.pages_done = 0
            case.worker = None
            case.lease_until = None
            audit.record(session, WORKER_ACTOR, "case.requeued", case.id, {"reason": "service restarted"})
        return len(stuck)


def next_queued(db: Database, worker: str, lease_s: float) -> str | None:
    """Claim the next queued case (expedited first, then oldest), or None."""
    with db.session() as session:
        candidates = session.scalars(
            select(Case.id).where(Case.status == "queued")
            .order_by(Case.expedited.desc(), Case.created_at).limit(5)
        ).all()
    for case_id in candidates:
        if claim_case(db, case_id, worker, lease_s):
            return case_id
    return None


class WorkerDied(Exception):
    pass


class Slot(threading.Thread):
    def __init__(self, runner: JobRunner, number: int) -> None:
        super().__init__(name=f"chartcheck-slot-{number}", daemon=True)
        self.runner = runner
        self.process: multiprocessing.process.BaseProcess | None = None
        self.conn = None
        self.ready = threading.Event()
        self.worker_id = f"{EMBEDDED}:{socket.gethostname()}:{os.getpid()}:{number}"

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
                case_id = next_queued(self.runner.db, self.worker_id, self.runner.lease_s)
                if case_id is None:
                    self.runner.work_available.wait(POLL_S)
                    self.runner.work_available.clear()
                    continue
                try:
                    self.process_case(case_id)
                except Exception:
                    log.exception("%s: error while processing case %s", self.name, case_id)
                    self.stop_process()
                    retry_or_fail(self.runner.db, self.runner.settings, case_id,
                                  "an internal error stopped the processing")
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
        job, page_counts = load_job(db, case_id)
        recorder = CaseRecorder(db, case_id, page_counts, worker=self.worker_id)
        deadline = time.monotonic() + settings.job_timeout_s
        if self.conn is None:
            raise WorkerDied("no worker process")
        self.conn.send(job)
        del job
        while recorder.outcome is None:
            remaining = deadline - time.monotonic()
            if self.runner.stopping.is_set():
                self.stop_process()
                requeue(db, case_id, "the service stopped while processing")
                return
            try:
                has_message = self.conn.poll(min(max(remaining, 0.0), 0.5))
            except (EOFError, OSError):
                has_message = True  # recv below raises and reports the death
            if not has_message:
                if remaining <= 0:
                    self.stop_process()
                    fail(db, case_id, f"processing took longer than the {settings.job_timeout_s:g} s limit")
                    return
                continue
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                exitcode = self.process.exitcode if self.process is not None else None
                self.stop_process()
                reason = f"the worker process stopped (exit code {exitcode}) while processing"
                if exitcode is not None and exitcode < 0:
                    reason += f" (killed by signal {-exitcode}; e.g. the system ran out of memory)"
                retry_or_fail(db, settings, case_id, reason)
                return
            try:
                recorder.send(message)
            except Superseded:
                log.warning("%s: case %s was taken over; dropping this run", self.name, case_id)
                self.stop_process()
                return
        log.info("case %s %s", case_id, recorder.outcome)


class JobRunner:
    """The embedded default: ``settings.workers`` processing processes inside the service."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.stopping = threading.Event()
        self.work_available = threading.Event()
        self.slots: list[Slot] = []
        self.lease_s = settings.job_timeout_s + 60  # the slot enforces the time limit itself

    def start(self) -> None:
        requeued = recover(self.db)
        if requeued:
            log.info("queued %d interrupted case(s) again", requeued)
        self.slots = [Slot(self, number) for number in range(self.settings.workers)]
        for slot in self.slots:
            slot.start()

    def notify(self, case_id: str | None = None) -> None:
        self.work_available.set()

    def ready(self) -> bool:
        """A worker can take cases (or there are none by design)."""
        return not self.slots or any(slot.ready.is_set() for slot in self.slots)

    def stop(self) -> None:
        self.stopping.set()
        self.work_available.set()
        for slot in self.slots:
            slot.join(15)
