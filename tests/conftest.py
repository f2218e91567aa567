from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_notes"


@pytest.fixture(scope="session")
def reviewer():
    """The pipeline, built once for the whole test session (as the service builds it once per process)."""
    from app.review import Reviewer

    return Reviewer()
