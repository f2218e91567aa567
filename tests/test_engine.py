"""The criteria engine as a pure function: hand-made findings in, determination out. No spaCy, no PDFs."""

from __future__ import annotations

import pytest

from criteria.engine import determine
from criteria.policy import Requirement, load_policy
from models import Finding, Qualifiers, ReviewRequest

POLICY = load_policy("5.01.562")
INITIAL = ReviewRequest(request_type="initial")


def finding(concept: str, doc: str = "note.pdf", at: int = 0, **qualifiers: bool) -> Finding:
    sentence = f"sentence about {concept}"
    return Finding(
        concept=concept, rule=f"test.{concept}", document=doc, start=at, end=at + 5, matched_text=concept[:5],
        sentence_start=at, sentence_end=at + len(sentence), sentence=sentence, page=1,
        qualifiers=Qualifiers(**qualifiers),
    )


OFFICE_NOTE = [
    finding("section:physical_exam", at=900),
    finding("section:history_of_present_illness", at=100),
    finding("section:assessment_and_plan", at=1500),
]
ELIGIBLE = [
    finding("melanoma", at=10),
    finding("prior_surgery", at=20, historical=True),
    finding("recurrence", at=30),
    finding("unresectable", at=40),
    finding("injectable_site", at=50),
    *OFFICE_NOTE,
]


def status(det, cid: str) -> str:
    return det.criterion(cid).status


def test_all_met_initial_is_meets_criteria_for_12_months():
    det = determine(ELIGIBLE, POLICY, INITIAL)
    assert [c.status for c in det.criteria] == ["met", "met", "met", "met", "not_applicable", "met"]
    assert det.suggested_outcome == "meets_criteria"
    assert det.approval_months == 12


@pytest.mark.parametrize(
    ("request_type", "nonformulary", "months"),
    [("initial", True, 6), ("initial", False, 12), ("reauthorization", True, 12), ("reauthorization", False, 12)],
)
def test_approval_months_follow_the_policy(request_type, nonformulary, months):
    findings = ELIGIBLE + [finding("response", at=60)]
    det = determine(findings, POLICY, ReviewRequest(request_type=request_type, nonformulary_exception=nonformulary))
    assert det.suggested_outcome == "meets_criteria"
    assert det.approval_months == months


@pytest.mark.parametrize("qualifier", ["negated", "family", "hypothetical", "uncertain"])
def test_a_qualified_mention_never_makes_a_criterion_met(qualifier):
    findings = [f for f in ELIGIBLE if f.concept != "melanoma"] + [finding("melanoma", **{qualifier: True})]
    det = determine(findings, POLICY, INITIAL)
    assert status(det, "melanoma_diagnosis") == "insufficient"
    assert qualifier in det.criterion("melanoma_diagnosis").reason
    assert det.suggested_outcome == "insufficient_documentation"
    assert det.approval_months is None


def test_historical_counts_only_where_the_policy_accepts_it():
    findings = [f for f in ELIGIBLE if f.concept != "unresectable"] + [finding("unresectable", historical=True)]
    det = determine(findings, POLICY, INITIAL)
    assert status(det, "unresectable") == "insufficient"
    assert status(det, "recurrent_after_surgery") == "met"  # the historical surgery still counts


def test_conflict_is_insufficient_and_shows_both_sides():
    findings = ELIGIBLE + [finding("resectable", doc="surgery.pdf", at=70)]
    det = determine(findings, POLICY, INITIAL)
    result = det.criterion("unresectable")
    assert result.status == "insufficient"
    assert result.conflict is True
    assert {e.stance for e in result.evidence} == {"supports", "contradicts"}


def test_resectable_alone_is_not_met_and_the_outcome_does_not_meet():
    findings = [f for f in ELIGIBLE if f.concept != "unresectable"] + [finding("resectable")]
    det = determine(findings, POLICY, INITIAL)
    assert status(det, "unresectable") == "not_met"
    assert det.suggested_outcome == "does_not_meet_criteria"


def test_other_cancer_without_melanoma_is_not_met_but_melanoma_wins_over_an_old_bcc():
    no_melanoma = [f for f in ELIGIBLE if f.concept != "melanoma"] + [finding("other_cancer")]
    assert status(determine(no_melanoma, POLICY, INITIAL), "melanoma_diagnosis") == "not_met"
    both = ELIGIBLE + [finding("other_cancer", historical=True)]
    assert status(determine(both, POLICY, INITIAL), "melanoma_diagnosis") == "met"


def test_recurrence_needs_both_surgery_and_recurrence_and_de_novo_contradicts():
    no_surgery = [f for f in ELIGIBLE if f.concept != "prior_surgery"]
    result = determine(no_surgery, POLICY, INITIAL).criterion("recurrent_after_surgery")
    assert result.status == "insufficient"
    assert "a prior surgery" in result.reason
    de_novo = [f for f in no_surgery if f.concept != "recurrence"] + [finding("no_prior_surgery")]
    assert status(determine(de_novo, POLICY, INITIAL), "recurrent_after_surgery") == "not_met"


def test_visceral_only_is_not_met_but_mixed_disease_is_met():
    visceral_only = [f for f in ELIGIBLE if f.concept != "injectable_site"] + [finding("visceral_site")]
    assert status(determine(visceral_only, POLICY, INITIAL), "injectable_lesions") == "not_met"
    mixed = ELIGIBLE + [finding("visceral_site", at=80)]
    assert status(determine(mixed, POLICY, INITIAL), "injectable_lesions") == "met"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["response"], "met"),
        (["progression"], "not_met"),
        (["stable"], "insufficient"),
        (["response", "progression"], "insufficient"),
        ([], "insufficient"),
    ],
)
def test_clinical_response_on_reauthorization(extra, expected):
    findings = ELIGIBLE + [finding(c, at=200 + i) for i, c in enumerate(extra)]
    det = determine(findings, POLICY, ReviewRequest(request_type="reauthorization"))
    assert status(det, "clinical_response") == expected
    assert status(determine(findings, POLICY, INITIAL), "clinical_response") == "not_applicable"


def test_office_visit_needs_history_exam_and_assessment_in_one_document():
    split = [f for f in ELIGIBLE if not f.concept.startswith("section:")] + [
        finding("section:physical_exam", doc="a.pdf"),
        finding("section:history_of_present_illness", doc="b.pdf"),
        finding("section:assessment_and_plan", doc="b.pdf"),
    ]
    assert status(determine(split, POLICY, INITIAL), "office_visit_documentation") == "insufficient"


def test_a_dictated_consult_without_headings_is_an_office_visit_by_its_history_and_diagnosis():
    """The policy asks for a note with the diagnosis, relevant history and a physical evaluation: a consult letter
    whose only heading is its 'On examination' paragraph has them when it tells the melanoma's surgery or recurrence
    and names the melanoma."""
    consult = [
        finding("section:physical_exam", doc="consult.pdf", at=900),
        finding("prior_surgery", doc="consult.pdf", at=100, historical=True),
        finding("melanoma", doc="consult.pdf", at=1500),
    ]
    assert status(determine(consult, POLICY, INITIAL), "office_visit_documentation") == "met"
    # an exam and a diagnosis without any history of the disease, or a history without an exam, are not enough
    no_history = [f for f in consult if f.concept != "prior_surgery"]
    assert status(determine(no_history, POLICY, INITIAL), "office_visit_documentation") == "insufficient"
    no_exam = [f for f in consult if f.concept != "section:physical_exam"]
    assert status(determine(no_exam, POLICY, INITIAL), "office_visit_documentation") == "insufficient"
    # a melanoma only hypothetical or negated is no diagnosis
    unsure = [*no_history, finding("recurrence", doc="consult.pdf", at=200)]
    unsure = [f if f.concept != "melanoma" else finding("melanoma", doc="consult.pdf", at=1500, uncertain=True)
              for f in unsure]
    assert status(determine(unsure, POLICY, INITIAL), "office_visit_documentation") == "insufficient"


def test_office_visit_evidence_comes_from_every_complete_visit_note_and_not_from_a_partial_one():
    def note(doc: str, *sections: str) -> list[Finding]:
        return [finding(f"section:{name}", doc=doc, at=100 * k) for k, name in enumerate(sections)]

    visits = (
        note("derm.pdf", "chief_complaint", "physical_exam", "assessment_and_plan")
        + note("path.pdf", "history_of_present_illness")
        + note("surgonc.pdf", "history_of_present_illness", "physical_exam", "assessment_and_plan")
    )
    result = determine(visits, POLICY, INITIAL).criterion("office_visit_documentation")
    assert result.status == "met"
    assert {e.document for e in result.evidence} == {"derm.pdf", "surgonc.pdf"}
    assert {(e.document, e.concept) for e in result.evidence if e.concept == "section:physical_exam"} == {
        ("derm.pdf", "section:physical_exam"), ("surgonc.pdf", "section:physical_exam")}


def test_a_denial_is_evidence_against_what_is_required_and_for_what_would_contradict():
    no_skin = finding("injectable_site", at=700, negated=True)
    family_skin = finding("injectable_site", at=720, family=True)
    liver_only = [f for f in ELIGIBLE if f.concept != "injectable_site"] + [
        finding("visceral_site", at=600), no_skin, family_skin]
    result = determine(liver_only, POLICY, INITIAL).criterion("injectable_lesions")
    assert result.status == "not_met"
    assert [(e.concept, e.stance) for e in result.evidence] == [("visceral_site", "contradicts"), ("injectable_site", "contradicts")]
    assert result.evidence[1].start == no_skin.sentence_start  # the family mention is no denial about this patient

    reauth = ReviewRequest(request_type="reauthorization")
    responding = ELIGIBLE + [finding("response", at=800), finding("progression", at=820, negated=True)]
    result = determine(responding, POLICY, reauth).criterion("clinical_response")
    assert result.status == "met"
    assert [(e.concept, e.stance) for e in result.evidence] == [("response", "supports"), ("progression", "supports")]


def test_a_second_primary_puts_a_recurrence_after_surgery_in_doubt_but_alone_changes_nothing():
    doubted = determine(ELIGIBLE + [finding("second_primary", at=60)], POLICY, INITIAL).criterion("recurrent_after_surgery")
    assert doubted.status == "insufficient" and doubted.conflict
    assert ("second_primary", "contradicts") in [(e.concept, e.stance) for e in doubted.evidence]
    no_recurrence = [f for f in ELIGIBLE if f.concept != "recurrence"] + [finding("second_primary", at=60)]
    alone = determine(no_recurrence, POLICY, INITIAL).criterion("recurrent_after_surgery")
    assert alone.status == "insufficient" and not alone.conflict  # missing recurrence, not a not_met


def test_safety_flags_are_raised_with_evidence_and_do_not_change_the_outcome():
    findings = ELIGIBLE + [finding("pregnancy", at=300), finding("immunocompromised", at=310, negated=True)]
    det = determine(findings, POLICY, INITIAL)
    assert [f.id for f in det.safety_flags] == ["pregnancy"]
    assert det.safety_flags[0].evidence[0].text == "sentence about pregnancy"
    assert det.suggested_outcome == "meets_criteria"


def test_engine_is_pure_same_input_same_output():
    assert determine(ELIGIBLE, POLICY, INITIAL) == determine(list(ELIGIBLE), POLICY, INITIAL)


def test_an_inferred_recurrence_gives_way_to_a_note_calling_the_recurrence_uncertain():
    inferred = finding("recurrence", at=30).model_copy(update={"rule": "recurrence.new_nodules"})
    base = [f for f in ELIGIBLE if f.concept != "recurrence"] + [inferred]
    assert status(determine(base, POLICY, INITIAL), "recurrent_after_surgery") == "met"
    doubted = base + [finding("recurrence", at=70, uncertain=True)]
    assert status(determine(doubted, POLICY, INITIAL), "recurrent_after_surgery") == "insufficient"
    # a recurrence stated outright is not outweighed by another note's doubt: that is for the reviewer to weigh
    stated = [f for f in ELIGIBLE] + [finding("recurrence", at=70, uncertain=True)]
    assert status(determine(stated, POLICY, INITIAL), "recurrent_after_surgery") == "met"


def test_an_operation_not_named_for_the_melanoma_gives_way_to_a_note_saying_it_was_never_operated_on():
    # 'healed excision scar' on exam (a generic operation) against 'never had surgery for this melanoma'
    scar = finding("prior_surgery", at=20).model_copy(update={"rule": "surgery.excision.1"})
    never = finding("no_prior_surgery", at=80, historical=True)
    base = [f for f in ELIGIBLE if f.concept != "prior_surgery"]
    assert status(determine(base + [scar], POLICY, INITIAL), "recurrent_after_surgery") == "met"
    weighed = determine(base + [scar, never], POLICY, INITIAL).criterion("recurrent_after_surgery")
    assert weighed.status == "not_met"
    assert [e.concept for e in weighed.evidence if e.stance == "contradicts"] == ["no_prior_surgery"]
    # ... and the scar is still shown, on the side it would have taken, for the reviewer to weigh
    assert [e.rule for e in weighed.evidence if e.stance == "supports"] == ["surgery.excision.1"]
    # a wide local excision is the melanoma's by its name: against the denial, the reviewer settles it
    wle = finding("prior_surgery", at=20).model_copy(update={"rule": "surgery.wle.3"})
    both = determine(base + [wle, never], POLICY, INITIAL).criterion("recurrent_after_surgery")
    assert both.status == "insufficient" and both.conflict
    # a denial that does not count (hypothetical, family, uncertain) outweighs nothing
    for qualifier in ("hypothetical", "family", "uncertain"):
        doubtful = finding("no_prior_surgery", at=80, **{qualifier: True})
        assert status(determine(base + [scar, doubtful], POLICY, INITIAL), "recurrent_after_surgery") == "met"
    # a denial of the generic operation itself ('not excised') stays, cited for the denial's side
    not_excised = finding("prior_surgery", at=90, negated=True).model_copy(update={"rule": "surgery.excision.3"})
    cited = determine(base + [scar, never, not_excised], POLICY, INITIAL).criterion("recurrent_after_surgery")
    assert cited.status == "not_met" and any(e.start == 90 for e in cited.evidence)


def test_gives_way_to_needs_the_rules_that_give_way():
    with pytest.raises(ValueError, match="gives_way_to needs"):
        Requirement(any_of=["prior_surgery"], label="a prior surgery", gives_way_to=["no_prior_surgery"])


def test_a_pathologists_doubt_leaves_the_recurrence_for_the_reviewer():
    det = determine(ELIGIBLE + [finding("pathology_doubt", doc="consult.pdf")], POLICY, INITIAL)
    recurrence = det.criterion("recurrent_after_surgery")
    assert recurrence.status == "insufficient" and recurrence.conflict
    assert any(e.concept == "pathology_doubt" and e.stance == "contradicts" for e in recurrence.evidence)


def test_a_melanoma_label_taken_back_beside_another_cancer_is_not_melanoma():
    taken_back = ELIGIBLE + [finding("melanoma_disproved", at=80), finding("other_cancer", at=90)]
    det = determine(taken_back, POLICY, INITIAL)
    assert det.criterion("melanoma_diagnosis").status == "not_met"
    assert det.criterion("recurrent_after_surgery").status == "insufficient"
    assert det.suggested_outcome == "does_not_meet_criteria"
    # taken back with no other cancer named: the reviewer settles it
    alone = determine(ELIGIBLE + [finding("melanoma_disproved", at=80)], POLICY, INITIAL).criterion("melanoma_diagnosis")
    assert alone.status == "insufficient" and alone.conflict


def test_a_new_primary_the_notes_say_was_never_excised_is_not_recurrent_after_surgery():
    never_excised = ELIGIBLE + [finding("second_primary", at=60), finding("no_prior_surgery", at=70)]
    result = determine(never_excised, POLICY, INITIAL).criterion("recurrent_after_surgery")
    assert result.status == "not_met" and "new (second) primary" in result.reason
    # without the doubt, a surgery-and-recurrence beside a 'no prior surgery' stays a conflict for the reviewer
    conflict = determine(ELIGIBLE + [finding("no_prior_surgery", at=70)], POLICY, INITIAL).criterion("recurrent_after_surgery")
    assert conflict.status == "insufficient" and conflict.conflict


def test_the_requirements_of_a_criterion_take_turns_citing_up_to_the_cap():
    surgeries = [finding("prior_surgery", at=100 + 10 * k, historical=True) for k in range(12)]
    recurrences = [finding("recurrence", at=300 + 10 * k) for k in range(3)]
    det = determine([finding("melanoma", at=10), *surgeries, *recurrences], POLICY, INITIAL)
    cited = det.criterion("recurrent_after_surgery").evidence
    assert len(cited) == 15  # the cap, filled
    assert sum(e.concept == "recurrence" for e in cited) == 3  # every recurrence, though surgeries are many


def test_a_melanoma_newly_diagnosed_now_puts_a_recurrence_after_surgery_in_doubt():
    doubted = determine(ELIGIBLE + [finding("first_presentation", at=60)], POLICY, INITIAL).criterion("recurrent_after_surgery")
    assert doubted.status == "insufficient" and doubted.conflict and "newly diagnosed" in doubted.reason


def test_disease_persisting_at_a_positive_margin_puts_a_recurrence_after_surgery_in_doubt():
    det = determine(ELIGIBLE + [finding("persistent_disease", at=60)], POLICY, INITIAL)
    result = det.criterion("recurrent_after_surgery")
    assert result.status == "insufficient" and result.conflict and "positive margin" in result.reason
    assert any(e.concept == "persistent_disease" and e.stance == "contradicts" for e in result.evidence)
    assert det.suggested_outcome == "insufficient_documentation"
    # persistence that the notes deny is no doubt at all
    denied = determine(ELIGIBLE + [finding("persistent_disease", at=60, negated=True)], POLICY, INITIAL)
    assert denied.criterion("recurrent_after_surgery").status == "met"


def test_a_prior_surgery_the_notes_cannot_confirm_leaves_the_recurrence_to_the_reviewer():
    unconfirmed = finding("surgery_unconfirmed", at=70)
    result = determine(ELIGIBLE + [unconfirmed], POLICY, INITIAL).criterion("recurrent_after_surgery")
    assert result.status == "insufficient" and result.conflict
    assert any(e.concept == "surgery_unconfirmed" and e.stance == "contradicts" for e in result.evidence)


def test_an_operation_told_first_hand_outweighs_a_note_that_says_it_never_happened():
    denied = ELIGIBLE + [finding("no_prior_surgery", doc="derm.pdf", at=60)]
    assert status(determine(denied, POLICY, INITIAL), "recurrent_after_surgery") == "insufficient"
    told = denied + [finding("surgery_documented", doc="surgonc.pdf", at=70, historical=True)]
    result = determine(told, POLICY, INITIAL).criterion("recurrent_after_surgery")
    assert result.status == "met" and not result.conflict
    # the outweighed denial is still shown to the reviewer, against
    assert any(e.concept == "no_prior_surgery" and e.stance == "contradicts" for e in result.evidence)
    # a first-hand account that is itself negated or hypothetical outweighs nothing
    for qualifier in ("negated", "hypothetical", "uncertain", "family"):
        doubtful = denied + [finding("surgery_documented", doc="surgonc.pdf", at=70, **{qualifier: True})]
        assert status(determine(doubtful, POLICY, INITIAL), "recurrent_after_surgery") == "insufficient", qualifier
