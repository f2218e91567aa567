"""The service's settings: one class, read from the environment (``CHARTCHECK_*``) and the command line.

Bad values stop the service at start-up with a message naming the setting; nothing is guessed later.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.errors import SettingsError

DEFAULT_DATA_DIR = Path("chartcheck-data")
MAX_PAGES = 500  # extractor.pdf.MAX_PAGES: the reader refuses longer PDFs
MB = 1024 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHARTCHECK_", extra="forbid", frozen=True)

    data_dir: Path = Field(default=DEFAULT_DATA_DIR, description="folder for the SQLite database and worker scratch")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<data_dir>/chartcheck.db"
    )
    max_upload_mb: int = Field(default=100, ge=1, le=2048, description="largest single uploaded file")
    max_request_mb: int = Field(default=300, ge=1, le=20480, description="largest whole upload request")
    max_files_per_case: int = Field(default=20, ge=1, le=200)
    max_pages: int = Field(default=500, ge=1, le=MAX_PAGES, description="most pages in one PDF")
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=0, le=64,
                         description="processing processes; 0 = none (jobs queue up, e.g. for a separate worker)")
    job_timeout_s: float = Field(default=900.0, gt=0, description="longest time one case may take to process")
    job_memory_mb: int = Field(default=3072, ge=256, description="address space a case may add to its worker")
    job_attempts: int = Field(default=2, ge=1, le=10, description="tries before a case whose worker dies is failed")
    session_hours: float = Field(default=12.0, gt=0, description="how long a sign-in lasts")
    callback_attempts: int = Field(default=6, ge=1, le=20)
    callback_backoff_s: float = Field(default=2.0, gt=0, description="first retry delay; doubles each attempt")
    broker_url: str | None = Field(default=None, description="Celery broker (e.g. redis://127.0.0.1:6379/0); "
                                   "unset = the embedded worker processes")
    lease_s: float = Field(default=120.0, ge=5, description="a Celery worker's claim on a case lapses after this "
                           "without progress; then another worker takes the case")
    requeue_after_s: float = Field(default=60.0, ge=1, description="a case queued this long with no message left "
                                   "in the broker is sent again (the broker lost it)")
    secure_cookies: bool = Field(default=False, description="mark the session cookie Secure (behind HTTPS)")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite:/// and postgresql+psycopg:// URLs are supported")
        if value is not None and value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://"):]
        return value

    @model_validator(mode="after")
    def _data_dir_usable(self) -> Settings:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ValueError(f"data_dir {self.data_dir} cannot be created ({error.strerror})") from None
        if not os.access(self.data_dir, os.W_OK):
            raise ValueError(f"data_dir {self.data_dir} is not writable")
        return self

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'chartcheck.db').resolve()}"

    @property
    def max_request_bytes(self) -> int:
        return self.max_request_mb * MB

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * MB


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with command-line values (those not None) on top."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = []
        for item in error.errors():
            where = ".".join(str(part) for part in item["loc"]) or "settings"
            name = f"CHARTCHECK_{where.upper()}" if where != "settings" else where
            problems.append(f"{name}: {item['msg']}")
        raise SettingsError("; ".join(problems)) from None
