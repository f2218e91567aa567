"""A processing process: loads the pipeline once, then reviews the cases its server hands it over a pipe.

It never touches the database. It reports page progress, each document's outcome and the determination as messages,
so the server (``app/jobs.py``) can record them, enforce the time limit, and replace this process if it dies.
The process caps its own address space (``job_memory_mb`` beyond what the loaded pipeline uses), so a file built to
exhaust memory fails its own case with a MemoryError instead of taking the machine down.
"""

from __future__ import annotations

import logging
import resource
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from extractor.errors import UnreadableDocument
from models import ReviewRequest

log = logging.getLogger("chartcheck.worker")
MB = 1024 * 1024


@dataclass
class Job:
    case_id: str
    request: dict
    documents: list[tuple[int, str, bytes]] = field(default_factory=list)  # (document id, file name, bytes)


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def limit_memory(extra_mb: int) -> None:
    """Cap this process's address space at what it uses now plus `extra_mb`."""
    limit = _address_space() + extra_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def serve(conn: Connection, memory_mb: int) -> None:
    """The process's main loop (the target of a spawned multiprocessing.Process)."""
    from app.review import process_reviewer

    reviewer = process_reviewer()
    limit_memory(memory_mb)
    conn.send(("ready",))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            run(conn, reviewer, job, memory_mb)
        except MemoryError:
            conn.send(("error", f"processing needed more than the {memory_mb} MB memory limit"))
        except Exception as error:  # noqa: BLE001 - reported to the server as this case's failure, never swallowed
            # The traceback names code locations only; exception messages could quote note text, so they stay out.
            where = traceback.extract_tb(error.__traceback__)[-1]
            log.error("case %s failed: %s at %s:%s", job.case_id, type(error).__name__, where.filename, where.lineno)
            conn.send(("error", f"internal error while processing ({type(error).__name__}); the team has been told"))


def run(conn, reviewer, job: Job, memory_mb: int) -> None:  # type: ignore[no-untyped-def]
    """Process one job, reporting through conn.send(message): a pipe to the server, or a CaseRecorder."""
    from extractor.read import read_document

    documents = []
    for doc_id, name, data in job.documents:
        started = time.perf_counter()
        def progress(done: int, total: int, doc_id: int = doc_id) -> None:
            conn.send(("progress", doc_id, done, total))

        try:
            document = read_document(name, data, progress)
        except UnreadableDocument as error:
            conn.send(("document_failed", doc_id, error.kind, error.cause))
            continue
        except MemoryError:
            conn.send(("document_failed", doc_id, "memory", f"reading it needs more than the {memory_mb} MB limit"))
            continue
        info = document.info()
        conn.send(("timing", "extract", time.perf_counter() - started, len(info.pages)))
        conn.send(("document_done", doc_id, [page.model_dump(mode="json") for page in info.pages]))
        documents.append(document)
    if not documents:
        conn.send(("error", "no submitted document could be read"))
        return
    started = time.perf_counter()
    determination = reviewer.review_documents(documents, ReviewRequest(**job.request))
    conn.send(("timing", "analyze", time.perf_counter() - started, 0))
    conn.send(("result", determination.model_dump(mode="json")))
