"""One strict loader for rule and policy files: an unknown key or a bad value names the file and the key."""

from __future__ import annotations

import json
import shutil

import pytest

from criteria.policy import load_policy, load_policy_file
from extractor.errors import RuleFileError
from extractor.rules_loader import RULES_DIR, load_rules


def test_shipped_rules_and_policy_load_and_every_rule_says_where_it_comes_from():
    rules = load_rules()
    assert rules.targets and rules.context and rules.sections and rules.furniture
    assert all(r.metadata.source for r in rules.targets + rules.context + rules.sections)
    policy = load_policy("5.01.562")
    assert [c.id for c in policy.criteria] == [
        "melanoma_diagnosis", "recurrent_after_surgery", "unresectable",
        "injectable_lesions", "clinical_response", "office_visit_documentation",
    ]


def test_an_unknown_key_in_a_rule_file_stops_with_file_and_key(tmp_path):
    shutil.copytree(RULES_DIR, tmp_path / "rules")
    path = tmp_path / "rules" / "targets.json"
    data = json.loads(path.read_text())
    data["target_rules"][3]["colour"] = "red"
    path.write_text(json.dumps(data))
    with pytest.raises(RuleFileError, match=r"targets\.json: target_rules\.3\.colour"):
        load_rules(tmp_path / "rules")


def test_a_bad_context_direction_is_refused(tmp_path):
    shutil.copytree(RULES_DIR, tmp_path / "rules")
    path = tmp_path / "rules" / "context.json"
    data = json.loads(path.read_text())
    data["context_rules"][0]["direction"] = "SIDEWAYS"
    path.write_text(json.dumps(data))
    with pytest.raises(RuleFileError, match=r"context\.json: context_rules\.0\.direction"):
        load_rules(tmp_path / "rules")


def test_named_word_lists_expand_in_place_and_an_unknown_name_is_refused(tmp_path):
    rules = load_rules()
    recurrence = rules.target("recurrence.word.1").metadata
    assert "scc" in recurrence.excluded_nearby and not any(w.startswith("@") for w in recurrence.excluded_nearby)
    assert "approved for" in recurrence.never_nearby
    shutil.copytree(RULES_DIR, tmp_path / "rules")
    path = tmp_path / "rules" / "targets.json"
    data = json.loads(path.read_text())
    data["target_rules"][0]["metadata"]["excluded_nearby"] = ["@no_such_list"]
    path.write_text(json.dumps(data))
    with pytest.raises(RuleFileError, match=r"targets\.json: .*no word list named 'no_such_list'"):
        load_rules(tmp_path / "rules")


def test_duplicate_rule_ids_are_refused(tmp_path):
    shutil.copytree(RULES_DIR, tmp_path / "rules")
    path = tmp_path / "rules" / "targets.json"
    data = json.loads(path.read_text())
    data["target_rules"].append(data["target_rules"][0])
    path.write_text(json.dumps(data))
    with pytest.raises(RuleFileError, match="duplicate rule ids"):
        load_rules(tmp_path / "rules")


def test_policy_with_unknown_key_or_forbidden_qualifier_is_refused(tmp_path):
    from criteria.policy import POLICIES_DIR

    text = (POLICIES_DIR / "5.01.562.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("scope: anywhere", "scope: anywhere\n    weight: 3", 1))
    with pytest.raises(RuleFileError, match=r"bad\.yaml: criteria\.0\.weight"):
        load_policy_file(bad)
    negated = tmp_path / "negated.yaml"
    negated.write_text(text.replace("accept: [historical], label: \"a melanoma diagnosis\"",
                                    "accept: [negated], label: \"a melanoma diagnosis\"", 1))
    with pytest.raises(RuleFileError, match="never count"):
        load_policy_file(negated)


def test_a_token_pattern_value_with_a_space_is_refused(tmp_path):
    shutil.copytree(RULES_DIR, tmp_path / "rules")
    path = tmp_path / "rules" / "context.json"
    data = json.loads(path.read_text())
    data["context_rules"][0]["pattern"] = [{"LOWER": {"IN": ["risks of"]}}]
    path.write_text(json.dumps(data))
    with pytest.raises(RuleFileError, match=r"context_rules\.0\.pattern.*never matches one token"):
        load_rules(tmp_path / "rules")


def test_two_context_rules_for_one_phrase_are_refused(tmp_path):
    """Both would match the same words and overlap pruning would keep either, by match order."""
    shutil.copytree(RULES_DIR, tmp_path / "rules")
    path = tmp_path / "rules" / "context.json"
    data = json.loads(path.read_text())
    phrase = next(r for r in data["context_rules"] if r.get("pattern") is None)
    data["context_rules"].append({**phrase, "direction": "BACKWARD", "metadata": {**phrase["metadata"], "id": "copy"}})
    path.write_text(json.dumps(data))
    with pytest.raises(RuleFileError, match="both match the phrase"):
        load_rules(tmp_path / "rules")


def test_an_encounter_heading_without_its_date_group_is_refused(tmp_path):
    shutil.copytree(RULES_DIR, tmp_path / "rules")
    path = tmp_path / "rules" / "encounters.json"
    data = json.loads(path.read_text())
    data["encounter_rules"]["headings"].append("^Office Visit {date}")
    path.write_text(json.dumps(data))
    with pytest.raises(RuleFileError, match=r"encounters\.json: .*no \(\?P<date>"):
        load_rules(tmp_path / "rules")
