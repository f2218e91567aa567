"""The case API through HTTP, on SQLite and PostgreSQL: submit, process, read, list, download, decide, finalize."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import SAMPLES, sample_files
from models import ReviewRequest


def submit(service, case: str = "d01", request_type: str = "initial", **form) -> dict:
    data = {"request_type": request_type, "external_reference": form.pop("external_reference", uuid.uuid4().hex), **form}
    response = service.client.post("/api/v1/cases", files=sample_files(case), data=data, headers=service.as_key())
    assert response.status_code == 202, response.text
    return response.json()


@pytest.fixture(scope="module")
def done_case(service):
    created = submit(service, "d01")
    return service.wait(created["id"])


def test_a_submitted_case_is_processed_to_the_same_determination_as_the_cli(service, done_case, reviewer):
    assert done_case["status"] == "done"
    assert done_case["progress"] == {"pages_done": 5, "pages_total": 5}
    paths = sorted((SAMPLES / "dev" / "d01").glob("*.pdf"))
    expected = reviewer.review_paths(paths, ReviewRequest(request_type="initial"))
    got = done_case["determination"]
    assert got["suggested_outcome"] == expected.suggested_outcome == done_case["suggested_outcome"]
    assert {c["id"]: c["status"] for c in got["criteria"]} == {c.id: c.status for c in expected.criteria}
    assert [d["status"] for d in done_case["documents"]] == ["done", "done"]
    assert sum(d["page_count"] for d in done_case["documents"]) == 5
    assert done_case["documents"][1]["pages"][0]["source"] == "text"


def test_the_status_read_is_light(service, done_case):
    body = service.client.get(f"/api/v1/cases/{done_case['id']}/status", headers=service.as_key()).json()
    assert body["status"] == "done" and body["progress"] == {"pages_done": 5, "pages_total": 5}
    assert "determination" not in body and "documents" not in body


def test_the_determination_alone_is_the_contract(service, done_case):
    response = service.client.get(f"/api/v1/cases/{done_case['id']}/determination", headers=service.as_key())
    assert response.status_code == 200
    body = response.json()
    assert body["policy_id"] == "5.01.562"
    evidence = body["criteria"][0]["evidence"][0]
    assert {"document", "page", "start", "end", "text", "qualifiers", "stance", "boxes"} <= evidence.keys()


def test_the_same_submission_again_returns_the_same_case(service):
    reference = uuid.uuid4().hex
    first = submit(service, "d02", external_reference=reference)
    again = service.client.post("/api/v1/cases", files=sample_files("d02"),
                                data={"request_type": "initial", "external_reference": reference},
                                headers=service.as_key())
    assert again.status_code == 200
    assert again.json()["id"] == first["id"] and again.json()["created"] is False
    other_request = submit(service, "d02", request_type="reauthorization", external_reference=reference)
    assert other_request["id"] != first["id"]


def test_download_returns_the_original_bytes_and_is_audited(service, done_case):
    document = done_case["documents"][0]
    client, csrf = service.login("reviewer")
    response = client.get(f"/api/v1/cases/{done_case['id']}/documents/{document['id']}/file")
    assert response.status_code == 200
    original = (SAMPLES / "dev" / "d01" / document["filename"]).read_bytes()
    assert response.content == original
    assert response.headers["content-type"] == "application/pdf"
    admin, _ = service.login("admin")
    events = admin.get("/api/v1/audit", params={"case_id": done_case["id"]}).json()["items"]
    assert any(e["action"] == "file.download" and e["actor"] == "user:reviewer" for e in events)
    assert any(e["action"] == "case.status" and e["detail"]["to"] == "done" for e in events)


def test_a_document_of_another_case_is_not_served(service, done_case):
    other = service.wait(submit(service, "d04")["id"])
    foreign = other["documents"][0]["id"]
    response = service.client.get(f"/api/v1/cases/{done_case['id']}/documents/{foreign}/file",
                                  headers=service.as_key())
    assert response.status_code == 404


def test_list_filters_by_status_outcome_and_date_with_pagination(service, done_case):
    key = service.as_key()
    everything = service.client.get("/api/v1/cases", params={"limit": 200}, headers=key).json()
    assert done_case["id"] in [c["id"] for c in everything["items"]]
    done = service.client.get("/api/v1/cases", params={"status": "done", "limit": 200}, headers=key).json()
    assert all(c["status"] == "done" for c in done["items"]) and done["total"] >= 1
    outcome = done_case["suggested_outcome"]
    by_outcome = service.client.get("/api/v1/cases", params={"outcome": outcome, "limit": 200}, headers=key).json()
    assert done_case["id"] in [c["id"] for c in by_outcome["items"]]
    assert all(c["suggested_outcome"] == outcome for c in by_outcome["items"])
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    future = service.client.get("/api/v1/cases", params={"created_from": tomorrow}, headers=key).json()
    assert future["total"] == 0 and future["items"] == []
    page1 = service.client.get("/api/v1/cases", params={"limit": 1, "offset": 0}, headers=key).json()
    page2 = service.client.get("/api/v1/cases", params={"limit": 1, "offset": 1}, headers=key).json()
    assert page1["total"] == page2["total"] >= 2
    assert page1["items"][0]["id"] != page2["items"][0]["id"]


def test_reviewer_accepts_overrides_and_finalizes_and_the_prefill_is_kept(service):
    case = service.wait(submit(service, "d01")["id"])
    prefilled = case["determination"]
    client, csrf = service.login("reviewer")
    url = f"/api/v1/cases/{case['id']}"
    criteria = [c["id"] for c in prefilled["criteria"]]

    no_reason = client.post(f"{url}/criteria/unresectable/decision", json={"action": "override", "status": "not_met"},
                            headers=csrf)
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["detail"]
    unknown = client.post(f"{url}/criteria/no_such/decision", json={"action": "accept"}, headers=csrf)
    assert unknown.status_code == 404
    early = client.post(f"{url}/finalize", json={"outcome": "meets_criteria", "approval_months": 12}, headers=csrf)
    assert early.status_code == 422 and "undecided" in early.json()["detail"]

    for criterion in criteria:
        response = client.post(f"{url}/criteria/{criterion}/decision", json={"action": "accept"}, headers=csrf)
        assert response.status_code == 200, response.text
    override = client.post(f"{url}/criteria/unresectable/decision",
                           json={"action": "override", "status": "insufficient", "reason": "tumor board note missing"},
                           headers=csrf)
    assert override.status_code == 200
    review = override.json()
    current = {d["criterion_id"]: d for d in review["decisions"]}
    assert current["unresectable"]["status"] == "insufficient"
    assert current["unresectable"]["decided_by"] == "user:reviewer"
    assert len(review["history"]) == len(criteria) + 1

    differs = client.post(f"{url}/finalize", json={"outcome": "insufficient_documentation"}, headers=csrf)
    assert differs.status_code == 422 and "reason" in differs.json()["detail"]
    final = client.post(f"{url}/finalize", json={"outcome": "insufficient_documentation",
                                                  "reason": "asked the office for the tumor board note"}, headers=csrf)
    assert final.status_code == 200
    assert final.json()["final_outcome"] == "insufficient_documentation"
    after = client.post(f"{url}/criteria/unresectable/decision", json={"action": "accept"}, headers=csrf)
    assert after.status_code == 409

    body = client.get(url).json()
    assert body["determination"] == prefilled  # the pre-filled determination is never edited
    assert body["final_outcome"] == "insufficient_documentation"
    admin, _ = service.login("admin")
    actions = [e["action"] for e in admin.get("/api/v1/audit", params={"case_id": case["id"], "limit": 1000}).json()["items"]]
    assert actions.count("criterion.accept") == len(criteria)
    assert "criterion.override" in actions and "case.finalize" in actions and "case.view" in actions


def test_decisions_wait_for_a_processed_case(service):
    from app.tables import Case

    case_id = str(uuid.uuid4())
    with service.app.state.db.session() as session:
        session.add(Case(id=case_id, request_key=uuid.uuid4().hex, request_type="initial", status="failed",
                         error="no submitted document could be read", created_by="test"))
    client, csrf = service.login("reviewer")
    response = client.post(f"/api/v1/cases/{case_id}/criteria/melanoma_diagnosis/decision",
                           json={"action": "accept"}, headers=csrf)
    assert response.status_code == 409 and "failed" in response.json()["detail"]
    determination = client.get(f"/api/v1/cases/{case_id}/determination")
    assert determination.status_code == 409 and "no submitted document" in determination.json()["detail"]


def test_intake_marks_a_case_expedited(service):
    created = submit(service, "d06")
    client, csrf = service.login("intake")
    response = client.post(f"/api/v1/cases/{created['id']}/expedite", json={"expedited": True}, headers=csrf)
    assert response.status_code == 200 and response.json()["expedited"] is True
    service.wait(created["id"])


def test_openapi_lists_the_versioned_routes(service):
    spec = service.client.get("/openapi.json").json()
    assert "/api/v1/cases" in spec["paths"] and "/api/v1/cases/{case_id}/finalize" in spec["paths"]
    assert service.client.get("/docs").status_code == 200


def test_metrics_for_keys_and_admins(service, done_case):
    text = service.client.get("/metrics", headers=service.as_key()).text
    assert 'chartcheck_cases{status="done"}' in text and "chartcheck_queue_depth" in text
    assert 'chartcheck_stage_seconds_count{stage="analyze"}' in text  # embedded workers report to the API process
    intake, _ = service.login("intake")
    assert intake.get("/metrics").status_code == 403
    admin, _ = service.login("admin")
    assert admin.get("/metrics").status_code == 200
