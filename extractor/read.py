"""Turn a submitted file (PDF or plain text) into one TextDocument."""

from __future__ import annotations

import hashlib
from pathlib import Path

from extractor.document import TextDocument, assemble, plain_text_document
from extractor.errors import EmptyFile, NotAPdf, TooLarge, UnreadableDocument
from extractor.layout import mark_furniture
from extractor.pdf import ProgressFn, read_pdf
from extractor.rules_loader import load_furniture_patterns

MAX_BYTES = 100 * 1024 * 1024
TEXT_SUFFIXES = (".txt", ".text", ".note")
# Leading bytes of files people send instead of a PDF: Office (zip, OLE), JPEG, PNG.
OTHER_FORMATS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def file_kind(name: str, data: bytes) -> str:
    """"pdf" or "text", from the bytes (and a text file's suffix); a named error for anything else."""
    if not data:
        raise EmptyFile(name, "the file is empty (0 bytes)")
    if data.lstrip()[:5] == b"%PDF-":
        return "pdf"
    if name.lower().endswith(TEXT_SUFFIXES):
        return "text"
    if data.startswith(OTHER_FORMATS):
        raise NotAPdf(name, "the file is not a PDF (it looks like an Office document or an image); send it as PDF")
    raise NotAPdf(name, "the file is not a PDF (no %PDF- header) nor a .txt file")


def decode_text(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise NotAPdf(name, "the text file is not UTF-8") from None


def read_document(name: str, data: bytes, progress: ProgressFn | None = None) -> TextDocument:
    """Read one file's bytes. Raises a named UnreadableDocument when it cannot be read."""
    kind = file_kind(name, data)
    if len(data) > MAX_BYTES:
        raise TooLarge(name, f"the file is {len(data) // (1024 * 1024)} MB; at most {MAX_BYTES // (1024 * 1024)} MB")
    sha256 = hashlib.sha256(data).hexdigest()
    if kind == "pdf":
        pages = read_pdf(name, data, progress)
        mark_furniture(pages, load_furniture_patterns())
        return assemble(name, sha256, pages)
    text = decode_text(name, data)
    if progress:
        progress(1, 1)
    return plain_text_document(name, sha256, text)


def read_path(path: Path, progress: ProgressFn | None = None) -> TextDocument:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UnreadableDocument(path.name, f"cannot open the file ({error.strerror})") from None
    return read_document(path.name, data, progress)
