"""`chartcheck negex`: ConText qualifiers scored on NegEx-format rows, ours beside stock medspaCy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app import negex
from app.cli import main

NEGEX_DEV = Path("/work/shared/data/negex/negex-dev.tsv")

SMALL_TSV = "\n".join(
    [
        "line number\tCondition\tsentence\tnegation_status\ttemporality\texperiencer",
        "1\tmelanoma\tNo evidence of MELANOMA.\tNegated\tRecent\tPatient",
        "2\tlymphadenopathy\tThere is LYMPHADENOPATHY in the left axilla.\taffirmed\trecent\tpatient",
        "3\tmelanoma\tHistory of MELANOMA of the back.\tAffirmed\tHISTORICAL\tPatient",
        "4\tmelanoma\tHis mother had MELANOMA.\tAffirmed\tRecent\tFamily member",
        # gold says negated, but nothing in the sentence negates it: a false negative
        "5\tcough\tThe   COUGH is better.\tNegated\tRecent\tPatient",
        # the condition is nowhere in the sentence: counted, not scored
        "6\tpneumonia\tLungs are clear.\tAffirmed\tRecent\tPatient",
    ]
)


def test_read_rows_tolerates_header_and_case():
    rows = negex.read_rows(SMALL_TSV.splitlines())
    assert [r.line for r in rows] == ["1", "2", "3", "4", "5", "6"]
    assert [r.gold.negated for r in rows] == [True, False, False, False, True, False]
    assert [r.gold.historical for r in rows] == [False, False, True, False, False, False]
    assert [r.gold.patient for r in rows] == [True, True, True, False, True, True]


def test_locate():
    assert negex.locate("left  renal calculi", "PRE-OP DIAGNOSIS: LEFT RENAL\tCALCULI.") == (18, 36)
    # whole words only, and of two mentions the one written in capitals that is not a heading
    sentence = "ALLERGIES: He was admitted with no known ALLERGIES."
    assert negex.locate("allergies", sentence) == (41, 50)
    assert negex.locate("mi", "Admitted to rule out MI.") == (21, 23)
    # not found as written: the run of capitals sharing words with it
    assert negex.locate("CHEST: 1. SURGICAL CHANGES", "CHEST:     1.") == (0, 5)
    assert negex.locate("pneumonia", "Lungs are clear.") is None


def test_predict_and_metrics_are_pure():
    assert negex.predict(["NEGATED_EXISTENCE", "HISTORICAL"]) == negex.Prediction(True, True, False, True)
    assert negex.predict(["FAMILY", "HYPOTHETICAL"]) == negex.Prediction(False, False, True, False)
    gold = [
        negex.Gold(negated=True, historical=False, hypothetical=False, patient=True),
        negex.Gold(negated=True, historical=True, hypothetical=False, patient=True),
        negex.Gold(negated=False, historical=False, hypothetical=False, patient=False),
        negex.Gold(negated=False, historical=False, hypothetical=False, patient=True),
    ]
    pred = [
        negex.Prediction(negated=True, historical=False, hypothetical=False, patient=True),  # tp
        negex.Prediction(negated=False, historical=False, hypothetical=False, patient=True),  # fn, historical wrong
        negex.Prediction(negated=True, historical=False, hypothetical=False, patient=False),  # fp
        negex.Prediction(negated=False, historical=False, hypothetical=False, patient=False),  # tn, experiencer wrong
    ]
    m = negex.metrics(list(zip(gold, pred)))
    assert m["n"] == 4
    assert m["negation"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert m["historical_accuracy"] == 0.75
    assert m["experiencer_accuracy"] == 0.75
    assert negex.metrics([])["negation"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_negex_command_on_a_small_file(tmp_path, capsys):
    path = tmp_path / "small.tsv"
    path.write_text(SMALL_TSV + "\n", encoding="utf-8")
    assert main(["negex", str(path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 5
    assert result["unlocated"] == ["6"]
    # rows 1-4 right; row 5 a false negative
    assert result["negation"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667}
    assert result["historical_accuracy"] == 1.0
    assert result["experiencer_accuracy"] == 1.0
    assert set(result["baseline"]) >= {"n", "negation", "historical_accuracy", "experiencer_accuracy"}
    assert result["baseline"]["n"] == 5


def test_negex_command_prints_table_and_errors(tmp_path, capsys):
    path = tmp_path / "small.tsv"
    path.write_text(SMALL_TSV, encoding="utf-8")
    assert main(["negex", str(path), "--errors", "5"]) == 0
    out = capsys.readouterr().out
    assert "negation F1" in out and "stock" in out
    assert "unlocated: 1: lines 6" in out
    assert "line 5 [negation] target 'COUGH'" in out


@pytest.mark.skipif(not NEGEX_DEV.exists(), reason="NegEx dev set not present")
def test_negex_dev_scores_beat_stock(capsys):
    assert main(["negex", str(NEGEX_DEV), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["negation"]["f1"] >= 0.97
    assert result["historical_accuracy"] >= 0.95
    assert result["negation"]["f1"] > result["baseline"]["negation"]["f1"]
