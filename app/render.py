"""Render `.note` document sources into PDFs: typed printouts, or image-only faxed scans.

The markup is defined in ``sample_notes/README.md``. The pipeline is a chain of small pure steps:

    parse_note(text) -> NoteSource        directives and blocks, with line numbers for errors
    layout(source)   -> list[Page]        every line / table cell placed on a page (no PDF needed)
    write_pdf(pages, path)                typed PDF with a real text layer
    write_scan(pages, path, seed)         1-bit, skewed, speckled, image-only PDF (a fax)

``page_of`` / ``pages_of`` answer "which page does this sentence start on" from the layout alone, so the
gold checks work for scans too. Command line::

    python -m app.render sample_notes/               build PDFs missing or older than their .note
    python -m app.render --check sample_notes/       every gold evidence sentence is on its gold page
    python -m app.render --fill-pages sample_notes/  write each gold evidence sentence's page into gold.json

Output is deterministic: the same source (and name, for scans) gives the same PDF bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import re
import sys
import zlib
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Sequence, Union

from reportlab.pdfbase import pdfdoc
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as rl_canvas

if TYPE_CHECKING:
    from PIL import Image

# --------------------------------------------------------------------------------------------------
# Tuning constants (PDF points unless noted; 72 pt = 1 inch)
# --------------------------------------------------------------------------------------------------

PAGE_WIDTH = 612.0
PAGE_HEIGHT = 792.0
MARGIN_LEFT = 0.8 * 72
MARGIN_RIGHT = 0.8 * 72
MARGIN_TOP = 0.75 * 72
MARGIN_BOTTOM = 0.75 * 72
TEXT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT

# font family -> (regular, bold, body size)
FONT_FAMILIES: dict[str, tuple[str, str, float]] = {
    "helvetica": ("Helvetica", "Helvetica-Bold", 10.0),
    "times": ("Times-Roman", "Times-Bold", 11.0),
    "courier": ("Courier", "Courier-Bold", 10.0),
}
DEFAULT_FONT = "helvetica"
LEADING_RATIO = 1.28  # line pitch / font size
ASCENT_RATIO = 0.78  # baseline sits this many font sizes below the top of its line box
HEADING_SIZE_DELTA = 0.5  # headings are this much larger than body text
HEADING_SPACE_BEFORE = 5.0
PARAGRAPH_GAP = 7.0  # a blank source line

BANNER_SIZE = 9.0
BANNER_RULE_GAP = 4.0  # banner baseline -> rule under it
BANNER_BODY_GAP = 10.0  # rule under banner -> top of the first body line
FOOTER_SIZE = 8.0
FOOTER_RULE_GAP = 10.0  # footer baseline -> rule above it
FOOTER_BODY_GAP = 8.0  # last body line bottom -> rule above footer
HEADER_MIN_SIZE = 6.0  # banner/footer/fax shrink to fit one line, down to this size
RULE_WIDTH = 0.6

FAX_FONT = "Courier"
FAX_SIZE = 8.0
FAX_X = 0.3 * 72
FAX_BASELINE = PAGE_HEIGHT - 0.25 * 72

COLUMN_GAP = 0.3 * 72
COLUMN_BALANCE_SLACK_LINES = 3  # balanced columns may end up to this many lines uneven to split at a paragraph

TABLE_SIZE_DELTA = -1.0  # table text is this much smaller than body text
TABLE_CELL_PAD_X = 4.0
TABLE_CELL_PAD_Y = 2.5
TABLE_SPACE = 5.0  # above and below a table
TABLE_RULE_WIDTH = 0.5
TABLE_HEADER_GRAY = 0.88

SYNTH_MAX_CHARS_PER_PAGE = 4000  # synthetic charts are less dense than this: enough text for `pages` pages

SCAN_DPI = 200
SCAN_MAX_SKEW_DEG = 0.8
SCAN_BLUR_NOISE = 10.0  # std-dev of grey-level noise before thresholding (0-255 scale)
SCAN_THRESHOLD = 165  # grey < threshold -> black
SCAN_SPECKLE_DENSITY = 1.2e-4  # fraction of pixels that become black specks
SCAN_DROPOUT_DENSITY = 0.01  # fraction of black pixels that drop out to white

HEADING_RE = re.compile(r"^#+\s+(.*)$")
BULLET_RE = re.compile(r"^([-*+]|\d{1,3}[.)]|[a-zA-Z][.)])\s+")
HEADER_DIRECTIVES = frozenset({"banner", "footer", "fax", "scan", "font"})
BODY_DIRECTIVES = frozenset({"pagebreak", "columns", "endcolumns", "table", "endtable"})
# characters the standard PDF fonts print and pdf text extraction gives back unchanged
_PRINTABLE_EXTRA = frozenset(bytes(range(0x80, 0x100)).decode("cp1252", errors="ignore")) - {"\xa0", "\xad", "•"}

STREAM_ROLES = frozenset({"body", "heading", "cell"})  # runs that make up the document's reading text
CELL_JOINER = " | "

# --------------------------------------------------------------------------------------------------
# Source model and parser
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Para:
    """One printed source line (wrapped at layout time); ``heading`` lines print bold."""

    text: str
    line_no: int
    heading: bool = False


@dataclass(frozen=True)
class Gap:
    """A blank source line: paragraph gap."""

    line_no: int


@dataclass(frozen=True)
class PageBreak:
    line_no: int


@dataclass(frozen=True)
class Columns:
    items: tuple[Para | Gap, ...]
    line_no: int


@dataclass(frozen=True)
class Table:
    rows: tuple[tuple[str, ...], ...]  # rows[0] is the header
    line_no: int


Block = Union[Para, Gap, PageBreak, Columns, Table]


@dataclass(frozen=True)
class NoteSource:
    name: str
    blocks: tuple[Block, ...]
    banner: str | None = None
    footer: str | None = None
    fax: str | None = None
    scan: bool = False
    font: str = DEFAULT_FONT


def _err(name: str, line_no: int, message: str) -> ValueError:
    return ValueError(f"{name}:{line_no}: {message}")


def _check_chars(text: str, name: str, line_no: int) -> None:
    for ch in text:
        if not (" " <= ch <= "~" or ch in _PRINTABLE_EXTRA):
            raise _err(name, line_no, f"character {ch!r} (U+{ord(ch):04X}) cannot be printed with the standard "
                                      "PDF fonts; use plain text (e.g. '>=' for '≥', '-' for '•')")


def _split_row(text: str) -> tuple[str, ...]:
    stripped = text.strip()
    if stripped.startswith("|"):
        stripped = stripped[1:]
    if stripped.endswith("|"):
        stripped = stripped[:-1]
    return tuple(cell.strip() for cell in stripped.split("|"))


@dataclass
class _ParseState:
    name: str
    header: dict[str, Any] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)
    body_started: bool = False
    columns: list[Para | Gap] | None = None
    columns_line: int = 0
    table: list[tuple[str, ...]] | None = None
    table_line: int = 0


def _header_directive(st: _ParseState, word: str, arg: str, line_no: int) -> None:
    if st.body_started:
        raise _err(st.name, line_no, f"@{word} must come at the top of the file, before any text")
    if word in st.header:
        raise _err(st.name, line_no, f"duplicate @{word}")
    if word == "scan":
        if arg:
            raise _err(st.name, line_no, "@scan takes no argument")
        st.header["scan"] = True
    elif not arg:
        raise _err(st.name, line_no, f"@{word} needs a text argument")
    elif word == "font":
        if arg.lower() not in FONT_FAMILIES:
            raise _err(st.name, line_no, f"unknown font {arg!r} (use Helvetica, Times or Courier)")
        st.header["font"] = arg.lower()
    else:
        st.header[word] = arg


def _body_directive(st: _ParseState, word: str, arg: str, line_no: int) -> None:
    if arg:
        raise _err(st.name, line_no, f"@{word} takes no argument")
    st.body_started = True
    if word == "table":
        if st.columns is not None:
            raise _err(st.name, line_no, "@table inside @columns is not supported")
        st.table, st.table_line = [], line_no
    elif word == "endtable":
        raise _err(st.name, line_no, "@endtable without @table")
    elif word == "columns":
        if st.columns is not None:
            raise _err(st.name, line_no, f"nested @columns (the block opened on line {st.columns_line} is still open)")
        st.columns, st.columns_line = [], line_no
    elif word == "endcolumns":
        if st.columns is None:
            raise _err(st.name, line_no, "@endcolumns without @columns")
        st.blocks.append(Columns(tuple(st.columns), st.columns_line))
        st.columns = None
    elif word == "pagebreak":
        if st.columns is not None:
            raise _err(st.name, line_no, "@pagebreak inside @columns is not supported")
        st.blocks.append(PageBreak(line_no))


def _table_line(st: _ParseState, line: str, line_no: int) -> None:
    assert st.table is not None
    stripped = line.strip()
    if stripped == "@endtable":
        if not st.table:
            raise _err(st.name, line_no, f"empty table (opened on line {st.table_line})")
        st.blocks.append(Table(tuple(st.table), st.table_line))
        st.table = None
    elif stripped.startswith("@"):
        word = stripped[1:].split(maxsplit=1)[0] if len(stripped) > 1 else ""
        if word == "table":
            raise _err(st.name, line_no, f"nested @table (the table opened on line {st.table_line} is still open)")
        raise _err(st.name, line_no, f"@{word} is not allowed inside @table (opened on line {st.table_line})")
    elif stripped:
        row = _split_row(line)
        if st.table and len(row) > len(st.table[0]):
            raise _err(st.name, line_no, f"table row has {len(row)} cells, the header has {len(st.table[0])}")
        if st.table:
            row = row + ("",) * (len(st.table[0]) - len(row))
        st.table.append(row)


def _text_line(st: _ParseState, line: str, line_no: int) -> None:
    target: list[Any] = st.columns if st.columns is not None else st.blocks
    if not line.strip():
        if st.body_started:
            target.append(Gap(line_no))
        return
    st.body_started = True
    match = HEADING_RE.match(line)
    if match:
        target.append(Para(match.group(1).strip(), line_no, heading=True))
    else:
        target.append(Para(line.rstrip(), line_no))


def parse_note(text: str, *, name: str = "<note>") -> NoteSource:
    """Parse `.note` markup; a malformed directive raises ValueError('<name>:<line>: ...')."""
    st = _ParseState(name)
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.expandtabs(4).replace("\xa0", " ").rstrip()
        _check_chars(line, name, line_no)
        if st.table is not None:
            _table_line(st, line, line_no)
            continue
        if line.startswith("@"):
            word, _, arg = line[1:].partition(" ")
            arg = arg.strip()
            if word in HEADER_DIRECTIVES:
                _header_directive(st, word, arg, line_no)
            elif word in BODY_DIRECTIVES:
                _body_directive(st, word, arg, line_no)
            else:
                raise _err(name, line_no, f"unknown directive @{word}")
            continue
        _text_line(st, line, line_no)
    if st.table is not None:
        raise _err(name, st.table_line, "@table is never closed with @endtable")
    if st.columns is not None:
        raise _err(name, st.columns_line, "@columns is never closed with @endcolumns")
    blocks = list(st.blocks)
    while blocks and isinstance(blocks[-1], Gap):
        blocks.pop()
    return NoteSource(name=name, blocks=tuple(blocks), **st.header)


# --------------------------------------------------------------------------------------------------
# Page model and layout
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextRun:
    """One drawn line of text. ``joiner`` is what joins it to the previous run in reading order:
    " " (new line or paragraph), "" (a word split across lines) or " | " (next table cell)."""

    x: float
    y: float  # baseline
    text: str
    font: str
    size: float
    role: str  # body | heading | cell | banner | footer | fax
    joiner: str = " "


@dataclass(frozen=True)
class Rule:
    x0: float
    y0: float
    x1: float
    y1: float
    width: float = RULE_WIDTH


@dataclass(frozen=True)
class Shade:
    x: float
    y: float
    w: float
    h: float
    gray: float


@dataclass
class Page:
    number: int
    runs: list[TextRun] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    shades: list[Shade] = field(default_factory=list)

    def body_text(self) -> str:
        return "\n".join(r.text for r in self.runs if r.role in STREAM_ROLES)


@dataclass(frozen=True)
class Style:
    regular: str
    bold: str
    size: float
    leading: float
    heading_size: float
    table_size: float
    table_leading: float
    body_top: float
    body_bottom: float


def make_style(source: NoteSource) -> Style:
    regular, bold, size = FONT_FAMILIES[source.font]
    table_size = size + TABLE_SIZE_DELTA
    top = PAGE_HEIGHT - MARGIN_TOP
    if source.banner is not None:
        top -= BANNER_SIZE * ASCENT_RATIO + BANNER_RULE_GAP + BANNER_BODY_GAP
    bottom = MARGIN_BOTTOM
    if source.footer is not None:
        bottom += FOOTER_RULE_GAP + FOOTER_BODY_GAP
    return Style(regular, bold, size, size * LEADING_RATIO, size + HEADING_SIZE_DELTA,
                 table_size, table_size * LEADING_RATIO, top, bottom)


def _fit_chars(word: str, font: str, size: float, width: float) -> int:
    cut = 1
    while cut < len(word) and stringWidth(word[: cut + 1], font, size) <= width:
        cut += 1
    return cut


def wrap_text(text: str, font: str, size: float, width: float) -> list[tuple[str, str]]:
    """Greedy word wrap. Returns (line, joiner) pairs; joiner is "" when the line continues a word that
    was too long for one line, else " ". Runs of spaces inside a line are kept."""
    out: list[tuple[str, str]] = []
    current, joiner = "", " "
    current_w, space_w = 0.0, stringWidth(" ", font, size)  # standard fonts have no kerning: widths add up
    for word in text.split(" "):
        word_w = stringWidth(word, font, size)
        candidate_w = current_w + space_w + word_w if current else word_w
        if candidate_w <= width + 1e-6:
            current, current_w = (f"{current} {word}" if current else word), candidate_w
            continue
        if current.strip():
            out.append((current.rstrip(), joiner))
            joiner = " "
        while word_w > width:
            cut = _fit_chars(word, font, size, width)
            out.append((word[:cut], joiner))
            joiner, word = "", word[cut:]
            word_w = stringWidth(word, font, size)
        current, current_w = word, word_w
    if current.strip() or not out:
        out.append((current.rstrip(), joiner))
    return out


@dataclass(frozen=True)
class _Line:
    """A laid-out line before it is placed: x offset within its column, text, font, size, pitch."""

    dx: float
    text: str
    font: str
    size: float
    height: float
    role: str
    joiner: str


def _para_lines(para: Para, style: Style, width: float) -> list[_Line]:
    font = style.bold if para.heading else style.regular
    size = style.heading_size if para.heading else style.size
    stripped = para.text.lstrip(" ")
    indent = stringWidth(para.text[: len(para.text) - len(stripped)], font, size)
    bullet = BULLET_RE.match(stripped)
    hang = indent + (stringWidth(bullet.group(0), font, size) if bullet else 0.0)
    wrapped = wrap_text(stripped, font, size, width - indent)
    if len(wrapped) > 1 and hang > indent:  # list item: re-wrap the rest under the item text
        head = wrapped[0][0]
        rest = stripped[len(head):]
        tail = wrap_text(rest.lstrip(" "), font, size, width - hang)
        tail[0] = (tail[0][0], " " if rest[:1] == " " else "")
        wrapped = [wrapped[0]] + tail
    role = "heading" if para.heading else "body"
    return [_Line(indent if i == 0 else hang, text, font, size, style.leading, role, joiner)
            for i, (text, joiner) in enumerate(wrapped)]


class _Flow:
    """Places lines top-down on pages; starts a new page when the current one is full."""

    def __init__(self, style: Style) -> None:
        self.style = style
        self.pages: list[Page] = [Page(1)]
        self.y = style.body_top
        self.break_pending = False

    @property
    def page(self) -> Page:
        return self.pages[-1]

    @property
    def at_top(self) -> bool:
        return self.y >= self.style.body_top

    def room(self) -> float:
        return self.y - self.style.body_bottom

    def new_page(self) -> None:
        self.pages.append(Page(len(self.pages) + 1))
        self.y = self.style.body_top
        self.break_pending = False

    def ensure(self, height: float) -> None:
        if self.break_pending and not self.at_top:
            self.new_page()
        self.break_pending = False
        if height > self.room() + 1e-6 and not self.at_top:
            self.new_page()

    def gap(self, height: float) -> None:
        if not self.at_top and not self.break_pending:
            self.y -= min(height, max(self.room(), 0.0))

    def place(self, line: _Line, x: float) -> None:
        self.page.runs.append(TextRun(round(x + line.dx, 2), round(self.y - line.size * ASCENT_RATIO, 2),
                                      line.text, line.font, line.size, line.role, line.joiner))
        self.y -= line.height


def _layout_para(flow: _Flow, para: Para) -> None:
    lines = _para_lines(para, flow.style, TEXT_WIDTH)
    if para.heading:
        flow.gap(HEADING_SPACE_BEFORE)
        flow.ensure(sum(ln.height for ln in lines) + flow.style.leading)  # keep with the next line
    for line in lines:
        flow.ensure(line.height)
        flow.place(line, MARGIN_LEFT)


def _column_entries(block: Columns, style: Style, width: float) -> list[_Line | None]:
    """Lines of a column block; None is a paragraph gap."""
    entries: list[_Line | None] = []
    for item in block.items:
        if isinstance(item, Gap):
            entries.append(None)
        else:
            entries.extend(_para_lines(item, style, width))
    return entries


def _entry_height(entry: _Line | None) -> float:
    return PARAGRAPH_GAP if entry is None else entry.height


def _take(entries: list[_Line | None], limit: float) -> int:
    """How many entries fit in ``limit`` points (at least one)."""
    used, count = 0.0, 0
    for entry in entries:
        if count and used + _entry_height(entry) > limit + 1e-6:
            break
        used += _entry_height(entry)
        count += 1
    return count


def _place_column(flow: _Flow, entries: Sequence[_Line | None], x: float, top: float) -> float:
    flow.y = top
    for entry in entries:
        if entry is None:
            flow.y -= PARAGRAPH_GAP
        else:
            flow.place(entry, x)
    return top - flow.y


def _strip_gaps(entries: list[_Line | None]) -> list[_Line | None]:
    while entries and entries[0] is None:
        entries = entries[1:]
    return entries


def _balanced_split(entries: list[_Line | None], avail: float, slack: float) -> int:
    """Where to end the left column so both columns are about equally tall (prefers a paragraph gap
    within ``slack`` of the middle); assumes everything fits in two columns of ``avail``."""
    total = sum(_entry_height(e) for e in entries)
    tops = [0.0]
    for entry in entries:
        tops.append(tops[-1] + _entry_height(entry))
    fits = [k for k in range(1, len(entries) + 1) if tops[k] <= avail + 1e-6 and total - tops[k] <= avail + 1e-6]
    if not fits:
        return _take(entries, avail)
    at_gap = [k for k in fits if k < len(entries) and entries[k] is None and abs(tops[k] - total / 2) <= slack]
    return min(at_gap or fits, key=lambda k: (abs(tops[k] - total / 2), -k))


def _layout_columns(flow: _Flow, block: Columns) -> None:
    width = (TEXT_WIDTH - COLUMN_GAP) / 2
    right_x = MARGIN_LEFT + width + COLUMN_GAP
    entries = _strip_gaps(_column_entries(block, flow.style, width))
    while entries:
        flow.ensure(flow.style.leading * 2)
        avail = flow.room()
        if sum(_entry_height(e) for e in entries) <= 2 * avail:  # the rest fits: balance the two columns
            n_left = _balanced_split(entries, avail, COLUMN_BALANCE_SLACK_LINES * flow.style.leading)
        else:
            n_left = _take(entries, avail)
        left, entries = entries[:n_left], _strip_gaps(entries[n_left:])
        n_right = _take(entries, avail) if entries else 0
        right, entries = entries[:n_right], _strip_gaps(entries[n_right:])
        top = flow.y
        used = max(_place_column(flow, left, MARGIN_LEFT, top), _place_column(flow, right, right_x, top))
        flow.y = top - used
        if entries:
            flow.new_page()


def _column_widths(rows: Sequence[Sequence[str]], style: Style) -> list[float]:
    ncols = len(rows[0])
    natural = [0.0] * ncols
    for r, row in enumerate(rows):
        font = style.bold if r == 0 else style.regular
        for c, cell in enumerate(row):
            natural[c] = max(natural[c], stringWidth(cell, font, style.table_size) + 2 * TABLE_CELL_PAD_X)
    total = sum(natural)
    if total <= TEXT_WIDTH:
        return [w * TEXT_WIDTH / total for w in natural] if total else [TEXT_WIDTH / ncols] * ncols
    widths = [0.0] * ncols  # water-filling: narrow columns keep their width, wide ones share the rest
    open_cols = set(range(ncols))
    remaining = TEXT_WIDTH
    while open_cols:
        share = remaining / len(open_cols)
        narrow = {c for c in open_cols if natural[c] <= share}
        if not narrow:
            open_total = sum(natural[c] for c in open_cols)
            for c in open_cols:
                widths[c] = remaining * natural[c] / open_total
            break
        for c in narrow:
            widths[c] = natural[c]
            remaining -= natural[c]
        open_cols -= narrow
    return widths


def _cell_lines(row: Sequence[str], widths: Sequence[float], style: Style, header: bool) -> list[list[_Line]]:
    font = style.bold if header else style.regular
    cells = []
    for c, cell in enumerate(row):
        wrapped = wrap_text(cell, font, style.table_size, widths[c] - 2 * TABLE_CELL_PAD_X)
        first_joiner = " " if c == 0 else CELL_JOINER
        cells.append([_Line(0.0, t, font, style.table_size, style.table_leading, "cell", first_joiner if i == 0 else j)
                      for i, (t, j) in enumerate(wrapped)])
    return cells


def _row_height(cells: Sequence[Sequence[_Line]], style: Style) -> float:
    return max(len(lines) for lines in cells) * style.table_leading + 2 * TABLE_CELL_PAD_Y


def _place_row(flow: _Flow, cells: Sequence[Sequence[_Line]], xs: Sequence[float], header: bool) -> float:
    height = _row_height(cells, flow.style)
    top = flow.y
    if header:
        flow.page.shades.append(Shade(MARGIN_LEFT, round(top - height, 2), TEXT_WIDTH, round(height, 2),
                                      TABLE_HEADER_GRAY))
    for c, lines in enumerate(cells):
        flow.y = top - TABLE_CELL_PAD_Y + (flow.style.table_leading - flow.style.table_size) * 0.35
        for line in lines:
            flow.place(line, xs[c] + TABLE_CELL_PAD_X)
    flow.y = top - height
    return top - height


def _grid(page: Page, xs: Sequence[float], ys: Sequence[float]) -> None:
    for y in ys:
        page.rules.append(Rule(xs[0], round(y, 2), xs[-1], round(y, 2), TABLE_RULE_WIDTH))
    for x in xs:
        page.rules.append(Rule(x, round(ys[0], 2), x, round(ys[-1], 2), TABLE_RULE_WIDTH))


def _layout_table(flow: _Flow, block: Table) -> None:
    style = flow.style
    widths = _column_widths(block.rows, style)
    xs = [MARGIN_LEFT]
    for w in widths:
        xs.append(xs[-1] + w)
    xs = [round(x, 2) for x in xs]
    header = _cell_lines(block.rows[0], widths, style, header=True)
    body = [_cell_lines(row, widths, style, header=False) for row in block.rows[1:]]
    flow.gap(TABLE_SPACE)
    first_height = _row_height(header, style) + (_row_height(body[0], style) if body else 0.0)
    flow.ensure(first_height)
    ys = [flow.y, _place_row(flow, header, xs, header=True)]
    for cells in body:
        height = _row_height(cells, style)
        if height > flow.room() + 1e-6:
            _grid(flow.page, xs, ys)
            flow.new_page()
            ys = [flow.y, _place_row(flow, header, xs, header=True)]  # repeat the header row
        ys.append(_place_row(flow, cells, xs, header=False))
    _grid(flow.page, xs, ys)
    flow.gap(TABLE_SPACE)


def _fit_line(text: str, font: str, size: float, width: float) -> tuple[str, float]:
    """Shrink a one-line header/footer to fit ``width``; truncate if it still does not fit."""
    while size > HEADER_MIN_SIZE and stringWidth(text, font, size) > width:
        size -= 0.25
    while len(text) > 4 and stringWidth(text, font, size) > width:
        text = text[:-4].rstrip() + "..."
    return text, size


def _substitute(template: str, page: int, pages: int) -> str:
    return template.replace("{page}", str(page)).replace("{pages}", str(pages))


def _decorate(page: Page, source: NoteSource, style: Style, pages: int) -> None:
    """Add fax header, banner and footer (with page numbers) to a laid-out page."""
    right = PAGE_WIDTH - MARGIN_RIGHT
    if source.fax is not None:
        text, size = _fit_line(_substitute(source.fax, page.number, pages), FAX_FONT, FAX_SIZE,
                               PAGE_WIDTH - 2 * FAX_X)
        page.runs.append(TextRun(FAX_X, FAX_BASELINE, text, FAX_FONT, size, "fax"))
    if source.banner is not None:
        text, size = _fit_line(_substitute(source.banner, page.number, pages), style.bold, BANNER_SIZE, TEXT_WIDTH)
        base = round(PAGE_HEIGHT - MARGIN_TOP - BANNER_SIZE * ASCENT_RATIO, 2)
        page.runs.append(TextRun(MARGIN_LEFT, base, text, style.bold, size, "banner"))
        page.rules.append(Rule(MARGIN_LEFT, base - BANNER_RULE_GAP, right, base - BANNER_RULE_GAP))
    if source.footer is not None:
        text, size = _fit_line(_substitute(source.footer, page.number, pages), style.regular, FOOTER_SIZE, TEXT_WIDTH)
        x = round(MARGIN_LEFT + (TEXT_WIDTH - stringWidth(text, style.regular, size)) / 2, 2)
        page.runs.append(TextRun(x, MARGIN_BOTTOM, text, style.regular, size, "footer"))
        page.rules.append(Rule(MARGIN_LEFT, MARGIN_BOTTOM + FOOTER_RULE_GAP, right, MARGIN_BOTTOM + FOOTER_RULE_GAP))


def layout(source: NoteSource) -> list[Page]:
    """Place every block on letter pages; then add banner/footer/fax with the final page count."""
    style = make_style(source)
    flow = _Flow(style)
    for block in source.blocks:
        if isinstance(block, Para):
            _layout_para(flow, block)
        elif isinstance(block, Gap):
            flow.gap(PARAGRAPH_GAP)
        elif isinstance(block, PageBreak):
            flow.break_pending = True
        elif isinstance(block, Columns):
            _layout_columns(flow, block)
        else:
            _layout_table(flow, block)
    for page in flow.pages:
        _decorate(page, source, style, len(flow.pages))
    return flow.pages


# --------------------------------------------------------------------------------------------------
# Finding sentences on pages
# --------------------------------------------------------------------------------------------------


def _stream(pages: Sequence[Page], cell_sep: str) -> tuple[str, list[int], list[int]]:
    """The pages' reading text as one string, with the start offset and page number of every run."""
    parts: list[str] = []
    starts: list[int] = []
    page_nums: list[int] = []
    pos = 0
    for page in pages:
        for run in page.runs:
            if run.role not in STREAM_ROLES:
                continue
            sep = cell_sep if run.joiner == CELL_JOINER else run.joiner
            if parts:
                parts.append(sep)
                pos += len(sep)
            starts.append(pos)
            page_nums.append(page.number)
            parts.append(run.text)
            pos += len(run.text)
    return "".join(parts), starts, page_nums


def _as_pages(source: NoteSource | Sequence[Page]) -> Sequence[Page]:
    return layout(source) if isinstance(source, NoteSource) else source


def pages_of(source: NoteSource | Sequence[Page], sentence: str) -> list[int]:
    """Every page (1-based, ascending) on which ``sentence`` starts; whitespace is compared collapsed, and a
    table row matches with its cells joined by single spaces or by " | "."""
    tokens = sentence.split()
    if not tokens:
        return []
    pattern = re.compile(r"\s+".join(re.escape(t) for t in tokens))
    pages = _as_pages(source)
    found: set[int] = set()
    for sep in (" ", CELL_JOINER):
        text, starts, page_nums = _stream(pages, sep)
        for match in pattern.finditer(text):
            found.add(page_nums[max(bisect_right(starts, match.start()) - 1, 0)])
    return sorted(found)


def page_of(source: NoteSource | Sequence[Page], sentence: str) -> int | None:
    """The first page (1-based) on which ``sentence`` starts, or None."""
    found = pages_of(source, sentence)
    return found[0] if found else None


# --------------------------------------------------------------------------------------------------
# PDF output
# --------------------------------------------------------------------------------------------------


def _new_canvas(out: Any, title: str) -> rl_canvas.Canvas:
    c = rl_canvas.Canvas(out, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setCreator("chartcheck app.render")
    return c


def _draw_page(c: rl_canvas.Canvas, page: Page) -> None:
    for shade in page.shades:
        c.setFillGray(shade.gray)
        c.rect(shade.x, shade.y, shade.w, shade.h, stroke=0, fill=1)
    c.setFillGray(0)
    c.setStrokeGray(0)
    for rule in page.rules:
        c.setLineWidth(rule.width)
        c.line(rule.x0, rule.y0, rule.x1, rule.y1)
    for run in page.runs:
        if run.text:
            c.setFont(run.font, run.size)
            c.drawString(run.x, run.y, run.text)


def pdf_bytes(pages: Sequence[Page], title: str = "") -> bytes:
    buf = io.BytesIO()
    c = _new_canvas(buf, title)
    for page in pages:
        _draw_page(c, page)
        c.showPage()
    c.save()
    return buf.getvalue()


def write_pdf(pages: Sequence[Page], path: Path, title: str = "") -> None:
    """Typed PDF with a real text layer."""
    Path(path).write_bytes(pdf_bytes(pages, title))


class _BilevelImage(pdfdoc.PDFImageXObject):
    """A 1-bit DeviceGray image XObject, flate-compressed (reportlab itself would store 8-bit RGB)."""

    def __init__(self, name: str, image: Image.Image) -> None:
        super().__init__(name)
        self.width, self.height = image.size
        self.bitsPerComponent = 1
        self.colorSpace = "DeviceGray"
        self.streamContent = zlib.compress(image.tobytes(), 9)  # PIL "1" rows: MSB first, 1 = white
        self._filters = ("FlateDecode",)
        self.mask = None


def _draw_full_page_image(c: rl_canvas.Canvas, image: Image.Image) -> None:
    """Register a bilevel image and draw it over the whole page (mirrors Canvas.drawImage)."""
    data = image.tobytes()
    name = "fax" + hashlib.md5(data).hexdigest()
    reg_name = c._doc.getXObjectName(name)
    if not c._doc.idToObject.get(reg_name):
        obj = _BilevelImage(name, image)
        c._setXObjects(obj)
        c._doc.Reference(obj, reg_name)
        c._doc.addForm(name, obj)
    c.saveState()
    c.scale(PAGE_WIDTH, PAGE_HEIGHT)
    c._code.append(f"/{reg_name} Do")
    c.restoreState()
    c._formsinuse.append(name)


def scan_seed(name: str) -> int:
    """A stable seed from a document's name (its folder and file name, so the cwd does not matter)."""
    key = "/".join(PurePath(name).parts[-2:])
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")


def _fax_page(gray: Image.Image, rng: Any) -> Image.Image:
    """Skew, add noise and specks, threshold to 1 bit."""
    import numpy as np
    from PIL import Image

    angle = float(rng.uniform(-SCAN_MAX_SKEW_DEG, SCAN_MAX_SKEW_DEG))
    skewed = gray.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    pixels = np.asarray(skewed, dtype=np.float32)
    pixels = pixels + rng.normal(0.0, SCAN_BLUR_NOISE, pixels.shape).astype(np.float32)
    black = pixels < SCAN_THRESHOLD
    black &= rng.random(pixels.shape) >= SCAN_DROPOUT_DENSITY
    specks = rng.random(pixels.shape) < SCAN_SPECKLE_DENSITY
    specks |= np.roll(specks, 1, axis=1) & (rng.random(pixels.shape) < 0.5)  # some specks are 2 px wide
    black |= specks
    return Image.fromarray(~black)  # bool array -> mode "1", True = white


def write_scan(pages: Sequence[Page], path: Path, seed: int, title: str = "") -> None:
    """Image-only PDF of the pages as a faxed scan: 200 dpi, skewed, speckled, 1-bit; no text layer."""
    import numpy as np
    import pypdfium2 as pdfium

    rng = np.random.default_rng(seed)
    typed = pdfium.PdfDocument(pdf_bytes(pages))
    buf = io.BytesIO()
    c = _new_canvas(buf, title)
    try:
        for index in range(len(typed)):
            bitmap = typed[index].render(scale=SCAN_DPI / 72, grayscale=True, fill_color=(255, 255, 255, 255))
            _draw_full_page_image(c, _fax_page(bitmap.to_pil().convert("L"), rng))
            c.showPage()
    finally:
        typed.close()
    c.save()
    Path(path).write_bytes(buf.getvalue())


@dataclass(frozen=True)
class RenderResult:
    path: Path
    pages: int
    scan: bool


def render_note(source_text: str, out_path: Path, *, name: str) -> RenderResult:
    """Parse, lay out and write one document (typed or, with @scan, as a faxed scan)."""
    source = parse_note(source_text, name=name)
    pages = layout(source)
    out_path = Path(out_path)
    title = PurePath(name).stem
    if source.scan:
        write_scan(pages, out_path, scan_seed(name), title)
    else:
        write_pdf(pages, out_path, title)
    return RenderResult(out_path, len(pages), source.scan)


# --------------------------------------------------------------------------------------------------
# Synthetic long charts (benchmarks)
# --------------------------------------------------------------------------------------------------

_FIRST = ["Margaret", "Harold", "Linda", "Robert", "Patricia", "Gerald", "Susan", "Walter", "Diane", "Frank"]
_LAST = ["Okafor", "Lindqvist", "Brennan", "Castellano", "Whitfield", "Nakamura", "Delgado", "Ferris", "Kowalski"]
_PROVIDERS = ["Anita Raman, MD", "Thomas Ellery, MD", "Grace Mbeki, MD", "Daniel Auerbach, MD"]
_SITES = ["left lower extremity", "right thigh", "left forearm", "scalp", "right upper back", "left calf"]
_SYMPTOMS = [
    "mild fatigue that improves by the afternoon", "intermittent low-grade chills the evening after injection",
    "tenderness at the injection sites lasting one to two days", "a small amount of serous drainage from one nodule",
    "good appetite and stable weight", "no new headaches or visual changes", "occasional itching around the lesions",
    "flu-like symptoms for about 24 hours after each treatment, managed with acetaminophen",
]
_ROS = [
    ("Constitutional", "Reports fatigue; denies fevers, night sweats or unintentional weight loss."),
    ("Eyes", "Denies blurred vision or eye pain."),
    ("ENT", "Denies sore throat, epistaxis or new oral lesions."),
    ("Cardiovascular", "Denies chest pain, palpitations or leg swelling."),
    ("Respiratory", "Denies cough, hemoptysis or shortness of breath."),
    ("Gastrointestinal", "Denies nausea, vomiting, diarrhea or abdominal pain."),
    ("Genitourinary", "Denies dysuria or hematuria."),
    ("Musculoskeletal", "Denies new bone pain; mild ache in the left knee with activity."),
    ("Skin", "Nodules on the leg as described in the HPI; no new pigmented lesions noticed."),
    ("Neurological", "Denies focal weakness, numbness or seizures."),
    ("Psychiatric", "Mood is good; sleeping well."),
    ("Heme/Lymph", "Denies easy bruising; no new lumps in the neck or axillae."),
]
_MEDS = ["Lisinopril 10 mg by mouth daily", "Atorvastatin 20 mg by mouth nightly", "Acetaminophen 650 mg every 6 hours as needed",
         "Ondansetron 4 mg every 8 hours as needed for nausea", "Vitamin D3 2,000 units daily", "Omeprazole 20 mg daily"]
_LABS = [("WBC", 4.0, 11.0, "x10^3/uL", 1), ("Hemoglobin", 12.0, 16.0, "g/dL", 1), ("Platelets", 150, 400, "x10^3/uL", 0),
         ("Creatinine", 0.6, 1.2, "mg/dL", 2), ("ALT", 7, 56, "U/L", 0), ("AST", 10, 40, "U/L", 0),
         ("Total bilirubin", 0.2, 1.2, "mg/dL", 1), ("LDH", 140, 280, "U/L", 0), ("Albumin", 3.5, 5.0, "g/dL", 1)]


def _visit_hpi(rng: random.Random, name: str, site: str, visit: int, sizes: list[float]) -> list[str]:
    lesion_text = ", ".join(f"{s:.1f} cm" for s in sizes)
    trend = rng.choice(["have decreased slightly in size", "are stable in size", "are flatter and less erythematous",
                        "show partial regression with central crusting"])
    return [
        f"{name} returns for follow-up of recurrent stage IIIC melanoma of the {site}, seen today for treatment visit "
        f"{visit} with talimogene laherparepvec (T-VEC). The primary was a {rng.choice(['1.8', '2.4', '3.1'])} mm "
        f"Breslow thickness, ulcerated superficial spreading melanoma treated with wide local excision and sentinel "
        f"lymph node biopsy. In-transit recurrence developed along the lymphatic drainage path about "
        f"{rng.randint(9, 20)} months after surgery and was judged not amenable to complete resection by surgical "
        f"oncology given the number and distribution of the nodules.",
        f"Since the last visit the patient reports {rng.choice(_SYMPTOMS)} and {rng.choice(_SYMPTOMS)}. The injected "
        f"nodules {trend}; today they measure {lesion_text}. There are no new nodules outside the treated field. "
        f"Activity level is unchanged and the patient continues to work part time. Restaging CT of the chest, "
        f"abdomen and pelvis from {rng.randint(2, 8)} weeks ago showed no evidence of visceral metastatic disease, "
        f"and brain MRI remained negative.",
    ]


def _visit_exam(rng: random.Random, site: str, sizes: list[float]) -> list[str]:
    lines = [
        f"Vitals: BP {rng.randint(112, 146)}/{rng.randint(68, 90)}, HR {rng.randint(62, 94)}, "
        f"Temp {rng.uniform(36.4, 37.3):.1f} C, RR {rng.randint(14, 18)}, SpO2 {rng.randint(95, 99)}% on room air, "
        f"Weight {rng.uniform(62, 98):.1f} kg.",
        "General: Well-appearing, in no acute distress, ambulating independently.",
        "HEENT: Normocephalic, atraumatic. Sclerae anicteric. Oropharynx clear without lesions.",
        "Neck: Supple. No cervical or supraclavicular lymphadenopathy.",
        "Lungs: Clear to auscultation bilaterally without wheezes or crackles.",
        "Heart: Regular rate and rhythm; no murmurs, rubs or gallops.",
        "Abdomen: Soft, non-tender, non-distended; no hepatosplenomegaly.",
        f"Lymph nodes: {rng.choice(['No palpable inguinal adenopathy.', 'A 1.2 cm mobile left inguinal node, unchanged.'])}",
    ]
    for i, size in enumerate(sizes, start=1):
        lines.append(f"  - Lesion {i}, {site}: {size:.1f} x {size * rng.uniform(0.6, 0.95):.1f} cm subcutaneous "
                     f"nodule, {rng.choice(['pink', 'violaceous', 'skin-colored', 'darkly pigmented'])}, "
                     f"{rng.choice(['firm', 'rubbery', 'soft'])}, {rng.choice(['non-tender', 'mildly tender'])}.")
    lines.append("Extremities: Trace edema of the treated leg; distal pulses intact.")
    lines.append("Neuro: Alert and oriented; strength 5/5 throughout; gait normal.")
    return lines


def _visit_labs(rng: random.Random, when: str) -> list[str]:
    rows = ["Date | Test | Result | Units | Reference range | Flag"]
    for test, lo, hi, units, digits in _LABS:
        value = rng.uniform(lo * 0.85, hi * 1.1)
        flag = "H" if value > hi else "L" if value < lo else ""
        rows.append(f"{when} | {test} | {value:.{digits}f} | {units} | {lo}-{hi} | {flag}")
    return rows


def _visit_note(rng: random.Random, patient: str, site: str, visit: int, when: str,
                sizes: list[float]) -> tuple[str, str]:
    """One progress note, and its signature line (unique: it carries the date)."""
    provider = rng.choice(_PROVIDERS)
    out = [f"# MEDICAL ONCOLOGY PROGRESS NOTE - {when}",
           f"Provider: {provider}    Visit type: Established patient, treatment visit    Location: Infusion Clinic B",
           "", "# Chief Complaint", f"Follow-up of recurrent melanoma; T-VEC injection #{visit}.", "",
           "# History of Present Illness"]
    for paragraph in _visit_hpi(rng, patient, site, visit, sizes):
        out += [paragraph, ""]
    out.append("# Review of Systems")
    out += [f"{k}: {v}" for k, v in _ROS]
    out += ["", "# Current Medications"] + [f"- {m}" for m in rng.sample(_MEDS, 4)]
    out += ["", "# Physical Examination"] + _visit_exam(rng, site, sizes)
    out += ["", "# Laboratory Results", "@table"] + _visit_labs(rng, when) + ["@endtable", ""]
    out += [
        "# Assessment and Plan",
        f"1. Recurrent in-transit melanoma of the {site} (C43.7), unresectable, on intralesional T-VEC. "
        f"Lesions {rng.choice(['are responding', 'are stable to slightly smaller', 'show partial response'])}. "
        f"Proceed with injection today; total volume {rng.choice(['2', '3', '4'])} mL divided among the palpable "
        f"nodules, prioritizing the largest lesions. Continue every {rng.choice(['2', '3'])} weeks.",
        "2. Treatment-related flu-like symptoms, grade 1. Premedicate with acetaminophen; encourage oral hydration.",
        f"3. Surveillance: repeat CT chest/abdomen/pelvis in {rng.choice(['8', '12'])} weeks; dermatology skin check "
        f"every 3 months.",
        "4. Return to clinic in 2 weeks, sooner for fever above 38.5 C, spreading redness or drainage.",
        "", f"Electronically signed by {provider} on {when}.", "",
    ]
    return "\n".join(out) + "\n", out[-2]


def _pathology_block(rng: random.Random, site: str) -> str:
    return "\n".join([
        "# SURGICAL PATHOLOGY REPORT (prior, scanned into chart)", "@columns",
        "# Specimen", f"A. Skin, {site}, punch biopsy of subcutaneous nodule.", "",
        "# Gross Description", "Received in formalin is a 0.6 cm punch of tan-pink skin with an underlying firm "
        "nodule, bisected and entirely submitted in one cassette.", "",
        "# Microscopic Description", "Sections show a dermal and subcutaneous nodule of atypical epithelioid "
        "melanocytes with prominent nucleoli and brisk mitotic activity, without an overlying junctional component.",
        "", "# Immunohistochemistry", "SOX10: positive.", "Melan-A: positive.", "HMB-45: patchy positive.",
        "", "# Diagnosis", f"A. Skin, {site}, biopsy: metastatic melanoma, consistent with in-transit metastasis.",
        f"Margins: involved at the deep aspect. BRAF V600E: {rng.choice(['not detected', 'detected'])}.",
        "@endcolumns", "", ""])


def _chart_header(rng: random.Random) -> tuple[str, str, str]:
    patient = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    mrn = f"{rng.randint(10_000_000, 99_999_999)}"
    dob = f"{rng.randint(1940, 1975)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    header = "\n".join([
        f"@banner Lakeside Cancer Center - Medical Oncology | {patient} | MRN {mrn} | DOB {dob}",
        "@footer Printed by Health Information Management - CONFIDENTIAL patient information - Page {page} of {pages}",
        "",
    ])
    return header, patient, rng.choice(_SITES)


def _visit_end_pages(pages: Sequence[Page], signatures: Sequence[str]) -> list[int]:
    """The page on which each visit's (unique, one-line) signature line is printed, in order."""
    text, starts, page_nums = _stream(pages, " ")
    ends, pos = [], 0
    for signature in signatures:
        pos = text.index(signature, pos)
        ends.append(page_nums[bisect_right(starts, pos) - 1])
    return ends


def synthetic_note(pages: int, seed: int) -> str:
    """A realistic multi-visit melanoma oncology chart of roughly ``pages`` pages (deterministic in seed)."""
    rng = random.Random(seed)
    header, patient, site = _chart_header(rng)
    first_name = patient.split()[0]
    head = header + _pathology_block(rng, site)
    sizes = [round(rng.uniform(0.8, 2.6), 1) for _ in range(rng.randint(3, 5))]
    day = date(2025, 1, 6) + timedelta(days=rng.randint(0, 60))
    visits: list[str] = []
    signatures: list[str] = []
    while True:  # generate more than enough visits, lay out once, cut after the visit closest to `pages`
        while sum(map(len, visits)) < SYNTH_MAX_CHARS_PER_PAGE * max(pages, 1) * (1 + len(visits) // 500):
            day += timedelta(days=rng.choice([14, 14, 21, 28]))
            sizes = [max(0.2, round(s * rng.uniform(0.85, 1.02), 1)) for s in sizes]
            note, signature = _visit_note(rng, first_name, site, len(visits) + 1, day.isoformat(), sizes)
            visits.append(note)
            signatures.append(signature)
        ends = _visit_end_pages(layout(parse_note(head + "".join(visits), name="synthetic.note")), signatures)
        if ends[-1] >= pages:
            break
    k = next(i for i, end in enumerate(ends) if end >= pages)  # visits[: k + 1] reach the target
    if k > 0 and pages - ends[k - 1] < ends[k] - pages:
        k -= 1
    return head + "".join(visits[: k + 1])


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------


def _iter_files(roots: Sequence[Path], pattern: str) -> list[Path]:
    found: list[Path] = []
    for root in roots:
        found.extend([root] if root.is_file() and root.match(pattern) else sorted(root.rglob(pattern)))
    return found


def build(roots: Sequence[Path], *, force: bool = False) -> int:
    """Render every .note whose PDF is missing or older than the source. Returns the number of errors."""
    errors = built = 0
    for note in _iter_files(roots, "*.note"):
        pdf = note.with_suffix(".pdf")
        if not force and pdf.exists() and pdf.stat().st_mtime >= note.stat().st_mtime:
            continue
        try:
            result = render_note(note.read_text(encoding="utf-8"), pdf, name=str(note))
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            errors += 1
            continue
        built += 1
        print(f"built {pdf} ({result.pages} page{'s' if result.pages != 1 else ''}{', scan' if result.scan else ''})")
    print(f"{built} built, {errors} error{'s' if errors != 1 else ''}")
    return errors


class _LayoutCache:
    def __init__(self) -> None:
        self._pages: dict[Path, list[Page]] = {}

    def pages(self, note: Path) -> list[Page]:
        if note not in self._pages:
            self._pages[note] = layout(parse_note(note.read_text(encoding="utf-8"), name=str(note)))
        return self._pages[note]


def _evidence(gold: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    items = []
    for criterion, entry in (gold.get("criteria") or {}).items():
        for ev in (entry or {}).get("evidence") or []:
            items.append((criterion, ev))
    return items


def _locate(cache: _LayoutCache, gold_path: Path, ev: dict[str, Any]) -> list[int]:
    """Pages where the evidence sentence starts; raises ValueError when the source is missing or malformed."""
    note = gold_path.parent / PurePath(str(ev.get("document", ""))).with_suffix(".note").name
    if not note.exists():
        raise ValueError(f"no source {note.name} for document {ev.get('document')!r}")
    return pages_of(cache.pages(note), str(ev.get("text", "")))


def check(roots: Sequence[Path]) -> list[str]:
    """Failures: gold evidence sentences not found on the page their gold.json gives."""
    cache, failures, checked = _LayoutCache(), [], 0
    for gold_path in _iter_files(roots, "gold.json"):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        for criterion, ev in _evidence(gold):
            checked += 1
            where = f"{gold_path}: {criterion}: {ev.get('document')}"
            try:
                found = _locate(cache, gold_path, ev)
            except ValueError as exc:
                failures.append(f"{where}: {exc}")
                continue
            snippet = str(ev.get("text", ""))[:70]
            if not found:
                failures.append(f"{where}: sentence not found: {snippet!r}")
            elif ev.get("page") not in found:
                failures.append(f"{where}: gold page {ev.get('page')}, sentence is on page "
                                f"{', '.join(map(str, found))}: {snippet!r}")
    print(f"checked {checked} evidence sentence{'s' if checked != 1 else ''}, {len(failures)} failure"
          f"{'s' if len(failures) != 1 else ''}")
    return failures


def _with_page(ev: dict[str, Any], page: int) -> dict[str, Any]:
    if "page" in ev:
        return {**ev, "page": page}
    out: dict[str, Any] = {}
    for key, value in ev.items():
        out[key] = value
        if key == "document":
            out["page"] = page
    out.setdefault("page", page)
    return out


def fill_pages(roots: Sequence[Path]) -> list[str]:
    """Write the page of every gold evidence sentence into its gold.json; returns the problems."""
    cache, problems = _LayoutCache(), []
    for gold_path in _iter_files(roots, "gold.json"):
        original = gold_path.read_text(encoding="utf-8")
        gold = json.loads(original)
        for criterion, entry in (gold.get("criteria") or {}).items():
            evidence = (entry or {}).get("evidence") or []
            for i, ev in enumerate(evidence):
                try:
                    found = _locate(cache, gold_path, ev)
                except ValueError as exc:
                    problems.append(f"{gold_path}: {criterion}: {exc}")
                    continue
                if not found:
                    problems.append(f"{gold_path}: {criterion}: sentence not found: {str(ev.get('text'))[:70]!r}")
                    continue
                evidence[i] = _with_page(ev, ev["page"] if ev.get("page") in found else found[0])
        updated = json.dumps(gold, indent=2, ensure_ascii=False) + "\n"
        if updated != original:
            gold_path.write_text(updated, encoding="utf-8")
            print(f"updated {gold_path}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.render", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="folders (searched recursively) or files")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="check gold evidence pages against the layout")
    mode.add_argument("--fill-pages", action="store_true", help="write gold evidence pages into gold.json")
    parser.add_argument("--force", action="store_true", help="rebuild every PDF, even when up to date")
    args = parser.parse_args(argv)
    if args.check:
        failures = check(args.paths)
        for failure in failures:
            print(failure)
        return 1 if failures else 0
    if args.fill_pages:
        problems = fill_pages(args.paths)
        for problem in problems:
            print(problem)
        return 1 if problems else 0
    return 1 if build(args.paths, force=args.force) else 0


if __name__ == "__main__":
    sys.exit(main())
