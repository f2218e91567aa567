"""The pages: one HTML shell and its script and styles (no build step). Sign-in and roles are the API's."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from app.cases import NotFound

STATIC = Path(__file__).parent / "static"
FILES = {"app.js": "text/javascript", "app.css": "text/css"}
HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'",
}

router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=HEADERS)


@router.get("/static/{name}")
def static(name: str) -> FileResponse:
    if name not in FILES:
        raise NotFound(f"no file {name}")
    return FileResponse(STATIC / name, media_type=FILES[name], headers=HEADERS)
