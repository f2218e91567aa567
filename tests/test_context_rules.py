"""ConText qualifiers on melanoma chart-note sentences, written as marked-up text (edsnlp style).

``<ent negated family>text</ent>`` marks a span and the qualifiers every finding inside it must carry, no more and no
fewer; ``<ent>text</ent>`` means affirmed, current, about the patient. The full review pipeline runs on the plain text.
"""

from __future__ import annotations

import re

import pytest

from extractor.document import plain_text_document
from extractor.rules_loader import QUALIFIERS

_MARK = re.compile(r"<ent((?:\s+\w+)*)\s*>(.*?)</ent>", re.DOTALL)


def parse_markup(marked: str) -> tuple[str, list[tuple[int, int, frozenset[str]]]]:
    """Plain text and, for each marked span, (start, end, expected qualifiers)."""
    text, spans, last = [], [], 0
    length = 0
    for match in _MARK.finditer(marked):
        before = marked[last : match.start()]
        text.append(before)
        length += len(before)
        qualifiers = frozenset(match.group(1).split())
        unknown = qualifiers - set(QUALIFIERS)
        assert not unknown, f"unknown qualifier in markup: {sorted(unknown)}"
        spans.append((length, length + len(match.group(2)), qualifiers))
        text.append(match.group(2))
        length += len(match.group(2))
        last = match.end()
    text.append(marked[last:])
    return "".join(text), spans


def test_parse_markup():
    text, spans = parse_markup("No evidence of <ent negated>recurrence</ent>; <ent>melanoma</ent>.")
    assert text == "No evidence of recurrence; melanoma."
    assert spans == [(15, 25, frozenset({"negated"})), (27, 35, frozenset())]


EXAMPLES = [
    # negation
    "No evidence of <ent negated>recurrence</ent>.",
    "Sentinel lymph node biopsy negative for <ent negated>melanoma</ent>.",
    "Re-excision specimen: no residual <ent negated>melanoma</ent>.",
    "Denies <ent negated>lymphadenopathy</ent>.",
    "ROS: no fevers, chills, night sweats, or <ent negated>lymphadenopathy</ent>.",
    "Denies fevers, chills, weight loss, or <ent negated>new adenopathy</ent>.",
    "Lymph nodes: no cervical, supraclavicular or <ent negated>axillary lymphadenopathy</ent>.",
    "No <ent negated>recurrent melanoma</ent> on exam today.",
    "No <ent negated>new in-transit metastases</ent> since the last visit.",
    "She remains NED from her <ent negated>melanoma</ent>.",
    "<ent negated>Nodal disease</ent> has resolved after two injections.",
    "No <ent negated>lymphadenopathy</ent>, but there are several <ent>in-transit nodules</ent> on the calf.",
    "No fevers or chills. <ent>In-transit nodules</ent> on the calf are larger.",
    "CT shows no change in the size of the <ent>in-transit nodules</ent>.",
    # a contrasting conjunction or a clause break ends a cue's scope
    "Surgical excision of the remaining lesions is not an option; she remains <ent>unresectable</ent>.",
    "The scar is not indurated, however <ent>in-transit nodules</ent> are present proximally.",
    # "free" in a free flap is surgery, not a negation ("pain free")
    "Her lesions are <ent>not resectable</ent>: it would require a free tissue transfer.",
    # target phrases that contain a cue word are findings, not negations
    "The lesions are <ent>not amenable to resection</ent>.",
    "Given the number of lesions, <ent>surgery is not feasible</ent>.",
    "He is <ent>not a surgical candidate</ent> because of comorbidities.",
    "<ent>No prior surgery</ent> for this lesion.",
    "The nodules <ent>could not be resected</ent> with clear margins.",
    # uncertainty
    "Rule out <ent uncertain>melanoma</ent>.",
    "Punch biopsy of the shin nodule, suspicious for <ent uncertain>melanoma</ent>.",
    "New firm papules near the scar, concerning for <ent uncertain>in-transit metastases</ent>.",
    "Possible <ent uncertain>recurrence</ent> at the graft margin.",
    "Cannot exclude <ent uncertain>satellite lesions</ent> near the scar.",
    # hypothetical
    "If the <ent hypothetical>melanoma</ent> recurs, we would offer T-VEC.",
    "Should <ent hypothetical>in-transit nodules</ent> develop, we will inject them.",
    "Would consider re-excision if <ent hypothetical>recurrence</ent> is confirmed.",
    "Return precautions reviewed; call if <ent hypothetical>new lymphadenopathy</ent>.",
    # family
    "Mother had <ent family>melanoma</ent>.",
    "Maternal aunt with <ent family>melanoma</ent> in her 60s.",
    "His brother was diagnosed with <ent family>melanoma</ent> at age 40.",
    "Father with <ent family>basal cell carcinoma</ent>; patient has <ent>melanoma</ent> of the left calf.",
    # historical
    "Copied forward from prior note: <ent historical>satellite lesions</ent> on the left calf.",
    "Previous plan: excision of the <ent historical>in-transit nodules</ent>.",
    "History of <ent historical>melanoma</ent> of the back, now with new nodules on the flank.",
    "She is status post <ent historical>wide local excision</ent> in 2024.",
    # "none of" denies each of what follows
    "None of the injected nodules has <ent negated>flattened</ent> or <ent negated>regressed</ent>.",
    # a dated history item (one date or a range) keeps its date past a ';' inside the item
    "ONCOLOGIC HISTORY\n- 11/2025-04/2026: Off therapy by choice; disease <ent historical>growing</ent> slowly.\n",
    "ONCOLOGIC HISTORY\n- 06/2025: Off therapy; the calf nodules <ent historical>growing</ent> again.\n",
    # a steroid course told as a past event, or a drug the patient came off, is no immunosuppression now
    "The colitis required hospitalization and <ent historical>high-dose steroids</ent> in 2024.",
    "She came off <ent historical>azathioprine</ent> in 2014.",
    "He remains on <ent>tacrolimus</ent> for his kidney transplant.",
    # a relative who tells the patient's history is no experiencer of it
    "His daughter says the lump on his neck <ent>is growing</ent> fast.",
    "Per her son, she <ent>has not had surgery</ent> for the melanoma.",
    "Her mother and her sister had <ent family>melanoma</ent>.",
    # how the lesions were at an earlier visit, or a response that did not last, is of then
    "At his July visit the nodules were <ent historical>softer</ent>.",
    "The early <ent historical>flattening</ent> of the nodules seen in July did not last.",
    "After a good early response over the summer, the scalp disease has <ent>grown</ent>.",
    # an operation that clearing the disease 'would still require' is not done, every one the clause names
    "Clearing it would still require a <ent hypothetical>wide resection</ent> of the nape plus a posterior "
    "<ent hypothetical>neck dissection</ent>.",
    # ... and so are the operations a resection 'would leave' the patient needing
    "Removing the primary would leave a defect of more than 10 cm needing a flap, plus an "
    "<ent hypothetical>axillary dissection</ent>.",
    # return precautions list what may come
    "Call the clinic for fever over 101 F, redness spreading from the injection sites, or any "
    "<ent hypothetical>new lumps</ent>.",
    # an operation that 'never took place' was not done
    "The planned <ent negated>WLE</ent>/<ent negated>SLNB</ent> never took place.",
    # an unticked box is an answer not given
    "[ ] Stable disease [X] <ent>Partial response</ent> [ ] <ent negated>Progression</ent>",
    # affirmed
    "Biopsy confirmed <ent>recurrent melanoma</ent>.",
    "<ent>Recurrent melanoma</ent> of the left calf with multiple <ent>in-transit nodules</ent>.",
    "Compared to prior, the <ent>nodal disease</ent> is smaller.",
]


@pytest.mark.parametrize("marked", EXAMPLES)
def test_qualifiers(reviewer, marked):
    text, spans = parse_markup(marked)
    findings = [f for f in reviewer.findings(plain_text_document("x.txt", "0", text)) if not f.concept.startswith("section:")]
    for start, end, expected in spans:
        inside = [f for f in findings if start <= f.start and f.end <= end]
        assert inside, f"no finding in {text[start:end]!r}; found {[(f.matched_text, f.concept) for f in findings]}"
        for finding in inside:
            got = set(finding.qualifiers.active())
            assert got == expected, (
                f"{finding.matched_text!r} ({finding.concept}): expected {sorted(expected)}, got {sorted(got)}; "
                f"cues {[(c.text, c.rule) for c in finding.qualifiers.cues]}"
            )
