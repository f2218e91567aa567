"""First-hand accounts: an operation told by those who did it or examined what it removed.

A dermatologist's 'primary never excised' and the operating surgeon's 'On 06/18/2025 I performed a wide local
excision' do not weigh the same: the surgeon's own account, an operative report's list of procedures, or a pathology
report's specimen of the excision settle that the operation took place. A mention of the operation in such a sentence
is also a mention of the first-hand concept, with the same words and qualifiers, so a negated or hypothetical one
('I did not perform ...') settles nothing. The sentence patterns live in rules/first_hand.json.
"""

from __future__ import annotations

import re

from extractor.rules_loader import FirstHandRule
from models import Finding


def first_hand_findings(findings: list[Finding], rule: FirstHandRule) -> list[Finding]:
    """The findings of ``rule.concept`` whose sentence tells the operation first hand, as ``rule.first_hand``."""
    patterns = [re.compile(p, re.IGNORECASE) for p in rule.sentences]
    operation = re.compile(rule.operations, re.IGNORECASE)
    melanoma = re.compile(rule.melanoma, re.IGNORECASE)
    not_melanoma = re.compile(rule.not_melanoma, re.IGNORECASE)
    return [
        f.model_copy(update={"concept": rule.first_hand})
        for f in findings
        if f.concept == rule.concept
        and any(p.search(f.sentence) for p in patterns)
        and (operation.search(f.matched_text) or melanoma.search(f.sentence))
        and not not_melanoma.search(f.sentence)
    ]
