"""Cached access to the store for the pages.

One DuckDB connection per server process (st.cache_resource), a cursor per call so that
sessions on other threads never share one. Every cached query takes the store's data
version (last batch id and undo count), so after an upload or an undo the pages show the
new numbers without a restart.
"""

from __future__ import annotations

import os
from datetime import date

import polars as pl
import streamlit as st

from kpi import engine, series
from kpi.periods import parse
from loaders import store


@st.cache_resource(show_spinner=False)
def _connection(path: str):
    return store.connect(path)


def db_file() -> str:
    return str(store.db_path(os.environ.get("KPI_DB")))


def cursor():
    return _connection(db_file()).cursor()


def today() -> date:
    override = os.environ.get("KPI_TODAY")
    return date.fromisoformat(override) if override else date.today()


def version() -> tuple[int, int]:
    cur = cursor()
    return tuple(cur.execute(
        "SELECT coalesce(max(batch_id), 0), count(*) FILTER (WHERE status = 'undone') FROM batches"
    ).fetchall()[0])


@st.cache_data(show_spinner=False, max_entries=256)
def provinces(_version: tuple) -> list[tuple[str, str, int]]:
    """(code, name, dossiers) for the 34 provinces, those with data first."""
    return cursor().execute(
        """SELECT u.code, u.full_name, coalesce(sum(f.received), 0)::BIGINT AS n
           FROM units u LEFT JOIN fact_received f ON f.province_code = u.code
           WHERE u.level = 'province' GROUP BY ALL ORDER BY n DESC, u.code"""
    ).fetchall()


@st.cache_data(show_spinner=False, max_entries=256)
def communes(_version: tuple, province: str) -> list[tuple[str, str]]:
    return cursor().execute(
        "SELECT code, full_name FROM units WHERE province_code = ? AND level = 'commune' ORDER BY name", [province]
    ).fetchall()


@st.cache_data(show_spinner=False, max_entries=256)
def unit_name(_version: tuple, code: str) -> str:
    rows = cursor().execute("SELECT full_name FROM units WHERE code = ?", [code]).fetchall()
    return rows[0][0] if rows else code


@st.cache_data(show_spinner=False, max_entries=512)
def kpis(_version: tuple, period_label: str, unit_code: str, by: str | None, today_iso: str,
         filters: tuple = ()) -> list[dict]:
    rows = engine.compute(cursor(), parse(period_label), unit_code, by=by, today=date.fromisoformat(today_iso),
                          filters=dict(filters) or None)
    return [r.__dict__ | {} for r in rows]


@st.cache_data(show_spinner=False, max_entries=256)
def monthly(_version: tuple, unit_code: str, first: str, last: str, today_iso: str) -> pl.DataFrame:
    return series.monthly(cursor(), unit_code, date.fromisoformat(first), date.fromisoformat(last),
                          today=date.fromisoformat(today_iso))


@st.cache_data(show_spinner=False, max_entries=256)
def breakdown(_version: tuple, period_label: str, unit_code: str, dimension: str, today_iso: str,
              filters: tuple = ()) -> pl.DataFrame:
    return engine.breakdown(cursor(), parse(period_label), unit_code, dimension,
                            today=date.fromisoformat(today_iso), filters=dict(filters) or None)


@st.cache_data(show_spinner=False)
def data_months(_version: tuple) -> tuple[str | None, str | None]:
    rows = cursor().execute("SELECT min(month), max(month) FROM fact_received").fetchall()
    first, last = rows[0]
    return (first.isoformat() if first else None, last.isoformat() if last else None)
