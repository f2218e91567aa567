"""Response read from lesion-measurement tables: baseline and current sizes of each lesion, compared as RECIST
compares sums of longest diameters. The thresholds and header words live in rules/measurement_tables.json."""

from __future__ import annotations

import re
from functools import lru_cache

from extractor.document import TextDocument
from extractor.rules_loader import MeasurementTableRule
from models import Finding, Qualifiers

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:[x×]\s*(\d+(?:\.\d+)?)\s*(?:[x×]\s*\d+(?:\.\d+)?\s*)?)?(mm|cm)?", re.I)
_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")


_UNIT = re.compile(r"\b(mm|cm)\b", re.I)
# A bare number: not a date part, a label (B1) or an exponent (10^8).
_BARE = re.compile(r"(?<![\w./^-])\d+(?:\.\d+)?(?![\w./^%])")


def _sizes(row: str, unit: str | None = None, rule: MeasurementTableRule | None = None) -> list[float]:
    """Longest diameter of each measurement in a row ('14 x 12', '8 mm', '1.2 cm'), in mm, in order; dates are
    skipped. Where the table declares its unit ('diameter in mm'), a bare number is a size in that unit (unless
    another unit follows it: '0.1 mL') and a resolved lesion ('flat', 'resolved') is 0; both word lists are the rule's."""
    row = _DATE.sub(" ", row)
    found: list[tuple[int, float]] = []
    sized: list[tuple[int, int]] = []  # spans of the measurements read with their own unit or as 'a x b'
    for match in _SIZE.finditer(row):
        first, second, given = match.group(1), match.group(2), match.group(3)
        if second is None and given is None:
            continue  # a bare number (lesion label, count) is not a size, unless the table gives the unit
        scale = 10.0 if (given or "").lower() == "cm" else 1.0
        found.append((match.start(), max(float(first), float(second or 0)) * scale))
        sized.append(match.span())
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
            sizes = _sizes(text[lines[j][0] : lines[j][1]], unit, rule)
            if len(sizes) < 2:
                if text[lines[j][0] : lines[j][1]].strip() == "" and rows:
                    j += 1
                    continue
                break
            if max(sizes) <= rule.max_size_mm:
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
