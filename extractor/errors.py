"""Named errors for input that cannot be read. Each names the file and the cause; the CLI and API map them once."""

from __future__ import annotations


class UnreadableDocument(Exception):
    """A submitted file that cannot be turned into text."""

    kind = "unreadable"

    def __init__(self, name: str, cause: str) -> None:
        super().__init__(f"{name}: {cause}")
        self.name = name
        self.cause = cause


class EmptyFile(UnreadableDocument):
    kind = "empty"


class NotAPdf(UnreadableDocument):
    kind = "not_pdf"


class EncryptedPdf(UnreadableDocument):
    kind = "encrypted"


class CorruptPdf(UnreadableDocument):
    kind = "corrupt"


class TooLarge(UnreadableDocument):
    kind = "too_large"


class NoText(UnreadableDocument):
    kind = "no_text"


class OcrUnavailable(UnreadableDocument):
    kind = "ocr_unavailable"


class RuleFileError(Exception):
    """A rule or policy file that does not match its schema; names the file and the key."""
