"""The `britizen` command line under test: no BRITIZEN_ settings from the machine, no .env (the
working folder is the test's temporary one, where data/ lands too)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storage.migrate import upgrade
from tests.e2e.conftest import TEST_SECRET


def clean_cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("BRITIZEN_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def cli_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str) -> str:
    """A migrated SQLite database `name` for the commands, with the test secret key set."""
    clean_cli_env(monkeypatch, tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / name}"
    monkeypatch.setenv("BRITIZEN_DATABASE_URL", url)
    monkeypatch.setenv("BRITIZEN_SECRET_KEY", TEST_SECRET)
    upgrade(url)
    return url
