"""Compute KPIs for a unit (province or commune) and period from the store.

Counts come per unit from component providers (dossier facts here, the other sources in
kpi/sources.py, all listed in kpi/providers.py), are summed over a group, and only then
divided: a group's rate is the pooled rate of its members, never a mean of rates. A KPI
without a denominator has no value ("no data"), never 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import polars as pl

from kpi.definitions import KPIS, KpiDef
from kpi.periods import Period
from kpi.targets import load_targets, pick, status
from store.components import (
    FINISHED_COMPONENTS,
    OVERDUE_CANDIDATES,
    OVERDUE_OPEN_SQL,
    OVERDUE_OPEN_WHERE,
    RECEIVED_COMPONENTS,
)
from store.db import query_pl

DIMENSIONS = ("unit_code", "field", "procedure_code")


@dataclass
class Scope:
    code: str
    name: str
    full_name: str
    level: str
    province_code: str

    @property
    def is_province(self) -> bool:
        return self.level == "province"


class UnknownUnit(LookupError):
    pass


def scope(con: duckdb.DuckDBPyConnection, unit_code: str) -> Scope:
    row = con.execute(
        "SELECT code, name, full_name, level, province_code FROM units WHERE code = ?", [str(unit_code)]
    ).fetchall()
    if not row:
        raise UnknownUnit(f"Không có đơn vị mã «{unit_code}».")
    return Scope(*row[0])


def members(con, unit: Scope) -> list[tuple[str, str, str]]:
    """(code, name, full_name) of the units a unit's figures cover: a province covers its
    communes and itself (its own departments), a commune only itself."""
    if unit.is_province:
        return con.execute(
            "SELECT code, name, full_name FROM units WHERE province_code = ? ORDER BY level DESC, name",
            [unit.code],
        ).fetchall()
    return [(unit.code, unit.name, unit.full_name)]


@dataclass
class Query:
    """What a provider is asked for: counts per `dimension` for these units and period."""
    period: Period
    unit: Scope
    unit_codes: list[str]
    today: date
    dimension: str = "unit_code"
    filters: dict | None = None  # field, procedure_code, channel
    use_facts: bool = True       # False: always read the dossier rows (tests, benchmarks)


def _where(q: Query, date_col: str | None, table_alias: str = "") -> tuple[str, dict]:
    a = f"{table_alias}." if table_alias else ""
    clauses = [f"{a}province_code = $province", f"{a}unit_code IN (SELECT unnest($units))"]
    params: dict = {"province": q.unit.province_code, "units": q.unit_codes}
    if date_col:
        clauses.append(f"{a}{date_col} BETWEEN $start AND $end")
        params.update(start=q.period.start, end=q.period.end)
    for key in ("field", "procedure_code", "channel"):
        value = (q.filters or {}).get(key)
        if value:
            clauses.append(f"{a}{key} = ${key}")
            params[key] = value
    return " AND ".join(clauses), params


def dossier_components(con, q: Query) -> pl.DataFrame:
    """Received/finished counts from monthly facts when the period is whole months (and no
    channel filter), else from the dossier rows; overdue_open from the rows as of the end."""
    dim = q.dimension
    use_facts = q.use_facts and q.period.month_aligned and not (q.filters or {}).get("channel")
    frames = []
    for comps, date_col, fact in ((RECEIVED_COMPONENTS, "received_date", "fact_received"),
                                  (FINISHED_COMPONENTS, "finished_date", "fact_finished")):
        if use_facts:
            where, params = _where(q, "month")
            select = ", ".join(f"sum({name})::BIGINT AS {name}" for name in comps)
            sql = f"SELECT {dim}, {select} FROM {fact} WHERE {where} GROUP BY {dim}"
        else:
            where, params = _where(q, date_col)
            select = ", ".join(f"{expr} AS {name}" for name, expr in comps.items())
            sql = f"SELECT {dim}, {select} FROM dossiers WHERE {where} GROUP BY {dim}"
        frames.append(query_pl(con, sql, params))
    return _outer(frames + [overdue_open(con, q)], dim)


def overdue_open(con, q: Query) -> pl.DataFrame:
    """Open dossiers past their due date as of the period's end, per dimension value: 0
    where the value has a dossier received on or before the as-of day (any time before,
    not only in the period) and none is overdue; no row at all ("no data", not 0) where
    no dossier was received by then.

    The conditions sit in WHERE, so DuckDB filters while it scans and aggregates only the
    few overdue rows (a FILTER clause made it aggregate every dossier of the province: 4x
    slower at 20M rows), over the store's overdue candidates (store.components: the few
    dossiers ever open past their due date); which values have a dossier by the as-of day comes from the
    monthly facts for the whole months before it and from the rows of its own month. A
    channel filter is not in the facts: that case reads the rows for both."""
    dim = q.dimension
    where, params = _where(q, None)
    asof = params["asof"] = q.period.as_of(q.today)
    rows = OVERDUE_CANDIDATES if q.use_facts else "dossiers"
    if (q.filters or {}).get("channel"):
        return query_pl(
            con, f"""SELECT {dim}, {OVERDUE_OPEN_SQL} AS overdue_open FROM dossiers
                     WHERE {where} AND received_date <= $asof GROUP BY {dim}""", params)
    if (asof + timedelta(days=1)).day == 1:
        # As of a month's last day (a whole-month, quarter or year period that has ended) its
        # month is whole too: the facts say which values have a dossier, with no scan of the
        # rows (at 20M rows that scan was 52 of the query's ~340 CPU-ms).
        seen = f"SELECT DISTINCT {dim} FROM fact_received WHERE {where} AND month <= date_trunc('month', $asof)"
    else:
        seen = f"""SELECT DISTINCT {dim} FROM fact_received WHERE {where} AND month < date_trunc('month', $asof)
                  UNION
                  SELECT DISTINCT {dim} FROM dossiers
                  WHERE {where} AND received_date BETWEEN date_trunc('month', $asof) AND $asof"""
    return query_pl(
        con,
        f"""SELECT p.{dim}, coalesce(o.n, 0)::BIGINT AS overdue_open
            FROM ({seen}) p
            LEFT JOIN (SELECT {dim}, count(*) AS n FROM {rows} WHERE {where} AND {OVERDUE_OPEN_WHERE}
                       GROUP BY {dim}) o ON p.{dim} IS NOT DISTINCT FROM o.{dim}""",
        params,
    )


def _outer(frames: list[pl.DataFrame], dim: str) -> pl.DataFrame:
    frames = [f for f in frames if f is not None]
    out = frames[0]
    for frame in frames[1:]:
        out = out.join(frame, on=dim, how="full", coalesce=True)
    return out


def providers():
    """Every component provider, as kpi/providers.py lists them. Imported when first needed,
    not at this module's import (that list names this module's dossier_components)."""
    from kpi.providers import PROVIDERS

    return PROVIDERS


def components(con, q: Query) -> pl.DataFrame:
    """Counts per dimension value (unit, field or procedure), all providers merged: a count
    two providers both give (dossier rows and an aggregate report) is summed, so each
    provider must only give what the others do not cover."""
    frames = [p.counts(con, q) for p in providers()]
    frames = [f for f in frames if f is not None and f.height]
    if not frames:
        return pl.DataFrame({q.dimension: []}, schema={q.dimension: pl.String})
    stacked = pl.concat([f.with_columns(pl.exclude(q.dimension).cast(pl.Float64)) for f in frames],
                        how="diagonal")
    sums = [pl.when(pl.col(c).is_null().all()).then(None).otherwise(pl.col(c).sum()).alias(c)
            for c in stacked.columns if c != q.dimension]
    merged = _replaced(stacked.group_by(q.dimension, maintain_order=True).agg(sums))
    for provider in providers():
        if provider.derive is not None:
            merged = provider.derive(merged)
    return merged


BASIS = "catalogue_basis"  # key of a group's counts naming the catalogue its figures come from
REPLACES = "!"  # suffix of a provider's column that replaces the others' sum (see _replaced)


def _replaced(counts: pl.DataFrame) -> pl.DataFrame:
    """A provider's `name!` column is the unit's whole figure for `name` where it is not
    null, in place of what the providers sum: a position the unit reported as a total (the
    template's open overdue dossiers at the period's end counts the dossiers of earlier
    months too, which the unit's older dossier rows also give)."""
    for column in [c for c in counts.columns if c.endswith(REPLACES)]:
        name = column.removesuffix(REPLACES)
        base = pl.col(name) if name in counts.columns else pl.lit(None, dtype=pl.Float64)
        counts = counts.with_columns(pl.coalesce(pl.col(column), base).alias(name)).drop(column)
    return counts


@dataclass
class KpiValue:
    unit_code: str
    unit_name: str
    period: str
    kpi: str
    value: float | None
    numerator: float | None
    denominator: float | None
    target: float | None
    status: str
    label: str = ""
    target_op: str | None = None
    target_deadline: date | None = None
    plan: str | None = None
    basis: str | None = None       # what a catalogue figure is taken from ("tổng danh mục của 2 xã/phường")

    def public(self) -> dict:
        """The CLI's JSON record (the KPI ids of docs/domain.md)."""
        keys = ("unit_code", "unit_name", "period", "kpi", "value", "numerator", "denominator", "target", "status")
        return {k: getattr(self, k) for k in keys}


def _num(row: dict, name: str | None) -> float | None:
    if name is None:
        return None
    value = row.get(name)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def evaluate(defn: KpiDef, counts: dict, period: Period) -> tuple[float | None, float | None, float | None]:
    numerator = _num(counts, defn.numerator)
    denominator = _num(counts, defn.denominator)
    if defn.requires is not None and not counts.get(defn.requires):
        return None, None, denominator  # no dossier data behind it: "no data", not 0
    if defn.denominator is not None and numerator is None and denominator:
        numerator = 0
    return defn.value(numerator, denominator, period), numerator, denominator


def kpi_values(counts: dict, unit: tuple[str, str], province_code: str, period: Period, targets,
               kpis: list[str] | None = None) -> list[KpiValue]:
    out = []
    for kid in kpis or list(KPIS):
        defn = KPIS[kid]
        value, numerator, denominator = evaluate(defn, counts, period)
        target = pick(targets, kid, unit[0], province_code, defn.kind == "rate", period.end)
        out.append(KpiValue(
            unit_code=unit[0], unit_name=unit[1], period=period.label, kpi=kid, value=value,
            numerator=numerator, denominator=denominator,
            target=target.value if target else None,
            status=status(value, target, period.start, period.end, defn.kind == "rate"),
            label=defn.label, target_op=target.op if target else None,
            target_deadline=target.deadline if target else None, plan=target.plan_slug if target else None,
            basis=counts.get(BASIS) if "catalogue" in defn.source else None,
        ))
    return out


def pooled(per_unit: pl.DataFrame, dim: str) -> dict:
    """Sum every count over the members (nulls stay null only when no member has the count)."""
    if per_unit.height == 0:
        return {}
    sums = per_unit.drop(dim).select(
        [pl.when(pl.col(c).is_null().all()).then(None).otherwise(pl.col(c).sum()).alias(c) for c in per_unit.columns if c != dim]
    )
    return sums.row(0, named=True)


def compute(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    unit_code: str,
    by: str | None = None,
    today: date | None = None,
    kpis: list[str] | None = None,
    filters: dict | None = None,
    use_facts: bool = True,
) -> list[KpiValue]:
    """KPIs of a unit for a period; with by="commune", also every member unit's row."""
    today = today or date.today()
    unit = scope(con, unit_code)
    member_rows = members(con, unit)
    q = Query(period, unit, [m[0] for m in member_rows], today, "unit_code", filters, use_facts)
    per_unit = components(con, q)
    targets = load_targets(con)
    group_counts = pooled(per_unit, "unit_code")
    for provider in providers():
        if provider.group is not None:
            group_counts.update(provider.group(con, q, per_unit) or {})
    rows = kpi_values(group_counts, (unit.code, unit.full_name), unit.province_code, period, targets, kpis)
    if by == "commune" and unit.is_province:
        lookup = {r["unit_code"]: r for r in per_unit.iter_rows(named=True)}
        for code, _name, full_name in member_rows:
            if code == unit.code:
                continue
            rows += kpi_values(lookup.get(code, {}), (code, full_name), unit.province_code, period, targets, kpis)
    return rows


def breakdown(
    con, period: Period, unit_code: str, dimension: str, today: date | None = None,
    filters: dict | None = None,
) -> pl.DataFrame:
    """Counts per field or procedure (or unit) within a unit, for drill-down tables."""
    if dimension not in DIMENSIONS:
        raise ValueError(dimension)
    unit = scope(con, unit_code)
    q = Query(period, unit, [m[0] for m in members(con, unit)], today or date.today(), dimension, filters)
    return dossier_components(con, q)
