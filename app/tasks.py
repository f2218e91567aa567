"""Scale-out: Celery workers on a broker (Redis), sharing the database (PostgreSQL) with the API.

- The API sends each new case to the broker (``CeleryDispatcher.notify``). A worker process loads the pipeline once
  (``worker_process_init``), claims the case in the database (``recording.claim_case``: atomic, with a lease it
  renews as pages progress), processes it in-process, and records the result fenced by its claim.
- Tasks are acknowledged late and rejected back to the queue when their worker process is lost, so a killed worker's
  case is delivered again; the claim makes a second delivery of a case another worker holds, or has finished, a no-op.
- The database is the source of truth, not the broker: the dispatcher's sweeper sends again every case that is
  queued while the broker holds fewer messages than there are queued cases (a broker restart without persistence
  loses its queue), and every case whose holder's lease ran out (a worker machine died).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

from celery import Celery, signals
from sqlalchemy import func, or_, select, update

from app.db import Database
from app.recording import (
    CaseRecorder, Superseded, claim_case, fail, get_case, load_job, now, retry_or_fail,
)
from app.settings import Settings
from app.tables import Case

log = logging.getLogger("chartcheck.tasks")
QUEUE = "chartcheck"
SWEEP_EVERY_S = 5.0

celery_app = Celery("chartcheck")
_process: dict[str, object] = {}  # this worker process's settings, database and reviewer


def configure(settings: Settings) -> Celery:
    if celery_app.conf.broker_url not in (None, settings.broker_url):
        # A new broker for this process (tests run several): drop connections and producers made for the old one.
        if celery_app._pool is not None:
            celery_app._pool.force_close_all()
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
    celery_app.conf.update(
        broker_url=settings.broker_url,
        task_default_queue=QUEUE,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=settings.job_timeout_s + 30,
        task_soft_time_limit=settings.job_timeout_s,
        broker_transport_options={"visibility_timeout": settings.job_timeout_s + settings.lease_s},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        task_ignore_result=True,
        worker_max_memory_per_child=settings.job_memory_mb * 1024,
    )
    _process["settings"] = settings
    return celery_app


@signals.worker_process_init.connect
def _load_once(**_: object) -> None:
    """Each worker process builds its database engine and the pipeline once, before its first case."""
    from app.review import process_reviewer

    from app.worker import limit_memory

    settings = _process["settings"]
    _process["db"] = Database(settings.db_url)  # type: ignore[attr-defined]
    _process["reviewer"] = process_reviewer()
    limit_memory(settings.job_memory_mb)  # type: ignore[attr-defined]
    log.info("worker process %d ready (pipeline loaded)", os.getpid())


def _context() -> tuple[Settings, Database, object]:
    if "db" not in _process:
        _load_once()
    return _process["settings"], _process["db"], _process["reviewer"]  # type: ignore[return-value]


@celery_app.task(name="chartcheck.process_case", bind=True, acks_late=True)
def process_case(self, case_id: str) -> str:  # type: ignore[no-untyped-def]
    """Process one case, once, whoever else was handed it."""
    from celery.exceptions import SoftTimeLimitExceeded

    from app.worker import run

    settings, db, reviewer = _context()
    worker = f"celery:{self.request.hostname}:{os.getpid()}"
    if not claim_case(db, case_id, worker, settings.lease_s):
        return "skipped"  # done, failed, or held by a live worker
    try:
        job, page_counts = load_job(db, case_id)
        recorder = CaseRecorder(db, case_id, page_counts, worker=worker, lease_s=settings.lease_s)
        run(recorder, reviewer, job, settings.job_memory_mb)
    except Superseded:
        log.warning("case %s was taken over by another worker; this run is dropped", case_id)
        return "superseded"
    except SoftTimeLimitExceeded:
        fail(db, case_id, f"processing took longer than the {settings.job_timeout_s:g} s limit", worker)
        return "failed"
    except MemoryError:
        fail(db, case_id, f"processing needed more than the {settings.job_memory_mb} MB memory limit", worker)
        return "failed"
    except Exception as error:  # noqa: BLE001 - recorded as this case's failure (or retry), with the type only
        log.error("case %s: %s", case_id, type(error).__name__)
        retry_or_fail(db, settings, case_id, f"an internal error stopped the processing ({type(error).__name__})")
        return "error"
    return recorder.outcome or "unknown"


class CeleryDispatcher:
    """The API's side when a broker is set: send new cases to it, and sweep for cases it lost."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        configure(settings)
        self.stopping = threading.Event()
        self.sweeper = threading.Thread(target=self._sweep_loop, name="chartcheck-sweeper", daemon=True)

    def start(self) -> None:
        self.sweeper.start()

    def stop(self) -> None:
        self.stopping.set()
        self.sweeper.join(10)

    def notify(self, case_id: str | None = None) -> None:
        if case_id is None:
            return
        try:
            self.send(case_id)
        except Exception as error:  # noqa: BLE001 - the broker is down: the sweeper sends it once it is back
            log.warning("could not send case %s to the broker (%s); the sweeper will retry", case_id,
                        type(error).__name__)

    def send(self, case_id: str) -> None:
        with self.db.session() as session:
            session.execute(update(Case).where(Case.id == case_id).values(enqueued_at=now()))
        process_case.apply_async((case_id,), retry=True,
                                 retry_policy={"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5})

    def broker_depth(self) -> int:
        with celery_app.connection_for_write() as connection:
            return int(connection.default_channel.client.llen(QUEUE))

    def ready(self) -> bool:
        try:
            self.broker_depth()
        except Exception:  # noqa: BLE001 - any broker error means not ready
            return False
        return True

    def _sweep_loop(self) -> None:
        while not self.stopping.wait(SWEEP_EVERY_S):
            try:
                self.sweep()
            except Exception as error:  # noqa: BLE001 - the broker or database is down; try again next round
                log.warning("sweep failed (%s)", type(error).__name__)

    def sweep(self) -> int:
        """Send again what the broker lost; fail cases whose workers keep dying. Returns how many were sent."""
        moment = now()
        stale = moment - timedelta(seconds=self.settings.requeue_after_s)
        with self.db.session() as session:
            queued = session.scalar(select(func.count()).where(Case.status == "queued")) or 0
            lapsed = session.scalars(select(Case.id).where(
                Case.status == "processing", Case.lease_until < moment)).all()
        sent = 0
        for case_id in lapsed:
            with self.db.session() as session:
                case = get_case(session, case_id)
                attempts = case.attempts
            if attempts >= self.settings.job_attempts:
                fail(self.db, case_id, f"the worker holding the case stopped; tried {attempts} times")
            else:
                self.send(case_id)
                sent += 1
        if queued and self.broker_depth() < queued:
            with self.db.session() as session:
                lost = session.scalars(select(Case.id).where(
                    Case.status == "queued", or_(Case.enqueued_at.is_(None), Case.enqueued_at < stale)
                ).order_by(Case.expedited.desc(), Case.created_at).limit(500)).all()
            for case_id in lost:
                self.send(case_id)
                sent += 1
        if sent:
            log.info("sweeper sent %d case(s) again", sent)
        return sent


def worker_main(settings: Settings, concurrency: int, name: str | None = None) -> None:
    configure(settings)
    node = name or f"chartcheck-{socket.gethostname()}-{os.getpid()}"
    celery_app.worker_main([
        "worker", "--pool=prefork", f"--concurrency={concurrency}", "--loglevel=INFO", "-n", node,
        "-Q", QUEUE, "--without-gossip", "--without-mingle", "--without-heartbeat",
    ])


