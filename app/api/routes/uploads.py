"""/api/v1/uploads: send one file ahead of its case, to learn at once whether it can be read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from pydantic import BaseModel

from app import cases
from app.api.deps import CanCreate, DbDep, SettingsDep
from app.api.routes.cases import read_upload
from app.api.schemas import UploadRejected

router = APIRouter(prefix="/api/v1/uploads", tags=["cases"])


class Staged(BaseModel):
    sha256: str
    filename: str
    size: int
    pages: int


@router.post("", status_code=201, response_model=Staged,
             responses={413: {"model": UploadRejected}, 422: {"model": UploadRejected}})
def stage(db: DbDep, settings: SettingsDep, principal: CanCreate,
          file: Annotated[UploadFile, File(description="one PDF (or .txt note)")]) -> Staged:
    upload = read_upload(file, 0, settings.max_upload_bytes)
    digest, pages = cases.stage_upload(db, settings, upload)
    return Staged(sha256=digest, filename=upload.filename, size=len(upload.data), pages=pages)
