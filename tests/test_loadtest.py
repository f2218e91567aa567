"""`chartcheck loadtest` runs the whole scale-out stack and accounts for every case (its figures are for the note,
not asserted here: speed belongs in benchmarks, never in timed tests)."""

from __future__ import annotations

import json

from conftest import run


def test_loadtest_accounts_for_every_case():
    result = run("loadtest", "--cases", "5", "--bad-every", "5", "--workers", "1", "--json", env={"PYTHONWARNINGS": "ignore"})
    assert result.returncode == 0, result.stderr[-2000:]
    [figures] = json.loads(result.stdout)["runs"]
    assert figures["submitted"] == 5 and figures["deliberate_rejects"] == 1 and figures["accepted"] == 4
    assert figures["completed"] + figures["failed"] == 4
    assert figures["lost"] == 0 and figures["duplicated"] == 0 and figures["errors"] == 0
    assert figures["reads"] > 0 and figures["read_p95_ms"] >= figures["read_p50_ms"] > 0
