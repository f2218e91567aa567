"""`chartcheck evaluate`: the yardstick over sample_notes/, and its floors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app.cli import main
from app.evaluate import evaluate_cases, report as figures_of, score

SAMPLES = Path(__file__).resolve().parent.parent / "sample_notes"
# The issue 3 targets, held on the whole dev split: the cases the rules are worked from. Sessions 1-7 wrote d01-d223;
# d224-d307 were written blind by other authors in sessions 8 and 9 and measured on first contact (figures below),
# then worked from like the rest.
TARGETS = {"outcome_accuracy": 0.95, "criterion_accuracy": 0.95, "evidence_hit_rate": 0.90}
TARGET_DEV_CASES = {f"d{n:02d}" for n in range(1, 308)}
# Each later dev set also keeps the figures it has reached, so a rule change cannot quietly trade one set for another.
# Session 13 raised the floors of d356-d421 (and of the held sets its rules improved) to the figures they reached.
# First contact: d224-d259 (session 8) 66.7% outcome / 91.2% criterion / 89.1% evidence, 3 wrong meets_criteria;
# session 9, with the rules of the session's start (dd6439a): d260-d277 72.2 / 93.5 / 86.1, none wrongly met;
# d278-d295 66.7 / 91.7 / 79.7, 1 wrong meet (d278-d283 66.7 / 94.4 / 82.4 with that one; d284-d289 66.7 / 94.4 /
# 82.9; d290-d295 66.7 / 86.1 / 73.1); d296-d307 58.3 / 93.1 / 83.2, 2 wrong meets. With the rules as they stood when each arrived
# (written from the earlier sets, before reading these): d260-d277 83.3 / 95.4 / 88.3; d278-d283 83.3 / 97.2 / 86.5;
# d284-d289 66.7 / 94.4 / 88.2; d290-d295 50.0 / 88.9 / 74.6 (1 wrong meet); d296-d307 83.3 / 97.2 / 89.3 (1).
DEV_RATCHETS = {
    "d224-d259": ({f"d{n}" for n in range(224, 260)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.92}),
    "d260-d277": ({f"d{n}" for n in range(260, 278)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.91}),
    "d278-d295": ({f"d{n}" for n in range(278, 296)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.88}),
    "d296-d307": ({f"d{n}" for n in range(296, 308)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.90}),
    # session 10: written blind from themes drawn from held's confusion (never operated; unresectable and response told
    # without the words). First contact with the session's starting rules (8d9d6f1) 87.5 / 95.1 / 85.8 with two wrong
    # meets_criteria; on arrival 83.3 / 94.4 / 85.4 (two); after the session's rules 91.7 / 96.5 / 87.3, the two wrong
    # meets (d312, d313), ended in session 11.
    "d308-d331": ({f"d{n}" for n in range(308, 332)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.88}),
    # session 10, second batch (never operated amid decoy surgeries; response in plain words): first contact with the
    # session's starting rules 66.7 / 93.1 / 83.6, on arrival (36d2153) 75.0 / 94.4 / 85.1, none wrongly met; after the
    # rules written from it 91.7 / 98.6 / 87.3
    "d332-d343": ({f"d{n}" for n in range(332, 344)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.89}),
    # session 11 (never operated amid decoy surgeries; letters recounting a visit; unresectable and response without
    # the words): first contact with the session's starting rules (7add06f) 83.3 / 94.4 / 93.2, none wrongly met;
    # after an operation not named for the melanoma gives way to 'never operated' and a plan dated before a printout's
    # banner date is of then: 100 / 98.6 / 92.5
    # session 11, second batch (chronology across documents; mixed re-authorization messages): first contact with the
    # session's starting rules (7add06f) d356-d361 50.0 / 86.1 / 85.0 and d362-d367 50.0 / 91.7 / 81.7, none wrongly
    # met; on arrival (d9cd69a) 83.3 / 88.9 / 85.0 and 50.0 / 91.7 / 83.1; after the rules written from them 75.0 /
    # 94.4 / 85.4 together
    "d356-d367": ({f"d{n}" for n in range(356, 368)},
                  {"outcome_accuracy": 0.91, "criterion_accuracy": 0.98, "evidence_hit_rate": 0.87}),
    # session 11, third batch (unresectable beside surgical words that are not about the lesions; never operated told
    # in varied places): first contact with the session's starting rules (7add06f) 41.7 / 90.3 / 88.5 with three
    # wrong meets; on arrival (b9bc5d7) 50.0 / 91.7 / 88.5, three wrong meets; after the rules written from them 66.7 /
    # 94.4 / 88.5, one wrong meet left (d379: a WLE the referral reports and the pathology request denies)
    "d368-d379": ({f"d{n}" for n in range(368, 380)},
                  {"outcome_accuracy": 0.83, "criterion_accuracy": 0.97, "evidence_hit_rate": 0.89}),
    # session 12 (unresectable told without the word and changing across documents; never operated told in varied
    # places; response in ordinary words and across documents): first contact with the session's starting rules
    # (6867a48) d380-d385 50.0 / 91.7 / 85.2, d386-d391 66.7 / 91.7 / 88.2, d392-d397 66.7 / 88.9 / 81.5, none wrongly
    # met; after the rules written from them and from the fourth phrase bank 100 / 100 / 87.6
    "d380-d397": ({f"d{n}" for n in range(380, 398)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.88}),
    # session 12, second batch (unresectable now beside words that sound resectable; never operated or not said):
    # first contact (6867a48) d398-d403 33.3 / 88.9 / 85.9 with one wrong meet, d404-d409 50.0 / 86.1 / 81.8; on
    # arrival 50.0 / 91.7 / 87.1 (none wrongly met) and 50.0 / 86.1 / 81.8; after the rules written from them 91.7 /
    # 97.2 / 85.4 (d398: "No surgery for the melanoma" in a surgeon's plan reads as never operated)
    "d398-d409": ({f"d{n}" for n in range(398, 410)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.86}),
    # session 12, third batch (the lesions' course across months; general realism), measured at the session's end only:
    # first contact (6867a48) d410-d415 33.3 / 88.9 / 88.9, d416-d421 66.7 / 94.4 / 85.5 with one wrong meet (d419);
    # on arrival 66.7 / 94.4 / 90.3 and 66.7 / 94.4 / 85.5 (d419)
    "d410-d421": ({f"d{n}" for n in range(410, 422)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.91}),
    # session 13 (resectability changing across documents; some lesions removed and the rest not; never operated amid
    # other operations; a re-authorization's course told across visits; messy fax packets): first contact with the
    # session's starting rules (121b8ac) 66.7 / 92.6 / 86.2, none wrongly met; after the rules written from them
    # (a letter of medical necessity gives way to any newer note; a tumor board's 'Date of conference' and a banner's
    # 'Seen' date a note; a header's short cells running together) 100 / 100 / 87.6
    "d422-d439": ({f"d{n}" for n in range(422, 440)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.87}),
    # session 13, second batch (two clinicians differing the same week; a note's assessment revising the note): first
    # contact (121b8ac) 75.0 / 95.8 / 88.3, on arrival 83.3 / 97.2 / 88.3, none wrongly met; after the rules written
    # from them (an assessment that calls the operation off settles the note's own plans) 100 / 100 / 88.3
    "d440-d451": ({f"d{n}" for n in range(440, 452)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.88}),
    # session 13, third batch (never operated amid other operations; mixed responses; same-week disagreement;
    # surgery possible then not; fax packets), measured at the session's end only: first contact (121b8ac) d452-d457
    # 100 / 100 / 87.5, d458-d463 83.3 / 97.2 / 95.0 with one wrong meet (d463: in-transit lesions gone on
    # pembrolizumab, liver-only disease now); on arrival the same
    "d452-d463": ({f"d{n}" for n in range(452, 464)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.91}),
    # session 14 (views told by someone else; who decides resectability; recurrence told inconsistently; a
    # complicated re-authorization course with pseudoprogression; template text against the narrative; older documents
    # saying the opposite): first contact with the session's starting rules (b2fb827) d464-d487 66.7 / 94.4 / 89.7,
    # none wrongly met; after the rules written from them (a later note calling the earlier growth pseudoprogression,
    # or booking the excision, settles the earlier notes; an operation a clause gives to an SCC is not the melanoma's)
    # d464-d475 91.7 / 98.6 / 92.9 (d474: a pre-operative consult's 'no prior surgery' sent with the later notes of
    # the excision it planned) and d476-d487 100 / 100 / 87.8
    "d464-d475": ({f"d{n}" for n in range(464, 476)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.92}),
    "d476-d487": ({f"d{n}" for n in range(476, 488)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.87}),
    # session 14, second batch (unresectable beside surgical words not about the lesions; resectability told with
    # hedges and conditions): first contact (b2fb827) 77.8 / 96.3 / 87.9, none wrongly met; on arrival and after the
    # rules written from them (a palliative excision of one bleeding nodule, resectable only by amputation) 100 / 100 /
    # 87.9
    "d488-d505": ({f"d{n}" for n in range(488, 506)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.87}),
    # session 15 (a long surgical past with an unresectable present; never operated amid other operations;
    # response in the clinic's own idiom; resectability changing over time): first contact with the session's
    # starting rules (f2771fa) 79.2 / 95.8 / 86.7, two wrong meets (d509: a surgeon's offer of surgery 'in December'
    # read as last December; d515: a referral's 'removed' the consultant cannot document); after the rules written
    # from them 100 / 100 / 86.7
    "d506-d529": ({f"d{n}" for n in range(506, 530)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.86}),
    # session 15, second batch (documents that disagree on a prior surgery, on response, on resectability; messy
    # packets with addenda): first contact (f2771fa) 41.7 / 88.2 / 90.5, two wrong meets (d534, d544); after the rules
    # written from them (an operation told first hand outweighs 'never excised'; a correcting addendum supersedes its
    # note; a statement the note disagrees with is taken back) 87.5 / 97.2 / 90.5
    "d530-d553": ({f"d{n}" for n in range(530, 554)},
                  {"outcome_accuracy": 0.87, "criterion_accuracy": 0.97, "evidence_hit_rate": 0.90}),
    # session 15, third batch (unresectable said once amid surgical talk; never operated told loosely; response with
    # distractions; long packets), measured at the session's end: first contact (f2771fa) 45.8 / 88.9 / 88.7 with
    # four wrong meets, on arrival 41.7 / 88.2 / 88.7 with five; after the rules written from them 79.2 / 95.8 / 90.9,
    # one wrong meet left (d571, DEV_WRONGLY_MET)
    "d554-d565": ({f"d{n}" for n in range(554, 566)},
                  {"outcome_accuracy": 0.66, "criterion_accuracy": 0.94, "evidence_hit_rate": 0.88}),
    "d566-d577": ({f"d{n}" for n in range(566, 578)},
                  {"outcome_accuracy": 0.91, "criterion_accuracy": 0.97, "evidence_hit_rate": 0.93}),
    "d344-d355": ({f"d{n}" for n in range(344, 356)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.93}),
}
# dev cases still wrongly pre-filled meets_criteria: a WLE the oncologist's note takes from the referral while the
# referring dermatologist's pathology request says shave biopsy only, WLE declined (d379). Session 13 ended d419's (a
# stable table whose injected-volume column was read as sizes); session 14 ended d463's (in-transit nodules a problem
# list and history tell, gone on pembrolizumab, beside 'no cutaneous, subcutaneous or nodal disease at present')
# Session 15's third batch left d571 (one injected nodule flat, one unchanged, one red and larger six days after a dose
# that neither doctor can yet call growth: read as a response).
DEV_WRONGLY_MET = {"d379", "d571"}
# The held-out split is never read while writing rules. Each ratchet holds the cases it was measured on to the figures
# they have now (see the closing notes); they are below the targets: raise them only by improving rules on dev.
# h01-h14 were set in session 1; h15-h28 were written blind by other authors in session 3, h29-h41 in session 4.
HELD_RATCHETS = {
    "h01-h14": ({f"h{n:02d}" for n in range(1, 15)},
                {"outcome_accuracy": 0.99, "criterion_accuracy": 0.96, "evidence_hit_rate": 0.98}),
    "h15-h22": ({f"h{n:02d}" for n in range(15, 23)},
                {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.94}),
    "h23-h25": ({f"h{n:02d}" for n in range(23, 26)},
                {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.96}),
    "h26-h28": ({f"h{n:02d}" for n in range(26, 29)},
                {"outcome_accuracy": 0.66, "criterion_accuracy": 0.94, "evidence_hit_rate": 0.96}),
    "h29-h34": ({f"h{n:02d}" for n in range(29, 35)},
                {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.88}),
    "h35-h38": ({f"h{n:02d}" for n in range(35, 39)},
                {"outcome_accuracy": 0.5, "criterion_accuracy": 0.91, "evidence_hit_rate": 0.90}),
    "h39-h41": ({f"h{n:02d}" for n in range(39, 42)},
                {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.93}),
    # session 5 (2026-11-24), measured on first contact and again at the session's end
    "h42-h45": ({f"h{n:02d}" for n in range(42, 46)},
                {"outcome_accuracy": 0.5, "criterion_accuracy": 0.91, "evidence_hit_rate": 0.88}),
    "h46-h49": ({f"h{n:02d}" for n in range(46, 50)},
                {"outcome_accuracy": 0.75, "criterion_accuracy": 0.91, "evidence_hit_rate": 0.93}),
    "h50-h54": ({f"h{n:02d}" for n in range(50, 55)},
                {"outcome_accuracy": 0.8, "criterion_accuracy": 0.96, "evidence_hit_rate": 0.89}),
    # session 6 (2026-11-24): h55-h60 measured on first contact (83.3% / 97.2% / 95.6%), again at the session's end
    # (evidence 97.1%); h61-h66 measured on first contact at the session's end
    "h55-h60": ({f"h{n:02d}" for n in range(55, 61)},
                {"outcome_accuracy": 0.83, "criterion_accuracy": 0.97, "evidence_hit_rate": 0.97}),
    "h61-h66": ({f"h{n:02d}" for n in range(61, 67)},
                {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.84}),
    # session 7 (2026-11-24): measured on first contact (83.3% / 94.4% / 86.7%, no wrong meets), and at the end of
    # the session (100% / 100% / 91.7%); the session also raised the evidence of h29-h49 and h61-h66
    "h67-h72": ({f"h{n:02d}" for n in range(67, 73)},
                {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.93}),
    # session 7: measured on first contact (83.3% / 91.7% / 85.3%, one wrong meets_criteria)
    "h73-h78": ({f"h{n:02d}" for n in range(73, 79)},
                {"outcome_accuracy": 0.83, "criterion_accuracy": 0.97, "evidence_hit_rate": 0.86}),
    # session 8: measured on first contact at the session's end (h79-h84 50% / 91.7% / 91.7%, h85-h90 83.3% / 97.2% /
    # 90.6%, one wrong meets_criteria each)
    "h79-h84": ({f"h{n:02d}" for n in range(79, 85)},
                {"outcome_accuracy": 0.83, "criterion_accuracy": 0.97, "evidence_hit_rate": 0.96}),
    "h85-h90": ({f"h{n:02d}" for n in range(85, 91)},
                {"outcome_accuracy": 0.83, "criterion_accuracy": 0.97, "evidence_hit_rate": 0.92}),
    # session 9: first contact with the rules of the session's start (dd6439a) h91-h96 83.3% / 94.4% / 93.9%, h97-h102
    # 33.3 / 88.9 / 90.5 with one wrong meets_criteria, h103-h106 50.0 / 91.7 / 80.0; with the rules as they stood when
    # each arrived (written from dev only) h91-h96 100 / 97.2 / 95.4, h97-h102 83.3 / 97.2 / 92.1, none wrongly met
    "h91-h96": ({f"h{n:02d}" for n in range(91, 97)},
                {"outcome_accuracy": 0.99, "criterion_accuracy": 0.97, "evidence_hit_rate": 0.96}),
    "h97-h102": ({f"h{n:02d}" for n in range(97, 103)},
                 {"outcome_accuracy": 0.83, "criterion_accuracy": 0.97, "evidence_hit_rate": 0.93}),
    "h103-h106": ({f"h{n:02d}" for n in range(103, 107)},
                  {"outcome_accuracy": 0.75, "criterion_accuracy": 0.95, "evidence_hit_rate": 0.84}),
    # session 10: first contact with the session's starting rules (8d9d6f1) 87.5 / 95.8 / 90.4, none wrongly met; on
    # arrival 87.5 / 95.8 / 91.6; at the session's end 87.5 / 95.8 / 90.4
    "h107-h114": ({f"h{n}" for n in range(107, 115)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.92}),
    # session 10, second batch: first contact with the session's starting rules 100 / 100 / 86.4; on arrival (36d2153)
    # 75.0 / 95.8 / 84.1, one case lost to a cancelled excision read as a prior surgery; the rule written from dev
    # d332 (a cancelled or never rescheduled surgery was not done) brought it back: 100 / 100 / 86.4
    "h115-h118": ({f"h{n}" for n in range(115, 119)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.86}),
    # session 11: first contact with the session's starting rules (7add06f) 75.0 / 95.8 / 90.9, none wrongly met
    "h119-h122": ({f"h{n}" for n in range(119, 123)},
                  {"outcome_accuracy": 0.75, "criterion_accuracy": 0.95, "evidence_hit_rate": 0.90}),
    # session 11, second batch: first contact with the session's starting rules (7add06f) 75.0 / 95.8 / 93.0, none
    # wrongly met; on arrival (d9cd69a, with the rules of the session so far) 100 / 100 / 95.3
    "h123-h126": ({f"h{n}" for n in range(123, 127)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.95}),
    # session 11, third batch: first contact with the session's starting rules (7add06f) 25.0 / 79.2 / 91.3, none
    # wrongly met; on arrival (b9bc5d7) the same
    "h127-h130": ({f"h{n}" for n in range(127, 131)},
                  {"outcome_accuracy": 0.25, "criterion_accuracy": 0.87, "evidence_hit_rate": 0.97}),
    # session 12: first contact with the session's starting rules (6867a48) 66.7 / 91.7 / 90.5, none wrongly met; with
    # the rules written from dev and the fourth phrase bank 83.3 / 94.4 / 90.5 (100 / 97.2 / 90.5 while an old dated
    # resectability statement also gave way to another note's current opposite; backed out, as it cost h42-h45 a
    # cited sentence)
    "h131-h136": ({f"h{n}" for n in range(131, 137)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.97, "evidence_hit_rate": 0.90}),
    # session 12, second batch: first contact (6867a48) 100 / 100 / 92.7; on arrival the same
    "h137-h140": ({f"h{n}" for n in range(137, 141)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.92}),
    # session 12, third batch, measured at the session's end: first contact (6867a48) 50.0 / 87.5 / 88.9; on arrival
    # 75.0 / 91.7 / 93.3, none wrongly met
    "h141-h144": ({f"h{n}" for n in range(141, 145)},
                  {"outcome_accuracy": 0.75, "criterion_accuracy": 0.91, "evidence_hit_rate": 0.93}),
    # session 13: first contact with the session's starting rules (121b8ac) h145-h150 100 / 100 / 82.7 and h151-h156
    # 100 / 97.2 / 90.3, none wrongly met; the same at the session's end
    "h145-h150": ({f"h{n}" for n in range(145, 151)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.82}),
    "h151-h156": ({f"h{n}" for n in range(151, 157)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.90}),
    # session 13, third batch, measured at the session's end: first contact (121b8ac) 83.3 / 97.2 / 90.9, none wrongly
    # met; the same with the session's rules
    "h157-h162": ({f"h{n}" for n in range(157, 163)},
                  {"outcome_accuracy": 0.99, "criterion_accuracy": 0.99, "evidence_hit_rate": 0.90}),
    # session 14: first contact with the session's starting rules (b2fb827) h163-h174 83.3 / 97.2 / 96.7 and h175-h186
    # 83.3 / 97.2 / 93.8, none wrongly met; at the session's end 91.7 / 98.6 / 96.7 and 83.3 / 97.2 / 93.0
    "h163-h174": ({f"h{n}" for n in range(163, 175)},
                  {"outcome_accuracy": 0.91, "criterion_accuracy": 0.98, "evidence_hit_rate": 0.96}),
    "h175-h186": ({f"h{n}" for n in range(175, 187)},
                  {"outcome_accuracy": 0.83, "criterion_accuracy": 0.97, "evidence_hit_rate": 0.92}),
    # session 15, written blind on the session's conflict themes (S, U, X, Z; T, V, W, Y) after the session's rules:
    # first contact (the rules of this commit) 62.5 / 91.7 / 87.8, none wrongly met
    "h187-h194": ({f"h{n}" for n in range(187, 195)},
                  {"outcome_accuracy": 0.62, "criterion_accuracy": 0.91, "evidence_hit_rate": 0.87}),
}


@pytest.fixture(scope="module")
def results():
    return evaluate_cases(SAMPLES, workers=2)


@pytest.fixture(scope="module")
def report(results):
    return figures_of(results)


def test_report_has_every_figure_for_both_splits(report):
    assert set(report["splits"]) == {"dev", "held"}
    held = report["splits"]["held"]["cases"]
    assert held * 4 >= report["all"]["cases"] * 0.9  # about a quarter of the cases are held apart
    for block in [*report["splits"].values(), report["all"]]:
        assert block["errors"] == []
        for key in ("outcome_accuracy", "criterion_accuracy", "approval_months_accuracy", "flag_precision",
                    "flag_recall", "evidence_hit_rate", "false_meets_criteria", "confusion", "failures"):
            assert key in block
        assert set(block["per_criterion_accuracy"]) == {
            "melanoma_diagnosis", "recurrent_after_surgery", "unresectable",
            "injectable_lesions", "clinical_response", "office_visit_documentation",
        }
        for failure in block["failures"]:
            assert {"case", "criterion", "expected", "got", "cited"} <= set(failure)


def test_dev_cases_worked_from_meet_the_issue_targets(results):
    block = _of(results, "dev", TARGET_DEV_CASES)
    for key, floor in TARGETS.items():
        assert block[key] >= floor, (key, block[key])
    for criterion, accuracy in block["per_criterion_accuracy"].items():
        assert accuracy >= TARGETS["criterion_accuracy"], (criterion, accuracy)
    assert block["false_meets_criteria"] == 0


def test_every_dev_case_is_in_a_measured_set_and_none_else_is_wrongly_met(results, report):
    block = report["splits"]["dev"]
    ratcheted = set().union(*(cases for cases, _ in DEV_RATCHETS.values()))
    assert block["cases"] == len(TARGET_DEV_CASES | ratcheted)
    assert block["gold_sentences_located"] == block["gold_sentences"]
    # session 11 ended the last two of session 10 (d312: a letter of medical necessity recounting a visit's exam; d313:
    # a surgery the note says it cannot confirm); its third batch brought one more (DEV_WRONGLY_MET)
    others = {r.case_id for r in results if r.split == "dev"} - DEV_WRONGLY_MET
    assert _of(results, "dev", others)["false_meets_criteria"] == 0


@pytest.mark.xfail(strict=True, reason="issue 3 open: these dev cases are wrongly pre-filled meets_criteria")
@pytest.mark.parametrize("case", sorted(DEV_WRONGLY_MET))
def test_the_known_wrongly_met_dev_cases(results, case):
    assert _of(results, "dev", {case})["false_meets_criteria"] == 0


@pytest.mark.parametrize("name", list(DEV_RATCHETS))
def test_later_dev_cases_hold_their_measured_floors(results, name):
    cases, floors = DEV_RATCHETS[name]
    block = _of(results, "dev", cases)
    for key, floor in floors.items():
        assert block[key] >= floor, (name, key, block[key])


def _of(results, split: str, cases: set[str]) -> dict:
    chosen = [r for r in results if r.split == split and r.case_id in cases]
    assert {r.case_id for r in chosen} == cases
    return score(chosen)


def _held(results, cases: set[str]) -> dict:
    return _of(results, "held", cases)


@pytest.mark.parametrize("name", list(HELD_RATCHETS))
def test_held_cases_hold_their_measured_floors(results, name):
    cases, floors = HELD_RATCHETS[name]
    block = _held(results, cases)
    for key, floor in floors.items():
        assert block[key] >= floor, (key, block[key])
    assert block["gold_sentences_located"] == block["gold_sentences"]


@pytest.mark.parametrize(
    "name", ["h01-h14", "h15-h22", "h23-h25", "h26-h28", "h29-h34", "h35-h38", "h39-h41", "h46-h49", "h50-h54", "h55-h60",
             "h61-h66", "h67-h72", "h79-h84", "h91-h96", "h97-h102", "h103-h106",
             "h107-h114", "h115-h118", "h119-h122", "h123-h126", "h127-h130", "h131-h136",
             "h137-h140", "h141-h144", "h145-h150", "h151-h156", "h157-h162", "h163-h174", "h175-h186",
             "h187-h194"]
)
def test_these_held_cases_are_never_wrongly_met(results, name):
    assert _held(results, HELD_RATCHETS[name][0])["false_meets_criteria"] == 0


# issue 3 open: measured 2026-11-24 (session 9), one case each of h42-h45, h73-h78 and h85-h90 is wrongly pre-filled
# meets_criteria (session 9's rules, written from dev, ended those of h26-h28, h39-h41 and h79-h84). When a rule written
# from dev fixes one, its test XPASSes and fails: move that set above.
@pytest.mark.xfail(strict=True, reason="issue 3 open: wrongly pre-filled meets_criteria in this held set")
@pytest.mark.parametrize("name", ["h42-h45", "h73-h78", "h85-h90"])
def test_the_later_held_cases_are_never_wrongly_met(results, name):
    assert _held(results, HELD_RATCHETS[name][0])["false_meets_criteria"] == 0


def test_floors_on_the_command_line_set_the_exit_code(tmp_path, capsys):
    case = tmp_path / "dev" / "d01"
    shutil.copytree(SAMPLES / "dev" / "d01", case)
    assert main(["evaluate", str(tmp_path), "--workers", "1", "--json", "--min-outcome", "0.5"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["all"]["cases"] == 1
    gold = json.loads((case / "gold.json").read_text())
    gold["suggested_outcome"] = "insufficient_documentation"  # now the pipeline disagrees with the gold
    gold["approval_months"] = None
    (case / "gold.json").write_text(json.dumps(gold))
    assert main(["evaluate", str(tmp_path), "--workers", "1", "--min-outcome", "0.95", "--max-false-meets", "0"]) == 1
    captured = capsys.readouterr()
    assert "d01 suggested_outcome: expected insufficient_documentation got meets_criteria" in captured.out
    assert "below floor: dev: outcome accuracy 0.0 < 0.95" in captured.err
    assert "wrong meets_criteria 1 > 0" in captured.err


def test_a_gold_sentence_running_on_over_a_page_break_is_located_from_its_page():
    from app.evaluate import locate
    from extractor.read import read_path

    document = read_path(SAMPLES / "dev" / "d84" / "derm_progress_2026-11-16.pdf")
    sentence = ("Every injected lesion is smaller or has flattened, three of the temporal papules have resolved, the one "
                "lesion we left alone behind the ear has regressed as well, and nothing new has appeared.")
    start, end = locate(document, sentence, 1)
    assert document.page_at(start, start + 5) == 1 and document.page_at(end - 5, end) == 2


def test_a_scanned_gold_sentence_running_on_over_a_page_break_is_located_despite_ocr_noise():
    from app.evaluate import locate
    from extractor.read import read_path

    document = read_path(SAMPLES / "dev" / "d171" / "np_visit_2026-10-22.pdf")  # a faxed scan: OCR reads 'onc' 'one'
    sentence = ("Surg onc e-consult (Dr. Sandoval-Reiter, Seattle) 10/20/26: not a surgical candidate - would need WLE of "
                "primary + ITM field + ILND in O2-dep COPD pt; poor healing risk; would not be curative.")
    start, end = locate(document, sentence, 1)
    assert document.text[start:].lower().startswith("surg")
    assert document.page_at(start, start + 5) == 1 and document.page_at(end - 5, end) == 2
    assert "healing risk" in document.text[start:end]  # the window counts the gold's words; OCR noise may shift it


def test_a_table_row_ocr_ran_together_is_located_word_for_word():
    from app.evaluate import locate
    from extractor.document import plain_text_document

    ocr = plain_text_document("scan.txt", "0", "Lesion table\nL1 L medial calf, 6 cm below knee 14x11mm 16x12mm 2.1x1.7cm Y\n")
    row = "L1 | L medial calf, 6 cm below knee | 14 x 11 mm | 16 x 12 mm | 2.1 x 1.7 cm | Y"
    start, end = locate(ocr, row, None)
    assert ocr.text[start:end].startswith("L1 L medial") and ocr.text[start:end].endswith("Y")
