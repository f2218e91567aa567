"""Pictures of document pages for the reviewer's page view: rendered by pdfium, cached on disk by content hash."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pypdfium2 as pdfium

WIDTHS = (160, 800, 1200, 1600)  # thumbnails, normal, zoomed; requests snap to the nearest of these
_render_lock = threading.Lock()  # pdfium is not thread-safe


def snap_width(width: int) -> int:
    return min(WIDTHS, key=lambda w: abs(w - width))


def page_png(cache_dir: Path, sha256: str, data: bytes, page: int, width: int) -> bytes:
    """PNG of 1-based `page`, `width` pixels wide. Raises IndexError for a page the PDF does not have."""
    width = snap_width(width)
    path = cache_dir / f"{sha256}-{page}-{width}.png"
    if path.exists():
        return path.read_bytes()
    with _render_lock:
        document = pdfium.PdfDocument(data)
        try:
            if not 1 <= page <= len(document):
                raise IndexError(page)
            pdf_page = document[page - 1]
            scale = width / pdf_page.get_width()
            image = pdf_page.render(scale=scale).to_pil()
        finally:
            document.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    png = out.getvalue()
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(png)
    tmp.replace(path)
    return png
