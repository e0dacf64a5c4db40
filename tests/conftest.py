from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from store import db as store

FIXTURES = Path(__file__).parent / "fixtures"
ARTIFACTS = Path(__file__).parent.parent / "artifacts"
TODAY = date(2025, 11, 15)


@pytest.fixture
def con():
    connection = store.connect(":memory:")
    yield connection
    connection.close()


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def artifacts() -> Path:
    """artifacts/ (git-ignored): where tests leave figures they report rather than assert,
    such as latency measured under load."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def db_state(con) -> dict:
    """A fingerprint of everything a load may write, to prove a rejection changed nothing."""
    state = {}
    for table in ("dossiers", "dossier_history", "fact_received", "fact_finished", "overdue_candidates", "batches",
                  "rejected_rows", "batch_units", "procedures"):
        rows = sorted(map(repr, con.execute(f"SELECT * FROM {table}").fetchall()))
        state[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return state


@pytest.fixture(autouse=True)
def _close_shared_connections():
    """Each test's stores are closed after it (the pages' and the API's shared connections)."""
    yield
    store.close_shared()
