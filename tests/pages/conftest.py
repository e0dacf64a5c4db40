from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from loaders.dossiers import load_dossier_file
from store import accounts
from store import db as store

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
TODAY = "2025-11-15"


@pytest.fixture
def golden_db(tmp_path, monkeypatch):
    """A store file with the golden fixture, and the pages pointed at it."""
    path = tmp_path / "kpi.duckdb"
    con = store.connect(path)
    load_dossier_file(con, FIXTURES / "golden.csv", province="40")
    accounts.create_user(con, "admin", "matkhau-quantri", "admin", None, "Quản trị viên")
    con.close()
    monkeypatch.setenv("KPI_DB", str(path))
    monkeypatch.setenv("KPI_TODAY", TODAY)
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    return path


def login(db_path, username: str = "admin", password: str = "matkhau-quantri") -> str:
    con = store.connect(db_path)
    try:
        return accounts.authenticate(con, username, password)
    finally:
        con.close()


def app(page: str | None = None, token: str | None = None, **params) -> AppTest:
    """An AppTest of the dashboard, logged in as `token` (default: the fixture's admin)."""
    import os

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["kpi_token"] = token or login(os.environ["KPI_DB"])
    for key, value in params.items():
        at.query_params[key] = value
    if page:
        at.switch_page(str(ROOT / "pages" / f"{page}.py"))
    return at


def run(at: AppTest) -> AppTest:
    """Run `at` and fail on any exception the page raised."""
    at.run()
    assert not at.exception, at.exception
    return at
