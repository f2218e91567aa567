"""Request forms: a prior-authorization request form is the requester's claim, not chart documentation.

A document whose opening names it a prior-authorization (or precertification) request form (titles in
rules/request_forms.json) says what the office wants the plan to find: "unresectable" ticked on a form, or typed
into its clinical-information box by a coordinator, is no physician's finding. Its findings are marked uncertain,
the form's title as the cue, so they are shown to the reviewer but never make a criterion met on their own.
"""

from __future__ import annotations

import re

from extractor.document import TextDocument
from extractor.rules_loader import RequestFormRule
from models import Cue, Finding


def form_title(text: str, rule: RequestFormRule) -> tuple[int, int] | None:
    """Offsets of the request-form title if the document opens with one."""
    head = text[: rule.within]
    for title in rule.titles:
        match = re.search(title, head, re.IGNORECASE | re.MULTILINE)
        if match:
            return match.span()
    return None


def _page_starts(document: TextDocument) -> dict[int, int]:
    """The offset where each page's text begins."""
    starts: dict[int, int] = {}
    for page in range(1, len(document.pages) + 1):
        try:
            starts[page] = document.char_page.index(page)  # C speed: every document of two pages or more comes here
        except ValueError:
            continue  # a page without text
    return starts


def mark_request_form(findings: list[Finding], document: TextDocument, rule: RequestFormRule) -> list[Finding]:
    """A document that opens with a form's title is the form: every finding is the requester's claim. In a faxed
    packet (a cover sheet, then the form, then a letter and reports) a form's title opening a later page makes that
    page the form, and the rest of the packet stays chart documentation."""
    text = document.text
    title = form_title(text, rule)
    pages: set[int] | None = None  # None: the whole document
    if title is None:
        if len(document.pages) < 2:
            return findings
        starts = _page_starts(document)
        found = {page: (start + a, start + b) for page, start in starts.items() if page > 1
                 for a, b in [form_title(text[start : start + rule.within], rule) or (-1, -1)] if a >= 0}
        if not found:
            return findings
        title = min(found.values())
        pages = set(found)

    def on_form(f: Finding) -> bool:
        return pages is None or f.page in pages

    cue = Cue(qualifier="uncertain", text=text[title[0] : title[1]], start=title[0], end=title[1], rule=rule.id)
    return [
        f if f.concept.startswith("section:") or f.qualifiers.uncertain or not on_form(f) else f.qualified(cue)
        for f in findings
    ]
