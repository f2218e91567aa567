"""Benign verdicts: a lesion the document calls benign at one place is no melanoma lesion wherever it is mentioned."""

from __future__ import annotations

from extractor.benign import places, verdicts
from extractor.document import plain_text_document
from extractor.rules_loader import default_rules

RULE = default_rules().benign_verdicts

PATHOLOGY = (
    "CLINICAL HISTORY\nMelanoma of the R forearm s/p WLE. New L flank SQ nodule on PET, r/o metastasis.\n\n"
    "DIAGNOSIS\nA. Lymph node, station 7, EBUS-FNA: metastatic melanoma.\n"
    "C. Subcutaneous nodule, left flank, ultrasound-guided FNA:\nFat necrosis with foamy histiocytes.\n"
)


def test_places_are_a_side_and_a_body_part_in_either_order():
    assert places("New L flank SQ nodule", RULE) == {("left", "flank")}
    assert places("Subcutaneous nodule, flank, left", RULE) == {("left", "flank")}
    assert places("right upper back and LT calf", RULE) == {("right", "back"), ("left", "calf")}
    assert places("flank nodule", RULE) == set()  # no side: no place


def test_a_lesion_called_benign_at_a_place_is_doubtful_wherever_the_document_names_that_place(reviewer):
    found = verdicts(PATHOLOGY, RULE)
    assert set(found) == {("left", "flank")}  # the specimen heading over its diagnosis gives the place
    assert found[("left", "flank")].text == "Fat necrosis"
    document = plain_text_document("path.txt", "0", PATHOLOGY)
    flank = [f for f in reviewer.findings(document) if f.concept == "injectable_site" and "flank" in f.sentence]
    assert flank and all(f.qualifiers.uncertain for f in flank)
    assert any(c.rule == RULE.id and c.text == "Fat necrosis" for f in flank for c in f.qualifiers.cues)


def test_a_benign_verdict_elsewhere_leaves_the_melanoma_lesions_alone(reviewer):
    text = (
        "EXAM\nL calf: four dermal nodules 3-8 mm along the WLE scar, biopsy-proven in-transit melanoma.\n"
        "R upper back: 6 mm waxy stuck-on papule, seborrheic keratosis.\n"
    )
    calf = [f for f in reviewer.findings(plain_text_document("n.txt", "0", text)) if "calf" in f.sentence
            and f.concept == "injectable_site"]
    assert calf and not any(f.qualifiers.uncertain for f in calf)


def test_nodes_named_only_by_visceral_stations_make_generic_nodal_words_doubtful(reviewer):
    text = (
        "REASON FOR CONSULT: Recurrent melanoma, lymph node metastases.\n"
        "HPI: CT chest showed subcarinal and right hilar adenopathy; EBUS biopsy of station 7 showed melanoma.\n"
    )
    generic = [f for f in reviewer.findings(plain_text_document("n.txt", "0", text))
               if f.concept == "injectable_site" and f.rule.startswith("site.nodal_words")]
    assert generic and all(f.qualifiers.uncertain for f in generic)
    assert generic[0].qualifiers.cues[-1].text.startswith("subcarinal")
    # a peripheral basin named too: the generic words may mean it
    with_axilla = text + "Exam: 3 cm firm right axillary node.\n"
    generic = [f for f in reviewer.findings(plain_text_document("n.txt", "0", with_axilla))
               if f.concept == "injectable_site" and f.rule.startswith("site.nodal_words")]
    assert generic and not any(f.qualifiers.uncertain for f in generic)


def test_a_cytology_verdict_reaches_the_same_place_in_the_other_documents(reviewer):
    from models import ReviewRequest

    consult = plain_text_document(
        "consult.txt", "0",
        "EXAM\nNeck: 1 cm mobile, nontender L submandibular (level IB) node.\n"
        "PLAN\nInject the L level IB node if the FNA shows melanoma.\n",
    )
    cytology = plain_text_document(
        "fna.txt", "0", "DIAGNOSIS\nLymph node, left level IB, FNA: NEGATIVE FOR MALIGNANCY.\n"
    )
    determination = reviewer.review_documents([consult, cytology], ReviewRequest(request_type="initial"))
    injectable = determination.criterion("injectable_lesions")
    assert injectable.status != "met"
    cues = [c for e in injectable.evidence for c in e.qualifiers.cues if c.document == "fna.txt"]
    assert cues and cytology.text[cues[0].start : cues[0].end] == cues[0].text
    # margins are no verdict on a lesion
    margins = plain_text_document("wle.txt", "0", "Left level IB: margins negative for malignancy.\n")
    assert verdicts(margins.text, RULE) == {}


def test_a_denial_stays_a_denial_where_nodes_are_visceral(reviewer):
    text = (
        "CT: retroperitoneal and portacaval adenopathy.\n"
        "2. No cutaneous, subcutaneous or superficial nodal disease available for intralesional therapy.\n"
    )
    denied = [f for f in reviewer.findings(plain_text_document("n.txt", "0", text))
              if f.concept == "injectable_site" and "nodal" in f.matched_text]  # whichever site rule reads it
    assert denied and all(f.qualifiers.negated and not f.qualifiers.uncertain for f in denied)
