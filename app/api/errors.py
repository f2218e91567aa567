"""Named errors → HTTP responses, in one place. Bodies say what is wrong; none is a bare 500."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.api.deps import Forbidden, NotAuthenticated
from app.api.routes.auth import TooManyAttempts
from app.cases import AllFilesRejected, Conflict, Invalid, NotFound
from extractor.errors import UnreadableDocument

SIMPLE: dict[type[Exception], int] = {
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
    TooManyAttempts: 429,
}


def install(app: FastAPI) -> None:
    for error_type, status in SIMPLE.items():
        app.add_exception_handler(error_type, _simple(status))
    app.add_exception_handler(AllFilesRejected, _all_rejected)
    app.add_exception_handler(UnreadableDocument, _unreadable)


def _simple(status: int):  # type: ignore[no-untyped-def]
    async def handler(request: Request, error: Exception) -> JSONResponse:
        headers = {"WWW-Authenticate": 'X-API-Key, Cookie realm="chartcheck"'} if status == 401 else None
        return JSONResponse({"detail": str(error)}, status_code=status, headers=headers)

    return handler


async def _all_rejected(request: Request, error: AllFilesRejected) -> JSONResponse:  # type: ignore[override]
    status = 413 if all(e.error == "too_large" for e in error.errors) else 422
    body = {"detail": "no submitted file can be read", "errors": [e.model_dump() for e in error.errors]}
    return JSONResponse(body, status_code=status)


async def _unreadable(request: Request, error: UnreadableDocument) -> JSONResponse:  # type: ignore[override]
    body = {"detail": f"{error.name}: {error.cause}",
            "errors": [{"filename": error.name, "error": error.kind, "message": error.cause}]}
    return JSONResponse(body, status_code=413 if error.kind == "too_large" else 422)
