"""/health (the process answers) and /ready (the database answers and a worker can take cases). No sign-in."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from app.api.deps import CanReadMetrics
from app.metrics import render
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/metrics", response_class=Response)
def metrics(request: Request, principal: CanReadMetrics) -> Response:
    """Prometheus metrics (an API key or an admin): cases by status, queue depth, failures, pages, stage durations."""
    body, content_type = render(request.app.state.metrics)
    return Response(body, media_type=content_type)


@router.get("/ready")
def ready(request: Request) -> JSONResponse:
    problems = []
    try:
        with request.app.state.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        problems.append(f"database: {type(error).__name__}")
    if not request.app.state.jobs.ready():
        problems.append("workers: still loading the pipeline")
    if problems:
        return JSONResponse({"status": "not ready", "problems": problems}, status_code=503)
    return JSONResponse({"status": "ready"})
