"""Typed dependencies of the routes: the database session, the caller, and role checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import Database
from app.security import Principal, key_prefix, token_digest, verify_secret
from app.settings import Settings
from app.tables import ApiKey
from app.tables import Session as UserSession

SESSION_COOKIE = "chartcheck_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NotAuthenticated(Exception):
    pass


class Forbidden(Exception):
    pass


def get_db(request: Request) -> Database:
    return request.app.state.db


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.db.session() as session:
        yield session


DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": the unit of work commits when the route returns, before the response is sent, so a client that
# got an answer can read what it wrote (and a failed commit is an error response, never a false success).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _from_api_key(request: Request, session: Session, key: str) -> Principal:
    prefix = key_prefix(key)
    if prefix is None:
        raise NotAuthenticated("the API key is not valid")
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if row is None or row.revoked_at is not None:
        raise NotAuthenticated("the API key is not valid or was revoked")
    verified = request.app.state.verified_keys
    if verified.get(key) != row.id:
        if not verify_secret(row.key_hash, key):
            raise NotAuthenticated("the API key is not valid or was revoked")
        verified.remember(key, row.id)
    return Principal("apikey", row.id, row.name, "system")


def _from_cookie(request: Request, session: Session, token: str) -> Principal:
    row = session.get(UserSession, token_digest(token))
    if row is None or row.expires_at <= datetime.now(timezone.utc) or not row.user.active:
        raise NotAuthenticated("the sign-in has expired; sign in again")
    if request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != row.csrf_token:
        raise Forbidden(f"missing or wrong {CSRF_HEADER} header")
    return Principal("user", row.user.id, row.user.username, row.user.role, csrf_token=row.csrf_token)


def get_principal(request: Request) -> Principal:
    """Who is calling. Looked up in a short unit of work of its own, so a request never holds one database
    connection for its caller while it waits for another for its work (under load that starves the pool)."""
    key = request.headers.get("X-API-Key")
    token = request.cookies.get(SESSION_COOKIE)
    if not key and not token:
        raise NotAuthenticated("sign in, or send an API key in the X-API-Key header")
    with request.app.state.db.session() as session:
        if key:
            return _from_api_key(request, session, key)
        return _from_cookie(request, session, token)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(permission: str) -> Callable[[Principal], Principal]:
    def check(principal: PrincipalDep) -> Principal:
        if not principal.can(permission):
            raise Forbidden(f"the {principal.role} role may not do this ({permission})")
        return principal

    return check


def Allowed(permission: str) -> type[Principal]:  # noqa: N802 - reads as a type in route signatures
    return Annotated[Principal, Depends(require(permission))]  # type: ignore[return-value]


CanCreate = Allowed("case:create")
CanSeeStatus = Allowed("case:status")
CanRead = Allowed("case:read")
CanDecide = Allowed("case:decide")
CanDownload = Allowed("file:download")
CanManageUsers = Allowed("users:manage")
CanManageKeys = Allowed("keys:manage")
CanReadAudit = Allowed("audit:read")
CanReadMetrics = Allowed("metrics:read")
