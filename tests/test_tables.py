"""Response read from lesion-measurement tables (RECIST-like thresholds from rules/measurement_tables.json)."""

from __future__ import annotations

from datetime import date

from extractor.document import plain_text_document
from extractor.rules_loader import default_rules
from extractor.tables import (
    first_dose_date,
    in_visit_table_header,
    prose_size_findings,
    sum_findings,
    table_findings,
    visit_table_findings,
    visit_tables,
)

RULE = default_rules().tables


def findings_for(text: str):
    return table_findings(plain_text_document("note.txt", "0", text), RULE)


def test_shrinking_lesions_in_a_baseline_table_are_a_response_row_by_row():
    text = (
        "Lesion measurements: see table.\n"
        "Lesion  Site  Baseline 05/06/2026 (mm)  11/20/2026 (mm)\n"
        "A1  Dorsal forearm  14 x 12  4 x 3\n"
        "A2  Forearm, mid  9 x 8  2 x 2\n"
        "A3  Upper arm  10 mm  11 mm\n"
    )
    found = findings_for(text)
    assert [f.concept for f in found] == ["response", "response"]
    assert [f.sentence for f in found] == ["A1  Dorsal forearm  14 x 12  4 x 3", "A2  Forearm, mid  9 x 8  2 x 2"]
    assert text[found[0].sentence_start : found[0].sentence_end] == found[0].sentence
    assert "-" in found[0].matched_text  # the measured change explains the finding


def test_growing_lesions_are_progression_and_centimetres_are_read():
    text = "Site  Prior (cm)  Current (cm)\nThigh  1.0 cm  1.6 cm\nKnee  0.8 cm  1.1 cm\n"
    assert {f.concept for f in findings_for(text)} == {"progression"}


def test_small_changes_and_tables_without_a_baseline_column_say_nothing():
    stable = "Lesion  Baseline  Today\nA  10 mm  9 mm\nB  8 mm  8 mm\n"
    assert findings_for(stable) == []
    no_baseline = "Lesion  Size  Depth\nA  10 x 9  2 mm\nB  8 x 8  1 mm\n"
    assert findings_for(no_baseline) == []


def test_a_visit_row_whose_comment_says_baseline_heads_no_lesion_rows():
    # a row per visit (date, dose number, one column per lesion, the sum): the first visit's comment is "baseline"
    text = (
        "Lesion diameters (mm)\n"
        "Date  Tx #  T1 temple  T2 cheek  Sum  Comment\n"
        "04/22/2026  1  12  9  21  baseline\n"
        "05/13/2026  2  15  11  26  flare\n"
        "11/04/2026  14  3  0  3  no new lesions\n"
    )
    assert findings_for(text) == []


def test_a_unit_in_the_table_title_makes_bare_numbers_sizes_and_flat_lesions_zero():
    text = (
        "LESION MEASUREMENTS - LONGEST DIAMETER IN MM\n"
        "(flat = macule, no palpable tumor)\n"
        "\n"
        "Lesion  Site  05/07 (baseline)  06/18  11/19\n"
        "B1  Upper back  21  15  8\n"
        "B2  Shoulder  9  5  flat\n"
        "B12  Scapula  7  7  7\n"
    )
    found = findings_for(text)
    assert [f.sentence for f in found] == ["B1  Upper back  21  15  8", "B2  Shoulder  9  5  flat"]
    assert {f.concept for f in found} == {"response"}
    # without a declared unit the same bare numbers are counts or labels, not sizes
    assert findings_for(text.replace(" IN MM", "")) == []


def test_a_unit_elsewhere_above_or_other_units_in_the_row_do_not_make_sizes():
    labs = "Breslow 2.1 mm on the 2024 excision.\nLab  Baseline  Today\nLDH  320  190\nALT  40  22\n"
    assert findings_for(labs) == []
    volumes = (
        "Lesion diameters in mm\n"
        "Lesion  Baseline  Today  Injected\n"
        "A1  12  11  0.5 mL\n"
        "A2  10  10  0.3 mL\n"
    )
    assert findings_for(volumes) == []  # 12 -> 11 and 10 -> 10 is stable, whatever volume was injected


def test_a_row_number_is_a_label_not_a_size():
    text = "Lesion diameters (mm)\nLesion  Site  Baseline  Today\n1  L arm, proximal  9  9\n2  L arm, mid  14  n/m\n"
    assert findings_for(text) == []  # not "2 -> 14 mm" growth


def test_a_size_no_lesion_has_is_a_misread_number_and_its_row_is_not_trusted():
    # a faxed table read by OCR: '12 mm' came out as '412mm' and '1 2 mm' as '41 mm'
    text = (
        "Lesion  Site  Baseline  08/11/2026  11/12/2026\n"
        "1  L parietal  12mm  41 mm  412mm\n"
        "2  L parietal, anterior  9 mm  9 mm  9 mm\n"
        "3  L occipital  7 mm  8 mm  7 mm\n"
    )
    assert findings_for(text) == []


def test_a_column_of_another_unit_is_no_size_and_a_repeated_header_continues_the_table():
    text = (
        "Lesion meas (calipers, longest diam, mm):\n"
        "Les  Site  BL 05/05/26  08/11/26  11/17/26  Chg vs BL  Inj today (mL)\n"
        "L1  post calf  14  10  6  -57%  0.25\n"
        "L2  lat calf  9  4  0  -100%  --\n"
        "\n"
        "Les  Site  BL 05/05/26  08/11/26  11/17/26  Chg vs BL  Inj today (mL)\n"
        "SLD  --  23  14  6  -74%  total 0.25\n"
    )
    found = findings_for(text)
    assert {f.concept for f in found} == {"response"}
    assert [f.sentence.split()[0] for f in found] == ["L1", "L2", "SLD"]
    # 'BL' is the baseline only as a word of its own: a 'Table' header has no baseline column
    assert findings_for("Lesion diameters in mm\nLes  Table  Today\nL1  14  6\nL2  9  2\n") == []


def test_a_sum_of_diameters_followed_in_prose_is_read_as_the_table_would_be():
    def prose(line: str):
        return sum_findings(plain_text_document("note.txt", "0", "A/P\n" + line + "\nCont T-VEC.\n"), RULE)

    found = prose("Resp: SLD 77 -> 48 -> 24 mm (-69% vs BL); no new les.")
    assert [f.concept for f in found] == ["response"]
    assert found[0].sentence == "Resp: SLD 77 -> 48 -> 24 mm (-69% vs BL); no new les."
    assert "-69%" in found[0].matched_text
    assert [f.concept for f in prose("Sum of longest diameters 3.1 cm to 4.2 cm.")] == ["progression"]
    assert prose("SLD 40 -> 36 mm, stable.") == []  # -10% is neither
    assert prose("Labs: Cr 1.1 -> 0.9; LDH 300 -> 180.") == []  # no sum of diameters named


def test_a_sum_followed_with_dates_and_words_between_its_figures_is_read_too():
    def prose(line: str):
        return sum_findings(plain_text_document("note.txt", "0", "A/P\n" + line + "\n"), RULE)

    assert [f.concept for f in prose("Sum of longest diameters 96 mm at baseline (05/19/2026) -> 37 mm today.")] == ["response"]
    assert [f.concept for f in prose("Sum of LD: 84 mm (05/13) -> 27 mm (11/18).")] == ["response"]
    assert prose("Sum of LD: 84 mm (05/13); restaging 11/18 pending.") == []


def test_a_table_whose_columns_are_dates_has_its_baseline_in_the_first_and_wrapped_cells_continue_it():
    text = (
        "LESION MEASUREMENTS (calipers)\n"
        "Lesion  Site  06/29/26  08/24/26  11/16/26\n"
        "C1  L chest wall, ant  18x14  15x12  6x5\n"
        "axillary line\n"
        "C2  L chest wall  12 x 10  11 x 9  4x4\n"
        "A1  L axilla  24x19  22x17  14x11\n"
    )
    found = findings_for(text)
    assert [f.concept for f in found] == ["response"] * 3
    # dates without a lesion word are no table header
    assert findings_for(text.replace("Lesion  Site", "Seen").replace("(calipers)", "")) == []


def test_where_a_lesion_lies_is_not_how_big_it_is():
    text = (
        "Lesion  Location  Baseline  Today\n"
        "T1  L thigh, 8 cm above knee  9 x 8  16 x 14\n"
        "T2  Lateral knee  12 x 10  19 x 16\n"
    )
    assert {f.concept for f in findings_for(text)} == {"progression"}
    wrapped = (  # 'proximal to graft' wrapped under the row: the lone '3 cm' before the sizes is still a place
        "Lesion  Location  Baseline  Today\n"
        "T1  R calf, 3 cm  14 x 11  14 x 11\n"
        "proximal to graft\n"
        "T2  R posterior calf  10 x 8  10 x 9\n"
    )
    assert findings_for(wrapped) == []


def test_a_table_marking_the_first_dose_after_an_earlier_baseline_measures_from_the_first_dose(reviewer):
    text = (
        "Date of service: 11/03/2026\n"
        "Site  Location  03/17/26 baseline 06/09/26 (T-VEC #1) 11/03/26 (T-VEC #11)\n"
        "A  L flank  18 x 15  12 x 10  12 x 11\n"
        "B  L flank, posterior  11 x 9  7 x 6  8 x 6\n"
        "C  L chest wall  14 x 12  8 x 7  8 x 7\n"
        "\nOverall disease burden is 35% below baseline and the nodules are smaller than in March.\n"
        "- 05/26/2026: CT: decrease in size of the flank nodules.\n"
    )
    document = plain_text_document("note.txt", "0", text)
    assert table_findings(document, RULE) == []  # 38 -> 39 mm since the first dose: no response
    assert first_dose_date(document, RULE)[0] == date(2026, 6, 9)
    responses = [f for f in reviewer.findings(document) if f.concept == "response"]
    assert responses and all(f.qualifiers.historical for f in responses)
    assert responses[0].qualifiers.cues[-1].text == "06/09/26"
    # without the first-dose mark the first column is the baseline, and what the note says of it stands
    plain = plain_text_document("n.txt", "0", text.replace(" (T-VEC #1)", ""))
    assert {f.concept for f in table_findings(plain, RULE)} == {"response"}
    assert first_dose_date(plain, RULE) is None
    assert any(not f.qualifiers.active() for f in reviewer.findings(plain) if f.concept == "response")


def visit_findings(text: str):
    return visit_table_findings(plain_text_document("note.txt", "0", text), RULE)


VISIT_TABLE = (
    "Lesion log (longest diameter, mm)\n"
    "Date  Tx #  ITM-1 L mid  ITM-2 L ant  ITM-3 L distal  New lesions  Conc (PFU/mL)  Vol (mL)  By\n"
    "12/11/2025  1  12 x 10  9 x 7  8 x 8  -  10^6  2.0  TM\n"
    "02/12/2026  5  11 x 9  7 x 6  8 x 7  none  10^8  2.0  TM\n"
    "08/27/2026  17  5 x 4  not palpable  6 x 5  none  10^8  1.0  TM\n"
    "11/09/2026  22  4 x 3  not palpable  5 x 4  none  10^8  1.0  TM\n"
)


def test_a_table_with_a_row_per_visit_is_measured_from_the_first_visit_to_the_last():
    found = visit_findings(VISIT_TABLE)
    assert {f.concept for f in found} == {"response"}
    # the dose number, the concentration, the volume and the initials are no sizes: 12+9+8 = 29 mm -> 4+0+5 = 9 mm
    assert "29 mm" in found[0].matched_text and "9 mm" in found[0].matched_text and "-69%" in found[0].matched_text
    assert [f.sentence[:10] for f in found] == ["12/11/2025", "11/09/2026"]


def test_a_visit_tables_column_names_tell_no_progression(reviewer):
    document = plain_text_document("note.txt", "0", VISIT_TABLE)
    told = [f for f in reviewer.findings(document) if f.concept == "progression"]
    assert told == []
    header_start = VISIT_TABLE.index("Date  Tx #")
    fake = reviewer.findings(plain_text_document("n.txt", "0", "There are new lesions on the calf.\n"))[0]
    in_header = fake.model_copy(update={"start": header_start + 50, "end": header_start + 61})
    assert in_visit_table_header([in_header], visit_tables(VISIT_TABLE, RULE)) == []


def test_a_visit_table_with_a_sum_column_reads_the_sum_and_progression_counts_from_the_smallest_sum():
    text = (
        "Date | T1 | T2 | T3 | Sum | New lesions\n"
        "04/08/2026 | 16 | 8 | 12 | 36 | none (baseline)\n"
        "07/01/2026 | 9 | 5 | 6 | 20 | none\n"
        "10/15/2026 | 22 | 11 | 14 | 47 | 7 thigh nodules\n"
    )
    found = visit_findings(text)
    assert {f.concept for f in found} == {"progression"}
    assert "20 mm at its smallest" in found[0].matched_text
    # a flare that settles is no progression: the last visit decides
    settled = text.replace("10/15/2026 | 22 | 11 | 14 | 47", "10/15/2026 | 4 | 0 | 3 | 7")
    assert {f.concept for f in visit_findings(settled)} == {"response"}


def test_a_row_whose_cells_ran_together_still_gives_its_sum_from_the_end():
    text = (
        "Date  A L preauricular  B L tragus  C L temple  D parotid node  Sum  New lesions\n"
        "04/07/2026  21  8  12  18  59  n/a\n"
        "(baseline, C1)\n"
        "07/14/2026 (C8)  15  5  7  15  42  none\n"
        "10/20/2026 (C14)  8  not palpable, 0 not palpable, 0  11  19  none\n"
    )
    found = visit_findings(text)
    assert {f.concept for f in found} == {"response"} and "19 mm (10/20/2026)" in found[0].matched_text


def test_a_table_of_laboratory_values_by_date_is_no_lesion_table():
    labs = "Date  ALT  AST  Cr  WBC\n09/15/2026  112  74  1.4  5.6\n10/20/2026  40  30  1.2  5.1\n"
    assert visit_findings(labs) == []


def test_a_new_lesion_in_a_lesion_table_that_is_gone_now_is_no_progression_now(reviewer):
    text = (
        "MEASUREMENTS (bidimensional, mm):\n"
        "Lesion  05/07/2026 baseline  06/11/2026  08/20/2026  10/29/2026\n"
        "C1 chest wall  9 x 8  9 x 8  4 x 4  not palpable\n"
        "C2 chest wall  14 x 11  15 x 12  9 x 7  6 x 5\n"
        "New nodule above C1  -  4 x 4  not palpable  not palpable\n"
    )
    document = plain_text_document("note.txt", "0", text)
    progression = [f for f in reviewer.findings(document) if f.concept == "progression"]
    assert progression and all(f.qualifiers.historical for f in progression)
    assert progression[0].qualifiers.cues[-1].text == "not palpable"
    # the same lesion still there at the last measure is progression now
    still = text.replace("not palpable  not palpable\n", "5 x 4  6 x 5\n")
    assert any(not f.qualifiers.active() for f in reviewer.findings(plain_text_document("n.txt", "0", still))
               if f.concept == "progression")


def test_a_count_of_lesions_in_a_totals_row_is_no_size():
    text = (
        "Lesion | Site | Baseline 05/12/2026 | 08/18/2026 | 11/09/2026 | Comment today\n"
        "S1 | graft margin | 12 | 15 | 12 | less red\n"
        "S2 | left parietal | 8 | 8 | 8 | unchanged\n"
        "Sum | 2 lesions | 20 | 23 | 20 | no new lesions\n"
    )
    assert findings_for(text) == []  # '2 lesions' is a count: read as a size it made 2 -> 20 mm a progression


def prose(text: str):
    return [(f.concept, f.sentence) for f in prose_size_findings(plain_text_document("note.txt", "0", text), RULE)]


def test_a_lesions_size_change_told_in_prose_is_read_and_explains_itself():
    text = (
        "The largest nodule measured 18 x 15 mm at baseline and is now 6 x 5 mm after T-VEC.\n"
        "US: left inguinal node now 3.1 cm, previously 1.8 cm.\n"
        "Index lesion went from 10 mm to 9 mm.\n"
        "Sum of diameters decreased by 48% from baseline.\n"
    )
    assert prose(text) == [
        ("response", "The largest nodule measured 18 x 15 mm at baseline and is now 6 x 5 mm after T-VEC."),
        ("progression", "US: left inguinal node now 3.1 cm, previously 1.8 cm."),
        ("response", "Sum of diameters decreased by 48% from baseline."),
    ]
    found = prose_size_findings(plain_text_document("note.txt", "0", text), RULE)
    assert "18 mm -> 6 mm" in found[0].matched_text and "-67%" in found[0].matched_text


def test_sizes_of_margins_other_organs_and_ranges_are_not_a_lesions_change():
    text = (
        "Re-excision of the nodule with margins widened from 5 mm to 10 mm.\n"
        "Thyroid nodule grew from 1.6 to 2.1 cm, FNA benign.\n"
        "Multiple nodules, 5 to 15 mm, on the calf.\n"
        "Nodule grew from 4 to 6 mm.\n"
    )
    assert prose(text) == []  # the last grew 50% but by 2 mm: progression needs 5 mm as well


def test_a_lesions_size_change_told_with_an_arrow(reviewer):
    def prose(line: str):
        return [f.concept for f in prose_size_findings(plain_text_document("note.txt", "0", "A/P\n" + line + "\n"), RULE)]

    assert prose("Target lesion 14 x 12 mm -> 6 x 5 mm.") == ["response"]
    assert prose("Dominant lesion 15 -> 22 mm.") == ["progression"]
    assert prose("Injected nodule 1.8 cm → 1.6 cm.") == []  # -11% is neither
    assert prose("PET: FDG avidity of the injected nodules down, SUVmax 8.1 -> 2.3.") == []  # no size
    # a line dated long before the visit, whose own words are of then, keeps its measured change there too
    text = "Date of service: 11/10/2026\n- 03/17/2026 CT: partial response (inguinal node 2.4 -> 1.5 cm).\n"
    measured = [f for f in reviewer.findings(plain_text_document("n.txt", "0", text)) if f.rule.endswith(".prose")]
    assert [f.concept for f in measured] == ["response"] and measured[0].qualifiers.historical


def test_a_header_whose_short_cells_run_together_still_drops_the_column_of_another_unit():
    # 'Lesion Site' prints one space apart, so the header has a cell fewer than its rows: columns match from the right
    text = (
        "Lesion measurements (calipers):\n"
        "Lesion Site  04/14/26 (mm)  07/20/26 (mm)  11/09/26 (mm)  Injected today (mL)\n"
        "S1  graft edge, L posterior  16 x 13  16 x 14  15 x 14  1.0\n"
        "S2  graft edge, R posterior  11 x 10  12 x 10  11 x 10  0.5\n"
        "S3  vertex, midline  9 x 8  9 x 9  9 x 8  0.5\n"
    )
    assert findings_for(text) == []


def test_a_header_wrapped_onto_a_second_line_and_a_dated_column_of_weeks_still_head_the_table():
    wrapped = (
        "Lesion | Location  Type  05/19/26 baseline | 08/11/26 (mm) | 11/10/26 (mm)  Injected today\n"
        "(mm)\n"
        "1  L ant shin, mid | dermal  22x18  15x12  7x6  Y\n"
        "2  L medial calf | subcut  16x14  10x9  4x4  Y\n"
    )
    assert {f.concept for f in findings_for(wrapped)} == {"response"}
    weeks = (
        "Lesion Site  04/09/2026 (baseline)  07/14/2026 (wk 14)  10/30/2026\n"
        "N1  L level II/III nodal mass  39 x 28 mm  44 x 31 mm  18 x 12 mm\n"
        "P3  L pre-auricular, inferior, subcut  9 mm  9 mm  4 mm\n"
    )
    assert [f.sentence.split()[0] for f in findings_for(weeks)] == ["N1", "P3"]
