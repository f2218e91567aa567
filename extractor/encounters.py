"""Encounters: an EHR printout that holds several dated visits in one document.

Each visit opens with a heading line naming the visit and its date (``Office Visit 07/21/2026``, ``Date of
service: 07/21/2026``; the patterns live in rules/encounters.json). When a document holds visits of more than one
date, what an earlier visit said is the past: its "resectable, excision booked" or its "decreased in size" does not
describe the lesions now. Findings inside an earlier visit are marked historical, with the visit's heading as the
cue, exactly as a copied-forward section is. A document with one visit date (a single note, or a banner repeating
its date of service) is left alone.
"""

from __future__ import annotations

import re
from datetime import date

from extractor.rules_loader import EncounterRule
from models import Cue, Finding

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def parse_date(text: str) -> date | None:
    """A visit date as printed: 07/21/2026, 07/21/26, 2026-07-21 or July 21, 2026."""
    text = text.strip().lower()
    try:
        if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})", text):
            year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
            return date(year, int(m[1]), int(m[2]))
        if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"([a-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})", text):
            if m[1] in MONTHS:
                return date(int(m[3]), MONTHS.index(m[1]) + 1, int(m[2]))
    except ValueError:
        return None
    return None


def earlier_visits(text: str, rule: EncounterRule) -> list[tuple[int, int, int, int]]:
    """(start, end, heading start, heading end) of every visit older than the document's latest visit date.
    A visit runs from its heading to the next heading of another date (a second heading of the same date, say a
    'Date of service' line under the visit title, stays in the same visit)."""
    headings: dict[int, tuple[int, date]] = {}
    for pattern in rule.patterns():
        for match in pattern.finditer(text):
            when = parse_date(match.group("date"))
            if when is not None and match.start() not in headings:
                headings[match.start()] = (match.end(), when)
    if len({when for _end, when in headings.values()}) < 2:
        return []
    ordered = sorted(headings.items())
    visits: list[list] = []  # [start, heading end, date]
    for start, (end, when) in ordered:
        if not visits or visits[-1][2] != when:
            visits.append([start, end, when])
    latest = max(when for _s, _e, when in visits)
    out = []
    for k, (start, heading_end, when) in enumerate(visits):
        stop = visits[k + 1][0] if k + 1 < len(visits) else len(text)
        if when < latest:
            out.append((start, stop, start, heading_end))
    return out


def mark_earlier_visits(findings: list[Finding], text: str, rule: EncounterRule) -> list[Finding]:
    """The findings, with those inside an earlier visit qualified as historical (cue: the visit's heading).
    Section findings are left as they are: an earlier visit's exam is still an office visit's exam."""
    visits = earlier_visits(text, rule)
    if not visits:
        return findings
    out = []
    for finding in findings:
        visit = next((v for v in visits if v[0] <= finding.start < v[1]), None)
        if visit is None or finding.concept.startswith("section:") or finding.qualifiers.historical:
            out.append(finding)
            continue
        heading = text[visit[2] : visit[3]]
        lead = len(heading) - len(heading.lstrip("# \n"))
        cue = Cue(qualifier="historical", text=heading.strip("# \n"), start=visit[2] + lead, end=visit[3], rule=rule.id)
        qualifiers = finding.qualifiers.model_copy(
            update={"historical": True, "cues": [*finding.qualifiers.cues, cue]}
        )
        out.append(finding.model_copy(update={"qualifiers": qualifiers}))
    return out
