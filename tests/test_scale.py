"""Scale-out proof with real parts: Celery worker processes on a real Redis, cases in a real PostgreSQL.
A case goes through a worker; a worker killed mid-case, or the broker restarting mid-queue, loses nothing; two
workers share a queue without processing a case twice."""

from __future__ import annotations

import os
import signal
import time
import uuid

import httpx
import pytest

from conftest import SAMPLES, RedisServer, free_port, fresh_postgres, sample_files, start_service, start_worker

FAST = {"lease_s": 8.0, "requeue_after_s": 2.0}
FAST_ENV = {"CHARTCHECK_LEASE_S": "8", "CHARTCHECK_REQUEUE_AFTER_S": "2"}
NOTE = SAMPLES / "dev" / "d01" / "surgonc_visit_2026-10-20.note"


@pytest.fixture
def redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def postgres():
    with fresh_postgres() as url:
        yield url


@pytest.fixture
def workers(tmp_path, postgres, redis):
    started: list = []

    def start(name: str, *args: str):
        process = start_worker(tmp_path, postgres, redis.url, name, *args, **FAST_ENV)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except Exception:
                os.killpg(process.pid, signal.SIGKILL)


def submit(service, files=None, **form):
    data = {"request_type": "initial", "external_reference": uuid.uuid4().hex, **form}
    response = service.client.post("/api/v1/cases", files=files or sample_files("d01"), data=data,
                                   headers=service.as_key())
    assert response.status_code == 202, response.text
    return response.json()["id"]


def note(i: int) -> list:
    return [("files", (f"note-{i}.txt", NOTE.read_bytes() + f"\n\nAddendum {i}.".encode(), "text/plain"))]


def audit(service, case_id: str) -> list[dict]:
    from app.tables import AuditEvent

    with service.app.state.db.session() as session:
        return [dict(action=e.action, detail=e.detail or {})
                for e in session.query(AuditEvent).filter_by(case_id=case_id).order_by(AuditEvent.id)]


def wait_status(service, case_id: str, status: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while service.client.get(f"/api/v1/cases/{case_id}", headers=service.as_key()).json()["status"] != status:
        assert time.monotonic() < deadline, f"case never reached {status}"
        time.sleep(0.05)


def test_a_case_goes_through_a_celery_worker(tmp_path, postgres, redis, workers):
    port = free_port()
    workers("w1", "--metrics-port", str(port))
    with start_service(postgres, tmp_path, broker_url=redis.url, **FAST) as service:
        case = service.wait(submit(service), timeout=180)
        assert case["status"] == "done" and case["determination"]["suggested_outcome"] == "meets_criteria"
        assert case["progress"] == {"pages_done": 5, "pages_total": 5}
        holders = [e["detail"].get("worker", "") for e in audit(service, case["id"]) if e["detail"].get("to") == "processing"]
        assert len(holders) == 1 and "@w1:" in holders[0]
        api_metrics = service.client.get("/metrics", headers=service.as_key()).text
        assert 'chartcheck_cases{status="done"} 1.0' in api_metrics and "chartcheck_queue_depth 0.0" in api_metrics
        assert "chartcheck_broker_depth" in api_metrics
    worker_metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    assert 'chartcheck_stage_seconds_count{stage="extract"} 2.0' in worker_metrics
    assert 'chartcheck_stage_seconds_count{stage="analyze"} 1.0' in worker_metrics
    assert "chartcheck_pages_processed_total 5.0" in worker_metrics
    assert 'chartcheck_cases_processed_total{outcome="done"} 1.0' in worker_metrics


def test_a_worker_killed_mid_case_loses_nothing(tmp_path, postgres, redis, workers):
    first = workers("w1")
    with start_service(postgres, tmp_path, broker_url=redis.url, **FAST) as service:
        case_id = submit(service, sample_files("d03"))  # a faxed scan: OCR keeps it busy for seconds
        wait_status(service, case_id, "processing", timeout=120)
        os.killpg(first.pid, signal.SIGKILL)  # the whole worker: main process and its pool
        first.wait(10)
        workers("w2")
        case = service.wait(case_id, timeout=180)
        assert case["status"] == "done", (case["error"], audit(service, case_id))
        assert case["determination"] is not None
        events = audit(service, case_id)
        assert sum(1 for e in events if e["detail"].get("to") == "done") == 1
        holders = [e["detail"]["worker"] for e in events if e["detail"].get("to") == "processing"]
        assert "@w1:" in holders[0] and "@w2:" in holders[-1]


def test_the_broker_restarting_mid_queue_loses_nothing(tmp_path, postgres, redis, workers):
    with start_service(postgres, tmp_path, broker_url=redis.url, **FAST) as service:
        case_ids = [submit(service, note(i)) for i in range(4)]  # no worker yet: all wait in the broker
        redis.stop()
        redis.start()  # keeps nothing on disk: the queue is gone
        workers("w1")
        for case_id in case_ids:
            assert service.wait(case_id, timeout=180)["status"] == "done"


def test_two_workers_share_a_queue_without_processing_a_case_twice(tmp_path, postgres, redis, workers):
    workers("w1")
    workers("w2")
    with start_service(postgres, tmp_path, broker_url=redis.url, **FAST) as service:
        case_ids = [submit(service, note(i)) for i in range(8)]
        holders = set()
        for case_id in case_ids:
            assert service.wait(case_id, timeout=240)["status"] == "done"
            events = audit(service, case_id)
            claims = [e["detail"]["worker"] for e in events if e["detail"].get("to") == "processing"]
            assert len(claims) == 1, claims
            assert sum(1 for e in events if e["detail"].get("to") == "done") == 1
            holders.add(claims[0].split("@")[1].split(":")[0])
        assert holders == {"w1", "w2"}
