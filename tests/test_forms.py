"""A prior-authorization request form states the requester's claim: shown, never enough alone."""

from __future__ import annotations

from extractor.document import plain_text_document
from extractor.forms import form_title
from extractor.rules_loader import default_rules
from models import ReviewRequest

RULE = default_rules().request_forms

FORM = (
    "PRIOR AUTHORIZATION REQUEST - MEDICAL BENEFIT DRUG\n"
    "Drug: Imlygic (talimogene laherparepvec)\n"
    "Clinical information: Recurrent melanoma, in-transit lesions of the left upper back, unresectable.\n"
)
NOTE = (
    "HPI: Recurrent melanoma of the left upper back after WLE and SLNB in 2024, seven in-transit nodules.\n"
    "Physical exam: seven firm dermal nodules of the left upper back, 3-9 mm.\n"
    "Assessment: in-transit melanoma; surgical oncology consult pending to decide on excision.\n"
)


def test_only_a_title_opening_a_line_makes_a_form():
    assert form_title(FORM, RULE) is not None
    assert form_title("FAX COVER\nRE: Prior authorization request for Imlygic\nCLINIC NOTE\n", RULE) is None
    assert form_title("OFFICE VISIT\nPlan: prior authorization request sent.\n", RULE) is None


def test_what_only_the_form_says_is_uncertain_and_does_not_make_the_criterion_met(reviewer):
    form = plain_text_document("pa_request.txt", "0", FORM)
    found = [f for f in reviewer.findings(form) if f.concept == "unresectable"]
    assert found and all(f.qualifiers.uncertain for f in found)
    assert found[0].qualifiers.cues[-1].text == "PRIOR AUTHORIZATION REQUEST"
    note = plain_text_document("visit.txt", "0", NOTE)
    determination = reviewer.review_documents([form, note], ReviewRequest(request_type="initial"))
    assert determination.criterion("unresectable").status == "insufficient"
    # the same words in the physician's note count
    signed = plain_text_document("visit.txt", "0", NOTE.replace("surgical oncology consult pending to decide on "
                                                                "excision", "unresectable per surgical oncology"))
    determination = reviewer.review_documents([form, signed], ReviewRequest(request_type="initial"))
    assert determination.criterion("unresectable").status == "met"


def test_a_form_behind_a_fax_cover_is_the_form_and_the_rest_of_the_packet_stays_chart_documentation(reviewer):
    from extractor.forms import mark_request_form
    from models import Finding
    packet = plain_text_document("packet.txt", "0", "FAX COVER\nRE: re-authorization\n")
    packet.pages.append(packet.pages[0].model_copy(update={"number": 2}))
    cover = "FACSIMILE\nTO: Premera\nRE: Imlygic re-authorization\n" + "This message is confidential.\n" * 16
    form = "MEDICAL DRUG PRIOR AUTHORIZATION - CONTINUATION / RE-AUTHORIZATION\n[X] Partial response\n"
    text = cover + form
    packet.text = text
    packet.char_page = type(packet.char_page)(packet.char_page.typecode, [1] * len(cover) + [2] * len(form))

    def finding(page: int, at: int) -> Finding:
        return Finding(concept="response", rule="r", document="packet.txt", start=at, end=at + 3, matched_text="x",
                       sentence_start=at, sentence_end=at + 3, sentence="x", page=page)

    marked = mark_request_form([finding(1, 0), finding(2, len(cover) + 70)], packet, RULE)
    assert [f.qualifiers.uncertain for f in marked] == [False, True]
