"""Page layout as words and lines, reading order for two-column pages, and repeated page furniture.

Both text sources (a PDF's text layer and tesseract's OCR) produce the same shapes here, so everything after
this module is indifferent to where a page's words came from.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

# A word farther than this from its left neighbour (in points) starts a new cell / column fragment.
WIDE_GAP = 14.0
# Lines whose tops differ by less than this share a row.
ROW_TOLERANCE = 3.0
# Furniture lives in these top/bottom shares of the page.
FURNITURE_BAND = 0.12
# Two-column: the gutter must lie in this middle share of the page width, be this wide, and hold for this many rows.
GUTTER_ZONE = (0.3, 0.7)
GUTTER_MIN_WIDTH = 10.0
COLUMN_MIN_ROWS = 3

CharBox = tuple[float, float, float, float]  # x0, top, x1, bottom


@dataclass
class Word:
    text: str
    boxes: list[CharBox]  # one per character of text

    @property
    def x0(self) -> float:
        return self.boxes[0][0]

    @property
    def x1(self) -> float:
        return self.boxes[-1][2]

    @property
    def top(self) -> float:
        return min(b[1] for b in self.boxes)

    @property
    def bottom(self) -> float:
        return max(b[3] for b in self.boxes)


@dataclass
class Line:
    words: list[Word]
    furniture: bool = False

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)

    @property
    def x0(self) -> float:
        return min(w.x0 for w in self.words)

    @property
    def x1(self) -> float:
        return max(w.x1 for w in self.words)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass
class PageLayout:
    number: int
    width: float
    height: float
    source: str  # "text" | "ocr" | "plain"
    lines: list[Line] = field(default_factory=list)


def rows_from_words(words: list[Word]) -> list[list[Word]]:
    """Group words into visual rows (same baseline band), each sorted left to right."""
    rows: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (round(w.top, 1), w.x0)):
        if rows and abs(rows[-1][0].top - word.top) <= ROW_TOLERANCE:
            rows[-1].append(word)
        else:
            rows.append([word])
    for row in rows:
        row.sort(key=lambda w: w.x0)
    return rows


def _gutter(row: list[Word], lo: float, hi: float) -> tuple[float, float] | None:
    """The widest gap between words of a row whose middle lies inside [lo, hi], if wide enough."""
    best: tuple[float, float] | None = None
    for left, right in zip(row, row[1:]):
        if right.x0 - left.x1 >= GUTTER_MIN_WIDTH and lo <= (left.x1 + right.x0) / 2 <= hi:
            if best is None or right.x0 - left.x1 > best[1] - best[0]:
                best = (left.x1, right.x0)
    return best


def _column_block(
    rows: list[list[Word]], i: int, width: float, in_table: list[bool]
) -> tuple[int, float | None]:
    """From row i, the end of a run of rows sharing one vertical gutter, and the gutter's middle (None: no columns)."""
    if in_table[i]:
        return i + 1, None
    gap = _gutter(rows[i], width * GUTTER_ZONE[0], width * GUTTER_ZONE[1])
    if gap is None:
        return i + 1, None
    left, right = gap
    j = i
    two_sided = 0
    while j < len(rows):
        mid = (left + right) / 2
        row = rows[j]
        if in_table[j] or any(w.x0 < mid < w.x1 for w in row):
            break
        new_left = max([left] + [w.x1 for w in row if w.x1 <= mid])
        new_right = min([right] + [w.x0 for w in row if w.x0 >= mid])
        if new_right - new_left < GUTTER_MIN_WIDTH:
            break
        left, right = new_left, new_right
        two_sided += row[0].x1 <= mid <= row[-1].x0
        j += 1
    block = rows[i:j]
    if two_sided >= COLUMN_MIN_ROWS and not _is_table(block):
        return j, (left + right) / 2
    return i + 1, None


def order_lines(
    rows: list[list[Word]], width: float, table_spans: Sequence[tuple[float, float]] = ()
) -> list[Line]:
    """Turn rows into lines in reading order: a run of rows split by one common gutter reads left column first.

    Rows inside ``table_spans`` (vertical extents of ruled tables) stay whole rows.
    """
    in_table = [
        any(top <= (row[0].top + row[0].bottom) / 2 <= bottom for top, bottom in table_spans) for row in rows
    ]
    lines: list[Line] = []
    i = 0
    while i < len(rows):
        end, split = _column_block(rows, i, width, in_table)
        if split is None:
            lines.append(Line(rows[i]))
        else:
            block = rows[i:end]
            lines.extend(Line(r) for r in ([w for w in row if w.x1 <= split] for row in block) if r)
            lines.extend(Line(r) for r in ([w for w in row if w.x0 >= split] for row in block) if r)
        i = end
    return lines


def _is_table(block: list[list[Word]]) -> bool:
    """Rows with several wide gaps each are table rows, not two text columns."""
    def wide_gaps(row: list[Word]) -> int:
        return sum(1 for a, b in zip(row, row[1:]) if b.x0 - a.x1 > WIDE_GAP)

    return sum(1 for r in block if wide_gaps(r) >= 2) * 2 > len(block)


_DIGITS = re.compile(r"\d+")


def _furniture_key(line: Line) -> str:
    return _DIGITS.sub("#", line.text.strip().lower())


def mark_furniture(pages: list[PageLayout], patterns: list[re.Pattern[str]]) -> None:
    """Mark banner, footer and fax-header lines: in the top or bottom band of the page, and either repeated
    (digits aside) on at least half of the pages of a multi-page document, or matching a furniture pattern."""
    def in_band(line: Line, page: PageLayout) -> bool:
        return line.bottom <= page.height * FURNITURE_BAND or line.top >= page.height * (1 - FURNITURE_BAND)

    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({_furniture_key(line) for line in page.lines if in_band(line, page)})
    repeated_floor = max(2, (len(pages) + 1) // 2)
    for page in pages:
        for line in page.lines:
            if not in_band(line, page):
                continue
            key = _furniture_key(line)
            if (len(pages) > 1 and counts[key] >= repeated_floor) or any(p.search(line.text) for p in patterns):
                line.furniture = True
