"""Request and response bodies of the HTTP API, split by role (what a caller sends / what it gets back).
The determination itself is the contract model from ``models/``, embedded unchanged."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from models import Determination, PageInfo, RequestType, Status, SuggestedOutcome

CaseStatus = Literal["queued", "processing", "done", "failed"]
DocumentStatus = Literal["pending", "done", "failed", "rejected"]
Role = Literal["intake", "reviewer", "admin"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FileError(BaseModel):
    filename: str
    error: str = Field(description="kind: empty, not_pdf, encrypted, corrupt, too_large, ...")
    message: str


class UploadRejected(BaseModel):
    detail: str
    errors: list[FileError]


class DocumentPublic(BaseModel):
    id: int
    filename: str
    sha256: str
    size: int
    status: DocumentStatus
    error: str | None = None
    error_kind: str | None = None
    page_count: int
    pages: list[PageInfo] | None = None


class Progress(BaseModel):
    pages_done: int
    pages_total: int


class CaseCreated(BaseModel):
    id: str
    status: CaseStatus
    created: bool = Field(description="false when the same files and request were already submitted")
    documents: list[DocumentPublic]


class CriterionDecisionPublic(BaseModel):
    criterion_id: str
    action: Literal["accept", "override"]
    status: Status
    reason: str | None
    decided_by: str
    decided_at: datetime


class ReviewPublic(BaseModel):
    """The human determination, beside the unchanged pre-filled one."""

    decisions: list[CriterionDecisionPublic] = Field(description="the current decision of each decided criterion")
    history: list[CriterionDecisionPublic] = Field(description="every decision, oldest first")
    final_outcome: SuggestedOutcome | None = None
    final_approval_months: int | None = None
    final_reason: str | None = None
    finalized_by: str | None = None
    finalized_at: datetime | None = None


class CaseSummary(BaseModel):
    id: str
    status: CaseStatus
    request_type: RequestType
    nonformulary_exception: bool
    external_reference: str | None
    expedited: bool
    progress: Progress
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    error: str | None
    suggested_outcome: SuggestedOutcome | None = Field(None, description="shown to roles that may read the case")
    safety_flags: list[str] | None = None
    final_outcome: SuggestedOutcome | None = None


class CaseDetail(CaseSummary):
    documents: list[DocumentPublic]
    determination: Determination | None = Field(None, description="the pre-filled determination (the contract)")
    review: ReviewPublic | None = None


class CaseList(BaseModel):
    items: list[CaseSummary]
    total: int
    limit: int
    offset: int


class DecisionIn(_In):
    action: Literal["accept", "override"]
    status: Status | None = Field(None, description="required to override: the reviewer's status")
    reason: str | None = Field(None, max_length=4000, description="required to override")


class FinalizeIn(_In):
    outcome: SuggestedOutcome
    approval_months: int | None = Field(None, ge=1, le=24)
    reason: str | None = Field(None, max_length=4000)


class ExpediteIn(_In):
    expedited: bool


class LoginIn(_In):
    username: str = Field(max_length=80)
    password: str = Field(max_length=1000)


class Me(BaseModel):
    kind: Literal["user", "apikey"]
    name: str
    role: str
    permissions: list[str]
    csrf_token: str | None = None


class UserCreate(_In):
    username: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(max_length=1000)
    role: Role


class UserUpdate(_In):
    role: Role | None = None
    active: bool | None = None
    password: str | None = Field(None, max_length=1000)


class UserPublic(BaseModel):
    id: int
    username: str
    role: str
    active: bool
    created_at: datetime


class ApiKeyCreate(_In):
    name: str = Field(min_length=1, max_length=80)


class ApiKeyPublic(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="shown once; only its hash is stored")


class AuditEventPublic(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    case_id: str | None
    detail: dict | None


class AuditList(BaseModel):
    items: list[AuditEventPublic]
    total: int
