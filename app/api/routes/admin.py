"""/api/v1/users, /api/v1/apikeys, /api/v1/audit: for the admin role."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import audit
from app.api import schemas
from app.api.deps import CanManageKeys, CanManageUsers, CanReadAudit, SessionDep
from app.cases import Conflict, Invalid, NotFound
from app.security import check_password_strength, hash_secret, new_api_key
from app.tables import ApiKey, AuditEvent, User

router = APIRouter(prefix="/api/v1", tags=["admin"])


def _user_public(user: User) -> schemas.UserPublic:
    return schemas.UserPublic(id=user.id, username=user.username, role=user.role, active=user.active,
                              created_at=user.created_at)


def _key_public(key: ApiKey) -> schemas.ApiKeyPublic:
    return schemas.ApiKeyPublic(id=key.id, name=key.name, prefix=key.prefix, created_at=key.created_at,
                                revoked_at=key.revoked_at)


@router.get("/users", response_model=list[schemas.UserPublic])
def list_users(session: SessionDep, principal: CanManageUsers) -> list[schemas.UserPublic]:
    return [_user_public(u) for u in session.scalars(select(User).order_by(User.id))]


@router.post("/users", status_code=201, response_model=schemas.UserPublic)
def create_user(body: schemas.UserCreate, session: SessionDep,
                principal: CanManageUsers) -> schemas.UserPublic:
    try:
        check_password_strength(body.password)
    except ValueError as error:
        raise Invalid(str(error)) from None
    if session.scalar(select(User.id).where(User.username == body.username)) is not None:
        raise Conflict(f"user {body.username} exists")
    user = User(username=body.username, password_hash=hash_secret(body.password), role=body.role)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"user {body.username} exists") from None
    audit.record(session, principal.actor, "user.create", None, {"user": body.username, "role": body.role})
    return _user_public(user)


@router.patch("/users/{user_id}", response_model=schemas.UserPublic)
def update_user(user_id: int, body: schemas.UserUpdate, session: SessionDep,
                principal: CanManageUsers) -> schemas.UserPublic:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    changes: dict[str, object] = {}
    if body.role is not None:
        user.role = changes["role"] = body.role
    if body.active is not None:
        user.active = changes["active"] = body.active
    if body.password is not None:
        try:
            check_password_strength(body.password)
        except ValueError as error:
            raise Invalid(str(error)) from None
        user.password_hash = hash_secret(body.password)
        changes["password"] = "changed"
    audit.record(session, principal.actor, "user.update", None, {"user": user.username, **changes})
    return _user_public(user)


@router.get("/apikeys", response_model=list[schemas.ApiKeyPublic])
def list_keys(session: SessionDep, principal: CanManageKeys) -> list[schemas.ApiKeyPublic]:
    return [_key_public(k) for k in session.scalars(select(ApiKey).order_by(ApiKey.id))]


@router.post("/apikeys", status_code=201, response_model=schemas.ApiKeyCreated)
def create_key(body: schemas.ApiKeyCreate, session: SessionDep,
               principal: CanManageKeys) -> schemas.ApiKeyCreated:
    key, row = create_api_key(session, body.name, principal.actor)
    return schemas.ApiKeyCreated(**_key_public(row).model_dump(), key=key)


def create_api_key(session, name: str, actor: str) -> tuple[str, ApiKey]:  # type: ignore[no-untyped-def]
    key, prefix = new_api_key()
    row = ApiKey(name=name, prefix=prefix, key_hash=hash_secret(key))
    session.add(row)
    session.flush()
    audit.record(session, actor, "apikey.create", None, {"key": row.id, "name": name})
    return key, row


@router.delete("/apikeys/{key_id}", response_model=schemas.ApiKeyPublic)
def revoke_key(key_id: int, session: SessionDep, principal: CanManageKeys) -> schemas.ApiKeyPublic:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no API key {key_id}")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(timezone.utc)
        audit.record(session, principal.actor, "apikey.revoke", None, {"key": row.id})
    return _key_public(row)


@router.get("/audit", response_model=schemas.AuditList)
def read_audit(
    session: SessionDep, principal: CanReadAudit, case_id: str | None = None, actor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100, offset: Annotated[int, Query(ge=0)] = 0,
) -> schemas.AuditList:
    query = select(AuditEvent)
    if case_id:
        query = query.where(AuditEvent.case_id == case_id)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit).offset(offset)).all()
    return schemas.AuditList(total=total, items=[
        schemas.AuditEventPublic(id=r.id, at=r.at, actor=r.actor, action=r.action, case_id=r.case_id,
                                 detail=r.detail) for r in rows
    ])
