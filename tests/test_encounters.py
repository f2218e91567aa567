"""Encounter printouts: what an earlier dated visit said is the past; the latest visit tells the current state."""

from __future__ import annotations

from datetime import date

import pytest

from extractor.document import plain_text_document
from extractor.encounters import earlier_visits, mark_overtaken_denials, mark_revised_opinions, parse_date
from extractor.rules_loader import default_rules
from models import ReviewRequest

RULE = default_rules().encounters

PRINTOUT = (
    "CLINICAL NOTES - ENCOUNTER PRINT\n"
    "Encounters included (oldest first):\n"
    "1. Office Visit 07/21/2026 - Dr. Okafor\n"
    "2. Office Visit 10/27/2026 - Dr. Okafor\n\n"
    "Office Visit 07/21/2026 - Return, new problem\n"
    "ASSESSMENT\nRecurrent melanoma L calf, biopsy proven, after WLE/SLNB 02/2026.\n"
    "PLAN\nSolitary small lesion, resectable. I recommend excision with 1 cm margins.\n\n"
    "Office Visit 10/27/2026 - Return, recurrence\n"
    "PHYSICAL EXAM\nTwelve new cutaneous and subcutaneous nodules of the left calf, 2-10 mm.\n"
    "ASSESSMENT\nIn-transit recurrence of the left leg. With 13 lesions this is unresectable.\n"
)


@pytest.mark.parametrize("text, expected", [
    ("07/21/2026", date(2026, 7, 21)),
    ("7/1/26", date(2026, 7, 1)),
    ("2026-10-27", date(2026, 10, 27)),
    ("October 27, 2026", date(2026, 10, 27)),
    ("Sept. 3 2026", date(2026, 9, 3)),
    ("13/45/2026", None),
])
def test_visit_dates_as_printed(text, expected):
    assert parse_date(text) == expected


def test_the_earlier_visit_of_a_printout_runs_from_its_heading_to_the_next_visit():
    visits = earlier_visits(PRINTOUT, RULE)
    assert len(visits) == 1
    start, end, heading_start, heading_end = visits[0]
    assert PRINTOUT[heading_start:heading_end].startswith("Office Visit 07/21/2026")
    assert "resectable. I recommend excision" in PRINTOUT[start:end]
    assert "unresectable" not in PRINTOUT[start:end]


@pytest.mark.parametrize("heading", [
    "ENC 1 OF 2   07/21/2026   OFFICE VISIT   SURGICAL ONCOLOGY",
    "ENCOUNTER 2 of 3: 07/21/2026 - OFFICE VISIT",
    "07/21/2026 - Office Visit - Dr. Okafor",
    "# VISIT 07/21/2026 - Nurse Visit - Imlygic injection #12",
    "# Consult Note  -  Malachy Strand, MD (Surgical Oncology)  -  07/21/2026 10:40",
    "DATE SEEN:   07/21/2026",
    "Visit date/time: 07/21/2026 09:40        Clinic: SPECIALTY OUTREACH-ONC",
    "DATE OF NOTE: JUL 21, 2026@15:22              ENTRY DATE: JUL 21, 2026@15:40",
])
def test_other_ways_printouts_head_a_visit(heading):
    text = f"{heading}\nSolitary nodule, resectable.\n\nDate of service: 10/27/2026\nIn-transit disease, unresectable.\n"
    (start, end, _hs, _he), = earlier_visits(text, RULE)
    assert text[start:end].startswith(heading) and "unresectable" not in text[start:end]


def test_newest_first_printouts_and_date_of_service_lines_work_too():
    text = (
        "Date of service: 10/27/2026\nIn-transit recurrence, unresectable.\n\n"
        "Date of service: 07/21/2026\nSolitary nodule, resectable.\n"
    )
    (start, end, _hs, _he), = earlier_visits(text, RULE)
    assert text[start:end].startswith("Date of service: 07/21/2026") and end == len(text)


@pytest.mark.parametrize("text", [
    # one note: its date of service printed twice is one visit
    "Date of service: 10/27/2026\nPLAN: excision.\nOffice Visit 10/27/2026 (continued)\nexam\n",
    # dates inside history items or a list of encounters are not visit headings
    "HISTORY\n- 06/12/2026 clinic visit: nodules smaller.\n1. Office Visit 03/17/2026 - post-op\n"
    "Date of service: 10/27/2026\nexam\n",
])
def test_a_single_visit_is_left_alone(text):
    assert earlier_visits(text, RULE) == []


def test_an_earlier_visits_plan_is_historical_and_the_latest_visit_decides(reviewer):
    document = plain_text_document("print.txt", "0", PRINTOUT)
    findings = reviewer.findings(document)
    resectable = [f for f in findings if f.concept == "resectable"]
    assert resectable and all(f.qualifiers.historical for f in resectable)
    cue = resectable[0].qualifiers.cues[-1]
    assert cue.rule == RULE.id and cue.text.startswith("Office Visit 07/21/2026")
    assert PRINTOUT[cue.start:cue.end] == cue.text
    unresectable = [f for f in findings if f.concept == "unresectable"]
    assert unresectable and not any(f.qualifiers.active() for f in unresectable)
    determination = reviewer.review_documents([document], ReviewRequest(request_type="initial"))
    assert determination.criterion("unresectable").status == "met"


def test_a_document_much_older_than_the_newest_one_is_the_past(reviewer):
    old = plain_text_document(
        "consult_2024.txt", "0",
        "SURGICAL ONCOLOGY CONSULTATION\nDATE: 06/05/2024\nMelanoma of the left shin. "
        "The lesion is resectable; wide excision is being scheduled.\n",
    )
    new = plain_text_document(
        "visit_2026.txt", "0",
        "Date of service: 10/28/2026\nRecurrent melanoma of the left leg after WLE in 2024, with twelve in-transit "
        "nodules; she is not a surgical candidate.\n",
    )
    determination = reviewer.review_documents([old, new], ReviewRequest(request_type="initial"))
    unresectable = determination.criterion("unresectable")
    assert unresectable.status == "met"
    # the old consult is still shown, qualified historical with its dated heading as the cue
    old_ones = [e for e in unresectable.evidence if e.document == "consult_2024.txt"]
    assert all(e.qualifiers.historical for e in old_ones)
    # two documents of the same months are both current: their statements conflict
    recent = plain_text_document("consult.txt", "0", old.text.replace("06/05/2024", "10/02/2026"))
    determination = reviewer.review_documents([recent, new], ReviewRequest(request_type="initial"))
    assert determination.criterion("unresectable").status == "insufficient"


def test_a_later_note_that_recounts_the_earlier_opinion_and_revises_it_decides(reviewer):
    consult = plain_text_document(
        "surgonc.txt", "0",
        "Date of service: 10/15/2026\nRecurrent melanoma of the back after WLE in 2025, four subcutaneous nodules. "
        "In my opinion these lesions are unresectable.\n",
    )
    revised = plain_text_document(
        "medonc.txt", "0",
        "Date of service: 11/16/2026\nDr. Lee initially felt the disease was not resectable. The fourth nodule was a "
        "cyst, and the three nodules are amenable to en bloc excision, now scheduled.\n",
    )
    request = ReviewRequest(request_type="initial")
    determination = reviewer.review_documents([consult, revised], request)
    unresectable = determination.criterion("unresectable")
    assert unresectable.status == "not_met" and not unresectable.conflict
    # the earlier note's opinion is still shown to whoever looks, qualified historical by its own dated heading
    findings = reviewer.findings(consult)
    marked = mark_revised_opinions([findings, reviewer.findings(revised)], [consult.text, revised.text], RULE)[0]
    old = [f for f in marked if f.concept == "unresectable"]
    assert old and all(f.qualifiers.historical for f in old)
    assert old[0].qualifiers.cues[-1].text.startswith("Date of service: 10/15/2026")
    # a note that does not recount the earlier opinion only disagrees with it: that stays a conflict
    plain = plain_text_document("medonc.txt", "0", revised.text.replace("Dr. Lee initially felt the disease was not resectable. ", ""))
    assert reviewer.review_documents([consult, plain], request).criterion("unresectable").conflict
    # nor does a revision reach back over a note written after it
    later = plain_text_document("surgonc.txt", "0", consult.text.replace("10/15/2026", "11/20/2026"))
    assert reviewer.review_documents([later, revised], request).criterion("unresectable").conflict


def test_an_opinion_dated_weeks_before_the_visit_is_what_was_thought_then(reviewer):
    text = (
        "Date of service: 10/26/2026\nHPI: Dr. Lee saw him on 07/14/2026, when there were two nodules, and scheduled "
        "excision of both for 07/28/2026.\nThe board now calls the eleven nodules unresectable.\n"
    )
    findings = reviewer.findings(plain_text_document("note.txt", "0", text))
    resectable = [f for f in findings if f.concept == "resectable"]
    assert resectable and all(f.qualifiers.historical for f in resectable)
    assert resectable[0].qualifiers.cues[-1].text == "07/14/2026"
    assert not any(f.qualifiers.historical for f in findings if f.concept == "unresectable")
    # a date within the last six weeks, or a date still to come, keeps the plan current
    recent = text.replace("07/14/2026", "10/01/2026").replace("07/28/2026", "11/28/2026")  # 25 days: current
    assert not any(f.qualifiers.historical for f in reviewer.findings(plain_text_document("n.txt", "0", recent))
                   if f.concept == "resectable")


def test_a_note_months_newer_than_the_opposite_opinion_supersedes_it(reviewer):
    july = plain_text_document(
        "surgonc.txt", "0", "Date: 07/14/2026\nTwo satellite nodules of the thigh after WLE; both are resectable.\n"
    )
    october = plain_text_document(
        "board.txt", "0", "Conference date: 10/14/2026\nEleven in-transit nodules and a groin node: unresectable.\n"
    )
    request = ReviewRequest(request_type="initial")
    assert reviewer.review_documents([july, october], request).criterion("unresectable").status == "met"
    # four weeks apart, without the later note recounting the earlier opinion, the two still conflict
    august = plain_text_document("board.txt", "0", october.text.replace("10/14/2026", "08/11/2026"))
    assert reviewer.review_documents([july, august], request).criterion("unresectable").conflict


def test_an_old_dated_opinion_with_nothing_newer_against_it_stands(reviewer):
    text = (
        "Date of service: 11/20/2026\nTumor board 09/02/2026: disease deemed unresectable given the number of "
        "in-transit lesions.\nT-VEC #6 today, tolerating well.\n"
    )
    findings = reviewer.findings(plain_text_document("note.txt", "0", text))
    unresectable = [f for f in findings if f.concept == "unresectable"]
    assert unresectable and not any(f.qualifiers.historical for f in unresectable)


def test_a_pathology_consultation_that_revises_the_outside_diagnosis_withdraws_it(reviewer):
    visit = plain_text_document(
        "derm.txt", "0",
        "Date of service: 10/19/2026\nAssessment: Recurrent spindle cell melanoma, L parietal scalp (C43.4), six "
        "dermal nodules around the 2024 WLE site.\n",
    )
    consult = plain_text_document(
        "dermpath.txt", "0",
        "DERMATOPATHOLOGY CONSULTATION REPORT\nReceived: 10/22/2026      Reported: 11/04/2026\n"
        "Outside diagnosis: malignant melanoma, spindle cell type (2024); recurrent spindle cell melanoma (2026).\n"
        "DIAGNOSIS\nSkin, L parietal scalp, punch biopsy: Recurrent pleomorphic dermal sarcoma.\n"
        "The outside diagnoses of spindle cell melanoma are revised.\n",
    )
    determination = reviewer.review_documents([visit, consult], ReviewRequest(request_type="initial"))
    assert determination.criterion("melanoma_diagnosis").status == "not_met"
    # a later pathology report that names another cancer without revising the melanoma leaves it standing
    other = plain_text_document(
        "path.txt", "0", "Reported: 11/04/2026\nDIAGNOSIS\nSkin, nose, shave: Basal cell carcinoma, nodular.\n"
    )
    determination = reviewer.review_documents([visit, other], ReviewRequest(request_type="initial"))
    assert determination.criterion("melanoma_diagnosis").status == "met"


def test_a_month_named_without_a_day_dates_the_statement_too(reviewer):
    text = (
        "Date of service: 11/10/2026\nDr. Kessler saw him in September and planned a left parotidectomy and neck "
        "dissection.\nAt exploration the mass was fixed to the carotid: the disease is unresectable.\n"
    )
    findings = reviewer.findings(plain_text_document("note.txt", "0", text))
    resectable = [f for f in findings if f.concept == "resectable"]
    assert resectable and all(f.qualifiers.historical for f in resectable)
    assert resectable[0].qualifiers.cues[-1].text == "in September"


def test_a_fax_cover_date_is_no_visit_and_leaves_the_faxed_note_current(reviewer):
    text = (
        "FAX COVER SHEET\nTO: Premera prior authorization\nFAX: 1-800-555-0199\nFROM: clinic\nDATE: 11/13/2026\n"
        "RE: Imlygic renewal\n\nPROGRESS NOTE\nPt: Jane Doe   DOS: 11/10/2026\n"
        "A/P: In-transit disease of the leg, not a surgical candidate given the number of lesions.\n"
    )
    assert earlier_visits(text, RULE) == []
    findings = reviewer.findings(plain_text_document("fax.txt", "0", text))
    unresectable = [f for f in findings if f.concept == "unresectable"]
    assert unresectable and not any(f.qualifiers.historical for f in unresectable)
    # a date line that is a visit's, with no fax fields under it, still heads a visit
    assert earlier_visits("DATE: 07/21/2026\nSolitary nodule, resectable.\n\nDOS: 10/27/2026\nexam\n", RULE)


def test_an_imaging_reports_exam_date_dates_it_so_an_older_scans_response_is_the_past(reviewer):
    ct = plain_text_document(
        "ct.txt", "0", "CT CHEST ABDOMEN PELVIS\nExam date: 03/17/2026 10:42\nIMPRESSION: Partial treatment response: "
        "interval decrease in size of the left inguinal node and thigh subcutaneous nodules.\n",
    )
    note = plain_text_document(
        "note.txt", "0", "Date of service: 11/10/2026\nA/P: Stable disease on T-VEC after 11 treatments: sum of "
        "diameters 65 mm at baseline, 64 mm today, no new lesions.\n",
    )
    request = ReviewRequest(request_type="reauthorization")
    assert reviewer.review_documents([note, ct], request).criterion("clinical_response").status == "insufficient"
    undated = plain_text_document("ct.txt", "0", ct.text.replace("Exam date: 03/17/2026 10:42\n", ""))
    assert reviewer.review_documents([note, undated], request).criterion("clinical_response").status == "met"


def test_a_pregnancy_or_immunosuppression_dated_well_before_the_visit_is_of_then(reviewer):
    text = (
        "Date of service: 11/16/2026\nIn 03/2024, while about 22 weeks pregnant with her son, she had a changing mole "
        "removed.\nNivolumab was stopped in May 2025 for hepatitis that needed high-dose corticosteroids.\n"
        "She and her partner hope for a second child; pregnancy should be deferred during treatment.\n"
    )
    findings = reviewer.findings(plain_text_document("note.txt", "0", text))
    flagged = [f for f in findings if f.concept in ("pregnancy", "immunocompromised")]
    assert {f.concept for f in flagged} == {"pregnancy", "immunocompromised"}
    assert all(f.qualifiers.active() for f in flagged)
    # a pregnancy the visit states now is one
    now = reviewer.findings(plain_text_document("n.txt", "0", "Date of service: 11/16/2026\nShe is 14 weeks pregnant.\n"))
    assert any(f.concept == "pregnancy" and not f.qualifiers.active() for f in now)


def test_an_older_opinion_quoted_in_a_note_that_states_the_opposite_now_is_of_then(reviewer):
    text = (
        "Date of service: 10/28/2026\n"
        "Letter of Dr. Strzelecki, 04/09/2026 (quoted from the chart):\n"
        '"In my opinion his in-transit disease of the right thigh is not amenable to surgical resection at this time. '
        'I recommend intralesional therapy."\n'
        "After pembrolizumab both residual nodules are resectable with a single elliptical wide excision.\n"
    )
    findings = reviewer.findings(plain_text_document("note.txt", "0", text))
    quoted = [f for f in findings if f.concept == "unresectable"]
    assert quoted and all(f.qualifiers.historical for f in quoted)
    assert quoted[0].qualifiers.cues[-1].text == '"' and quoted[0].qualifiers.cues[-1].rule.endswith(".quoted")
    assert not any(f.qualifiers.historical for f in findings if f.concept == "resectable")
    # a colleague's opinion of two days ago, quoted, is a current one: the two opinions still conflict
    recent = text.replace("04/09/2026", "10/26/2026")
    assert not any(f.qualifiers.historical for f in reviewer.findings(plain_text_document("n.txt", "0", recent))
                   if f.concept == "unresectable")


def test_a_quotation_dated_by_its_month_alone_is_of_then_when_that_month_is_long_past(reviewer):
    text = (
        "Date of service: 11/09/2026\n"
        "Note from derm 02/2024, copied into our record by the referral coordinator:\n"
        '"Assessment: SSM L shin 1.2 mm. Plan WLE with 1 cm margins."\n'
        "The leg disease is too widespread to excise and she is not a candidate for surgical resection.\n"
    )
    findings = reviewer.findings(plain_text_document("note.txt", "0", text))
    planned = [f for f in findings if f.concept == "resectable"]
    assert planned and all(f.qualifiers.historical for f in planned)
    # a month that is the visit's own (or last month's, within the rule's days) dates no old quotation
    recent = text.replace("02/2024", "11/2026")
    assert not any(f.qualifiers.historical for f in reviewer.findings(plain_text_document("n.txt", "0", recent))
                   if f.concept == "resectable")


def test_a_month_without_its_day_counts_from_its_last_day():
    from datetime import date

    from extractor.encounters import month_end

    assert month_end("02/2024") == date(2024, 2, 29)
    assert month_end("December 2025") == date(2025, 12, 31)
    assert month_end("Feb. 2026") == date(2026, 2, 28)
    assert month_end("13/2024") is None and month_end("spring 2024") is None


def test_a_quoted_opinion_is_dated_against_the_notes_visit(reviewer):
    text = (
        "My consult note of 03/11/2024 read, in part: \"2.6 mm nodular melanoma R posterior shoulder. The primary "
        'lesion is resectable with a wide margin and primary closure."\n'
        "Clearing the current disease would mean a forequarter amputation. Not a candidate for resection of the "
        "current shoulder and arm disease.\n"
    )
    undated = reviewer.findings(plain_text_document("note.txt", "0", text))
    # without any visit date the quotation cannot be dated against the note, and it is left alone
    assert not any(f.qualifiers.historical for f in undated if f.concept == "resectable")
    dated = reviewer.findings(plain_text_document("note.txt", "0", "Date of service: 10/14/2026\n" + text))
    assert all(f.qualifiers.historical for f in dated if f.concept == "resectable")


def test_a_plan_dated_before_the_visit_is_no_plan_now(reviewer):
    text = (
        "Date of service: 10/14/2026\n"
        "Re-excision was planned for 09/03/2026, but the pre-op PET/CT showed nine more foci across the trunk.\n"
        "The disease is not resectable per the tumor board.\n"
    )
    findings = reviewer.findings(plain_text_document("note.txt", "0", text))
    planned = [f for f in findings if f.concept == "resectable"]
    assert planned and all(f.qualifiers.historical for f in planned)
    assert planned[0].qualifiers.cues[-1].rule.endswith(".past_plan")
    # a date still to come keeps the plan current
    future = text.replace("09/03/2026", "11/13/2026")
    assert any(not f.qualifiers.active() for f in reviewer.findings(plain_text_document("n.txt", "0", future))
               if f.concept == "resectable")


def test_an_ehr_header_row_with_a_date_field_dates_the_visit():
    text = "Provider: Benedikt Aalto, MD  Visit type: Established patient  Date: 08/11/2026\nBoth nodules are resectable.\n"
    from extractor.encounters import latest_visit

    visit = latest_visit(text, RULE)
    assert visit is not None and visit[0] == date(2026, 8, 11)


def test_the_visit_date_of_a_quotation_may_come_from_the_printouts_banner(reviewer):
    from extractor.encounters import mark_quoted_opinions

    banner = "Samish Surgical Oncology | VANDERHEYDEN, RAYMOND J | MRN 5510-2277 | DOB 07/02/1965 | DOS 10/28/2026\n"
    body = (
        "Letter of Dr. Strzelecki, 04/09/2026:\n"
        '"In my opinion his in-transit disease of the right thigh is not amenable to surgical resection at this time."\n'
        "Both residual nodules are resectable with a single elliptical wide excision.\n"
    )
    clean = " " * len(banner) + body  # the banner is furniture: blanked in the text the rules read
    findings = reviewer.findings(plain_text_document("note.txt", "0", body))
    shifted = [f.model_copy(update={"start": f.start + len(banner), "end": f.end + len(banner)}) for f in findings]
    assert not any(f.qualifiers.historical for f in mark_quoted_opinions(shifted, clean, RULE))
    marked = mark_quoted_opinions(shifted, clean, RULE, banner + body)
    assert all(f.qualifiers.historical for f in marked if f.concept == "unresectable")


def test_a_printout_dated_only_in_its_banner_can_be_stale():
    from extractor.encounters import mark_stale_documents
    from models import Finding

    banner = "Alaska Surgical Oncology | Clinic Note | DOB 02/11/1955 | DOS 05/06/2024\n"
    body = "Reason: new nodules R arm 8 weeks after in-transit excision\n"
    old_clean, old_printed = " " * len(banner) + body, banner + body  # the banner is furniture: blank in the clean text
    new = "Date of service: 11/16/2026\nPartial response to T-VEC.\n"
    start = old_clean.index("new nodules")
    progression = Finding(concept="progression", rule="t", document="old.pdf", start=start, end=start + 11,
                          matched_text="new nodules", sentence_start=start, sentence_end=len(old_clean) - 1,
                          sentence=body.strip(), page=1)
    unmarked, _ = mark_stale_documents([[progression], []], [old_clean, new], RULE)
    assert not unmarked[0].qualifiers.historical  # undated as far as its own lines go
    marked, _ = mark_stale_documents([[progression], []], [old_clean, new], RULE, [old_printed, new])
    assert marked[0].qualifiers.historical and "DOS 05/06/2024" in marked[0].qualifiers.cues[-1].text


def test_an_opinion_said_to_hold_still_is_current_whatever_old_dates_it_recounts(reviewer):
    text = (
        "Date of service: 11/16/2026\n"
        "02/18/2026 - Dr. Feldkamp consult. Her note from that visit reads: \"Three small clustered in-transit "
        'nodules within 4 cm of the graft, all amenable to excision under local anesthesia."\n'
        "The disease remains unresectable; the excision recommendation from 02/2026 was superseded on 05/06/2026.\n"
    )
    findings = reviewer.findings(plain_text_document("note.txt", "0", text))
    assert any(not f.qualifiers.active() for f in findings if f.concept == "unresectable")
    # and so the quoted old opinion is the past
    assert all(f.qualifiers.historical for f in findings if f.concept == "resectable")
    # said without 'remains', the sentence recounts only old dates: what was thought then
    then = reviewer.findings(plain_text_document("n.txt", "0", text.replace("remains", "was")))
    assert all(f.qualifiers.historical for f in then if f.concept == "unresectable")


def test_a_plan_dated_before_a_printout_dated_only_in_its_banner_is_no_plan_now(reviewer):
    from extractor.encounters import mark_old_dated_statements, mark_past_plans

    banner = "Skagit Valley Dermatology | VANTASSEL, MARGUERITE | DOB 03/08/1951 | Visit 10/27/2026\n"
    body = (
        "We referred her to surgical oncology and a wide excision with a forehead flap was booked for 03/21/2024.\n"
        "He does not recommend surgery now: the disease has spread along the frontal hairline.\n"
    )
    clean = " " * len(banner) + body  # the banner is furniture: blanked in the text the rules read
    findings = reviewer.findings(plain_text_document("note.txt", "0", body))
    shifted = [f.model_copy(update={"start": f.start + len(banner), "end": f.end + len(banner),
                                    "sentence_start": f.sentence_start + len(banner),
                                    "sentence_end": f.sentence_end + len(banner)}) for f in findings]
    planned = [f for f in shifted if f.concept == "resectable"]
    assert planned and not any(f.qualifiers.historical for f in planned)
    # without the banner the note has no date, so nothing is dated against it
    assert not any(f.qualifiers.historical for f in mark_past_plans(planned, clean, RULE))
    for marked in (mark_past_plans(planned, clean, RULE, banner + body),
                   mark_old_dated_statements(shifted, clean, RULE, printed=banner + body)):
        resectable = [f for f in marked if f.concept == "resectable"]
        assert resectable and all(f.qualifiers.historical for f in resectable)
        assert resectable[0].qualifiers.cues[-1].text == "03/21/2024"


def test_the_exam_a_letter_of_medical_necessity_recounts_is_no_office_visits_exam(reviewer):
    body = (
        "Re: Imlygic, initial authorization\n"
        "{salutation}\n"
        "I am writing on behalf of my patient, who has recurrent melanoma of the right chest wall after WLE in 2023.\n"
        "PHYSICAL EXAM\n"
        "On examination at her visit on 10/19/2026 she has about 20 dermal nodules across the right chest wall.\n"
        "Sincerely,\n"
    )

    def exams(salutation: str) -> list:
        text = body.replace("{salutation}", salutation)
        found = reviewer.findings(plain_text_document("letter.txt", "0", text))
        return [f for f in found if f.concept == "section:physical_exam"]

    for to_the_plan in ("To Whom It May Concern:", "Dear Medical Director,"):
        letter = exams(to_the_plan)
        assert letter and all(f.qualifiers.historical for f in letter)
        assert letter[0].qualifiers.cues[-1].rule.endswith(".necessity_letter")
    # a consult letter to the referring physician is the visit's note: its exam stands
    assert exams("Dear Dr. Okafor,") and not any(f.qualifiers.historical for f in exams("Dear Dr. Okafor,"))


def test_an_old_dated_opinion_gives_way_to_the_question_put_now(reviewer):
    text = (
        "Date of service: 11/12/2026\n"
        "Problem list:\n"
        "- Melanoma of R thigh, in-transit recurrence, unresectable (05/2026).\n"
        "With only two small nodules left, whether they could now be excised is a fair question that I cannot answer.\n"
    )
    found = reviewer.findings(plain_text_document("note.txt", "0", text))
    assert [f.qualifiers.uncertain for f in found if f.concept == "resectable"] == [True]
    old = [f for f in found if f.concept == "unresectable"]
    assert old and all(f.qualifiers.historical for f in old)
    # without the question the old opinion stands: nothing newer says otherwise
    standing = reviewer.findings(plain_text_document("n.txt", "0", text.rsplit("With only", 1)[0]))
    assert any(not f.qualifiers.active() for f in standing if f.concept == "unresectable")


@pytest.mark.parametrize("footer", [
    "Abernathy-Kwan, Leonard * MRN 00731-552 * DOB 02/14/1954 * Enc 10/27/2026 * Printed 10/28/2026 08:41",
    "Columbia Basin Oncology | DOS 10/27/2026 | Page 1 of 3",
    "Visit 10/27/2026 | Skagit Valley Dermatology",
])
def test_the_date_a_printout_prints_on_every_page_dates_its_visit(footer):
    from extractor.encounters import latest_visit

    visit = latest_visit(footer + "\n", RULE, printed=True)
    assert visit is not None and visit[0] == date(2026, 10, 27)


def test_an_enc_date_dates_a_printout_only_from_its_footer():
    from extractor.encounters import latest_visit

    footer = "Abernathy-Kwan, Leonard * MRN 00731-552 * DOB 02/14/1954 * Enc 10/27/2026 * Printed 10/28/2026 08:41\n"
    assert latest_visit(footer, RULE) is None  # no heading of the note's own lines
    assert latest_visit(footer, RULE, printed=True)[0] == date(2026, 10, 27)


def test_a_letter_of_medical_necessity_gives_way_to_any_newer_note_stating_the_opposite(reviewer):
    letter = plain_text_document("lmn.txt", "0", (
        "October 14, 2026\n\nPremera Blue Cross\nRE: Imlygic\nTo Whom It May Concern:\n"
        "Mr. B has recurrent melanoma of the right arm after WLE in 2025. His in-transit disease is currently "
        "unresectable.\nSincerely,\n"))
    consult = plain_text_document("consult.txt", "0", (
        "Date of service: 11/04/2026\nASSESSMENT AND PLAN:\n"
        "All three nodules are small and superficial, and each can be removed completely through a simple "
        "elliptical excision. The lesions are resectable.\n"))
    determination = reviewer.review_documents([letter, consult], ReviewRequest(request_type="initial"))
    assert determination.criterion("unresectable").status == "not_met"
    # a clinic note three weeks older than the consult is not a letter: the two opinions conflict
    note = plain_text_document("visit.txt", "0", (
        "Date of service: 10/14/2026\nASSESSMENT AND PLAN:\nHis in-transit disease is currently unresectable.\n"))
    determination = reviewer.review_documents([note, consult], ReviewRequest(request_type="initial"))
    assert determination.criterion("unresectable").status == "insufficient"


def test_an_assessment_calling_off_the_operation_settles_the_notes_own_plans(reviewer):
    text = (
        "Date of service: 10/27/2026\n"
        "REASON FOR VISIT: Pre-op for re-excision of scalp satellite recurrence, booked 10/29/2026.\n"
        "HPI: Four new satellite nodules have appeared around the graft since the tumor board.\n"
        "ASSESSMENT AND PLAN:\n"
        "He is not a surgical candidate for the current scalp disease, and I have cancelled the 10/29/2026 "
        "operation.\n"
    )
    found = reviewer.findings(plain_text_document("preop.txt", "0", text))
    plans = [f for f in found if f.concept == "resectable"]
    assert plans and all(f.qualifiers.historical for f in plans)
    assert plans[0].qualifiers.cues[-1].rule.endswith(".settled_in_assessment")
    # without the plan called off, the note's visit reason and its assessment are left to conflict
    kept = reviewer.findings(plain_text_document("n.txt", "0", text.replace(", and I have cancelled the "
                                                                             "10/29/2026 operation", "")))
    assert any(not f.qualifiers.active() for f in kept if f.concept == "resectable")
    # another clinician's view the note restates is no plan of its own: it stands
    other = text.replace("HPI: Four", "HPI: Dr. Lee considers this resectable. Four")
    restated = reviewer.findings(plain_text_document("o.txt", "0", other))
    assert any(not f.qualifiers.active() and f.rule == "resectable.word.1" for f in restated)


def test_a_tumor_boards_date_of_conference_dates_it():
    from extractor.encounters import document_visit
    text = "TUMOR BOARD\nDate of conference: 05/20/2026, 12:00-13:00\nSurgery: at present not resectable.\n"
    visit = document_visit(text, RULE)
    assert visit is not None and visit[0] == date(2026, 5, 20)
    banner = "Oncology  /  Doe, Jane  /  DOB 04/30/1955  /  Seen 09/22/2026\nBody\n"
    assert document_visit("Body\n", RULE, banner)[0] == date(2026, 9, 22)
    assert document_visit("Body\n", RULE, "He was seen 09/22/2026 by dermatology.\n") is None


def test_a_later_note_calling_the_earlier_growth_pseudoprogression_settles_it_whatever_the_days(reviewer):
    scan = plain_text_document("ct.txt", "0", (
        "CT NECK WITH CONTRAST\nDate of exam: 09/30/2026\nIMPRESSION:\n"
        "Interval enlargement of the left preauricular subcutaneous metastasis, compatible with disease progression.\n"))
    visit = plain_text_document("visit.txt", "0", (
        "Date of service: 11/16/2026\nASSESSMENT AND PLAN:\n"
        "The enlargement on the 09/30 CT has since reversed; in retrospect it was inflammatory pseudoprogression. "
        "All five injected lesions have decreased in size.\n"))
    request = ReviewRequest(request_type="reauthorization")
    assert reviewer.review_documents([scan, visit], request).criterion("clinical_response").status == "met"
    # seven weeks apart, a later response without that verdict leaves the mixed picture to the reviewer
    plain = plain_text_document("v.txt", "0", visit.text.replace(
        "The enlargement on the 09/30 CT has since reversed; in retrospect it was inflammatory pseudoprogression. ", ""))
    assert reviewer.review_documents([scan, plain], request).criterion("clinical_response").conflict
    # ... and so does a verdict that it was not pseudoprogression
    denied = plain_text_document("d.txt", "0", visit.text.replace("it was inflammatory", "it was not inflammatory"))
    assert reviewer.review_documents([scan, denied], request).criterion("clinical_response").status != "met"
    # an injection-site flare named as such settles the growth too
    flare = plain_text_document("f.txt", "0", visit.text.replace(
        "in retrospect it was inflammatory pseudoprogression", "the swelling was an inflammatory flare at the "
        "injection sites, not growth"))
    assert reviewer.review_documents([scan, flare], request).criterion("clinical_response").status == "met"


def test_a_later_surgical_consult_booking_the_excision_settles_resectability(reviewer):
    oncology = plain_text_document("medonc.txt", "0", (
        "Date of service: 10/14/2026\nASSESSMENT AND PLAN:\nI consider this scalp recurrence unresectable.\n"))
    surgery = plain_text_document("surg.txt", "0", (
        "Date of service: 11/06/2026\nASSESSMENT AND PLAN:\nThese three nodules are resectable. "
        "Surgery is booked for 12/01/2026.\n"))
    request = ReviewRequest(request_type="initial")
    assert reviewer.review_documents([oncology, surgery], request).criterion("unresectable").status == "not_met"
    # three weeks apart and nothing booked, the two opinions conflict
    offered = plain_text_document("s.txt", "0", surgery.text.replace(" Surgery is booked for 12/01/2026.", ""))
    assert reviewer.review_documents([oncology, offered], request).criterion("unresectable").conflict


def test_a_banner_seen_date_between_asterisks_dates_the_printout():
    from extractor.encounters import document_visit
    banner = "Ruston Way Oncology  *  DOE, JANE  *  DOB 01/09/1955  *  Seen 10/14/2026\nBody\n"
    assert document_visit("Body\n", RULE, banner)[0] == date(2026, 10, 14)


def test_months_in_brackets_date_a_statement_but_words_that_begin_like_months_do_not():
    import re
    months = re.compile(RULE.month_reference, re.IGNORECASE)
    assert months.search("after the 3rd and 4th treatments (June-July) the lesions enlarged")
    assert months.search("seen by surgery (Sept. 2025)")
    assert not months.search("erythema (marked) around the nodules")
    assert not months.search("the node (decreased from 14 mm)")
    assert not months.search("swelling (may be inflammatory)")


def test_a_note_denying_skin_disease_now_makes_its_dated_lesions_past(reviewer):
    text = (
        "Date of visit: 10/15/2026\nHPI: In 07/2025 she developed six in-transit nodules of the upper back; "
        "they resolved on pembrolizumab. MRI 09/10/2026: four hepatic metastases.\n"
        "ASSESSMENT: There is no cutaneous, subcutaneous or nodal disease at present; all known disease is in the liver.\n"
    )
    found = reviewer.findings(plain_text_document("v.txt", "0", text))
    sites = [f for f in found if f.concept == "injectable_site"]
    assert sites and not any(not f.qualifiers.active() for f in sites)
    assert any(c.rule.endswith(".denied_now") for f in sites for c in f.qualifiers.cues)
    # without the denial, the dated nodules are left as they are
    kept = reviewer.findings(plain_text_document("k.txt", "0", text.split("ASSESSMENT")[0]))
    assert any(not f.qualifiers.active() for f in kept if f.concept == "injectable_site")
    # ... and so they are beside a denial of one site only
    one_site = text.split("ASSESSMENT")[0] + "EXAM: Neck: no cervical adenopathy.\n"
    kept = reviewer.findings(plain_text_document("o.txt", "0", one_site))
    assert any(not f.qualifiers.active() for f in kept if f.concept == "injectable_site")
    # a site its own sentence denies lesions at is a site of then; 'no other' lesions leaves the named ones standing
    exam = ("Date of visit: 10/15/2026\nEXAM: Faint flat macules at the in-transit sites on the back; no palpable "
            "dermal or subcutaneous nodules anywhere.\nMRI 09/10/2026: four hepatic metastases.\n")
    sites = [f for f in reviewer.findings(plain_text_document("e.txt", "0", exam)) if f.concept == "injectable_site"]
    assert sites and not any(not f.qualifiers.active() for f in sites)
    others = exam.replace("no palpable dermal", "no other dermal")
    kept = reviewer.findings(plain_text_document("x.txt", "0", others))
    assert any(not f.qualifiers.active() for f in kept if f.concept == "injectable_site")
    # the drug's label names the sites; it is no lesion of the patient's
    label = "Imlygic is labeled for cutaneous, subcutaneous and nodal lesions; she has none at present.\n"
    assert not any(not f.qualifiers.active() for f in reviewer.findings(plain_text_document("l.txt", "0", label))
                   if f.concept == "injectable_site")


def test_a_settling_note_that_recounts_the_earlier_letters_view_as_another_clinicians_still_settles_it(reviewer):
    letter = plain_text_document("lmn.txt", "0", (
        "October 8, 2026\nTo Whom It May Concern:\nHis in-transit disease is not amenable to surgical resection.\n"))
    surgeon = plain_text_document("surg.txt", "0", (
        "Date of service: 10/22/2026\nHPI: Dr. Kerr's letter of 10/08 describes the recurrence as not amenable to "
        "resection.\nASSESSMENT AND PLAN:\nBoth nodules can be removed through a single elliptical excision. "
        "I called Dr. Kerr after the visit; she agrees that excision is the right first step.\n"))
    request = ReviewRequest(request_type="initial")
    assert reviewer.review_documents([letter, surgeon], request).criterion("unresectable").status == "not_met"
    # the surgeon's own word that the disease is unresectable would be no recount: the two conflict
    own = plain_text_document("own.txt", "0", surgeon.text.replace(
        "HPI: Dr. Kerr's letter of 10/08 describes the recurrence as not amenable to resection.",
        "HPI: The recurrence is not amenable to resection."))
    assert reviewer.review_documents([letter, own], request).criterion("unresectable").status == "insufficient"


def test_a_month_just_after_the_visit_named_as_when_something_will_happen_is_to_come(reviewer):
    text = (
        "Date: 11/13/2026\nIn my judgment these back nodules are unresectable.\nDr. Ramanathan's view differs: he "
        "considers the nodules resectable by a single wide excision and has offered her surgery in December.\n"
    )
    findings = reviewer.findings(plain_text_document("note.txt", "0", text))
    resectable = [f for f in findings if f.concept == "resectable"]
    assert resectable and not any(f.qualifiers.historical for f in resectable)
    # a month well behind the visit is the last one: what was offered then, long past
    past = reviewer.findings(plain_text_document("n.txt", "0", text.replace("in December", "in April")))
    assert all(f.qualifiers.historical for f in past if f.concept == "resectable")
    # ... and so is the coming month written 'last December' or 'since December'
    since = reviewer.findings(plain_text_document("n.txt", "0", text.replace("in December", "last December")))
    assert all(f.qualifiers.historical for f in since if f.concept == "resectable")


def test_a_copied_forward_quotation_ends_with_its_closing_mark(reviewer):
    text = (
        "Date of service: 11/17/2026\nO:\nArm: five flat pink macules, six small nodules.\n\n"
        "COPIED FROM 04/21/2026 VISIT (surg onc telehealth summary):\n"
        "\"Eleven in-transit nodules L arm + L axillary node. Excision of all arm nodules not advisable: COPD, FEV1 "
        "34%. Not a surgical candidate.\"\n\n"
        "1. Melanoma L arm w/ in-transit recurrence after WLE, responding to T-VEC.\n"
        "2. Remains unresectable, not a surgical candidate (COPD), unchanged.\n"
    )
    findings = reviewer.findings(plain_text_document("note.txt", "0", text))
    unresectable = [f for f in findings if f.concept == "unresectable"]
    copied = [f for f in unresectable if f.sentence_start < text.index("1. Melanoma")]
    own = [f for f in unresectable if f.sentence_start > text.index("1. Melanoma")]
    assert copied and all(f.qualifiers.historical for f in copied)
    assert own and not any(f.qualifiers.historical for f in own)


def test_a_denial_of_surgery_is_overtaken_by_an_operation_the_case_dates_after_it(reviewer):
    consult = plain_text_document(
        "surgonc.txt", "0", "DOS: 03/10/2026\nMelanoma of the left anterior thigh on punch biopsy. "
        "No prior surgery on the leg.\nPlan: WLE with 2 cm margins and sentinel node biopsy.\n"
    )
    later = plain_text_document(
        "medonc.txt", "0", "Date of service: 10/29/2026\nHistory:\n03/24/2026 wide local excision left thigh and "
        "sentinel node biopsy: margins clear.\nAssessment: melanoma of the left thigh with in-transit recurrence, "
        "six new dermal nodules around the scar.\n"
    )
    request = ReviewRequest(request_type="initial")
    assert reviewer.review_documents([consult, later], request).criterion("recurrent_after_surgery").status == "met"
    # the consult's denial stays in the findings, uncertain, the later note's date its cue
    marked = mark_overtaken_denials(
        [reviewer.findings(consult), reviewer.findings(later)], [consult.text, later.text], ["surgonc.txt", "medonc.txt"],
        RULE,
    )
    overtaken = [f for f in marked[0] if f.concept == "no_prior_surgery"]
    assert overtaken and all(f.qualifiers.uncertain for f in overtaken)
    assert all(c.document == "medonc.txt" and c.text == "03/24/2026" for f in overtaken for c in f.qualifiers.cues
               if c.rule.endswith(".overtaken"))
    assert all(any(c.rule.endswith(".overtaken") for c in f.qualifiers.cues) for f in overtaken)
    # an operation the later note does not date may be the one the consult denied: the notes conflict
    undated = plain_text_document("medonc.txt", "0", later.text.replace("03/24/2026 wide", "Wide"))
    assert reviewer.review_documents([consult, undated], request).criterion("recurrent_after_surgery").status == (
        "insufficient"
    )
    # ... and so does an operation dated before the denying consult
    before = plain_text_document("medonc.txt", "0", later.text.replace("03/24/2026", "02/24/2026"))
    assert reviewer.review_documents([consult, before], request).criterion("recurrent_after_surgery").status == (
        "insufficient"
    )


def test_an_addendum_that_corrects_the_note_supersedes_what_the_body_said(reviewer):
    text = (
        "DATE SEEN: 11/10/2026\nIMPRESSION: Most lesions have regressed, but L2 has enlarged, so I would call this "
        "a mixed response at present.\n\nADDENDUM 11/13/2026\nOn review, the measurement of L2 was transcribed in "
        "error; L2 is smaller, not larger, so every injected lesion has decreased in size.\nThe correct impression is "
        "a partial response to T-VEC, not a mixed response.\n"
    )
    findings = reviewer.findings(plain_text_document("note.txt", "0", text))
    body = [f for f in findings if f.concept == "progression" and f.start < text.index("ADDENDUM")]
    assert body and all(f.qualifiers.historical for f in body)
    assert any(c.rule.endswith(".addendum") for f in body for c in f.qualifiers.cues)
    # without the addendum the note's own words stand
    plain = reviewer.findings(plain_text_document("note.txt", "0", text[: text.index("ADDENDUM")]))
    assert any(f.concept == "progression" and not f.qualifiers.active() for f in plain)
    # ... and so they do beside an addendum that adds a result without correcting anything
    added = text[: text.index("ADDENDUM")] + (
        "ADDENDUM 11/13/2026\nPathology is back: the thigh papule is melanoma. The injected lesions have "
        "responded.\n"
    )
    kept = reviewer.findings(plain_text_document("note.txt", "0", added))
    assert any(f.concept == "progression" and not f.qualifiers.active() and f.start < added.index("ADDENDUM")
               for f in kept)


def test_a_statement_the_note_disagrees_with_is_taken_back(reviewer):
    text = (
        "ASSESSMENT: Given the in-transit pattern, these lesions are not amenable to surgical resection.\n"
        "ATTENDING ADDENDUM: I do not agree with the assessment that these lesions are not amenable to surgical "
        "resection, and I am correcting it here.\n"
    )
    findings = reviewer.findings(plain_text_document("note.txt", "0", text))
    unresectable = [f for f in findings if f.concept == "unresectable"]
    assert len(unresectable) == 2 and all(f.qualifiers.negated for f in unresectable)
    assert all(any(c.rule.endswith(".disagreed") for c in f.qualifiers.cues) for f in unresectable)
    agreed = reviewer.findings(plain_text_document("n.txt", "0", text.replace("do not agree", "agree")))
    assert any(f.concept == "unresectable" and not f.qualifiers.active() for f in agreed)


def test_a_letter_dated_the_day_after_the_visit_it_reports_is_that_visit():
    text = "October 21, 2026\n\nDear Dr. Lee,\n\nVisit date: 10/20/2026\nThe recurrence is unresectable.\n"
    assert earlier_visits(text, RULE) == []
    # a visit weeks before the letter is an earlier visit, the past
    older = text.replace("10/20/2026", "09/20/2026")
    (start, _end, _hs, _he), = earlier_visits(older, RULE)
    assert older[start:].startswith("Visit date: 09/20/2026")


def test_a_letter_of_medical_necessity_is_dated_by_its_date_line_above_a_long_address_block():
    from extractor.encounters import document_visit

    letter = (
        "October 5, 2026\n\nPremera Blue Cross\nAttn: Prior Authorization / Medical Drug Review\n\n"
        "LETTER OF MEDICAL NECESSITY\n\nPatient: I. Thorsrud\nDate of birth: 12/01/1962\nMember ID: PRX330917254\n"
        "Requested: Imlygic\nDiagnoses: C43.59\n\nTo Whom It May Concern:\nI consider her recurrence unresectable.\n"
    )
    visit = document_visit(letter, RULE)
    assert visit is not None and visit[0] == date(2026, 10, 5)


def test_a_plan_dated_by_its_month_in_a_note_dated_by_its_footer_is_the_past(reviewer):
    body = (
        "History of present illness\nIn January 2026 she shave-biopsied a calf melanoma. She referred him for wide "
        "excision, tentatively scheduled for March.\nAssessment: with ten deposits from ankle to thigh, I would not "
        "recommend surgery.\n"
    )
    footer = "Kenji M.  |  DOB 04/27/1967  |  Encounter date 10/20/2026  |  Page 1 of 1\n"
    document = plain_text_document("note.txt", "0", body + footer)
    resectable = [f for f in reviewer.findings(document) if f.concept == "resectable"]
    assert resectable and all(f.qualifiers.historical for f in resectable)


def test_a_problem_list_entry_dated_when_entered_and_a_lesion_excised_then_are_of_then(reviewer):
    text = (
        "Date of service: 10/26/2026\nPROBLEM LIST\nIn-transit metastases R forearm (C79.2) [entered 09/18/2025]\n"
        "ASSESSMENT\nMelanoma treated with WLE/SLNB, with in-transit recurrence excised in 10/2025, now with liver "
        "metastases only.\n"
    )
    findings = reviewer.findings(plain_text_document("note.txt", "0", text))
    lesions = [f for f in findings if f.concept == "injectable_site"]
    assert len(lesions) == 2 and all(f.qualifiers.historical for f in lesions)
    # an entry without its entry date, or a recurrence not said to be excised, is of now
    undated = reviewer.findings(plain_text_document("note.txt", "0", text.replace(" [entered 09/18/2025]", "")
                                                    .replace(" excised in 10/2025", " on the forearm")))
    assert all(not f.qualifiers.historical for f in undated if f.concept == "injectable_site")
