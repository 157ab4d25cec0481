"""Alembic, driven from code: `britizen db upgrade`, service start-up and the test fixtures."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

from storage.db import ensure_sqlite_directory

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not an ini option, so '%' in passwords needs no escaping.
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations. Synchronous: call it before the event loop starts or in a thread."""
    ensure_sqlite_directory(database_url)
    command.upgrade(alembic_config(database_url), revision)


HISTORY_PARTITION = re.compile(r"^score_history_(default|y\d{4}m\d{2})$")


def include_name(name: str | None, type_: str, _parents: Mapping[Any, str | None]) -> bool:
    """Autogenerate's view of the schema: score_history's monthly partitions (PostgreSQL,
    migration 0020, created by services/score_history.py) are the table's storage, not tables
    the models describe."""
    return not (type_ == "table" and name is not None and HISTORY_PARTITION.match(name))
