"""The FastAPI application: ``create_app(settings)``. The database, migrations, the processing workers and the
callback notifier are set up in the lifespan, once per service process."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api import errors
from app.api.limits import BodySizeLimit
from app.api.routes import admin, auth, cases, health, uploads
from app import web
from app.callbacks import Notifier
from app.db import Database
from app.jobs import JobRunner
from app.metrics import api_registry
from app.tasks import CeleryDispatcher
from app.security import VerifiedKeys
from app.settings import Settings

log = logging.getLogger("chartcheck.service")
# Multipart overhead allowed beyond the files themselves.
REQUEST_OVERHEAD = 1024 * 1024


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.db_url)
        db.migrate()
        jobs = CeleryDispatcher(db, settings) if settings.broker_url else JobRunner(db, settings)
        notifier = Notifier(db, settings)
        app.state.db, app.state.jobs, app.state.notifier = db, jobs, notifier
        app.state.metrics = api_registry(db, jobs)
        jobs.start()
        notifier.start()
        log.info("chartcheck service started with %d worker(s)", settings.workers)
        try:
            yield
        finally:
            jobs.stop()
            notifier.stop()
            db.dispose()

    app = FastAPI(
        title="chartcheck", version="0.1.0", lifespan=lifespan,
        description="Pre-filled prior-authorization determinations (policy 5.01.562, Imlygic) from chart notes.",
    )
    app.state.settings = settings
    app.state.verified_keys = VerifiedKeys()
    errors.install(app)
    for module in (health, auth, uploads, cases, admin, web):
        app.include_router(module.router)
    max_request = settings.max_upload_bytes * settings.max_files_per_case + REQUEST_OVERHEAD
    app.add_middleware(BodySizeLimit, max_bytes=min(max_request, settings.max_request_bytes))
    return app
