"""Database errors never quote the stored values (note text, determinations) into messages or logs."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from app.db import Database
from app.tables import Blob


def test_a_database_error_does_not_quote_its_values(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    db.migrate()
    secret = b"Patient: BREKKE, HAROLD J"
    with db.session() as session:
        session.add(Blob(sha256="a" * 64, size=len(secret), data=secret))
    with pytest.raises(IntegrityError) as raised, db.session() as session:
        session.add(Blob(sha256="a" * 64, size=len(secret), data=secret))
    assert "BREKKE" not in str(raised.value) and "hidden" in str(raised.value)
    db.dispose()
