"""Findings explain themselves, and a recurrence belongs to the cancer it is told of."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from medspacy.ner import TargetMatcher

from extractor.document import plain_text_document
from extractor.nlp import target_rule
from extractor.targets import resolve
from extractor.tokenizer import WarmTokenizer


def concepts(reviewer, text: str) -> list[tuple[str, str]]:
    return [(f.concept, f.matched_text) for f in reviewer.findings(plain_text_document("note.txt", "0", text))]


def test_a_recurrence_told_after_another_cancer_is_not_the_melanomas(reviewer):
    text = (
        "ONCOLOGIC HISTORY\n"
        "2013 - Melanoma, left upper back, treated with wide local excision.\n"
        "03/2023 - Invasive SCC of the scalp, cleared with Mohs.\n"
        "06/2026 - new nodules in and around the graft.\n"
        "Recurrent cutaneous squamous cell carcinoma of the scalp.\n"
    )
    assert not [c for c in concepts(reviewer, text) if c[0] == "recurrence"]


def test_a_recurrence_after_the_melanoma_counts(reviewer):
    text = (
        "ONCOLOGIC HISTORY\n"
        "2024 - Melanoma of the left calf, treated with wide local excision.\n"
        "09/2026 - new nodules along the excision scar; biopsy showed in-transit recurrence.\n"
    )
    recurrences = [words for concept, words in concepts(reviewer, text) if concept == "recurrence"]
    assert "new nodules" in recurrences
    assert len(recurrences) >= 2


def affirmed(reviewer, text: str, concept: str) -> list[str]:
    found = reviewer.findings(plain_text_document("note.txt", "0", text))
    return [f.matched_text for f in found if f.concept == concept and not f.qualifiers.active()]


# How surgeons say a lesion cannot be operated on, without the word "unresectable".
UNRESECTABLE_SAYINGS = [
    "There are too many satellite papules to excise without a large graft.",
    "Per the thoracic surgeon, the pulmonary metastases are too numerous and bilateral to resect.",
    "The disease now extends from the wrist to the upper arm and still cannot be removed surgically.",
    "Per Dr. Lee these lesions are not excisable.",
    "He does not recommend re-excision of the back.",
    "I would not offer him surgery.",
    "There is no operation I can offer that would clear these nodules.",
    "The only surgery that would remove all of the disease would be a below-knee amputation.",
    "I do not think she would tolerate a long anesthetic.",
    "Surgical excision of the remaining lesions is not an option.",
    "Her lesions are not resectable: excision would need a free tissue transfer.",
    "With thirteen lesions and a groin node, this is no longer resectable.",
    "The disease is still not something I can remove; excising it would mean a chest wall resection.",
]


@pytest.mark.parametrize("text", UNRESECTABLE_SAYINGS)
def test_unresectable_in_a_surgeons_own_words(reviewer, text):
    assert affirmed(reviewer, text, "unresectable"), text


# The drug's indication is not a statement about this patient's lesions.
@pytest.mark.parametrize("text", [
    "I explained that Imlygic is used for recurrent melanoma that cannot be removed surgically.",
    "T-VEC is for melanoma lesions that cannot be removed surgically.",
])
def test_the_drugs_indication_is_not_the_patients_resectability(reviewer, text):
    assert not affirmed(reviewer, text, "unresectable")


def test_a_lesion_felt_on_exam_is_an_injectable_site_but_not_one_in_history_or_a_label(reviewer):
    exam = "PHYSICAL EXAM\nR axilla: hard, fixed mass at the apex, about 4 cm.\nL groin: firm, mobile 2 cm node.\n"
    found = affirmed(reviewer, exam, "injectable_site")
    assert "mass" in found and any(words.endswith("2 cm node") for words in found)
    label_only = "PHYSICAL EXAM\nLymph nodes: no cervical, supraclavicular or axillary lymphadenopathy.\n"
    assert not affirmed(reviewer, label_only, "injectable_site")
    history = "HISTORY OF PRESENT ILLNESS\nShe noticed a firm mass in the left axilla last month.\n"
    assert "mass" not in affirmed(reviewer, history, "injectable_site")
    visceral = "PHYSICAL EXAM\nAbdomen: firm mass in the right upper quadrant, liver edge palpable.\n"
    assert not affirmed(reviewer, visceral, "injectable_site")


def test_new_lesions_on_treatment_are_progression_and_a_healed_scar_is_not_a_response(reviewer):
    assert affirmed(reviewer, "Five new cutaneous lesions have appeared on the scalp.", "progression")
    assert affirmed(reviewer, "Five new cutaneous lesions have appeared on the scalp.", "injectable_site")
    assert affirmed(reviewer, "Two new lesions in the liver on CT.", "progression")
    assert not affirmed(reviewer, "Two new lesions in the liver on CT.", "injectable_site")
    assert not affirmed(reviewer, "No new lesions have appeared during treatment.", "progression")
    assert not affirmed(reviewer, "Skin: healed SCCIS sites on the dorsal hands, well-healed WLE scar.", "response")
    assert affirmed(reviewer, "We recommend stopping T-VEC because of progression.", "progression")


@pytest.mark.parametrize("text", [
    "Her melanoma came back in the scar last spring.",
    "The disease returned as nodules along the graft.",
    "rStage IIIC melanoma of the left calf.",
])
def test_a_recurrence_in_plain_words(reviewer, text):
    assert affirmed(reviewer, text, "recurrence"), text


@pytest.mark.parametrize("text", [
    "He has recurrent bleeding from the main mass.",
    "Imlygic is an injection used for melanoma that has come back after surgery.",
    "In-transit metastases are possible, but cellulitis is more likely.",
])
def test_no_recurrence_here(reviewer, text):
    assert not affirmed(reviewer, text, "recurrence"), text


@pytest.mark.parametrize("text", [
    "Wide excision with sentinel lymph node biopsy is recommended per NCCN guidelines.",
    "He was referred for wide local excision.",
    "He declined wide local excision at diagnosis.",
    "She is scheduled for wide local excision next week.",
    "She referred him to Spokane Valley Surgical Oncology for WLE + SLNB; pt declined, never went.",
    "Was ref'd to Seattle for WLE + SLNB -> pt declined.",
    "A wide local excision with axillary sentinel node biopsy was booked for 12/18/2025.",
    "Clearing this would take a wide scalp resection incl outer table of skull and L neck dissection.",
    "Needs WLE with graft + SLNB.",
    "12/2025: right ilioinguinal lymphadenectomy offered; patient declined.",
    "Dr. Fenwick considers all of it resectable: WLE of the primary and satellite field with a graft.",
])
def test_a_surgery_not_done_is_no_prior_surgery(reviewer, text):
    assert not affirmed(reviewer, text, "prior_surgery"), text


@pytest.mark.parametrize("text", [
    "She underwent wide local excision and SLNB in 03/2024.",
    "The primary was surgically removed in 2023.",
    "He had the melanoma removed by his dermatologist in 2022.",
    "Sentinel node bx was negative.",
    "Wide local excision margins were negative for melanoma.",
])
def test_a_prior_surgery_in_plain_words(reviewer, text):
    assert [w for w in affirmed(reviewer, text, "prior_surgery") + _historical(reviewer, text)], text


@pytest.mark.parametrize("text", [
    "Provider: Ana Ruiz, MD (Mohs surgery and cutaneous oncology)",
    "Mohs surgery L helix for basal cell carcinoma, 2018.",
    "Wide local excision of the DFSP of the chest wall in 2019.",
    # the clause gives the operation to the SCC, whatever the rest of the sentence says of melanoma
    "Skin: SCC L helix s/p Mohs 06/2022 and wedge re-excision 09/2023 for local recurrence; no prior melanoma.",
])
def test_a_specialty_name_or_another_cancers_surgery_is_not_the_melanomas(reviewer, text):
    assert not affirmed(reviewer, text, "prior_surgery") + _historical(reviewer, text), text


def test_never_surgically_excised_is_no_prior_surgery(reviewer):
    assert affirmed(reviewer, "The lesion was never surgically excised.", "no_prior_surgery")


@pytest.mark.parametrize("text", [
    "44 y.o. woman with a never-excised, ulcerated nodular melanoma of the L forearm.",
    "Nodular melanoma of the L forearm (punch biopsy only, 11/2025).",
    "Dx on shave bx only in 01/2026.",
    "She has only had a punch biopsy of the primary.",
])
def test_a_primary_only_ever_biopsied_had_no_surgery(reviewer, text):
    assert affirmed(reviewer, text, "no_prior_surgery"), text
    assert not affirmed(reviewer, text, "prior_surgery"), text


def test_a_denial_of_resectability_right_before_the_word_says_unresectable(reviewer):
    text = "Dr. B reviewed the CT and does not consider her disease resectable: the mass encases the axillary vein."
    found = [f for f in reviewer.findings(plain_text_document("note.txt", "0", text)) if f.concept == "unresectable"]
    assert found and not found[0].qualifiers.active()
    assert found[0].rule == "resectable.word.1.denied" and found[0].qualifiers.cues  # the denial explains it
    # a denial in another clause, or a refusal, says nothing of resectability
    assert not affirmed(reviewer, "Although she is not keen on surgery, the lesion is resectable.", "unresectable")
    assert not affirmed(reviewer, "He does not want surgery; the lesion is not resectable per his choice.", "unresectable")


def test_a_drugs_label_is_no_statement_about_the_patient(reviewer):
    text = "I explained that T-VEC is labeled for unresectable melanoma recurrent after surgery."
    assert not affirmed(reviewer, text, "unresectable")


@pytest.mark.parametrize("text, concept", [
    ("Renewal requested so that T-VEC can be resumed after surgery to any new in-transit lesions.", "progression"),
    ("Contraception: IUD in place; counseled on avoiding pregnancy during therapy.", "pregnancy"),
])
def test_what_may_come_is_hypothetical(reviewer, text, concept):
    found = [f for f in reviewer.findings(plain_text_document("note.txt", "0", text)) if f.concept == concept]
    assert found and all(f.qualifiers.hypothetical for f in found)


def test_no_longer_denies_only_the_words_right_after_it(reviewer):
    text = (
        "The board agreed that the disease is no longer amenable to surgical resection, given fourteen nodules, "
        "and excision is not recommended."
    )
    # 'no longer amenable to surgical resection' denies resectability (so states unresectability); it does not reach
    # 'excision is not recommended'
    assert affirmed(reviewer, text, "unresectable") == ["amenable to surgical resection", "excision is not recommended"]
    assert not affirmed(reviewer, text, "resectable")


def test_soap_headings_make_sections(reviewer):
    text = "S:\nShe returns for T-VEC #14, lumps mostly gone.\n\nO:\nGeneral: well appearing, in no distress.\n\nA:\nResponding in-transit melanoma.\n"
    sections = {f.concept for f in reviewer.findings(plain_text_document("note.txt", "0", text))}
    assert {"section:history_of_present_illness", "section:physical_exam", "section:assessment_and_plan"} <= sections


@pytest.mark.parametrize("text", [
    "Recurrence risk was discussed and she chose observation.",
    "Recurrence is not established; we need tissue first.",
    "In-transit disease is on the list, but so is fat necrosis.",
])
def test_talk_of_recurrence_is_no_recurrence(reviewer, text):
    assert not affirmed(reviewer, text, "recurrence"), text


def test_a_mixed_response_is_both_response_and_progression(reviewer):
    text = "Mixed response: the injected nodules shrank while a new groin node appeared."
    assert affirmed(reviewer, text, "response") and affirmed(reviewer, text, "progression")


def test_a_dated_history_item_is_not_todays_response_and_copied_forward_text_is_historical(reviewer):
    dated = "01/2026: regional recurrence with an enlarged left level VA node.\n"
    assert not affirmed(reviewer, dated, "progression")
    copied = (
        "INTERVAL HISTORY\nHe is here for injection #15.\n"
        "--- Interval history copied forward from visit of 07/14/2026 (not updated) ---\n"
        "07/14/2026 note: G1 had decreased from 2.2 cm to 1.5 cm, an early partial response.\n"
    )
    assert not affirmed(reviewer, copied, "response")


@pytest.mark.parametrize("text", [
    "Avoid contact with immunocompromised household members for one week.",
    "She will keep the dressings on around close contacts who are immunosuppressed or pregnant.",
    "Precautions reviewed: pregnant caregivers should not touch the injected sites.",
])
def test_the_labels_precautions_for_household_members_do_not_flag_the_patient(reviewer, text):
    assert not affirmed(reviewer, text, "immunocompromised") + affirmed(reviewer, text, "pregnancy"), text


def test_a_patient_who_is_pregnant_is_flagged(reviewer):
    assert affirmed(reviewer, "She is 22 weeks pregnant with her third child.", "pregnancy")


def test_a_second_primary_is_named_and_is_still_melanoma(reviewer):
    text = "This is a new primary melanoma, not a recurrence of her 2025 flank melanoma."
    assert affirmed(reviewer, text, "second_primary") and affirmed(reviewer, text, "melanoma")
    # said outright only: a second primary in passing does not put a recurrence in doubt
    assert not affirmed(reviewer, "Second primary melanoma of the right foot with satellites.", "second_primary")
    assert not affirmed(reviewer, "Full skin exam: no new primary lesions.", "second_primary")


@pytest.mark.parametrize("text", [
    "Procedure: Excision of three in-transit melanoma nodules of the left calf.",
    "In-transit recurrence of the left calf (3 nodules) was biopsy-proven in 09/2026.",
    "The three subcutaneous nodules were excised on 10/14.",
    "He has not found any new lumps on his leg.",
    "- 09/2026: In-transit recurrence, three dermal nodules of the calf.",
])
def test_lesions_removed_or_told_as_past_events_are_not_lesions_now(reviewer, text):
    assert not affirmed(reviewer, text, "injectable_site"), text


def test_lesions_told_in_the_present_are_lesions_now(reviewer):
    assert affirmed(reviewer, "There are four firm subcutaneous nodules of the left calf.", "injectable_site")


@pytest.mark.parametrize("text", [
    "Transcutaneous intrahepatic injection was not considered appropriate.",
    "At the 10/01 conference the board recommended excision of the three nodules.",
])
def test_plans_not_made_now_do_not_count(reviewer, text):
    assert not affirmed(reviewer, text, "intrahepatic_injection") + affirmed(reviewer, text, "resectable"), text


def _historical(reviewer, text: str) -> list[str]:
    found = reviewer.findings(plain_text_document("note.txt", "0", text))
    return [f.matched_text for f in found if f.concept == "prior_surgery" and f.qualifiers.active() == ["historical"]]


def test_every_finding_carries_its_rule_sentence_section_and_cues(reviewer):
    document = plain_text_document("note.txt", "0", "FAMILY HISTORY\nHer mother had melanoma at 50.\n")
    finding = next(f for f in reviewer.findings(document) if f.concept == "melanoma")
    assert finding.rule.startswith("melanoma.")
    assert finding.section == "family_history"
    assert finding.sentence == "Her mother had melanoma at 50."
    assert document.text[finding.sentence_start : finding.sentence_end] == finding.sentence
    assert finding.qualifiers.family
    assert {cue.qualifier for cue in finding.qualifiers.cues} == {"family"}
    assert any(cue.text.lower() == "mother" for cue in finding.qualifiers.cues)


SAMPLES = Path(__file__).resolve().parent.parent / "sample_notes"
DEV_NOTES = sorted(SAMPLES.glob("dev/d*/*.note"))[::4]


def _note_text(note: Path) -> str:
    return "\n".join(line for line in note.read_text().splitlines() if not line.startswith("@"))


@pytest.mark.parametrize("note", DEV_NOTES, ids=lambda p: p.parent.name + "/" + p.name)
def test_targets_are_stock_medspacys(reviewer, note):
    """Targets (token patterns served by extractor/token_matcher.py) match what medspaCy's TargetMatcher with spaCy's
    Matcher matches, and keep the same mentions of them."""
    nlp = reviewer.nlp
    lower = TargetMatcher(nlp, name="stock_targets", result_type=None, prune=False)
    exact = TargetMatcher(nlp, name="stock_targets_exact", phrase_matcher_attr="ORTH", result_type=None, prune=False)
    rules = [target_rule(spec) for spec in reviewer.rules.targets]
    lower.add([r for r in rules if not r.metadata.get("case_sensitive")])
    exact.add([r for r in rules if r.metadata.get("case_sensitive")])
    sentences = nlp.get_pipe("chartcheck_sentences")
    doc = sentences(nlp.make_doc(_note_text(note)))
    stock = [
        (m._TargetMatcher__matcher.rule_map[doc.vocab.strings[rule_id]], start, end)
        for m in (lower, exact)
        for rule_id, start, end in m._TargetMatcher__matcher(doc)
    ]
    pipe = nlp.get_pipe("chartcheck_targets")
    ours = pipe.matches(doc)

    def keys(matches) -> list[tuple[int, int, str]]:
        return sorted((start, end, rule.metadata["id"]) for rule, start, end in matches)

    assert ours and keys(ours) == keys(stock)
    ents = pipe(doc).ents
    assert [(e.start, e.end, e._.target_rule.metadata["id"]) for e in ents] == [
        (start, end, rule.metadata["id"]) for rule, start, end in resolve(doc, stock, pipe.metas, pipe.order)
    ]


@pytest.mark.parametrize("note", DEV_NOTES, ids=lambda p: p.parent.name + "/" + p.name)
def test_warm_tokenizer_gives_spacys_tokens(note):
    text = _note_text(note)
    plain = spacy.blank("en").tokenizer
    warm = WarmTokenizer(spacy.blank("en").tokenizer)
    for _ in range(2):  # cold, then from the cache
        assert [(t.text, t.whitespace_) for t in warm(text)] == [(t.text, t.whitespace_) for t in plain(text)]


@pytest.mark.parametrize("text, concept", [
    # another condition's progression, or a new benign lesion, is not the melanoma progressing
    ("R knee: radiographic progression of her osteoarthritis per ortho.", "progression"),
    ("Full skin exam otherwise: new lesion R upper back, 6 mm waxy papule, c/w seborrheic keratosis.", "progression"),
    # an operation discussed and declined was never done; Mohs without the melanoma named was for another skin cancer
    ("We discussed staged excision with flap repair, and she declined any surgery.", "prior_surgery"),
    ("Healed Mohs scar right nasal ala.", "prior_surgery"),
    # the future, not the past
    ("No surgery has been scheduled.", "no_prior_surgery"),
    # the drug's standing among options, a program's name, a likeness
    ("Intralesional T-VEC is the standard option for unresectable in-transit disease.", "unresectable"),
    ("MEDICAL ONCOLOGY CONSULTATION - MELANOMA & SARCOMA PROGRAM", "melanoma"),
    ("His case was reviewed at the Melanoma/Sarcoma Tumor Board.", "melanoma"),
    ("The tumor is treated with melanoma-type regimens.", "melanoma"),
    # an obstetric history, a test not done, a procedure not planned
    ("G2P2002; gestational diabetes with the second pregnancy.", "pregnancy"),
    ("Transcutaneous intrahepatic injection is not planned and not indicated.", "intrahepatic_injection"),
    # an opinion once held, recounted: the past view, not today's
    ("He saw Dr. Osterhaus, who initially felt the disease was not resectable and recommended T-VEC.", "unresectable"),
    ("Dr. Osterhaus, who had judged the disease unresectable at the time, agreed with the plan.", "unresectable"),
    ("The nodules were previously deemed resectable.", "resectable"),
    # another operation's candidacy; nodes inside the chest and abdomen are visceral; advice; nodes not enlarged
    ("Neurosurgery (08/2026): not a surgical candidate for his lumbar stenosis; symptoms mild.", "unresectable"),
    ("CT chest showed bulky mediastinal and right hilar adenopathy.", "injectable_site"),
    ("Recurrence in the mediastinal, right hilar and aortocaval retroperitoneal lymph nodes.", "injectable_site"),
    ("Counseled to avoid pregnancy during therapy.", "pregnancy"),
    ("Thyroid FNA: not diagnostic of malignancy.", "pathology_doubt"),
    ("Referred from SSM Health for a second opinion.", "melanoma"),
    ("FISH analysis is negative for melanoma.", "melanoma"),
    ("Staging CT and PET negative; inguinal nodes not enlarged.", "injectable_site"),
    # a forecast of what an excision alone would bring
    ("Field disease of the leg; would expect new ITMs with local excision alone.", "progression"),
    # an exam line that did not look at the skin describes no lesion
    ("Skin/lesions: not re-examined in detail today; see the surgeon's exam of 10/14/2026.", "injectable_site"),
    # margins free of melanoma take no diagnosis back
    ("Margins are negative for melanoma; sentinel node negative.", "melanoma_disproved"),
    # declining a node dissection after a sentinel biopsy says nothing of whether the lesions can be removed
    ("I do not recommend any nodal surgery.", "unresectable"),
    ("I would not recommend completion lymph node dissection.", "unresectable"),
    # removing one bleeding nodule for palliation says nothing of whether the disease can be cleared
    ("He did recommend excision of the largest nodule, which has bled several times, purely for bleeding control.",
     "resectable"),
    ("Palliative excision of the ulcerated elbow nodule is planned.", "resectable"),
    # lesions 'not to be excised' are a plan, not a history without surgery
    ("The other L arm nodules are not to be excised and remain under injection therapy.", "no_prior_surgery"),
    # resectable only by an amputation is not resectable
    ("Resectability: technically resectable only by below-knee amputation, which is not recommended.", "resectable"),
])
def test_words_that_do_not_say_it_of_this_patient_now(reviewer, text, concept):
    assert not affirmed(reviewer, text, concept), text


@pytest.mark.parametrize("text, concept", [
    ("I do not consider her a surgical candidate; the nodules sit in a field that held nine metastases.", "unresectable"),
    ("Recurrent clear cell sarcoma of soft tissue, right calf.", "other_cancer"),
    ("Melanoma of the left calf excised with Mohs surgery in 2024.", "prior_surgery"),
    # the "not" of "not resectable" belongs to that phrase: the lesions after it are still there
    ("The current disease is not resectable: seven dermal and subcutaneous metastases of the forearm.", "injectable_site"),
    # a negation inside a target phrase still ends an earlier negation's reach
    ("There is no question, given the new groin node, that he is not a surgical candidate.", "unresectable"),
    # a dermatopathologist who will not call the lesion melanoma
    ("We would not regard this specimen as diagnostic of recurrent melanoma at this time.", "pathology_doubt"),
    # a fisherman's melanoma is his; a subtype abbreviated beside its staging
    ("57-year-old man (commercial fisherman, Homer) with primary anorectal mucosal melanoma.", "melanoma"),
    ("SSM L infraclavicular chest, Breslow 2.1 mm, non-ulc, pT3a.", "melanoma"),
    # a comorbidity that makes any operation unsafe still makes him no surgical candidate
    ("He is still not a surgical candidate because of his severe aortic stenosis.", "unresectable"),
    ("CT chest showed bulky mediastinal and right hilar adenopathy.", "visceral_site"),
    # a surgeon's plain words for a planned excision, and an operating room booked
    ("Both nodules are mobile; we will take these out next week.", "resectable"),
    ("OR booked for 11/19/2026 at Providence, outpatient.", "resectable"),
    # a melanoma label taken back: said outright, or revised on review
    ("The referral's diagnosis was an error; he has never had melanoma.", "melanoma_disproved"),
    ("The 2023 lesion originally called melanoma in situ was revised to squamous cell carcinoma in situ.",
     "melanoma_disproved"),
])
def test_what_is_said_of_this_patient_now(reviewer, text, concept):
    assert affirmed(reviewer, text, concept), text


@pytest.mark.parametrize("text, concept", [
    ("Fat-density 3 cm subcutaneous lesion of the right lower back without uptake, consistent with a lipoma.", "injectable_site"),
    ("Excision of an atypical nevus from the right upper back 2017.", "prior_surgery"),
    ("Lips: healed, no active herpetic lesions.", "response"),
    ("Basal cell carcinoma, left nasal ala (2019) - complete response to imiquimod.", "response"),
    ("Eleven injected nodules are all still palpable and none is flat.", "response"),
])
def test_benign_lesions_other_diseases_and_denials_are_not_the_melanoma(reviewer, text, concept):
    assert not affirmed(reviewer, text, concept), text


def _affirmed(reviewer, text: str, concept: str) -> list[str]:
    return [
        f.matched_text for f in reviewer.findings(plain_text_document("note.txt", "0", text))
        if f.concept == concept and not f.qualifiers.active()
    ]


def test_a_patients_refusal_is_no_unresectability(reviewer):
    assert not _affirmed(reviewer, "Not a surgical candidate d/t pt preference.\n", "unresectable")
    # the reason given in the next sentence, when it speaks of surgery
    refused = "Mrs. P is not a surgical candidate. She has told us she will not undergo any further surgery.\n"
    assert not _affirmed(reviewer, refused, "unresectable")
    # a refusal of something else, or a real reason beside the refusal, leaves the statement standing
    other = "He is not a surgical candidate. He declined IV systemic therapy because of travel.\n"
    assert _affirmed(reviewer, other, "unresectable")
    reasons = "Not a surgical candidate given 16 lesions from ankle to thigh; she also declined amputation.\n"
    assert _affirmed(reviewer, reasons, "unresectable")
    assert _affirmed(reviewer, "The surgeon again advised against surgery (would mean amputation).\n", "unresectable")


def test_a_note_that_quotes_its_own_words_as_template_text_retracts_them(reviewer):
    text = (
        "A/P: In-transit recurrence of the cheek. Not a surgical candidate.\n"
        "Addendum (supervising physician): \"Not a surgical candidate\" is default text in our treatment plan "
        "template and should have been deleted.\n"
    )
    found = [f for f in reviewer.findings(plain_text_document("note.txt", "0", text)) if f.concept == "unresectable"]
    assert found and all(f.qualifiers.negated for f in found)
    assert found[0].qualifiers.cues[-1].text == "default text"
    # a quote without retracting words is only a quote
    kept = text.replace(" is default text in our treatment plan template and should have been deleted", " stands")
    assert _affirmed(reviewer, kept, "unresectable")


@pytest.mark.parametrize("text, concept", [
    ("Continue T-VEC every 2 weeks until complete response, progression or intolerance.\n", "progression"),
    ("Nodule with atypical melanocytes with enlarged nuclei.\n", "progression"),
    ("New 7 mm tender keratotic papule, dorsal right hand.\n", "progression"),
    ("STSG site well healed.\n", "response"),
    ("Cellulitis at the injection site responded well to IV cefazolin.\n", "response"),
    ("Pigmented porocarcinoma can mimic melanoma clinically.\n", "melanoma"),
])
def test_words_that_look_like_the_concept_but_are_not_it(reviewer, text, concept):
    assert not _affirmed(reviewer, text, concept)


def test_a_planned_excision_belongs_to_the_cancer_its_problem_names(reviewer):
    text = (
        "ASSESSMENT AND PLAN\n1. In-transit melanoma of the scalp, too numerous to excise.\n"
        "2. Squamous cell carcinoma, R dorsal hand, deep margin involved.\nWe will excise it next week.\n"
    )
    assert not _affirmed(reviewer, text, "resectable")
    assert _affirmed(reviewer, text.replace("2. Squamous cell carcinoma, R dorsal hand, deep margin involved.\n", ""),
                     "resectable")


def test_a_melanoma_newly_diagnosed_now_is_its_first_presentation(reviewer):
    text = "63 y.o. woman with newly diagnosed melanoma presenting as a bulky left axillary nodal mass.\n"
    assert ("first_presentation", "newly diagnosed melanoma") in concepts(reviewer, text)
    told_of_the_past = "She was newly diagnosed with melanoma of the back in 2019 and had a wide local excision.\n"
    assert not [c for c in concepts(reviewer, told_of_the_past) if c[0] == "first_presentation"]
    # a first presentation the note dates months before its visit was the primary's, then
    dated = "Date of visit: 11/09/2026\nI first saw her on 03/18/2026 for a newly diagnosed melanoma of the back.\n"
    firsts = [f for f in reviewer.findings(plain_text_document("n.txt", "0", dated)) if f.concept == "first_presentation"]
    assert firsts and all(f.qualifiers.historical for f in firsts)
    recurrence = "Newly diagnosed in-transit recurrence of melanoma, L leg.\n"
    assert not [c for c in concepts(reviewer, recurrence) if c[0] == "first_presentation"]


@pytest.mark.parametrize("text", [
    "Persistent lentigo maligna melanoma of the cheek after two excisions with positive margins; new papules at the scar.",
    "Consistent with persistent melanoma (residual disease from the incompletely excised lentigo maligna melanoma).",
])
def test_disease_left_at_a_positive_margin_is_persistent_not_recurrent(reviewer, text):
    assert affirmed(reviewer, text, "persistent_disease"), text


@pytest.mark.parametrize("text", [
    "Final pathology showed residual melanoma to a depth of 2.1 mm, margins negative.",
    "In contrast to February, the residual disease is now resectable with 1 cm margins.",
])
def test_residual_melanoma_in_a_clear_excision_or_a_response_is_not_persistent_disease(reviewer, text):
    assert not affirmed(reviewer, text, "persistent_disease"), text


@pytest.mark.parametrize("text", [
    "Per tumor board 09/23/2026, surgery is off the table: the disease is too extensive for excision.",
    "Surgical oncology: disease extent precludes a surgical approach short of forequarter amputation.",
    "She has diffuse dermal disease beyond what can be excised.",
    "I cannot excise this pattern of disease with a reasonable margin.",
    "The only operation that would remove all of the disease is a hip-level amputation, which I do not recommend.",
    "Surgical clearance of the whole field would in practice require a forequarter amputation.",
    "Not a candidate for Mohs/staged excision or further wide excision.",
    "Not an operative candidate per Dr. Roebuck (surg onc) - extent of scalp disease.",
    "Hepatobiliary surgery does not consider him a resection candidate.",
    "Surgery is no longer a reasonable option: the nodules span the whole forearm.",
    "Head and neck surgery considers him not a candidate for resection, which would require free-flap reconstruction.",
])
def test_more_ways_surgeons_say_the_disease_cannot_be_operated_on(reviewer, text):
    assert affirmed(reviewer, text, "unresectable"), text


def test_not_fit_for_general_anesthesia_alone_is_not_unresectable(reviewer):
    # the lesions may still come out under local anesthesia
    assert not affirmed(reviewer, "He is not a candidate for general anesthesia (EF 25%).", "unresectable")


@pytest.mark.parametrize("text, concept, qualifier", [
    ("Whether the primary site was ever re-excised is therefore unknown.", "prior_surgery", "uncertain"),
    ("Dermatology biopsied two lesions because of concern for melanoma (dark color).", "melanoma", "uncertain"),
    ("Will start fulvestrant plus abemaciclib after discussing neutropenia and diarrhea.", "immunocompromised",
     "hypothetical"),
    ("Admitted 09/03/2026 with immune myocarditis, high-dose steroids, tapered off 10/14/2026.", "immunocompromised",
     "historical"),
    ("In an injected lesion, necrosis or fibrotic regression would favor a treatment effect.", "response",
     "hypothetical"),
])
def test_questions_concerns_counseling_and_ended_courses_are_qualified(reviewer, text, concept, qualifier):
    found = [f for f in reviewer.findings(plain_text_document("note.txt", "0", text)) if f.concept == concept]
    assert found and all(getattr(f.qualifiers, qualifier) for f in found), text


def test_a_records_request_for_an_operation_is_no_operation(reviewer):
    text = "Will keep trying to obtain the Magic Valley Dermatology records (any re-excision note or pathology)."
    assert not affirmed(reviewer, text, "prior_surgery")


def test_a_denied_list_of_operations_is_denied_whole(reviewer):
    text = "She has never had an excision, wide local excision, or any lymph node surgery."
    assert affirmed(reviewer, text, "no_prior_surgery") and not affirmed(reviewer, text, "prior_surgery")


def test_a_phrase_near_a_mention_counts_only_where_a_word_starts(reviewer):
    # 'indicated for' (the drug label's words, never evidence) is not inside 'contraindicated for'
    assert ("unresectable", "Surgical resection is contraindicated") in concepts(
        reviewer, "Surgical resection is contraindicated for the current lesions given their spread.\n"
    )
    assert not [c for c, _ in concepts(reviewer, "Imlygic is indicated for unresectable melanoma lesions.\n")
                if c == "unresectable"]


# Session 11, from the third phrase bank: ways of saying it that the rules had missed.
@pytest.mark.parametrize("text, concept", [
    ("Dr. Hale (surg onc) reviewed photos and exam; too many dermal nodules on the L calf to excise with clear "
     "margins.", "unresectable"),
    ("The extent of cutaneous spread over the lower leg is such that surgical extirpation would be futile.",
     "unresectable"),
    ("Spoke w/ plastics; the bed is irradiated so they will not take her to the OR.", "unresectable"),
    ("Surgical excision not felt to be feasible given number (~22) and distribution.", "unresectable"),
    ("Repeat surgical consult: no operative option for the R groin nodal disease.", "unresectable"),
    ("Cannot achieve R0 -- tumor extends through the deep fascia onto the periosteum.", "unresectable"),
    ("Surgeon unwilling to operate, lesion abuts the carotid bulb.", "unresectable"),
    ("Good operative candidate and the lesion is technically removable with clear margins.", "resectable"),
    ("Consent signed today for WLE of the shin lesion, OR 6/3.", "resectable"),
    ("Melanoma managed exclusively with radiation and checkpoint inhibitors, no operative history.", "no_prior_surgery"),
    ("The melanoma has not been operated on at any point.", "no_prior_surgery"),
    ("Since diagnosis she's had only biopsies, surgery was never pursued.", "no_prior_surgery"),
    ("Her disease has reappeared on the scalp after a disease-free interval; recurrent melanoma.", "recurrence"),
    ("Excellent locoregional response to intralesional therapy per tumor board.", "response"),
    ("Her ITMs are now barely perceptible.", "response"),
    ("Lesions unchanged in size from last visit.", "stable"),
    ("Dr. Arakawa saw him and would not attempt excision: the nodules ring the graft.", "unresectable"),
    ("The only operation that would clear the field is a below-knee amputation, which she does not recommend.",
     "unresectable"),
    ("Surgery remains off the table: she is on apixaban and the disease spans the calf and thigh.", "unresectable"),
    ("Taking the brow and lid plus a parotidectomy is not an operation I am willing to recommend.", "unresectable"),
    ("The conference agreed unanimously that the morbidity would be unacceptable.", "unresectable"),
    ("Still unable to confirm whether he had the WLE in Seattle; awaiting records.", "surgery_unconfirmed"),
    ("Whether a WLE/SLNB was done in 03/2025 is still unconfirmed: the entry was carried over.", "surgery_unconfirmed"),
    ("The 2024 primary was diagnosed on a transected shave biopsy; whether a wide excision was ever done afterwards "
     "is not documented in anything we have received.", "surgery_unconfirmed"),
    ("Whether the primary was ever excised is unknown.", "surgery_unconfirmed"),
    ("The in-transit field from the knee to the groin is too wide to excise.", "unresectable"),
    ("With his aortic stenosis he does not think Mr. Mikkelsrud is a surgical candidate.", "unresectable"),
    ("Whether she had a definitive excision of the 2022 primary after the shave, as she recalls, or only the shave "
     "biopsy, cannot be established with the records available.", "surgery_unconfirmed"),
    ("02/24/2025 - s/p wide local excision, scalp; per Dr. Quist's office, margins clear. Op/path report not in our "
     "chart.", "surgery_unconfirmed"),
    ("Nodules 1-3 on the dorsal forearm could be excised with a 1 cm margin and closed with a local flap.",
     "resectable"),
    ("I do not consider this resectable: nine deposits scattered across the chest wall and breast skin would need a "
     "field excision.", "unresectable"),
    ("On 06/18/2025 I performed a wide local excision with 2 cm margins and a left axillary sentinel lymph node "
     "biopsy.", "surgery_documented"),
    ("SPECIMEN: Skin and subcutis, right upper back, wide local excision.", "surgery_documented"),
    ("We agree that eleven nodules scattered from the ankle to the knee cannot reasonably be removed surgically.",
     "unresectable"),
    ("Operating on this scalp is not an option for him: clearing what is left would mean a free flap.",
     "unresectable"),
    ("Dr. Nakashima's opinion is that all four lesions can be taken in one en bloc excision.", "resectable"),
    ("Whether this is a recurrence of a melanoma that was removed in his PCP's office in 2023, or a melanoma of "
     "unknown primary, cannot be determined.", "surgery_unconfirmed"),
    ("I cannot document from the records that the 2023 procedure was an operation for melanoma.",
     "surgery_unconfirmed"),
])
def test_more_ways_of_saying_it(reviewer, text, concept):
    assert affirmed(reviewer, text, concept), text


@pytest.mark.parametrize("text, concept", [
    ("Recurrent ventral hernia, repair planned.", "recurrence"),
    ("Hx recurrent C. diff 2022.", "recurrence"),
    ("Recurrence-free survival data were reviewed with the patient.", "recurrence"),
    ("Counseled on signs of recurrence to report promptly.", "recurrence"),
    ("Will continue skin checks every 3 months to watch for recurrence.", "recurrence"),
    ("Unclear whether the flattening is true response or post-injection inflammation settling.", "response"),
    ("Re-auth note lacks documentation of clinical response.", "response"),
    ("RA has responded to methotrexate.", "response"),
    ("Responded to ipi in 2019, then everything grew back.", "response"),
    ("She remembers going back to get it taken care of that fall.", "resectable"),
    ("General: alert, moves slowly with a cane; left forearm in a removable splint.", "resectable"),
    ("New lesions since baseline: none.", "progression"),
    ("New lesions since the last visit: none.", "progression"),
    ("She has never had a melanoma or any other skin cancer removed.", "melanoma_disproved"),
    ("Resectability is unchanged since the tumor board.", "stable"),
    ("PHYSICAL EXAM:\nSkin: at the sites of the former nodules there are eleven flat gray-brown macules.",
     "injectable_site"),
    ("She has never had a wide local excision, sentinel node biopsy or any other operation on the leg.",
     "prior_surgery"),
    ("I did not perform a wide local excision.", "surgery_documented"),
    ("SPECIMEN: Soft tissue, left anterior thigh, excision. DIAGNOSIS: lipoma.", "surgery_documented"),
    ("I told her that surgery is the standard treatment and that intralesional T-VEC is meant for disease that "
     "cannot be removed.", "unresectable"),
    ("She is worried because she was told the lesions are \"too many to operate on\".", "unresectable"),
    ("Pre-operatively I judged this a resectable solitary metastasis, and he was a good surgical candidate.",
     "resectable"),
    ("The solitary lung metastasis is resectable by wedge resection.", "resectable"),
    ("Dexamethasone was tapered off; SRS to the resection cavity is scheduled.", "resectable"),
    ("- Repeat PET/CT in 3 months, sooner for new lesions.", "progression"),
    ("She has heard from a friend that \"they can cut it out again,\" and asked me about that today.", "resectable"),
    ("We did a US-guided core biopsy of the axillary mass instead of an open excisional biopsy.", "prior_surgery"),
    ("He responded well in the first 3 months, and these nodules grew while he missed his doses.", "response"),
    ("Nodules A and C are a little softer on palpation than at baseline; I would not call this a response.",
     "response"),
])
def test_and_what_only_sounds_like_it(reviewer, text, concept):
    assert not affirmed(reviewer, text, concept), text
