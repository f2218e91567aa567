"""``chartcheck batch``: review every case of a JSONL manifest, loading the pipeline once per worker process.

Each manifest line: ``{"case_id", "files": [...], "request_type", "nonformulary_exception"}`` with file paths
relative to the manifest. Each output line: ``{"case_id", "determination"}`` or ``{"case_id", "error"}``. A bad file
fails only its own case. The output is written to a temporary file and renamed at the end: never half-written.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from tqdm import tqdm

from extractor.errors import UnreadableDocument
from models import ReviewRequest


class ManifestLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(min_length=1)
    files: list[str] = Field(min_length=1)
    request_type: str
    nonformulary_exception: bool = False


def review_case(case: dict[str, Any]) -> dict[str, Any]:
    """One case in a worker: its determination, or its error naming the file and the cause."""
    from app.review import process_reviewer

    try:
        request = ReviewRequest(request_type=case["request_type"], nonformulary_exception=case["nonformulary_exception"])
        determination = process_reviewer().review_paths([Path(p) for p in case["files"]], request)
    except UnreadableDocument as error:
        return {"case_id": case["case_id"], "error": f"{error.name}: {error.cause}"}
    except ValidationError as error:
        return {"case_id": case["case_id"], "error": f"bad request: {error.errors()[0]['msg']}"}
    return {"case_id": case["case_id"], "determination": determination.model_dump(mode="json")}


def read_manifest(manifest: Path) -> Iterator[dict[str, Any]]:
    """Cases with absolute file paths; a malformed line becomes an error result for that line."""
    base = manifest.parent
    for number, raw in enumerate(manifest.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line = ManifestLine.model_validate_json(raw)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "line"
            yield {"case_id": f"line-{number}", "invalid": f"{manifest.name} line {number}: {where}: {first['msg']}"}
            continue
        case = line.model_dump()
        case["files"] = [str((base / f).resolve()) for f in line.files]
        yield case


def run_batch(manifest: Path, out: Path, workers: int | None = None, show_progress: bool = True) -> int:
    if not manifest.is_file():
        print(f"chartcheck: error: {manifest}: manifest not found", file=sys.stderr)
        return 2
    cases = list(read_manifest(manifest))
    workers = max(1, min(workers or os.cpu_count() or 1, len(cases) or 1))
    results: list[dict[str, Any] | None] = [
        {"case_id": c["case_id"], "error": c["invalid"]} if "invalid" in c else None for c in cases
    ]
    todo = [i for i, c in enumerate(cases) if "invalid" not in c]
    bar = tqdm(total=len(cases), unit="case", disable=not show_progress, file=sys.stderr)
    bar.update(len(cases) - len(todo))
    if workers == 1:
        outputs: Iterator[dict[str, Any]] = map(review_case, (cases[i] for i in todo))
        for i, result in zip(todo, outputs):
            results[i] = result
            bar.update(1)
    else:
        from app.review import process_reviewer  # each worker loads the pipeline once, at start

        with ProcessPoolExecutor(max_workers=workers, initializer=process_reviewer) as pool:
            for i, result in zip(todo, pool.map(review_case, [cases[i] for i in todo], chunksize=1)):
                results[i] = result
                bar.update(1)
    bar.close()
    tmp = out.with_name(out.name + ".part")
    failed = 0
    with tmp.open("w", encoding="utf-8") as handle:
        for result in results:
            failed += result is None or "error" in result
            handle.write(json.dumps(result) + "\n")
    tmp.replace(out)
    print(f"{len(cases)} cases: {len(cases) - failed} reviewed, {failed} failed -> {out}", file=sys.stderr)
    return 1 if failed else 0
