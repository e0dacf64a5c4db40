"""Monthly series of the dossier KPIs for trend lines and projections, in one query over
the monthly facts (not one engine call per month)."""

from __future__ import annotations

from datetime import date

import polars as pl

from kpi.definitions import KPIS
from kpi.engine import members, scope
from kpi.periods import month
from store.components import FINISHED_COMPONENTS, RECEIVED_COMPONENTS
from store.db import query_pl


def monthly(con, unit_code: str, first: date, last: date, today: date | None = None) -> pl.DataFrame:
    """One row per month in [first, last]: the counts and each dossier rate KPI (null where
    there is no denominator). Rates pool all members of a province."""
    unit = scope(con, unit_code)
    codes = [m[0] for m in members(con, unit)]
    params = {"province": unit.province_code, "units": codes, "first": first, "last": last}
    frames = []
    for table, comps in (("fact_received", RECEIVED_COMPONENTS), ("fact_finished", FINISHED_COMPONENTS)):
        sums = ", ".join(f"sum({c})::BIGINT AS {c}" for c in comps)
        frames.append(query_pl(con, f"""
            SELECT month, {sums} FROM {table}
            WHERE province_code = $province AND unit_code IN (SELECT unnest($units))
              AND month BETWEEN $first AND $last GROUP BY month""", params))
    months = pl.DataFrame({"month": [m.start for m in _months(first, last)]})
    out = months
    for frame in frames:
        out = out.join(frame, on="month", how="left")
    rates = []
    for kid, defn in KPIS.items():
        if defn.source != "dossier" or defn.denominator is None:
            continue
        if defn.numerator in out.columns and defn.denominator in out.columns:
            den = pl.col(defn.denominator)
            rates.append(pl.when(den > 0).then(pl.col(defn.numerator).fill_null(0) / den).otherwise(None).alias(kid))
    return out.with_columns(rates).sort("month")


def _months(first: date, last: date):
    current = month(date(first.year, first.month, 1))
    while current.start <= last:
        yield current
        nxt = current.end.toordinal() + 1
        current = month(date.fromordinal(nxt))
