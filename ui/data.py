"""Cached access to the store for the pages: thin `st.cache_data` wrappers over the core's
plain functions (kpi.units, kpi.engine, kpi.series, kpi.drill); no SQL here.

One DuckDB connection per server process (st.cache_resource), a cursor per call so that
sessions on other threads never share one. Every cached query takes the store's data
version (last batch id and undo count), so after an upload or an undo the pages show the
new numbers without a restart. (The parameter is `data_version`, not `_version`:
st.cache_data leaves arguments whose name starts with an underscore out of its key.)
"""

from __future__ import annotations

import json
import os
from datetime import date

import polars as pl
import streamlit as st

from kpi import drill, engine, periods, series, sources, units
from kpi.periods import parse
from store import db as store


def _connection(path: str):
    return store.shared(path)  # the process's one connection, shared with the API and the jobs


def db_file() -> str:
    return str(store.db_path(os.environ.get("KPI_DB")))


def cursor():
    return _connection(db_file()).cursor()


def today() -> date:
    return periods.today()


def version() -> tuple[int, int]:
    return units.data_version(cursor())


@st.cache_data(show_spinner=False, max_entries=256)
def provinces(data_version: tuple) -> list[tuple[str, str, int]]:
    """(code, name, dossiers) for the 34 provinces, those with data first."""
    return units.provinces(cursor())


@st.cache_data(show_spinner=False, max_entries=256)
def communes(data_version: tuple, province: str) -> list[tuple[str, str]]:
    return units.communes(cursor(), province)


@st.cache_data(show_spinner=False, max_entries=256)
def unit_name(data_version: tuple, code: str) -> str:
    return units.unit_name(cursor(), code)


@st.cache_data(show_spinner=False, max_entries=512)
def kpis(data_version: tuple, period_label: str, unit_code: str, by: str | None, today_iso: str,
         filters: tuple = ()) -> list[dict]:
    rows = engine.compute(cursor(), parse(period_label), unit_code, by=by, today=date.fromisoformat(today_iso),
                          filters=dict(filters) or None)
    return [r.__dict__ | {} for r in rows]


@st.cache_data(show_spinner=False, max_entries=256)
def service_split(data_version: tuple, unit_code: str) -> dict:
    """The unit's catalogue split beside its plan's printed figures (kpi.sources.service_split)."""
    return sources.service_split(cursor(), unit_code)


@st.cache_data(show_spinner=False, max_entries=256)
def monthly(data_version: tuple, unit_code: str, first: str, last: str, today_iso: str) -> pl.DataFrame:
    return series.monthly(cursor(), unit_code, date.fromisoformat(first), date.fromisoformat(last),
                          today=date.fromisoformat(today_iso))


@st.cache_data(show_spinner=False, max_entries=256)
def breakdown(data_version: tuple, period_label: str, unit_code: str, dimension: str, today_iso: str,
              filters: tuple = ()) -> pl.DataFrame:
    return engine.breakdown(cursor(), parse(period_label), unit_code, dimension,
                            today=date.fromisoformat(today_iso), filters=dict(filters) or None)


@st.cache_data(show_spinner=False)
def data_months(data_version: tuple) -> tuple[str | None, str | None]:
    first, last = units.data_months(cursor())
    return (first.isoformat() if first else None, last.isoformat() if last else None)


# --- Map and drill-down -----------------------------------------------------------------------

@st.cache_resource(show_spinner=False)  # read-only shapes: shared, not copied on every run
def boundaries(province: str | None = None) -> dict | None:
    """GeoJSON of a province's communes (None when the project has no boundaries for it), or
    of the 34 provinces when `province` is None. Features carry `properties.code`."""
    folder = store.REFERENCE / "vn_units"
    if province is None:
        path = folder / "provinces_2025.geojson"
    else:
        path = next(iter(sorted(folder.glob(f"communes_{province}_*.geojson"))), None)
    if path is None or not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


@st.cache_data(show_spinner=False, max_entries=128)
def province_kpis(data_version: tuple, period_label: str, today_iso: str, kpi: str) -> list[dict]:
    """One KPI for each of the 34 provinces (a loop over provinces, each pooled by the engine)."""
    out = []
    versions = units.province_versions(cursor())  # an upload recomputes its own province only
    for code, _name, _n in provinces(data_version):
        out += kpis(versions.get(code, data_version), period_label, code, None, today_iso)
    return [r for r in out if r["kpi"] == kpi]


def _node(period_label: str, unit: str, today_iso: str, filters: tuple, status: str | None) -> drill.Node:
    return drill.Node(unit, parse(period_label), date.fromisoformat(today_iso), dict(filters), status)


@st.cache_data(show_spinner=False, max_entries=512)
def dossier_count(data_version: tuple, period_label: str, unit: str, today_iso: str, filters: tuple,
                  status: str | None, kpi: str, part: str) -> int:
    return drill.count(cursor(), _node(period_label, unit, today_iso, filters, status), kpi, part)


@st.cache_data(show_spinner=False, max_entries=128)
def dossier_page(data_version: tuple, period_label: str, unit: str, today_iso: str, filters: tuple,
                 status: str | None, kpi: str, part: str, offset: int, limit: int) -> pl.DataFrame:
    return drill.dossiers(cursor(), _node(period_label, unit, today_iso, filters, status), kpi, part,
                          offset=offset, limit=limit)


@st.cache_data(show_spinner=False, max_entries=256)
def dossier_statuses(data_version: tuple, period_label: str, unit: str, today_iso: str,
                     filters: tuple) -> list[tuple[str, int]]:
    return drill.statuses(cursor(), _node(period_label, unit, today_iso, filters, None))


@st.cache_data(show_spinner=False, max_entries=256)
def drill_choices(data_version: tuple, unit: str, column: str, field: str | None = None) -> list[tuple[str, str]]:
    return drill.choices(cursor(), unit, column, field)


@st.cache_data(show_spinner=False, max_entries=256)
def procedure_info(data_version: tuple, code: str) -> tuple[str, str | None]:
    return drill.procedure_info(cursor(), code)


@st.cache_data(show_spinner=False, max_entries=256)
def provinces_of(data_version: tuple, codes: tuple[str, ...]) -> frozenset[str]:
    """The provinces these units belong to (for the sidebar's province list of a scoped user)."""
    return units.provinces_of(cursor(), codes)
