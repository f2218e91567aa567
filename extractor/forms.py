"""Request forms: a prior-authorization request form is the requester's claim, not chart documentation.

A document whose opening names it a prior-authorization (or precertification) request form (titles in
rules/request_forms.json) says what the office wants the plan to find: "unresectable" ticked on a form, or typed
into its clinical-information box by a coordinator, is no physician's finding. Its findings are marked uncertain,
the form's title as the cue, so they are shown to the reviewer but never make a criterion met on their own.
"""

from __future__ import annotations

import re

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


def mark_request_form(findings: list[Finding], text: str, rule: RequestFormRule) -> list[Finding]:
    title = form_title(text, rule)
    if title is None:
        return findings
    cue = Cue(qualifier="uncertain", text=text[title[0] : title[1]], start=title[0], end=title[1], rule=rule.id)
    return [f if f.concept.startswith("section:") or f.qualifiers.uncertain else f.qualified(cue) for f in findings]
