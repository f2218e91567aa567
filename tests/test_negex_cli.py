"""`chartcheck negex` scores our ConText qualifiers next to stock medspaCy on a NegEx-format file."""

from __future__ import annotations

import json

from app.cli import main

ROWS = [
    ("1", "recurrence", "No evidence of RECURRENCE.", "Negated", "Recent", "Patient"),
    ("2", "chest pain", "She denies CHEST PAIN.", "Negated", "Recent", "Patient"),
    ("3", "mild tricuspid regurgitation", "There is MILD TRICUSPID REGURGITATION.", "Affirmed", "Recent", "Patient"),
    ("4", "melanoma", "Her mother had MELANOMA.", "Affirmed", "Historical", "Other"),
]


def test_negex_json_has_the_documented_keys_and_scores_simple_rows(tmp_path, capsys):
    tsv = tmp_path / "tiny.tsv"
    header = "line number\tCondition\tsentence\tnegation_status\ttemporality\texperiencer"
    tsv.write_text(header + "\n" + "\n".join("\t".join(r) for r in ROWS) + "\n")
    assert main(["negex", str(tsv), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 4
    for block in (result, result["baseline"]):
        assert set(block["negation"]) == {"precision", "recall", "f1"}
        assert "historical_accuracy" in block and "experiencer_accuracy" in block
    assert result["negation"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert result["experiencer_accuracy"] == 1.0
