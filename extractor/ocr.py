"""OCR of a scanned page with tesseract, keeping each word's box in PDF points."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
from collections import defaultdict

import pypdfium2 as pdfium

from extractor.errors import OcrUnavailable
from extractor.layout import Line, Word

OCR_DPI = 200
TESSERACT_ARGS = ["--psm", "3"]
MIN_CONFIDENCE = 0.0  # tesseract's -1 marks layout rows, not words
# One OpenMP thread per tesseract: its default threads spin against each other on a small machine (measured here:
# 7.4 s a page with the default, 2.1 s with one thread); pages are spread over processes instead.
TESSERACT_ENV = {"OMP_THREAD_LIMIT": "1"}
TESSERACT_TIMEOUT_S = 120
# A speck read as a full stop between two lowercase words that tesseract then joins ("not.a candidate"): the stop is
# a space. An abbreviation ("e.g", "a.m.") has one letter before its stop, a web address ends in a domain.
_JOINED_BY_SPECK = re.compile(r"^([a-z]{2,})\.([a-z]+)$")
_DOMAINS = {"com", "org", "net", "gov", "edu", "us", "io"}


def _unjoin(text: str) -> str:
    """The word with a speck-stop between two lowercase words read as the space it was; same length, so the
    character boxes still fit."""
    match = _JOINED_BY_SPECK.match(text)
    if match is None or match.group(2) in _DOMAINS:
        return text
    return f"{match.group(1)} {match.group(2)}"


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def render_page(name: str, page: pdfium.PdfPage) -> bytes:
    """The page as a grayscale PNG at OCR_DPI (what tesseract reads)."""
    if not tesseract_available():
        raise OcrUnavailable(name, "a page has no text layer and tesseract-ocr is not installed")
    image = page.render(scale=OCR_DPI / 72.0, grayscale=True).to_pil()
    png = io.BytesIO()
    image.save(png, format="PNG")
    return png.getvalue()


def ocr_image(name: str, png: bytes) -> list[Line]:
    """Lines of one rendered page, in tesseract's reading order, with boxes in PDF points. Safe to run in threads."""
    return lines_from_tesseract(run_tesseract(name, png), 72.0 / OCR_DPI)


def run_tesseract(name: str, png: bytes) -> dict[str, list]:
    """tesseract's word table (TSV) for one page image, as columns."""
    try:
        done = subprocess.run(
            ["tesseract", "stdin", "stdout", *TESSERACT_ARGS, "tsv"],
            input=png, capture_output=True, timeout=TESSERACT_TIMEOUT_S, check=True,
            env={**os.environ, **TESSERACT_ENV},
        )
    except subprocess.TimeoutExpired:
        raise OcrUnavailable(name, f"OCR of a page took over {TESSERACT_TIMEOUT_S} s") from None
    except subprocess.CalledProcessError as error:
        raise OcrUnavailable(name, f"tesseract failed on a page: {error.stderr.decode(errors='replace')[:200]}") from None
    rows = list(csv.DictReader(io.StringIO(done.stdout.decode("utf-8", errors="replace")), delimiter="\t", quoting=csv.QUOTE_NONE))
    columns: dict[str, list] = defaultdict(list)
    for row in rows:
        for key in ("block_num", "par_num", "line_num", "left", "top", "width", "height"):
            columns[key].append(int(row[key]))
        columns["conf"].append(float(row["conf"]))
        columns["text"].append(row.get("text") or "")
    return columns


def lines_from_tesseract(data: dict[str, list], to_points: float) -> list[Line]:
    """Group tesseract's words by (block, paragraph, line); split each word's box evenly over its characters."""
    grouped: dict[tuple[int, int, int], list[Word]] = defaultdict(list)
    order: list[tuple[int, int, int]] = []
    for i, text in enumerate(data["text"]):
        text = _unjoin((text or "").strip())
        if not text or float(data["conf"][i]) < MIN_CONFIDENCE:
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        if key not in grouped:
            order.append(key)
        left, top = data["left"][i] * to_points, data["top"][i] * to_points
        w, h = data["width"][i] * to_points, data["height"][i] * to_points
        step = w / len(text)
        boxes = [(left + k * step, top, left + (k + 1) * step, top + h) for k in range(len(text))]
        grouped[key].append(Word(text, boxes))
    return [Line(grouped[key]) for key in order]
