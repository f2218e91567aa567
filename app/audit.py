"""The audit log: who did what to which case, and when. Details hold ids and statuses, never note text."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.tables import AuditEvent


def record(session: Session, actor: str, action: str, case_id: str | None = None, detail: dict | None = None) -> None:
    session.add(AuditEvent(actor=actor, action=action, case_id=case_id, detail=detail or None))
