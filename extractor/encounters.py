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
from datetime import date, timedelta

from extractor.rules_loader import EncounterRule, RevisedOpinion
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


def month_end(text: str) -> date | None:
    """The last day of a month printed without its day: 02/2024, Feb 2024 or February 2024."""
    text = text.strip().lower()
    if m := re.fullmatch(r"(\d{1,2})/(\d{4})", text):
        month, year = int(m[1]), int(m[2])
    elif (m := re.fullmatch(r"([a-z]{3})[a-z]*\.?\s+(\d{4})", text)) and m[1] in MONTHS:
        month, year = MONTHS.index(m[1]) + 1, int(m[2])
    else:
        return None
    if not 1 <= month <= 12:
        return None
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def _headings(text: str, rule: EncounterRule, printed: bool = False) -> dict[int, tuple[int, date]]:
    """Visit headings by start offset: (end offset, visit date); with ``printed``, also the dates a printout prints on
    every page."""
    headings: dict[int, tuple[int, date]] = {}
    for pattern in rule.patterns(printed):
        for match in pattern.finditer(text):
            when = parse_date(match.group("date"))
            if when is not None and match.start() not in headings:
                headings[match.start()] = (match.end(), when)
    return headings


def latest_visit(text: str, rule: EncounterRule, printed: bool = False) -> tuple[date, int, int] | None:
    """The document's latest visit date with its heading's offsets, if it has a dated visit heading."""
    headings = _headings(text, rule, printed)
    if not headings:
        return None
    start, (end, when) = max(headings.items(), key=lambda item: (item[1][1], -item[0]))
    return when, start, end


def earlier_visits(text: str, rule: EncounterRule) -> list[tuple[int, int, int, int]]:
    """(start, end, heading start, heading end) of every visit ``earlier_visit_days`` or more older than the
    document's latest visit date (a letter dated the day after the visit it reports is that visit). A visit runs
    from its heading to the next heading of another date (a second heading of the same date, say a 'Date of service'
    line under the visit title, stays in the same visit)."""
    headings = _headings(text, rule)
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
        if (latest - when).days >= max(1, rule.earlier_visit_days):
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
        else:
            out.append(finding.qualified(_heading_cue(text, visit[2], visit[3], rule.id)))
    return out


def document_visit(text: str, rule: EncounterRule, printed: str | None = None) -> tuple[date, int, int, str] | None:
    """The document's visit date, its heading's offsets and the text they index: from the note's own lines, or else
    from what is printed on every page (a printout whose banner alone carries 'DOS 05/06/2026')."""
    for source, banner in ((text, False), (printed, True)):
        visit = latest_visit(source, rule, banner) if source else None
        if visit is not None:
            return (*visit, source)
    return None


def _heading_cue(text: str, start: int, end: int, rule_id: str) -> Cue:
    heading = text[start:end]
    lead = len(heading) - len(heading.lstrip("# \n"))
    return Cue(qualifier="historical", text=heading.strip("# \n"), start=start + lead, end=end, rule=rule_id)


def mark_stale_documents(
    findings_per_document: list[list[Finding]],
    texts: list[str],
    rule: EncounterRule,
    printed: list[str] | None = None,
) -> list[list[Finding]]:
    """Findings of a document whose latest visit is more than ``stale_after_days`` older than the newest submitted
    document's are historical (cue: its dated heading, or its banner's date): a 2024 consult's "surgery is being
    scheduled" does not describe the lesions of 2026. Documents without a visit date are left alone."""
    dated = [document_visit(text, rule, p) for text, p in zip(texts, printed or [None] * len(texts))]
    known = [visit[0] for visit in dated if visit is not None]
    if len(known) < 2:
        return findings_per_document
    newest = max(known)
    out = []
    for findings, visit in zip(findings_per_document, dated):
        if visit is None or (newest - visit[0]).days <= rule.stale_after_days:
            out.append(findings)
            continue
        cue = _heading_cue(visit[3], visit[1], visit[2], rule.id)
        out.append(
            [f if f.concept.startswith("section:") or f.qualifiers.historical else f.qualified(cue) for f in findings]
        )
    return out


def _current(finding: Finding, concept: str) -> bool:
    """A mention of the concept affirmed now: no qualifier at all."""
    return finding.concept == concept and not finding.qualifiers.active()


def _doubted_now(finding: Finding) -> bool:
    """A mention put as an open question now: uncertain, and neither negated, family, hypothetical nor of the past."""
    q = finding.qualifiers
    return q.uncertain and not (q.negated or q.family or q.hypothetical or q.historical)


def _recounted(finding: Finding, opinion: RevisedOpinion, plan_rules: frozenset[str] = frozenset()) -> bool:
    """Does the finding recount the old opinion as a past or doubted view (with one of the opinion's cue rules, when
    it names any)? A plan not taken up ('does not want to proceed with a dissection') is a choice, not a view of the
    opinion: a denied plan recounts nothing."""
    q = finding.qualifiers
    if finding.concept != opinion.old or q.family or q.hypothetical:
        return False
    if opinion.recount_cues:
        return any(c.rule.startswith(tuple(opinion.recount_cues)) for c in q.cues)
    return q.historical or q.uncertain or (q.negated and finding.rule not in plan_rules)


def mark_revised_opinions(
    findings_per_document: list[list[Finding]],
    texts: list[str],
    rule: EncounterRule,
    printed: list[str] | None = None,
) -> list[list[Finding]]:
    """An opinion a later note revises no longer stands. A dated note revises opinion A when it states the opposite B
    now and A nowhere as current, and either recounts A as a past or doubted view ("initially felt the disease was not
    resectable"; "the outside diagnosis of melanoma is revised"), which revises notes of its date or earlier, or, for
    opinions without required recount cues, is ``revision_after_days`` (the opinion's own ``after_days``, when it
    has one: then only the time between the notes counts; ``letter_revision_after_days`` when the note stating A is a
    letter of medical necessity) or more newer than the note stating A, or names a verdict of ``settled_by`` ('the
    August enlargement was pseudoprogression'), which settles notes of its date or earlier. A revised
    note's A takes the opinion's qualifier (cue: its dated heading, or its banner's date). Undated notes are left
    alone."""
    dated = [document_visit(text, rule, p) for text, p in zip(texts, printed or [None] * len(texts))]
    letters = [is_necessity_letter(text, rule) for text in texts]
    out = [list(findings) for findings in findings_per_document]
    for opinion in rule.revised_opinions:
        if not opinion.across_notes:
            continue
        old, new = opinion.old, opinion.new
        settles = re.compile("|".join(opinion.settled_by), re.IGNORECASE) if opinion.settled_by else None
        revisers = []
        for findings, visit, text in zip(findings_per_document, dated, texts):
            if visit is None or not any(_current(f, new) for f in findings):
                continue
            settled = settles is not None and settles.search(text) is not None
            # a settling note may still recount the old opinion as another's, dated before it ('Dr. M's letter of
            # 10/08 describes the recurrence as not amenable to resection'): that is no opinion of its own
            if any(
                _current(f, old) and not (settled and _dated_before(f, text, rule, visit[0], 1))
                for f in findings
            ):
                continue
            revisers.append(
                (visit[0], any(_recounted(f, opinion, frozenset(rule.past_plan_rules)) for f in findings), settled)
            )
        for k, visit in enumerate(dated):
            if visit is None or not any(
                when >= visit[0]
                if settled or (recounts and opinion.after_days is None)
                else not opinion.recount_cues
                and (when - visit[0]).days
                >= (rule.letter_revision_after_days if letters[k] else opinion.after_days or rule.revision_after_days)
                for when, recounts, settled in revisers
            ):
                continue
            heading = _heading_cue(visit[3], visit[1], visit[2], f"{rule.id}.revised")
            cue = heading.model_copy(update={"qualifier": opinion.qualifier})
            out[k] = [f.qualified(cue) if _current(f, old) else f for f in out[k]]
    return out


def mark_overtaken_denials(
    findings_per_document: list[list[Finding]],
    texts: list[str],
    names: list[str],
    rule: EncounterRule,
    printed: list[str] | None = None,
) -> list[list[Finding]]:
    """A note's denial that something had happened ('No prior surgery on the leg', in the consult of 03/10/2026)
    says nothing against its happening later: when a sentence of the case affirms the event and dates it, every date
    it writes, after the denying note's visit ('03/24/2026 wide local excision left thigh'), the denial takes the
    rule's qualifier, that date (in its document) the cue. An undated event, an event told in the denying note
    itself, or a denying note without a visit date, overtakes nothing."""
    if not rule.overtaken_denials:
        return findings_per_document
    dated = [document_visit(text, rule, p) for text, p in zip(texts, printed or [None] * len(texts))]
    dates = re.compile(rule.date, re.IGNORECASE)
    out = [list(findings) for findings in findings_per_document]
    for spec in rule.overtaken_denials:
        events: list[tuple[date, int, Cue]] = []
        for j, (findings, text, name) in enumerate(zip(findings_per_document, texts, names)):
            for f in findings:
                q = f.qualifiers
                if f.concept != spec.event or q.negated or q.family or q.hypothetical or q.uncertain:
                    continue
                found = _sentence_dates(f, text, dates)
                if found:
                    match, when = min(found, key=lambda pair: pair[1])
                    start = f.sentence_start + match.start()
                    events.append((when, j, Cue(qualifier=spec.qualifier, text=match.group(), start=start,
                                             end=start + len(match.group()), rule=f"{rule.id}.overtaken",
                                             document=name)))
        events.sort(key=lambda event: event[0])
        for k, visit in enumerate(dated):
            later = [cue for when, j, cue in events if visit is not None and j != k and when > visit[0]]
            if later:
                out[k] = [
                    f.qualified(later[0]) if f.concept == spec.denial and not f.qualifiers.negated else f
                    for f in out[k]
                ]
    return out


def _sentence_dates(finding: Finding, text: str, dates: re.Pattern[str]) -> list[tuple[re.Match[str], date]]:
    """The dates written in the finding's sentence, with their matches (offsets within the sentence)."""
    sentence = text[finding.sentence_start : finding.sentence_end]
    found = [(m, parse_date(m.group())) for m in dates.finditer(sentence)]
    return [(m, when) for m, when in found if when is not None]


def _date_cue(finding: Finding, match: re.Match[str], rule_id: str) -> Cue:
    """A historical cue on a date of the finding's sentence."""
    start = finding.sentence_start + match.start()
    return Cue(qualifier="historical", text=match.group(), start=start, end=start + len(match.group()), rule=rule_id)


def mark_past_plans(
    findings: list[Finding], text: str, rule: EncounterRule, printed: str | None = None
) -> list[Finding]:
    """A planned operation whose sentence dates it wholly before the note's visit (its own dated heading, or else the
    date its banner prints on every page) is a plan of then: historical, its first date the cue."""
    visit = document_visit(text, rule, printed)
    if visit is None or not rule.past_plan_rules:
        return findings
    dates = re.compile(rule.date, re.IGNORECASE)
    out = []
    for f in findings:
        if f.rule in rule.past_plan_rules and not f.qualifiers.historical:
            found = _sentence_dates(f, text, dates)
            if found and all(when < visit[0] for _m, when in found):
                f = f.qualified(_date_cue(f, found[0][0], f"{rule.id}.past_plan"))
        out.append(f)
    return out


# A quotation long enough to hold an opinion ('My consult note of 03/11/2024 read, in part: "... The primary lesion is
# resectable ..."', or just 'described the lesion as "readily resectable"'), opened and closed by the quote marks in
# turn.
_QUOTE_MARK = re.compile(r"[\"“”]")
QUOTED_MIN_CHARS = 12
QUOTED_MAX_CHARS = 2000
QUOTE_INTRO_CHARS = 200  # how far before the quotation its introduction ('Letter of Dr. Lee, 04/09/2026:') may start


def quoted_spans(text: str) -> list[tuple[int, int]]:
    marks = [m.start() for m in _QUOTE_MARK.finditer(text)]
    return [
        (a, b) for a, b in zip(marks[0::2], marks[1::2]) if QUOTED_MIN_CHARS <= b - a <= QUOTED_MAX_CHARS
    ]


def mark_quoted_opinions(
    findings: list[Finding], text: str, rule: EncounterRule, printed_text: str | None = None
) -> list[Finding]:
    """An opinion a note quotes from an older one ('Dr. Strzelecki's letter of 04/09/2026: "... not amenable to
    surgical resection ..."') is what was thought then, when the note, in its own words, states the opposite now. A
    quotation is older when the words introducing it date it ``revision_after_days`` or more before the note's visit
    (a colleague's e-consult of two days ago is a current opinion); the visit's date may come from the printout's
    banner (``printed_text``: the document's text with its furniture). The quoted opinion takes the opinion's qualifier;
    the opening quote mark is its cue."""
    # the visit's date, from the note's own lines or else from its banner ('DOS 10/28/2026' on every page)
    visit = document_visit(text, rule, printed_text)
    if visit is None:
        return findings
    dates = re.compile(rule.date, re.IGNORECASE)
    months = re.compile(rf"(?<![\d/])(?:{rule.month_date})(?![\d/])", re.IGNORECASE) if rule.month_date else None

    named_months = re.compile(rule.month_reference, re.IGNORECASE) if rule.month_reference else None

    def old_quote(a: int) -> bool:
        """Does the text introducing the quotation date it ``revision_after_days`` or more before the visit? A month
        without its day ('Note from derm 02/2024') counts from the month's last day; a month named in the
        introduction ('began in May 2025. Her dermatologist's note from that visit described it as "..."') from
        its middle."""
        before = text[max(0, a - QUOTE_INTRO_CHARS) : a]
        found = [parse_date(m.group()) for m in dates.finditer(before)]
        if months is not None:
            found += [month_end(m.group()) for m in months.finditer(before)]
        if named_months is not None:
            found += [_month_date(m, visit[0], rule) for m in named_months.finditer(before)]
        return any(when is not None and (visit[0] - when).days >= rule.revision_after_days for when in found)

    spans = [(a, b) for a, b in quoted_spans(text) if old_quote(a)]
    if not spans:
        return findings

    def quote_of(f: Finding) -> tuple[int, int] | None:
        return next(((a, b) for a, b in spans if a < f.start and f.end <= b), None)

    out = list(findings)
    for opinion in rule.revised_opinions:
        if not opinion.across_notes or opinion.recount_cues:
            continue
        if not any(_current(f, opinion.new) and quote_of(f) is None for f in out):
            continue
        for k, f in enumerate(out):
            span = quote_of(f) if _current(f, opinion.old) else None
            if span is not None:
                cue = Cue(qualifier=opinion.qualifier, text=text[span[0]], start=span[0], end=span[0] + 1,
                          rule=f"{rule.id}.quoted")
                out[k] = f.qualified(cue)
    return out


def _month_date(match: re.Match[str], visit: date, rule: EncounterRule) -> date | None:
    """The 15th of the month a month reference names; without a year, the last such month on or before the visit,
    unless it is one of the ``month_ahead_window`` months after the visit's and written after a lead word of
    ``month_ahead_leads`` ('has offered her surgery in December', in a note of November): then the coming one."""
    if match.group("mm"):
        month, year = int(match.group("mm")), int(match.group("yyyy"))
    else:
        month = MONTHS.index(match.group("month").lower()[:3]) + 1
        year = int(match.group("year")) if match.group("year") else visit.year - (month > visit.month)
        lead = re.match(r"[a-z-]+", match.group().lower())
        ahead = (month - visit.month) % 12
        if (
            not match.group("year") and 0 < ahead <= rule.month_ahead_window
            and lead is not None and lead.group() in rule.month_ahead_leads
        ):
            year = visit.year + (month < visit.month)
    return date(year, month, 15) if 1 <= month <= 12 else None


def mark_old_dated_statements(
    findings: list[Finding],
    text: str,
    rule: EncounterRule,
    current_elsewhere: frozenset[str] = frozenset(),
    printed: str | None = None,
) -> list[Finding]:
    """An opinion in a sentence whose every date lies ``dated_statement_days`` or more before the note's visit is
    what was thought then, when the note (or, given ``current_elsewhere``, another document of the case) states the
    opposite opinion now ("Dr. Lee saw him on 07/14/2026 and scheduled excision", and the note of 10/26/2026 calls the
    disease unresectable). Without a newer opposite opinion an old dated one stands: a tumor board's "unresectable"
    two months ago is still the opinion of record. A sentence saying the opinion still holds (``still_words``: 'remains
    unresectable') is current whatever it recounts. A state of ``past_when_dated`` (a pregnancy, an immunosuppressed
    spell) in such a sentence is of then, opposite or not. The note's visit is its own dated heading's, or else the
    date its banner prints on every page (``printed``)."""
    visit = document_visit(text, rule, printed)
    concepts = set(rule.dated_statement_concepts) | set(rule.past_when_dated)
    if visit is None or not concepts:
        return findings
    dates = re.compile(rule.date, re.IGNORECASE)
    months = re.compile(rule.month_reference, re.IGNORECASE)
    still = (
        re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, rule.still_words)) + r")(?!\w)", re.IGNORECASE)
        if rule.still_words
        else None
    )
    old: dict[int, Cue] = {}
    for k, finding in enumerate(findings):
        if finding.concept not in concepts or finding.qualifiers.historical:
            continue
        sentence = text[finding.sentence_start : finding.sentence_end]  # furniture (a DOB banner) blanked
        if still is not None and still.search(sentence):
            continue  # 'the disease remains unresectable; the 02/2026 recommendation was superseded'
        found = _sentence_dates(finding, text, dates)
        found += [(m, when) for m in months.finditer(sentence) if (when := _month_date(m, visit[0], rule)) is not None]
        if found and all((visit[0] - when).days >= rule.dated_statement_days for _m, when in found):
            old[k] = _date_cue(finding, found[0][0], f"{rule.id}.dated_statement")
    opposites: dict[str, set[str]] = {}
    for o in rule.revised_opinions:
        if not o.recount_cues:
            opposites.setdefault(o.old, set()).add(o.new)
    # the opposite stated now, or put now as an open question ('whether they could now be excised is a fair
    # question'): either way the old dated opinion is no longer the opinion of record
    current_now = current_elsewhere | {
        f.concept for k, f in enumerate(findings) if k not in old and (_current(f, f.concept) or _doubted_now(f))
    }
    return [
        f.qualified(old[k])
        if k in old and (f.concept in rule.past_when_dated or opposites.get(f.concept, set()) & current_now)
        else f
        for k, f in enumerate(findings)
    ]


def mark_old_dated_statements_across(
    findings_per_document: list[list[Finding]],
    texts: list[str],
    rule: EncounterRule,
    printed: list[str] | None = None,
) -> list[list[Finding]]:
    """Each document's old dated statements, set against what the case's other documents state now (a clinic note's
    "partial response on 06/2025 CT" is past when this month's restaging CT finds progression). Only for opinions of a
    lesion's course (``after_days`` set, or ``across_notes`` false): resectability has ``mark_revised_opinions``,
    with its six-week rule."""
    opposites = {o.new for o in rule.revised_opinions if o.after_days is not None or not o.across_notes}
    current = [
        {f.concept for f in findings if f.concept in opposites and _current(f, f.concept)}
        for findings in findings_per_document
    ]
    return [
        mark_old_dated_statements(
            findings, text, rule, frozenset().union(*(c for j, c in enumerate(current) if j != k)), page_text
        )
        for k, (findings, text, page_text) in enumerate(
            zip(findings_per_document, texts, printed or [None] * len(texts))
        )
    ]


def _dated_before(finding: Finding, text: str, rule: EncounterRule, visit: date, days: int | None = None) -> bool:
    """Is every date the finding's sentence writes (a full date, a month, or a bare year) ``days`` (by default
    ``dated_statement_days``) or more before the visit, and is there at least one?"""
    sentence = text[finding.sentence_start : finding.sentence_end]
    found = [when for _m, when in _sentence_dates(finding, text, re.compile(rule.date, re.IGNORECASE))]
    months = re.compile(rule.month_reference, re.IGNORECASE)
    found += [when for m in months.finditer(sentence) if (when := _month_date(m, visit, rule)) is not None]
    spans = [m.span() for m in re.finditer(rule.date + "|" + rule.month_date, sentence, re.IGNORECASE)]
    found += [
        date(int(y.group()), 12, 31)
        for y in re.finditer(r"(?<![\w/-])(?:19|20)\d{2}(?![\w/-])", sentence)
        if not any(a <= y.start() < b for a, b in spans)
    ]
    leads = "|".join(map(re.escape, rule.short_date_lead_words))
    short_date = rf"\b(?:{leads})\s+(\d{{1,2}})/(\d{{1,2}})(?![\d/])"
    for m in re.finditer(short_date, sentence, re.IGNORECASE) if leads else ():
        month, day = int(m.group(1)), int(m.group(2))  # 'her letter of 10/08': the last such day by the visit
        if 1 <= month <= 12 and 1 <= day <= 31:
            try:
                when = date(visit.year, month, day)
                found.append(when if when <= visit else date(visit.year - 1, month, day))
            except ValueError:
                continue
    least = rule.dated_statement_days if days is None else days
    return bool(found) and all((visit - when).days >= least for when in found)


def _denies_only_others(finding: Finding, text: str, rule: EncounterRule) -> bool:
    """Does the denial leave some lesions standing ('no other ...', 'no new ...', 'no further ...')?"""
    cue = next((c for c in finding.qualifiers.cues if c.qualifier == "negated"), None)
    if cue is None or cue.end > finding.start:
        return True
    others = re.compile(r"\b(?:" + "|".join(map(re.escape, rule.denied_others_words)) + r")\b", re.IGNORECASE)
    return bool(rule.denied_others_words) and others.search(text, cue.start, finding.end) is not None


def mark_history_denied_now(
    findings: list[Finding], text: str, rule: EncounterRule, printed: str | None = None
) -> list[Finding]:
    """Lesions a history section lists ('06/2026 new 1.2 cm subcutaneous nodule L upper arm'), or a sentence dates
    wholly in the past ('in 07/2025 she developed six in-transit nodules'; 'in-transit recurrence 2025'), are lesions
    of then when the rest of the note denies such lesions now and affirms none: they take the historical qualifier,
    the denial its cue."""
    visit = document_visit(text, rule, printed)
    out = list(findings)
    for concept in rule.denied_now_concepts:
        # a general denial ('no cutaneous, subcutaneous or nodal disease') dates the note's dated lesions too; a
        # denial of one site ('no cervical adenopathy') only the history section's
        generals = [
            f for f in findings if f.concept == concept and f.rule in rule.denied_now_rules
            and f.qualifiers.negated and not f.qualifiers.historical and f.section not in rule.history_sections
        ]
        # 'two nodules remain; no other subcutaneous lesions' denies only the others: it dates nothing
        denials = [f for f in generals if not _denies_only_others(f, text, rule)]
        general = denials[0] if denials else None
        denying = {f.sentence_start for f in denials}
        # ... and a site its own sentence denies lesions at ('macules at the former in-transit sites; no palpable
        # dermal or subcutaneous nodules anywhere') is a site of then
        then = [
            f.section in rule.history_sections
            or f.sentence_start in denying
            or (general is not None and visit is not None and _dated_before(f, text, rule, visit[0]))
            for f in findings
        ]
        rest = [f for f, past in zip(findings, then) if f.concept == concept and not past]
        denial = general or next((f for f in rest if f.qualifiers.negated and not f.qualifiers.historical), None)
        if denial is None or any(_current(f, concept) for f in rest):
            continue
        negation = next(c for c in denial.qualifiers.cues if c.qualifier == "negated")
        cue = negation.model_copy(update={"qualifier": "historical", "rule": f"{rule.id}.denied_now"})
        out = [f.qualified(cue) if past and _current(f, concept) else f for f, past in zip(out, then)]
    return out


def _necessity_letter_match(text: str, rule: EncounterRule) -> re.Match[str] | None:
    """The title or salutation that makes the document a letter of medical necessity, if it is one."""
    for pattern in rule.necessity_letter:
        match = re.search(pattern, text, re.IGNORECASE | re.MULTILINE)
        if match is not None:
            return match
    return None


def is_necessity_letter(text: str, rule: EncounterRule) -> bool:
    return _necessity_letter_match(text, rule) is not None


def mark_necessity_letter_exams(findings: list[Finding], text: str, rule: EncounterRule) -> list[Finding]:
    """A letter of medical necessity ('To whom it may concern: ... On examination at her visit on 10/19/2026 ...')
    recounts an exam of a visit whose note it stands in for: its exam is historical, the letter's title or
    salutation the cue. A consult letter to the referring physician is a visit note and is left alone."""
    match = _necessity_letter_match(text, rule)
    if match is None:
        return findings
    lead = len(match.group()) - len(match.group().lstrip("\t >#"))  # the heading marks before the words
    words = match.group()[lead:].rstrip()
    start = match.start() + lead
    cue = Cue(qualifier="historical", text=words, start=start, end=start + len(words),
              rule=f"{rule.id}.necessity_letter")
    return [f.qualified(cue) if f.concept == "section:physical_exam" else f for f in findings]


def mark_addendum_revisions(findings: list[Finding], text: str, rule: EncounterRule) -> list[Finding]:
    """A note's addendum (``addendum_headings``) that corrects the note (``addendum_correction_words``) is its
    author's later word: when it states one side of an opinion now and not the other ('The correct impression is a
    partial response to T-VEC, not a mixed response'), what the body above it states now of the other side ('L2 has
    enlarged ... a mixed response') is superseded. Those mentions take the opinion's qualifier, the addendum's
    heading the cue."""
    if not rule.addendum_headings:
        return findings
    heading = re.search("|".join(rule.addendum_headings), text, re.IGNORECASE | re.MULTILINE)
    if heading is None:
        return findings
    corrects = re.compile(
        r"(?<!\w)(?:" + "|".join(map(re.escape, rule.addendum_correction_words)) + r")(?!\w)", re.IGNORECASE
    )
    if not rule.addendum_correction_words or corrects.search(text, heading.end()) is None:
        return findings  # an addendum that adds a result or a colleague's view corrects nothing above it
    out = list(findings)
    cue_of = {
        o.qualifier: Cue(qualifier=o.qualifier, text=heading.group().strip(), start=heading.start(), end=heading.end(),
                         rule=f"{rule.id}.addendum")
        for o in rule.revised_opinions
    }
    for opinion in rule.revised_opinions:
        if opinion.recount_cues:
            continue
        later = [f for f in out if f.start >= heading.end()]
        if not any(_current(f, opinion.new) for f in later) or any(_current(f, opinion.old) for f in later):
            continue
        out = [
            f.qualified(cue_of[opinion.qualifier]) if f.start < heading.start() and _current(f, opinion.old) else f
            for f in out
        ]
    return out


def mark_settled_in_assessment(findings: list[Finding], rule: EncounterRule) -> list[Finding]:
    """A note's assessment is its author's conclusion: when the last opinion its assessment states now is a
    ``within_note`` opinion's new side, told as calling a plan off (``cancel_words``: 'not a surgical candidate, and
    I have cancelled the OR date'), the plans of the old side (``past_plan_rules``) stated now elsewhere in the
    note (the visit's reason, 'pre-op for scheduled re-excision') or earlier in its assessment (a plan copied forward
    above today's 'I have cancelled the operation') are plans the author has since given up. Those mentions take the
    opinion's qualifier, the assessment's last word the cue. Another clinician's view the note restates ('she
    considers this resectable') is no plan: it stands, and the opinions conflict."""
    out = list(findings)
    assessed = set(rule.assessment_sections)
    for opinion in rule.revised_opinions:
        if not opinion.within_note:
            continue
        stated = [f for f in out if f.section in assessed and (_current(f, opinion.new) or _current(f, opinion.old))]
        if not stated:
            continue
        last = max(stated, key=lambda f: f.start)
        if last.concept != opinion.new or not any(w in last.sentence.lower() for w in rule.cancel_words):
            continue
        cue = Cue(qualifier=opinion.qualifier, text=last.matched_text, start=last.start, end=last.end,
                  rule=f"{rule.id}.settled_in_assessment")
        plans = frozenset(rule.past_plan_rules)
        out = [
            f.qualified(cue)
            if _current(f, opinion.old) and f.rule in plans and (f.section not in assessed or f.start < last.start)
            else f
            for f in out
        ]
    return out

