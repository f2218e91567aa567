"""`chartcheck serve` as users run it: a real uvicorn process on loopback, first credentials from the CLI, bad
settings refused at start-up, and logs without note text or patient identifiers."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from conftest import SAMPLES, first_key, free_port, run, start_server

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    data = tmp_path_factory.mktemp("served")
    added = run("user", "add", "rita", "--role", "reviewer", "--data-dir", str(data), stdin="a long password\n")
    assert added.returncode == 0, added.stderr
    key = first_key(data)
    port = free_port()
    process = start_server(data, port)
    yield f"http://127.0.0.1:{port}", key, data / "serve.log"
    process.terminate()
    process.wait(30)


def test_a_case_through_a_real_server(served):
    base, key, _ = served
    paths = sorted((SAMPLES / "dev" / "d01").glob("*.pdf"))
    files = [("files", (p.name, p.read_bytes(), "application/pdf")) for p in paths]
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30) as client:
        response = client.post("/api/v1/cases", files=files, data={"request_type": "initial"})
        assert response.status_code == 202
        case_id = response.json()["id"]
        deadline = time.monotonic() + 120
        while (body := client.get(f"/api/v1/cases/{case_id}").json())["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.3)
        assert body["status"] == "done"
        assert body["determination"]["suggested_outcome"] == "meets_criteria"
    with httpx.Client(base_url=base, timeout=30) as browser:
        login = browser.post("/api/v1/auth/login", json={"username": "rita", "password": "a long password"})
        assert login.status_code == 200 and login.json()["role"] == "reviewer"
        assert "httponly" in login.headers["set-cookie"].lower()
        for _ in range(5):  # regression: the sign-in was committed after the answer, so an immediate read could miss it
            again = browser.post("/api/v1/auth/login", json={"username": "rita", "password": "a long password"})
            assert again.status_code == 200 and browser.get("/api/v1/auth/me").status_code == 200
        seen = browser.get(f"/api/v1/cases/{case_id}")
        assert seen.status_code == 200, seen.text
        assert seen.json()["determination"] is not None


def test_the_logs_carry_no_note_text_or_patient_identifiers(served):
    base, key, log_path = served
    note = (SAMPLES / "dev" / "d01" / "surgonc_visit_2026-10-20.note").read_text()
    time.sleep(0.5)
    logged = log_path.read_text()
    assert "chartcheck service started" in logged and "POST /api/v1/cases" in logged  # the log is being written
    distinctive = [line.strip() for line in note.splitlines() if len(line.strip()) > 25][:40]
    assert distinctive
    for line in distinctive:
        assert line not in logged
    for name in ("surgonc_visit_2026-10-20.pdf", "pathology_S26-18842.pdf"):
        assert name not in logged


def test_bad_settings_stop_the_service_with_a_reason(tmp_path):
    result = run("serve", "--data-dir", str(tmp_path), env={"CHARTCHECK_JOB_TIMEOUT_S": "-5"})
    assert result.returncode == 2
    assert "CHARTCHECK_JOB_TIMEOUT_S" in result.stderr and "greater than 0" in result.stderr
    result = run("serve", "--data-dir", str(tmp_path), env={"CHARTCHECK_DATABASE_URL": "mysql://x"})
    assert result.returncode == 2 and "CHARTCHECK_DATABASE_URL" in result.stderr
    result = run("serve", "--data-dir", "/proc/no-such-place")
    assert result.returncode == 2 and "data_dir" in result.stderr


def test_the_first_credentials_come_from_the_cli(tmp_path):
    weak = run("user", "add", "sam", "--role", "intake", "--data-dir", str(tmp_path), stdin="short\n")
    assert weak.returncode == 2 and "at least 10 characters" in weak.stderr
    assert run("user", "add", "sam", "--role", "intake", "--data-dir", str(tmp_path),
               stdin="a long password\n").returncode == 0
    again = run("user", "add", "sam", "--role", "intake", "--data-dir", str(tmp_path), stdin="a long password\n")
    assert again.returncode == 2 and "exists" in again.stderr
    created = run("apikey", "create", "--name", "platform", "--data-dir", str(tmp_path))
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("cck_") and len(key) > 40
    assert key not in (Path(tmp_path) / "chartcheck.db").read_bytes().decode("latin-1")


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGKILL"])
def test_a_server_stopped_mid_case_finishes_it_after_restart(tmp_path, stop):
    key = first_key(tmp_path)
    port = free_port()
    process = start_server(tmp_path, port)
    scan = sorted((SAMPLES / "dev" / "d03").glob("*.pdf"))
    files = [("files", (p.name, p.read_bytes(), "application/pdf")) for p in scan]
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}, timeout=30) as client:
        case_id = client.post("/api/v1/cases", files=files, data={"request_type": "initial"}).json()["id"]
        deadline = time.monotonic() + 60
        while client.get(f"/api/v1/cases/{case_id}").json()["status"] != "processing":
            assert time.monotonic() < deadline
            time.sleep(0.02)
    process.send_signal(getattr(signal, stop))
    process.wait(30)
    process = start_server(tmp_path, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}, timeout=30) as client:
            deadline = time.monotonic() + 120
            while (body := client.get(f"/api/v1/cases/{case_id}").json())["status"] not in ("done", "failed"):
                assert time.monotonic() < deadline
                time.sleep(0.3)
            assert body["status"] == "done" and body["determination"] is not None
            listed = client.get("/api/v1/cases").json()
            assert listed["total"] == 1  # nothing lost, nothing doubled
    finally:
        process.terminate()
        process.wait(30)


def test_many_submissions_at_once_all_answer(served):
    """Regression: each request held a pooled connection for its caller while waiting for another for its work,
    so a burst of submissions starved the pool and got 500s."""
    from concurrent.futures import ThreadPoolExecutor

    base, key, _ = served
    note = (SAMPLES / "dev" / "d01" / "surgonc_visit_2026-10-20.pdf").read_bytes()

    def submit(number: int) -> int:
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=120) as client:
            response = client.post("/api/v1/cases", files=[("files", ("visit.pdf", note, "application/pdf"))],
                                   data={"request_type": "initial", "external_reference": f"burst-{number}"})
            return response.status_code

    with ThreadPoolExecutor(max_workers=48) as pool:
        statuses = list(pool.map(submit, range(48)))
    assert statuses == [202] * 48
