"""Access control through HTTP: every route but health and ready needs a caller; each role does only its part."""

from __future__ import annotations

import uuid

import pytest

from conftest import sample_files

OPEN = {"/health", "/ready", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json", "/api/v1/auth/login"}


def routes(app) -> list[tuple[str, str]]:
    """Every documented route and method."""
    return [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items() if path not in OPEN
        for method in operations
    ]


def fill(path: str) -> str:
    return path.replace("{case_id}", str(uuid.uuid4())).replace("{document_id}", "1").replace(
        "{criterion_id}", "melanoma_diagnosis").replace("{user_id}", "1").replace("{key_id}", "1")


def test_every_route_but_health_and_ready_needs_a_caller(service):
    checked = routes(service.app)
    assert len(checked) >= 15
    for method, path in checked:
        response = service.client.request(method, fill(path))
        assert response.status_code == 401, (method, path, response.status_code)
    assert service.client.get("/health").status_code == 200
    assert service.client.get("/ready").status_code == 200


def test_a_wrong_or_revoked_key_is_refused(service):
    assert service.client.get("/api/v1/cases", headers={"X-API-Key": "cck_nothere_abc"}).status_code == 401
    assert service.client.get("/api/v1/cases", headers={"X-API-Key": service.key + "x"}).status_code == 401
    admin, csrf = service.login("admin")
    created = admin.post("/api/v1/apikeys", json={"name": "temporary"}, headers=csrf).json()
    assert service.client.get("/api/v1/cases", headers={"X-API-Key": created["key"]}).status_code == 200
    listed = admin.get("/api/v1/apikeys")
    assert created["id"] in [k["id"] for k in listed.json()] and created["key"] not in listed.text
    assert admin.delete(f"/api/v1/apikeys/{created['id']}", headers=csrf).json()["revoked_at"] is not None
    assert service.client.get("/api/v1/cases", headers={"X-API-Key": created["key"]}).status_code == 401


def test_keys_and_passwords_are_stored_hashed(service):
    from app.tables import ApiKey, User

    with service.app.state.db.session() as session:
        hashes = [k.key_hash for k in session.query(ApiKey)] + [u.password_hash for u in session.query(User)]
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert all(service.key not in h and service.PASSWORD not in h for h in hashes)


def test_sign_in_sign_out_and_csrf(service):
    from fastapi.testclient import TestClient

    anonymous = TestClient(service.app)
    wrong = anonymous.post("/api/v1/auth/login", json={"username": "reviewer", "password": "nope"})
    assert wrong.status_code == 401
    client, csrf = service.login("intake")
    me = client.get("/api/v1/auth/me").json()
    assert me["role"] == "intake" and "case:create" in me["permissions"] and "case:read" not in me["permissions"]
    data = {"request_type": "initial", "external_reference": uuid.uuid4().hex}
    without_csrf = client.post("/api/v1/cases", files=sample_files("d07"), data=data)
    assert without_csrf.status_code == 403 and "CSRF" in without_csrf.json()["detail"]
    with_csrf = client.post("/api/v1/cases", files=sample_files("d07"), data=data, headers=csrf)
    assert with_csrf.status_code == 202
    assert client.post("/api/v1/auth/logout", headers=csrf).status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401
    service.wait(with_csrf.json()["id"])


def test_repeated_wrong_passwords_lock_the_user_name(service):
    from fastapi.testclient import TestClient

    from app.security import hash_secret
    from app.tables import User

    name = f"temp{uuid.uuid4().hex[:6]}"
    with service.app.state.db.session() as session:
        session.add(User(username=name, password_hash=hash_secret(service.PASSWORD), role="reviewer"))
    client = TestClient(service.app)
    for _ in range(5):
        assert client.post("/api/v1/auth/login", json={"username": name, "password": "wrong"}).status_code == 401
    locked = client.post("/api/v1/auth/login", json={"username": name, "password": service.PASSWORD})
    assert locked.status_code == 429


@pytest.fixture(scope="module")
def processed(service):
    data = {"request_type": "initial", "external_reference": uuid.uuid4().hex}
    created = service.client.post("/api/v1/cases", files=sample_files("d01"), data=data, headers=service.as_key())
    return service.wait(created.json()["id"])


def test_intake_creates_and_follows_progress_but_sees_no_clinical_content(service, processed):
    client, csrf = service.login("intake")
    body = client.get(f"/api/v1/cases/{processed['id']}").json()
    assert body["status"] == "done" and body["progress"]["pages_done"] == 5
    assert body["determination"] is None and body["suggested_outcome"] is None and body["review"] is None
    assert client.get(f"/api/v1/cases/{processed['id']}/determination").status_code == 403
    document = processed["documents"][0]["id"]
    assert client.get(f"/api/v1/cases/{processed['id']}/documents/{document}/file").status_code == 403
    decide = client.post(f"/api/v1/cases/{processed['id']}/criteria/melanoma_diagnosis/decision",
                         json={"action": "accept"}, headers=csrf)
    assert decide.status_code == 403
    assert client.get("/api/v1/users").status_code == 403
    assert client.get("/api/v1/cases", params={"outcome": "meets_criteria"}).status_code == 422


def test_reviewer_reads_and_decides_but_does_not_submit_or_administer(service, processed):
    client, csrf = service.login("reviewer")
    assert client.get(f"/api/v1/cases/{processed['id']}").json()["determination"] is not None
    data = {"request_type": "initial"}
    assert client.post("/api/v1/cases", files=sample_files("d01"), data=data, headers=csrf).status_code == 403
    assert client.get("/api/v1/users").status_code == 403
    assert client.post("/api/v1/apikeys", json={"name": "x"}, headers=csrf).status_code == 403
    assert client.get("/api/v1/audit").status_code == 403


def test_admin_manages_users_and_keys_but_not_cases(service, processed):
    client, csrf = service.login("admin")
    name = f"rev{uuid.uuid4().hex[:6]}"
    weak = client.post("/api/v1/users", json={"username": name, "password": "short", "role": "reviewer"}, headers=csrf)
    assert weak.status_code == 422
    made = client.post("/api/v1/users", json={"username": name, "password": "long enough pass", "role": "reviewer"},
                       headers=csrf)
    assert made.status_code == 201
    again = client.post("/api/v1/users", json={"username": name, "password": "long enough pass", "role": "reviewer"},
                        headers=csrf)
    assert again.status_code == 409
    changed = client.patch(f"/api/v1/users/{made.json()['id']}", json={"role": "intake"}, headers=csrf)
    assert changed.json()["role"] == "intake"
    assert name in [u["username"] for u in client.get("/api/v1/users").json()]
    assert client.get(f"/api/v1/cases/{processed['id']}").json()["determination"] is None
    assert client.get(f"/api/v1/cases/{processed['id']}/determination").status_code == 403
    audit = client.get("/api/v1/audit", params={"actor": "user:admin"}).json()["items"]
    assert {"user.create", "user.update"} <= {e["action"] for e in audit}


def test_a_deactivated_user_is_signed_out(service):
    admin, csrf = service.login("admin")
    name = f"gone{uuid.uuid4().hex[:6]}"
    made = admin.post("/api/v1/users", json={"username": name, "password": "long enough pass", "role": "reviewer"},
                      headers=csrf).json()
    from fastapi.testclient import TestClient

    user = TestClient(service.app)
    assert user.post("/api/v1/auth/login", json={"username": name, "password": "long enough pass"}).status_code == 200
    assert user.get("/api/v1/auth/me").status_code == 200
    admin.patch(f"/api/v1/users/{made['id']}", json={"active": False}, headers=csrf)
    assert user.get("/api/v1/auth/me").status_code == 401


def test_the_platform_key_submits_reads_and_downloads_but_does_not_decide(service, processed):
    key = service.as_key()
    assert service.client.get(f"/api/v1/cases/{processed['id']}/determination", headers=key).status_code == 200
    decide = service.client.post(f"/api/v1/cases/{processed['id']}/criteria/melanoma_diagnosis/decision",
                                 json={"action": "accept"}, headers=key)
    assert decide.status_code == 403
    assert service.client.get("/api/v1/users", headers=key).status_code == 403
