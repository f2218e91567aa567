"""One text per document, and one map from any ``[start, end)`` of it to its page and boxes.

Like pdfplumber's TextMap, every character of the text is paired with the glyph box it came from; separators the
assembler adds (spaces between words, newlines between lines) map to no box. The text is never rewritten: NLP reads
``clean_text``, a copy of the same length in which page furniture is blanked out, so offsets agree everywhere.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate

from extractor.layout import PageLayout
from models import Box, DocumentInfo, PageInfo

NO_PAGE = 0
# A vertical gap larger than this many line heights starts a new paragraph; moving up the page (a new column) does too.
PARAGRAPH_GAP_LINES = 0.9
# Words farther apart than this (points) are joined with two spaces (table cells).
WIDE_WORD_GAP = 14.0
# Boxes of neighbouring characters on one line are merged when the gap between them is below this (points).
MERGE_GAP = 6.0


@dataclass
class TextDocument:
    name: str
    sha256: str
    text: str
    pages: list[PageInfo]
    char_page: array  # per character: 1-based page, or NO_PAGE for an added separator
    char_boxes: array  # per character: x0, top, x1, bottom (4 floats)
    furniture: list[tuple[int, int]] = field(default_factory=list)
    clean_text: str = ""

    def info(self) -> DocumentInfo:
        return DocumentInfo(name=self.name, sha256=self.sha256, pages=self.pages, characters=len(self.text))

    def page_at(self, start: int, end: int) -> int:
        """The page of the first character in [start, end) that has a box (1 for a plain-text document)."""
        for i in range(start, min(end, len(self.text))):
            if self.char_page[i] != NO_PAGE:
                return int(self.char_page[i])
        for i in range(start - 1, -1, -1):
            if self.char_page[i] != NO_PAGE:
                return int(self.char_page[i])
        return 1

    def boxes(self, start: int, end: int) -> list[Box]:
        """Highlight boxes for [start, end): one box per run of characters on the same line of the same page."""
        start, end = max(start, 0), min(end, len(self.text))
        out: list[list[float]] = []
        pages: list[int] = []
        if start >= end:
            return []
        coords = self.char_boxes[4 * start : 4 * end].tolist()
        last: list[float] | None = None
        last_page = NO_PAGE
        for k, page in enumerate(self.char_page[start:end]):
            if page == NO_PAGE:
                continue
            x0, top, x1, bottom = coords[4 * k : 4 * k + 4]
            if last is not None and last_page == page:
                same_line = abs(last[1] - top) < (bottom - top) * 0.6 + 1
                if same_line and -1.0 <= x0 - last[2] <= MERGE_GAP:
                    last[2] = max(last[2], x1)
                    last[1] = min(last[1], top)
                    last[3] = max(last[3], bottom)
                    continue
            last, last_page = [x0, top, x1, bottom], page
            out.append(last)
            pages.append(page)
        return [
            Box(page=p, x0=round(b[0], 2), top=round(b[1], 2), x1=round(b[2], 2), bottom=round(b[3], 2))
            for p, b in zip(pages, out)
        ]

    @cached_property
    def _furniture_reach(self) -> tuple[list[int], list[int]]:
        """Furniture starts in order, and for each the farthest end of the ranges up to it."""
        ranges = sorted(self.furniture)
        return [a for a, _ in ranges], list(accumulate((b for _, b in ranges), max))

    def is_furniture(self, start: int, end: int) -> bool:
        """Does [start, end) overlap a furniture range?"""
        starts, reach = self._furniture_reach
        k = bisect_left(starts, end)  # ranges [0, k) start before `end`
        return k > 0 and reach[k - 1] > start


class _Builder:
    """Appends characters with their boxes, keeping text and map in step."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.char_page = array("i")
        self.char_boxes = array("f")

    def glyphs(self, text: str, page: int, boxes: list[tuple[float, float, float, float]]) -> None:
        self.parts.append(text)
        self.length += len(text)
        self.char_page.extend([page] * len(text))
        for box in boxes:
            self.char_boxes.extend(box)

    def separator(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)
        self.char_page.extend([NO_PAGE] * len(text))
        self.char_boxes.extend([0.0] * (4 * len(text)))


def assemble(name: str, sha256: str, pages: list[PageLayout]) -> TextDocument:
    """Join the pages' lines into one text with its character map; record furniture ranges."""
    build = _Builder()
    furniture: list[tuple[int, int]] = []
    for page in pages:
        previous_bottom: float | None = None
        for line in page.lines:
            if build.length:
                gap = 0.0 if previous_bottom is None else line.top - previous_bottom
                height = max(line.bottom - line.top, 1.0)
                build.separator("\n\n" if gap > height * PARAGRAPH_GAP_LINES or gap < -height else "\n")
            start = build.length
            for k, word in enumerate(line.words):
                if k:
                    build.separator("  " if word.x0 - line.words[k - 1].x1 > WIDE_WORD_GAP else " ")
                build.glyphs(word.text, page.number, word.boxes)
            if line.furniture:
                furniture.append((start, build.length))
            previous_bottom = line.bottom
    text = "".join(build.parts)
    document = TextDocument(
        name=name,
        sha256=sha256,
        text=text,
        pages=[PageInfo(number=p.number, width=p.width, height=p.height, source=p.source) for p in pages],
        char_page=build.char_page,
        char_boxes=build.char_boxes,
        furniture=furniture,
    )
    document.clean_text = blank_furniture(text, furniture)
    return document


def blank_furniture(text: str, furniture: list[tuple[int, int]]) -> str:
    """A copy of text, same length, with furniture lines and the newline that follows each turned into spaces,
    so a sentence running across a page break reads on as if the banner and footer were not there."""
    if not furniture:
        return text
    chars = list(text)
    for start, end in furniture:
        stop = end + 1 if end < len(text) and text[end] == "\n" else end
        for i in range(start, stop):
            chars[i] = " "
    return "".join(chars)


def plain_text_document(name: str, sha256: str, text: str) -> TextDocument:
    """A plain-text file: one page, every character present, no boxes to draw."""
    return TextDocument(
        name=name,
        sha256=sha256,
        text=text,
        pages=[PageInfo(number=1, width=612.0, height=792.0, source="plain")],
        char_page=array("i", [NO_PAGE] * len(text)),
        char_boxes=array("f", [0.0] * (4 * len(text))),
        clean_text=text,
    )

