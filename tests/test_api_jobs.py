"""Processing survives restarts, overruns and dead workers; the UM platform is told when a case finishes."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from conftest import SAMPLES, sample_files, start_service

NOTE = (SAMPLES / "dev" / "d01" / "surgonc_visit_2026-10-20.note")


def submit(service, files, **form):
    data = {"request_type": "initial", "external_reference": uuid.uuid4().hex, **form}
    response = service.client.post("/api/v1/cases", files=files, data=data, headers=service.as_key())
    assert response.status_code == 202, response.text
    return response.json()["id"]


def text_note(name: str = "note.txt") -> list:
    return [("files", (name, NOTE.read_bytes(), "text/plain"))]


def events(service, case_id: str) -> list[dict]:
    from app.tables import AuditEvent

    with service.app.state.db.session() as session:
        rows = session.query(AuditEvent).filter_by(case_id=case_id).order_by(AuditEvent.id).all()
        return [{"action": r.action, "actor": r.actor, "detail": r.detail} for r in rows]


def kill_worker_mid_case(service, case_id: str) -> None:
    """SIGKILL the worker process once it has started on the case."""
    slot = service.app.state.jobs.slots[0]
    deadline = time.monotonic() + 60
    while service.client.get(f"/api/v1/cases/{case_id}", headers=service.as_key()).json()["status"] != "processing":
        assert time.monotonic() < deadline, "the case never started"
        time.sleep(0.02)
    os.kill(slot.process.pid, signal.SIGKILL)


def test_a_case_left_processing_by_a_crash_is_finished_after_restart(database_url, tmp_path):
    from app.tables import Case

    with start_service(database_url, tmp_path, workers=0) as first:  # no workers: the case stays queued
        case_id = submit(first, sample_files("d02"))
        with first.app.state.db.session() as session:
            session.get(Case, case_id).status = "processing"  # as a crash mid-case leaves it
    with start_service(database_url, tmp_path, workers=1) as second:
        case = second.wait(case_id)
        assert case["status"] == "done" and case["determination"] is not None
        assert "case.requeued" in [e["action"] for e in events(second, case_id)]


def test_an_overrunning_case_fails_with_a_reason_and_the_worker_is_replaced(database_url, tmp_path):
    with start_service(database_url, tmp_path, job_timeout_s=0.05) as service:
        slot = service.app.state.jobs.slots[0]
        first_pid = slot.process.pid
        slow = service.wait(submit(service, sample_files("d03")))  # a 3-page faxed scan: OCR takes seconds
        assert slow["status"] == "failed"
        assert "longer than the 0.05 s limit" in slow["error"]
        service.wait_ready()
        deadline = time.monotonic() + 60
        while not (slot.ready.is_set() and slot.process is not None and slot.process.pid != first_pid):
            assert time.monotonic() < deadline, "the overrunning worker was not replaced"
            time.sleep(0.1)
        assert slot.process.is_alive()


def test_a_worker_killed_mid_case_loses_nothing(database_url, tmp_path):
    with start_service(database_url, tmp_path, job_attempts=2) as service:
        case_id = submit(service, sample_files("d03"))  # a faxed scan: OCR keeps the worker busy for seconds
        kill_worker_mid_case(service, case_id)
        case = service.wait(case_id)
        assert case["status"] == "done" and case["determination"] is not None
        actions = [e["action"] for e in events(service, case_id)]
        assert "case.requeued" in actions
        assert actions.count("case.status") >= 3  # processing, (killed) processing again, done


def test_a_case_that_keeps_killing_its_worker_fails_readably(database_url, tmp_path):
    with start_service(database_url, tmp_path, job_attempts=1) as service:
        case_id = submit(service, sample_files("d03"))  # a faxed scan: OCR keeps the worker busy for seconds
        kill_worker_mid_case(service, case_id)
        case = service.wait(case_id)
        assert case["status"] == "failed"
        assert "worker process stopped" in case["error"] and "tried 1 times" in case["error"]
        neighbour = service.wait(submit(service, text_note()))
        assert neighbour["status"] == "done"


class _Receiver(BaseHTTPRequestHandler):
    received: list = []
    fail_first = 1

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Receiver.received.append(body)
        status = 500 if len(_Receiver.received) <= _Receiver.fail_first else 204
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver():
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/chartcheck-done", _Receiver.received
    server.shutdown()


def test_the_platform_is_called_back_on_completion_with_retry(database_url, tmp_path, receiver):
    url, received = receiver
    with start_service(database_url, tmp_path, callback_backoff_s=0.2) as service:
        reference = uuid.uuid4().hex
        case = service.wait(submit(service, text_note("pt-note.txt"), callback_url=url, external_reference=reference))
        deadline = time.monotonic() + 20
        while len(received) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    assert len(received) == 2  # the first POST got a 500, the retry a 204, and nothing after
    assert received[0] == received[1]
    assert received[1] == {"case_id": case["id"], "status": "done", "suggested_outcome": case["suggested_outcome"],
                           "external_reference": reference, "url": f"/api/v1/cases/{case['id']}"}
