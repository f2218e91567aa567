"""/api/v1/auth: sign in and out with a user account; who am I."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime, timedelta, timezone

from fastapi import APIRouter, Request, Response
from sqlalchemy import delete, select

from app import audit
from app.api import schemas
from app.api.deps import CSRF_HEADER, SESSION_COOKIE, NotAuthenticated, PrincipalDep, SessionDep, SettingsDep
from app.security import PERMISSIONS, new_session_token, token_digest, verify_secret
from app.tables import Session as UserSession
from app.tables import User

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
MAX_FAILURES = 5
FAILURE_WINDOW_S = 900.0


class TooManyAttempts(Exception):
    pass


class _Failures:
    """Failed sign-ins per user name in this process: after MAX_FAILURES in the window, sign-in waits."""

    def __init__(self) -> None:
        self._seen: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def check(self, username: str) -> None:
        with self._lock:
            recent = [t for t in self._seen.get(username, []) if t > time.monotonic() - FAILURE_WINDOW_S]
            self._seen[username] = recent
            if len(recent) >= MAX_FAILURES:
                raise TooManyAttempts("too many failed sign-ins for this user; try again in 15 minutes")

    def add(self, username: str) -> None:
        with self._lock:
            self._seen.setdefault(username, []).append(time.monotonic())

    def clear(self, username: str) -> None:
        with self._lock:
            self._seen.pop(username, None)


FAILURES = _Failures()
# Verifying against this keeps a wrong user name as slow as a wrong password.
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$EuMtt0/czLPJdZnTNkzokw$dhSNRou/2Q1655spaBsfUyXwqrVqToUN4B6xQLljpME"


@router.post("/login", response_model=schemas.Me)
def login(body: schemas.LoginIn, response: Response, session: SessionDep, settings: SettingsDep) -> schemas.Me:
    FAILURES.check(body.username)
    user = session.scalar(select(User).where(User.username == body.username))
    ok = verify_secret(user.password_hash if user else _DUMMY_HASH, body.password)
    if not ok or user is None or not user.active:
        FAILURES.add(body.username)
        audit.record(session, f"user:{body.username}", "auth.login_failed")
        raise NotAuthenticated("wrong user name or password")
    FAILURES.clear(body.username)
    now = datetime.now(timezone.utc)
    session.execute(delete(UserSession).where(UserSession.expires_at <= now))
    token = new_session_token()
    csrf = secrets.token_urlsafe(24)
    session.add(UserSession(token_hash=token_digest(token), user_id=user.id, csrf_token=csrf,
                            expires_at=now + timedelta(hours=settings.session_hours)))
    audit.record(session, f"user:{user.username}", "auth.login")
    response.set_cookie(SESSION_COOKIE, token, max_age=int(settings.session_hours * 3600), httponly=True,
                        samesite="strict", secure=settings.secure_cookies, path="/")
    return schemas.Me(kind="user", name=user.username, role=user.role,
                      permissions=sorted(PERMISSIONS[user.role]), csrf_token=csrf)


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, session: SessionDep, principal: PrincipalDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        session.execute(delete(UserSession).where(UserSession.token_hash == token_digest(token)))
    audit.record(session, principal.actor, "auth.logout")
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=schemas.Me)
def me(principal: PrincipalDep) -> schemas.Me:
    return schemas.Me(kind=principal.kind, name=principal.name, role=principal.role,
                      permissions=sorted(PERMISSIONS.get(principal.role, ())), csrf_token=principal.csrf_token)


__all__ = ["router", "CSRF_HEADER", "TooManyAttempts"]
