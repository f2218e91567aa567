"""The Alembic migrations build exactly the schema the code uses, on SQLite and PostgreSQL, and run down and up."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.db import Database, alembic_config
from app.tables import Base


def test_the_migrations_match_the_tables(database_url):
    db = Database(database_url)
    db.migrate()
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    db.dispose()
    assert differences == []


def test_migrations_run_down_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    db = Database(url)
    db.migrate()
    config = alembic_config(url)
    command.downgrade(config, "base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    db.migrate()
    assert {"cases", "documents", "audit_events", "users", "api_keys", "blobs"} <= set(inspect(db.engine).get_table_names())
    db.dispose()
