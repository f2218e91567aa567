"""Response read from lesion-measurement tables: baseline and current sizes of each lesion, compared as RECIST
compares sums of longest diameters. The thresholds and header words live in rules/measurement_tables.json."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from extractor.document import TextDocument
from extractor.encounters import parse_date
from extractor.rules_loader import MeasurementTableRule
from models import Cue, Finding, Qualifiers

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:[x×]\s*(\d+(?:\.\d+)?)\s*(?:[x×]\s*\d+(?:\.\d+)?\s*)?)?(mm|cm)?", re.I)
_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")
_ANY_DATE = re.compile(r"\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b")  # in prose '(05/13)' is a date too


_CONTINUATION = re.compile(r"[^\d|]{1,40}")  # a short line without numbers: a wrapped cell's words
_UNIT = re.compile(r"\b(mm|cm)\b", re.I)
# A bare number: not a date part, a label (B1) or an exponent (10^8).
_BARE = re.compile(r"(?<![\w./^-])\d+(?:\.\d+)?(?![\w./^%])")


def _sizes(row: str, unit: str | None = None, rule: MeasurementTableRule | None = None) -> list[float]:
    """Longest diameter of each measurement in a row ('14 x 12', '8 mm', '1.2 cm'), in mm, in order; dates are
    skipped, and so are distances ('8 cm above the scar', the rule's distance words). Where the table declares its
    unit ('diameter in mm'), a bare number is a size in that unit (unless another unit follows it: '0.1 mL') and a
    resolved lesion ('flat', 'resolved') is 0; both word lists are the rule's."""
    row = _DATE.sub(" ", row)
    found: list[tuple[int, float]] = []
    sized: list[tuple[int, int]] = []  # spans of the measurements read with their own unit or as 'a x b'
    distance = _words_after(rule.distance_words) if rule is not None else None
    first_2d = len(row)
    for match in _SIZE.finditer(row):
        first, second, given = match.group(1), match.group(2), match.group(3)
        if second is None and given is None:
            continue  # a bare number (lesion label, count) is not a size, unless the table gives the unit
        if distance is not None and distance.match(row, match.end()):
            sized.append(match.span())  # where the lesion lies ('8 cm above the scar'), not how big it is
            continue
        scale = 10.0 if (given or "").lower() == "cm" else 1.0
        found.append((match.start(), max(float(first), float(second or 0)) * scale))
        sized.append(match.span())
        if second is not None:
            first_2d = min(first_2d, match.start())
    # in a row of 'a x b' sizes, a lone measure before the first of them is where the lesion lies ('R calf, 3 cm',
    # its 'proximal to graft' wrapped to the next line), not a size
    found = [(at, size) for at, size in found if at >= first_2d or first_2d == len(row)]
    if unit is not None and rule is not None:
        scale = 10.0 if unit == "cm" else 1.0
        label_end = len(row) - len(row.lstrip())  # a bare number opening the row is its label ("2  L arm  14")
        other_unit = _words_after(rule.other_units)
        for match in _BARE.finditer(row):
            inside = any(a <= match.start() < b for a, b in sized)
            if match.start() == label_end or inside or other_unit.match(row, match.end()):
                continue
            found.append((match.start(), float(match.group()) * scale))
        resolved = _words(rule.resolved_words)
        found.extend((m.start(), 0.0) for m in resolved.finditer(row))
    return [size for _, size in sorted(found)]


@lru_cache(maxsize=8)
def _words(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)", re.I) if words else re.compile(r"(?!)")


@lru_cache(maxsize=8)
def _words_after(words: tuple[str, ...]) -> re.Pattern[str]:
    """Matches right after a number when one of the words follows it (after optional spaces)."""
    return re.compile(r"\s*(?:" + "|".join(map(re.escape, words)) + r")(?!\w)", re.I) if words else re.compile(r"(?!)")


def _declared_unit(text: str, lines: list[tuple[int, int]], header: int, title_words: tuple[str, ...]) -> str | None:
    """'mm' or 'cm' when the header row, or one of the three non-empty lines above it that speaks of measuring
    (the table's title: "longest diameter in mm"), names the table's unit."""
    seen = 0
    for k in range(header, -1, -1):
        line = text[lines[k][0] : lines[k][1]]
        if not line.strip():
            continue
        match = _UNIT.search(line)
        if match and (k == header or any(word in line.lower() for word in title_words)):
            return match.group(1).lower()
        seen += 1
        if seen > 3:
            break
    return None


# A lesion table's measured rows: (line span, size then, size now).
LesionRows = list[tuple[tuple[int, int], float, float]]


def table_findings(
    document: TextDocument, rule: MeasurementTableRule, tables: list[LesionRows] | None = None
) -> list[Finding]:
    """For each table whose header names a baseline column, one finding per measured row: concept ``response``
    (or ``progression``) when the table's summed change crosses the rule's thresholds. ``tables``: the document's
    ``lesion_tables``, when already read."""
    text = document.clean_text
    findings: list[Finding] = []
    for rows in lesion_tables(text, rule) if tables is None else tables:
        if len(rows) >= rule.min_rows:
            baseline = sum(r[1] for r in rows)
            current = sum(r[2] for r in rows)
            change = (current - baseline) / baseline if baseline else 0.0
            concept = _measured(change, rule)
            if concept:
                for (a, b), before, after in rows:
                    if (after < before) == (concept == "response"):
                        a += len(text[a:b]) - len(text[a:b].lstrip())
                        why = f"measured change {change:+.0%} across the table"
                        findings.append(_row_finding(document, concept, rule.id, a, b, why))
    return findings


def _line_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line of the text."""
    spans, start = [], 0
    for line in text.split("\n"):
        spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


# a count of lesions in a cell ('Sum  5 lesions  40  44  39'): no size
_COUNT = re.compile(r"\b\d+\s+(?:lesions?|nodules?|sites?|targets?|mets|metastases|deposits?)\b", re.I)


def lesion_tables(text: str, rule: MeasurementTableRule) -> list[LesionRows]:
    """The measured rows (line span, size then, size now) of each table whose header names a baseline column or
    dates its columns ('Lesion  05/07/2026 baseline  06/11/2026')."""
    lines = _line_spans(text)
    tables: list[LesionRows] = []
    baseline_column = _words(tuple(rule.baseline_words))
    dated_header_word = _words(tuple(rule.dated_header_words))
    i = 0
    while i < len(lines):
        header = text[lines[i][0] : lines[i][1]].lower()
        # the baseline is a column named so, or the first of the dated columns of a lesion table ("Site 06/29/26 ...")
        dated = len(_DATE.findall(header)) >= 2 and dated_header_word.search(header) is not None
        # a row that opens with its date is a visit's measurements (a table with a row per visit), whatever its
        # comment says ("baseline"): it heads no lesion rows
        if not (baseline_column.search(header) or dated) or _sizes(header) or _DATE.match(header.strip()):
            i += 1
            continue
        rows = []
        first_dose = _first_dose_column(header, rule)
        dated_columns = len(_DATE.findall(header))
        unit = _declared_unit(text, lines, i, tuple(rule.unit_title_words))
        keep = _size_columns(header, rule)
        j = i + 1
        while j < len(lines):
            line = text[lines[j][0] : lines[j][1]]
            if " ".join(line.lower().split()) == " ".join(header.split()) and rows:
                j += 1  # the header printed again over the rest of the table, on the next page
                continue
            sizes = _sizes(_cells(_COUNT.sub(lambda m: " " * len(m.group()), line), keep), unit, rule)
            if len(sizes) < 2:
                if rows and (line.strip() == "" or _CONTINUATION.fullmatch(line.strip())):
                    j += 1  # a gap, or a cell's wrapped words ("axillary line") under its row
                    continue
                if not rows and j == i + 1 and _CONTINUATION.fullmatch(line.strip()):
                    j += 1  # the header's own wrapped words ('(mm)' under '05/19/26 baseline')
                    continue
                break
            if max(sizes) <= rule.max_size_mm:
                # measured from the first dose when the table shows it (an earlier baseline is before the drug)
                before = sizes[first_dose] if first_dose and len(sizes) == dated_columns else sizes[0]
                rows.append((lines[j], before, sizes[-1]))
            j += 1
        if rows:
            tables.append(rows)
        i = max(j, i + 1)
    return tables


def mark_gone_table_lesions(
    findings: list[Finding], document: TextDocument, rule: MeasurementTableRule, tables: list[LesionRows] | None = None
) -> list[Finding]:
    """A lesion table's row naming a lesion that appeared ('New nodule above C1  -  4x4  not palpable') whose latest
    measure is 0 tells of a lesion come and gone: its progression is of then (cue: the row's last 'gone' cell)."""
    text = document.clean_text
    gone = _words(rule.resolved_words)
    spans = []
    for rows in lesion_tables(text, rule) if tables is None else tables:
        for (a, b), _before, after in rows:
            cells = list(gone.finditer(text, a, b))
            if after == 0.0 and cells:
                spans.append((a, b, cells[-1]))
    if not spans:
        return findings
    out = []
    for f in findings:
        if f.concept == "progression" and f.rule != rule.id and not f.qualifiers.historical:
            for a, b, cell in spans:
                if a <= f.start < b:
                    cue = Cue(qualifier="historical", text=cell.group(), start=cell.start(), end=cell.end(),
                              rule=f"{rule.id}.gone_now")
                    f = f.qualified(cue)
                    break
        out.append(f)
    return out


def mark_denied_table_rows(findings: list[Finding], document: TextDocument, rule: MeasurementTableRule) -> list[Finding]:
    """A table row that names new lesions and fills every visit's cell with a denial ('New lesions  -  none  none
    none') says there were none at any visit: its progression is negated, the row's last denial the cue. A row whose
    last cell counts some ('none  none  2') is left alone."""
    text = document.clean_text
    denial = _words(tuple(rule.none_words))
    out = []
    for f in findings:
        if f.concept == "progression" and f.rule != rule.id and not f.qualifiers.negated:
            line_end = text.find("\n", f.end)
            rest = text[f.end : len(text) if line_end == -1 else line_end]
            cells = [c for c in _CELL_GAP.split(rest.replace("|", "  ").strip()) if c]
            if cells and all(c in ("-", "\u2013") or denial.fullmatch(c) for c in cells) and any(
                denial.fullmatch(c) for c in cells
            ):
                last = list(denial.finditer(text, f.end, f.end + len(rest)))[-1]
                cue = Cue(qualifier="negated", text=last.group(), start=last.start(), end=last.end(),
                          rule=f"{rule.id}.denied_row")
                f = f.qualified(cue)
        out.append(f)
    return out


def _first_dose_column(header: str, rule: MeasurementTableRule) -> int:
    """The index, among a header's dated columns, of the one its words mark as the drug's first dose ('06/09/26
    (T-VEC #1)'); 0 when none is marked."""
    marker = _words(tuple(rule.first_dose_words)).search(header)
    if marker is None:
        return 0
    return max(0, sum(1 for m in _DATE.finditer(header) if m.start() < marker.start()) - 1)


def first_dose_date(document: TextDocument, rule: MeasurementTableRule) -> tuple[date, int, int] | None:
    """The date of the drug's first dose as a lesion table's header marks it, when an earlier baseline column comes
    before it (with the offsets of the marked date): what shrank before that date did not shrink on the drug."""
    text = document.clean_text
    marker = _words(tuple(rule.first_dose_words))
    for match in marker.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        dates = [m for m in _DATE.finditer(text, line_start, match.start())]
        if len(dates) >= 2:
            when = parse_date(dates[-1].group())
            if when is not None:
                return when, dates[-1].start(), dates[-1].end()
    return None


def mark_pre_treatment_response(
    findings: list[Finding], document: TextDocument, rule: MeasurementTableRule
) -> list[Finding]:
    """Responses measured before the drug's first dose are not responses to it: when a lesion table marks the first
    dose after an earlier baseline, a response told against 'baseline', or dated wholly before the first dose, is of
    then (cue: the first dose's date in the table header)."""
    start = first_dose_date(document, rule)
    if start is None:
        return findings
    when, a, b = start
    text = document.clean_text
    cue = Cue(qualifier="historical", text=text[a:b], start=a, end=b, rule=f"{rule.id}.before_first_dose")
    baseline = _words(tuple(rule.baseline_words))
    out = []
    for f in findings:
        if f.concept == "response" and not f.qualifiers.historical and f.rule != rule.id:
            sentence = text[f.sentence_start : f.sentence_end]
            dates = [d for d in (parse_date(m.group()) for m in _DATE.finditer(sentence)) if d is not None]
            if baseline.search(sentence) or (dates and all(d < when for d in dates)):
                f = f.qualified(cue)
        out.append(f)
    return out


def _measured(change: float, rule: MeasurementTableRule) -> str | None:
    """``response`` or ``progression`` when a summed change crosses the rule's thresholds (RECIST), else None."""
    if change <= rule.response_change:
        return "response"
    return "progression" if change >= rule.progression_change else None


_CELL_GAP = re.compile(r"\s{2,}|\t")


def _size_columns(header: str, rule: MeasurementTableRule) -> list[bool] | None:
    """For each column of the header (cells two spaces apart): may it hold sizes? A column whose header names another
    unit ('Inj today (mL)') and no date holds none. None when no column is excluded."""
    cells = _CELL_GAP.split(header.strip())
    other = _words(rule.other_units)
    # a dated column is a visit's measurements, whatever else its header says ('07/14/2026 (wk 14)')
    keep = [not other.search(cell.replace("(", " ").replace(")", " ")) or bool(_DATE.search(cell)) for cell in cells]
    return keep if not all(keep) else None


def _cells(row: str, keep: list[bool] | None) -> str:
    """The row with the cells of excluded columns blanked. Where the row and the header split into different numbers
    of cells (short header cells printed one space apart, 'Lesion Site'), the columns are matched from the right: the
    measured columns come after the lesion's label and site, whose words are what runs together."""
    if keep is None:
        return row
    indent = row[: len(row) - len(row.lstrip())]
    cells = _CELL_GAP.split(row.strip())
    shift = len(cells) - len(keep)
    return indent + "  ".join(cell if i - shift < 0 or keep[i - shift] else "" for i, cell in enumerate(cells))


def sum_findings(document: TextDocument, rule: MeasurementTableRule) -> list[Finding]:
    """A sum of lesion diameters followed over visits in a line of prose ('SLD 77 -> 48 -> 24 mm'): concept
    ``response`` or ``progression`` when its change from the first to the last figure crosses the rule's thresholds."""
    text = _ANY_DATE.sub(lambda m: " " * len(m.group()), document.clean_text)  # dates are no sizes; offsets kept
    findings: list[Finding] = []
    for match in _sum_chain(tuple(rule.sum_words)).finditer(text):
        chain = match.group("chain")
        numbers = [(float(m.group(1)), (m.group(2) or "").lower()) for m in _CHAIN_NUMBER.finditer(chain)]
        unit = next((u for _, u in reversed(numbers) if u), "mm")
        sizes = [n * (10.0 if (u or unit) == "cm" else 1.0) for n, u in numbers]
        if len(sizes) < 2 or not sizes[0] or max(sizes) > rule.max_size_mm * 10:
            continue
        change = (sizes[-1] - sizes[0]) / sizes[0]
        concept = _measured(change, rule)
        if concept is None or document.is_furniture(match.start(), match.end()):
            continue
        line_start = text.rfind("\n", 0, match.start()) + 1
        line_end = text.find("\n", match.end())
        line_end = len(text) if line_end == -1 else line_end
        line_start += len(text[line_start:line_end]) - len(text[line_start:line_end].lstrip())
        why = f"measured change {change:+.0%} in the sum of diameters"
        findings.append(_row_finding(document, concept, rule.id, line_start, line_end, why))
    return findings


# ---------------------------------------------------------------- one lesion's size change told in prose

_PROSE_SIZE = r"(\d+(?:\.\d+)?)(?:\s*[x×]\s*\d+(?:\.\d+)?){0,2}\s*(mm|cm)?(?![\w%])"
_PROSE_SIZE_UNIT = r"(\d+(?:\.\d+)?)(?:\s*[x×]\s*\d+(?:\.\d+)?){0,2}\s*(mm|cm)(?![\w%])"
_PROSE_FILLER = r"(?:an?\s+|only\s+|about\s+|approximately\s+|~\s*|measures?\s+|measuring\s+)*"
_PERCENT = r"(\d+(?:\.\d+)?)\s*%"
_ARROW = r"(?:-+>|→|=>)"  # then -> now


def _any(words: tuple[str, ...]) -> str:
    return "(?:" + "|".join(map(re.escape, words)) + ")" if words else "(?!)"


@lru_cache(maxsize=4)
def _prose_changes(
    earlier_words: tuple[str, ...], now_words: tuple[str, ...], then_words: tuple[str, ...]
) -> list[tuple[re.Pattern[str], tuple[int, int]]]:
    """(pattern, its groups of the size before and after): 'from 18 to 6 mm'; 'previously 1.5 cm ... now a 2 mm
    papule'; 'now 3.1 cm, previously 1.8 cm'. The words that tell then from now are the rule's."""
    earlier, now = _any(earlier_words), _any(now_words)
    return [
        (re.compile(rf"\bfrom\s+{_PROSE_SIZE}[^\n.;\d]{{0,25}}?\s+to\s+{_PROSE_FILLER}{_PROSE_SIZE_UNIT}", re.I),
         (1, 3)),
        (re.compile(rf"\b{earlier}\s+{_PROSE_FILLER}{_PROSE_SIZE_UNIT}[^\n.;]{{0,60}}?\b{now}\s+{_PROSE_FILLER}"
                    rf"{_PROSE_SIZE_UNIT}", re.I), (1, 3)),
        (re.compile(rf"\b{now}\s+{_PROSE_FILLER}{_PROSE_SIZE_UNIT}[^\n.;\d]{{0,40}}?\b{_any(then_words)}"
                    rf"\s+{_PROSE_FILLER}{_PROSE_SIZE}", re.I), (3, 1)),
        # an arrow from then to now: 'target lesion 14 x 12 mm -> 6 x 5 mm', 'dominant lesion 15 -> 22 mm'
        (re.compile(rf"(?<![\d.]){_PROSE_SIZE}[^\n.;\d]{{0,25}}?{_ARROW}\s*{_PROSE_FILLER}{_PROSE_SIZE_UNIT}", re.I),
         (1, 3)),
    ]


@lru_cache(maxsize=4)
def _percent_changes(
    decrease_words: tuple[str, ...], decrease_nouns: tuple[str, ...],
    increase_words: tuple[str, ...], increase_nouns: tuple[str, ...],
) -> list[tuple[re.Pattern[str], int]]:
    """(pattern, sign): 'decreased by 48%', '35% increase'; the words are the rule's."""
    return [
        (re.compile(rf"\b{_any(decrease_words)}\s+(?:by\s+)?{_PERCENT}", re.I), -1),
        (re.compile(rf"\b{_PERCENT}\s+{_any(decrease_nouns)}\b", re.I), -1),
        (re.compile(rf"\b{_any(increase_words)}\s+(?:by\s+)?{_PERCENT}", re.I), 1),
        (re.compile(rf"\b{_PERCENT}\s+{_any(increase_nouns)}\b", re.I), 1),
    ]


def _mm(number: str, unit: str | None, other_unit: str | None) -> float:
    return float(number) * (10.0 if (unit or other_unit or "mm").lower() == "cm" else 1.0)


def prose_size_findings(document: TextDocument, rule: MeasurementTableRule) -> list[Finding]:
    """A lesion's size change told in a sentence of prose ('the largest nodule measured 18 x 15 mm at baseline and is
    now 6 x 5 mm'; 'left inguinal node now 3.1 cm, previously 1.8 cm'; 'decreased by 48% from baseline'): concept
    ``response`` or ``progression`` when the change crosses the rule's thresholds, citing the line. A line must name a
    lesion or a sum of diameters (whose figures in a chain are ``sum_findings``'s: here only its share of change is
    read) and no excluded measure (a margin, a depth)."""
    text = _ANY_DATE.sub(lambda m: " " * len(m.group()), document.clean_text)
    lesion, excluded, sums = _words(rule.prose_lesion_words), _words(rule.prose_excluded_words), _words(rule.sum_words)
    findings: list[Finding] = []
    for a, b in _line_spans(text):
        line = text[a:b]
        summed = sums.search(line) is not None
        if not (summed or lesion.search(line)) or excluded.search(line) or document.is_furniture(a, b):
            continue
        changes: list[tuple[float, float, str]] = []
        for pattern, (i, j) in [] if summed else _prose_changes(
            rule.prose_earlier_words, rule.prose_now_words, rule.prose_then_words
        ):
            for m in pattern.finditer(line):
                before = _mm(m.group(i), m.group(i + 1), m.group(j + 1))
                after = _mm(m.group(j), m.group(j + 1), m.group(i + 1))
                if before and max(before, after) <= rule.max_size_mm:
                    changes.append(((after - before) / before, after - before, f"{before:g} mm -> {after:g} mm"))
        for pattern, sign in _percent_changes(
            rule.prose_decrease_words, rule.prose_decrease_nouns, rule.prose_increase_words, rule.prose_increase_nouns
        ):
            for m in pattern.finditer(line):
                share = sign * float(m.group(1)) / 100
                # a share of growth tells no millimetres: the rule's minimum growth is not asked of it
                changes.append((share, float("inf") if sign > 0 else 0.0, m.group().strip()))
        for change, grown, told in changes:
            concept = _measured(change, rule)
            if concept == "progression" and grown < rule.progression_min_mm:
                concept = None
            if concept:
                start = a + len(line) - len(line.lstrip())
                why = f"measured change {change:+.0%} of a lesion told in prose: {told}"
                findings.append(_row_finding(document, concept, f"{rule.id}.prose", start, b, why))
    return findings


_CHAIN_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(mm|cm)?", re.I)


@lru_cache(maxsize=4)
def _sum_chain(words: tuple[str, ...]) -> re.Pattern[str]:
    """A sum word, then within a few words figures joined by arrows or 'to' ('77 -> 48 -> 24 mm')."""
    number = r"\d+(?:\.\d+)?\s*(?:mm|cm)?"
    arrow = rf"[^\d\n;]{{0,40}}?(?:{_ARROW}|\bto\b)\s*"  # '96 mm at baseline (05/19/2026) -> 37 mm'; dates blanked
    names = "|".join(map(re.escape, words)) if words else "(?!)"
    return re.compile(
        rf"(?<!\w)(?:{names})(?!\w)[^\n\d;]{{0,40}}?(?P<chain>{number}(?:{arrow}{number})+)", re.I
    )


def _row_finding(document: TextDocument, concept: str, rule_id: str, start: int, end: int, why: str) -> Finding:
    end = start + len(document.text[start:end].rstrip())
    return Finding(
        concept=concept,
        rule=rule_id,
        document=document.name,
        start=start,
        end=end,
        matched_text=why,
        sentence_start=start,
        sentence_end=end,
        sentence=document.text[start:end],
        page=document.page_at(start, end),
        section=None,
        qualifiers=Qualifiers(),
        boxes=document.boxes(start, end),
    )


# ---------------------------------------------------------------- tables with a row per visit

# A visit row: it opens with the visit's date, perhaps with a note on it ('04/07/2026 (baseline, C1)').
_VISIT_ROW = re.compile(r"[ \t]*(\d{1,2}/\d{1,2}/\d{2,4})(?:\s*\([^)\n]{0,40}\))?")
_ROW_NOTE = re.compile(r"\([^()\n]{1,40}\)")  # a row's note wrapped under it: '(baseline, C1)'
_ROW_CELL_GAP = re.compile(r"\s*\|\s*|\s{2,}|\t")
_SIZE_CELL = re.compile(r"(\d+(?:\.\d+)?)\s*(?:[x×]\s*(\d+(?:\.\d+)?)\s*(?:[x×]\s*\d+(?:\.\d+)?\s*)?)?(mm|cm)?", re.I)
_LESION_LABEL = re.compile(r"(?<![\w/])(?:[a-z]{1,3}-?\d{1,2}|#\d{1,2})(?![\w/])", re.I)  # 'L1', 'ITM-2', 'T3'
_MISSING_CELL = re.compile(r"-+|—|–|n/?a|nm|not measured|", re.I)


@dataclass
class VisitTable:
    """A lesion table with a row per visit: where its header lies, and each row's span, date and cells."""

    header: tuple[int, int]
    rows: list[tuple[int, int, date, list[str]]]


def visit_tables(text: str, rule: MeasurementTableRule) -> list[VisitTable]:
    """The tables whose header's first cell names the visit ('Date | L1 | L2 | Sum') and whose rows open with dates."""
    if not rule.visit_header_words:
        return []
    header_word = re.compile(r"[ \t]*(?:" + "|".join(map(re.escape, rule.visit_header_words)) + r")\b", re.I)
    lines = _line_spans(text)
    tables: list[VisitTable] = []
    i = 0
    while i < len(lines):
        a, b = lines[i]
        if not header_word.match(text, a, b) or _VISIT_ROW.match(text, a, b):
            i += 1
            continue
        header_end = b
        j = i + 1
        rows: list[tuple[int, int, date, list[str]]] = []
        while j < len(lines):
            c, d = lines[j]
            line = text[c:d]
            row = _VISIT_ROW.match(line)
            when = parse_date(row.group(1)) if row else None
            if row and when is not None:
                cells = [cell.strip() for cell in _ROW_CELL_GAP.split(line[row.end() :].strip())]
                rows.append((c + len(line) - len(line.lstrip()), d, when, cells))
            elif not line.strip() or _CONTINUATION.fullmatch(line.strip()) or _ROW_NOTE.fullmatch(line.strip()):
                if not rows:
                    header_end = d  # the header's wrapped words ('calf  shin  (PFU/mL)')
                if j - i > 2 and not rows:
                    break
            else:
                break
            j += 1
        if len(rows) >= rule.min_rows:
            tables.append(VisitTable(header=(a, header_end), rows=rows))
            i = j
        else:
            i += 1
    return tables


def _cell_size(cell: str, rule: MeasurementTableRule) -> float | None:
    """A cell's longest diameter in mm ('12 x 10', '8', '1.2 cm'); 0 for a lesion gone ('not palpable'); None for
    anything else."""
    match = _SIZE_CELL.fullmatch(cell)
    if match:
        first, second, given = match.group(1), match.group(2), match.group(3)
        return max(float(first), float(second or 0)) * (10.0 if (given or "").lower() == "cm" else 1.0)
    if _words(rule.resolved_words).search(cell) and all(float(n) == 0 for n in re.findall(r"\d+(?:\.\d+)?", cell)):
        return 0.0  # 'not palpable', 'macular, 0'
    return None


def _visit_measure(table: VisitTable, header: str, rule: MeasurementTableRule) -> list[float | None] | None:
    """Each row's measure, the sum of its lesions (None where a lesion is not measured), or None when the table holds
    no lesion sizes. Rows are compared by position, so only rows of the most common width count."""
    if not (_words(rule.dated_header_words).search(header) or _LESION_LABEL.search(header) or _UNIT.search(header)):
        return None  # no lesion is named: laboratory values, doses
    widths = [len(cells) for *_, cells in table.rows]
    width = max(set(widths), key=widths.count)
    rows = [cells if len(cells) == width else None for *_, cells in table.rows]
    measured = [r for r in rows if r is not None]
    header = header.lower()
    columns = []
    for k in range(width):
        cells = [r[k] for r in measured]
        sizes = [_cell_size(cell, rule) for cell in cells]
        read = [s for s in sizes if s is not None]
        missing = sum(1 for cell in cells if _MISSING_CELL.fullmatch(cell))
        if not read or len(read) + missing < 0.6 * len(cells) or max(read) > rule.max_size_mm:
            continue  # words, initials, concentrations ('10^8'), or a misread
        if k == 0 and _words(rule.dose_column_words).search(header) and _counts_doses(table, rows, k, rule):
            continue  # the dose number
        if _words(rule.volume_column_words).search(header) and all("." in c for c in cells if _cell_size(c, rule)):
            continue  # the volume injected
        columns.append(k)
    if not columns:
        return None
    summed = False
    if len(columns) > 2 and _words(rule.sum_column_words).search(header):
        first = next(r for r in rows if r is not None)
        largest = max(columns, key=lambda k: _cell_size(first[k], rule) or 0.0)
        columns = [largest]  # the sum of the lesions, which is larger than any of them
        summed = True
    out: list[float | None] = []
    for (*_, all_cells), cells in zip(table.rows, rows):
        if cells is None:
            # a row whose cells ran together ('not palpable, 0 not palpable, 0'): its sum is still as far from its end
            k = columns[0] - width + len(all_cells)
            out.append(_cell_size(all_cells[k], rule) if summed and 0 <= k < len(all_cells) else None)
            continue
        values = [_cell_size(cells[k], rule) for k in columns]
        # a lesion not yet there at the first visit counts 0 then ('--'); one not measured later leaves the row out
        out.append(sum(v or 0.0 for v in values) if all(v is not None or _MISSING_CELL.fullmatch(cells[k])
                                                      for v, k in zip(values, columns)) else None)
    return out


def _counts_doses(table: VisitTable, rows: list[list[str] | None], k: int, rule: MeasurementTableRule) -> bool:
    """Does column k count doses: whole numbers that start at 1 or 2 at the earliest visit, or never fall?"""
    by_day = sorted((row[2], n, cells[k]) for n, (row, cells) in enumerate(zip(table.rows, rows)) if cells is not None)
    numbers = [int(c) for _, _, c in by_day if c.isdigit()]
    if not numbers:
        return False
    return (by_day[0][2].isdigit() and int(by_day[0][2]) <= 2) or numbers == sorted(numbers)


def visit_table_findings(
    document: TextDocument, rule: MeasurementTableRule, tables: list[VisitTable] | None = None
) -> list[Finding]:
    """For each table with a row per visit: ``response`` when the latest visit's sum is down from the earliest's by
    the rule's share, ``progression`` when it is up from the smallest sum by the rule's share and millimetres; the
    finding is drawn on the earliest and the latest rows."""
    text = document.clean_text
    findings: list[Finding] = []
    for table in visit_tables(text, rule) if tables is None else tables:
        measures = _visit_measure(table, text[table.header[0] : table.header[1]], rule)
        if measures is None:
            continue
        dated = sorted(
            ((row[2], k, m) for k, (row, m) in enumerate(zip(table.rows, measures)) if m is not None),
            key=lambda x: (x[0], x[1]),
        )
        if len(dated) < 2:
            continue
        (first_day, first_k, baseline), (last_day, last_k, current) = dated[0], dated[-1]
        nadir_day, nadir_k, nadir = min(dated[:-1], key=lambda x: x[2])
        grown = current - nadir
        if grown >= rule.progression_min_mm and (not nadir or grown / nadir >= rule.progression_change):
            concept, since = "progression", nadir_k
            why = f"sum of lesion sizes {nadir:g} mm at its smallest ({nadir_day:%m/%d/%Y})"
            change = f"{grown / nadir:+.0%}" if nadir else None
        elif baseline and (current - baseline) / baseline <= rule.response_change:
            concept, since = "response", first_k
            why = f"sum of lesion sizes {baseline:g} mm ({first_day:%m/%d/%Y})"
            change = f"{(current - baseline) / baseline:+.0%}"
        else:
            continue
        why = f"{why} -> {current:g} mm ({last_day:%m/%d/%Y})"
        why = f"measured change {change} across the visits: {why}" if change else why
        for k in sorted({since, first_k, last_k}):
            a, b, *_ = table.rows[k]
            findings.append(_row_finding(document, concept, rule.id, a, b, why))
    return findings


def in_visit_table_header(findings: list[Finding], tables: list[VisitTable]) -> list[Finding]:
    """A column name in a visit table's header ('New lesions') tells no progression or response: those findings go."""
    headers = [t.header for t in tables]
    if not headers:
        return findings
    told = {"progression", "response", "stable"}
    return [f for f in findings if not (f.concept in told and any(a <= f.start < b for a, b in headers))]
