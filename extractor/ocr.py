"""OCR of a scanned page with tesseract, keeping each word's box in PDF points."""

from __future__ import annotations

import shutil
from collections import defaultdict

import pypdfium2 as pdfium
import pytesseract

from extractor.errors import OcrUnavailable
from extractor.layout import Line, Word

OCR_DPI = 200
TESSERACT_CONFIG = "--psm 3"
MIN_CONFIDENCE = 0.0  # tesseract's -1 marks layout rows, not words


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def ocr_page(name: str, page: pdfium.PdfPage, width: float, height: float) -> list[Line]:
    """Render a page at OCR_DPI, run tesseract, and return its lines in tesseract's reading order."""
    if not tesseract_available():
        raise OcrUnavailable(name, "a page has no text layer and tesseract-ocr is not installed")
    scale = OCR_DPI / 72.0
    image = page.render(scale=scale, grayscale=True).to_pil()
    data = pytesseract.image_to_data(image, config=TESSERACT_CONFIG, output_type=pytesseract.Output.DICT)
    return lines_from_tesseract(data, 72.0 / OCR_DPI)


def lines_from_tesseract(data: dict[str, list], to_points: float) -> list[Line]:
    """Group tesseract's words by (block, paragraph, line); split each word's box evenly over its characters."""
    grouped: dict[tuple[int, int, int], list[Word]] = defaultdict(list)
    order: list[tuple[int, int, int]] = []
    for i, text in enumerate(data["text"]):
        text = (text or "").strip()
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
