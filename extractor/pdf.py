"""Words with boxes from a PDF: pdfplumber for pages with a text layer, tesseract for pages without."""

from __future__ import annotations

from collections.abc import Callable

import io
import os
from concurrent.futures import Future, ThreadPoolExecutor

import pdfplumber
import pypdfium2 as pdfium

from extractor import ocr
from extractor.errors import CorruptPdf, EmptyFile, EncryptedPdf, TooLarge
from extractor.layout import Line, PageLayout, Word, order_lines, rows_from_words

# A page with fewer printable characters than this in its text layer is treated as a scan and OCR'd.
MIN_TEXT_LAYER_CHARS = 20
# pdfplumber word grouping tolerance (points).
X_TOLERANCE = 1.5
# Vertical ruling lines shorter than this do not make a table.
MIN_RULE_HEIGHT = 6.0
MAX_PAGES = 500
# A page larger than this on either side (points; 50 inches) is not a chart note and would render into gigabytes.
MAX_PAGE_SIDE = 50 * 72
# tesseract processes run side by side, one per core (each single-threaded: see extractor/ocr.py).
OCR_WORKERS = os.cpu_count() or 1

ProgressFn = Callable[[int, int], None]


def open_pdf(name: str, data: bytes) -> pdfium.PdfDocument:
    """Open with pdfium to check the file before any extraction; name the cause when it cannot be read."""
    if not data:
        raise EmptyFile(name, "the file is empty (0 bytes)")
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        message = str(error).lower()
        if "password" in message:
            raise EncryptedPdf(name, "the PDF is encrypted (password-protected)") from None
        raise CorruptPdf(name, f"the PDF is damaged or truncated ({error})") from None
    if len(document) == 0:
        raise CorruptPdf(name, "the PDF has no pages")
    if len(document) > MAX_PAGES:
        raise TooLarge(name, f"the PDF has {len(document)} pages; at most {MAX_PAGES} are accepted")
    for index in range(len(document)):
        width, height = document.get_page_size(index)
        if max(width, height) > MAX_PAGE_SIDE:
            document.close()
            raise TooLarge(name, f"page {index + 1} is {width / 72:.0f} x {height / 72:.0f} inches; pages larger than "
                                 f"{MAX_PAGE_SIDE // 72} inches on a side are not read")
    return document


def _words_from_text_layer(page: pdfplumber.page.Page) -> list[Word]:
    words = []
    for raw in page.extract_words(x_tolerance=X_TOLERANCE, keep_blank_chars=False, return_chars=True):
        text_parts: list[str] = []
        boxes: list[tuple[float, float, float, float]] = []
        for char in raw["chars"]:
            glyph = char["text"]
            if not glyph or glyph.isspace():
                continue
            text_parts.append(glyph)
            boxes.extend([(char["x0"], char["top"], char["x1"], char["bottom"])] * len(glyph))
        if text_parts:
            words.append(Word("".join(text_parts), boxes))
    return words


def _table_spans(page: pdfplumber.page.Page) -> list[tuple[float, float]]:
    """Vertical extents of ruled tables: where vertical ruling lines run."""
    spans = []
    for edge in page.edges:
        if edge["orientation"] == "v" and edge["bottom"] - edge["top"] >= MIN_RULE_HEIGHT:
            spans.append((edge["top"], edge["bottom"]))
    return spans


def read_pdf(name: str, data: bytes, progress: ProgressFn | None = None) -> list[PageLayout]:
    """Every page as lines of words in reading order. Pages without a text layer are rendered here and OCR'd by
    tesseract processes running side by side (one per core) while the text pages go on being read."""
    pdfium_doc = open_pdf(name, data)
    layouts: list[PageLayout | None] = []
    pending: dict[int, Future[list[Line]]] = {}
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, len(layouts))

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf, ThreadPoolExecutor(max_workers=OCR_WORKERS) as pool:
            layouts = [None] * len(pdf.pages)
            for index, page in enumerate(pdf.pages):
                width, height = float(page.width), float(page.height)
                words = _words_from_text_layer(page)
                if sum(len(w.text) for w in words) >= MIN_TEXT_LAYER_CHARS:
                    lines = order_lines(rows_from_words(words), width, _table_spans(page))
                    layouts[index] = PageLayout(index + 1, width, height, "text", lines)
                    tick()
                else:
                    png = ocr.render_page(name, pdfium_doc[index])  # pdfium is not thread-safe: render here
                    pending[index] = pool.submit(ocr.ocr_image, name, png)
                    layouts[index] = PageLayout(index + 1, width, height, "ocr", [])
                page.flush_cache()
            for index, future in pending.items():
                layout = layouts[index]
                if layout is not None:
                    layout.lines = future.result()
                tick()
    except (CorruptPdf, EncryptedPdf):
        raise
    except Exception as error:  # pdfminer raises many unrelated types for broken streams
        if isinstance(error.__cause__ or error.__context__, MemoryError):
            raise MemoryError(f"{name}: out of memory while parsing") from None  # pdfplumber wraps it
        if type(error).__module__.startswith(("pdfminer", "pdfplumber")):
            raise CorruptPdf(name, f"the PDF's content cannot be parsed ({type(error).__name__})") from None
        raise
    finally:
        pdfium_doc.close()
    return [layout for layout in layouts if layout is not None]
