"""Response read from lesion-measurement tables: baseline and current sizes of each lesion, compared as RECIST
compares sums of longest diameters. The thresholds and header words live in rules/measurement_tables.json."""

from __future__ import annotations

import re

from extractor.document import TextDocument
from extractor.rules_loader import MeasurementTableRule
from models import Finding, Qualifiers

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:[x×]\s*(\d+(?:\.\d+)?)\s*(?:[x×]\s*\d+(?:\.\d+)?\s*)?)?(mm|cm)?", re.I)
_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")


_UNIT = re.compile(r"\b(mm|cm)\b", re.I)
# A bare number that is not a date part, a label (B1), an exponent (10^8) or followed by another unit (0.1 mL, 4 mg).
_BARE = re.compile(r"(?<![\w./^-])\d+(?:\.\d+)?(?![\w./^%])(?!\s*(?:ml|cc|mg|mcg|g|pfu|units?|%|x\b|days?|weeks?|wks?|months?|mos?)\b)", re.I)


def _sizes(row: str, unit: str | None = None, resolved: tuple[str, ...] = ()) -> list[float]:
    """Longest diameter of each measurement in a row ('14 x 12', '8 mm', '1.2 cm'), in mm, in order; dates are
    skipped. Where the table declares its unit ('diameter in mm'), a bare number is a size in that unit and a resolved
    lesion ('flat', 'resolved') is 0."""
    row = _DATE.sub(" ", row)
    found: list[tuple[int, float]] = []
    for match in _SIZE.finditer(row):
        first, second, given = match.group(1), match.group(2), match.group(3)
        if second is None and given is None:
            continue  # a bare number (lesion label, count) is not a size, unless the table gives the unit
        scale = 10.0 if (given or "").lower() == "cm" else 1.0
        found.append((match.start(), max(float(first), float(second or 0)) * scale))
    if unit is not None:
        taken = {start for start, _ in found}
        scale = 10.0 if unit == "cm" else 1.0
        label_end = len(row) - len(row.lstrip())  # a bare number opening the row is its label ("2  L arm  14")
        for match in _BARE.finditer(row):
            if match.start() == label_end:
                continue
            if match.start() not in taken and not any(a <= match.start() < a + 12 for a in taken):
                found.append((match.start(), float(match.group()) * scale))
        lowered = row.lower()
        for word in resolved:
            found.extend((m.start(), 0.0) for m in re.finditer(r"(?<!\w)" + re.escape(word) + r"(?!\w)", lowered))
    return [size for _, size in sorted(found)]


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


def table_findings(document: TextDocument, rule: MeasurementTableRule) -> list[Finding]:
    """For each table whose header names a baseline column, one finding per measured row: concept ``response``
    (or ``progression``) when the table's summed change crosses the rule's thresholds."""
    text = document.clean_text
    lines: list[tuple[int, int]] = []
    start = 0
    for line in text.split("\n"):
        lines.append((start, start + len(line)))
        start += len(line) + 1
    findings: list[Finding] = []
    i = 0
    while i < len(lines):
        header = text[lines[i][0] : lines[i][1]].lower()
        if not any(word in header for word in rule.baseline_words) or _sizes(header):
            i += 1
            continue
        rows = []
        unit = _declared_unit(text, lines, i, tuple(rule.unit_title_words))
        j = i + 1
        while j < len(lines):
            sizes = _sizes(text[lines[j][0] : lines[j][1]], unit, tuple(rule.resolved_words))
            if len(sizes) < 2:
                if text[lines[j][0] : lines[j][1]].strip() == "" and rows:
                    j += 1
                    continue
                break
            rows.append((lines[j], sizes[0], sizes[-1]))
            j += 1
        if len(rows) >= rule.min_rows:
            baseline = sum(r[1] for r in rows)
            current = sum(r[2] for r in rows)
            change = (current - baseline) / baseline if baseline else 0.0
            concept = "response" if change <= rule.response_change else "progression" if change >= rule.progression_change else None
            if concept:
                for (a, b), before, after in rows:
                    if (after < before) == (concept == "response"):
                        a += len(text[a:b]) - len(text[a:b].lstrip())
                        findings.append(_row_finding(document, concept, rule.id, a, b, change))
        i = max(j, i + 1)
    return findings


def _row_finding(document: TextDocument, concept: str, rule_id: str, start: int, end: int, change: float) -> Finding:
    end = start + len(document.text[start:end].rstrip())
    return Finding(
        concept=concept,
        rule=rule_id,
        document=document.name,
        start=start,
        end=end,
        matched_text=f"measured change {change:+.0%} across the table",
        sentence_start=start,
        sentence_end=end,
        sentence=document.text[start:end],
        page=document.page_at(start, end),
        section=None,
        qualifiers=Qualifiers(),
        boxes=document.boxes(start, end),
    )
