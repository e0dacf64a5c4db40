"""Drill-down queries: KPI tables of a unit's children (communes, fields, procedures) and
the dossiers behind every figure.

The dossier sets are the row conditions of the components the engine counts with
(store.components declares each once) and scoped by the engine's own WHERE clause, so the list of a KPI's
numerator has exactly as many rows as the engine's numerator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import polars as pl

from kpi.definitions import KPIS
from kpi.engine import Query, _where, evaluate, members, scope
from kpi.periods import Period
from store.components import BY_NAME
from store.db import query_pl

PARTS = ("numerator", "denominator", "gap")
PART_LABELS = {
    "numerator": "Tử số",
    "denominator": "Mẫu số",
    "gap": "Thuộc mẫu số, ngoài tử số (chưa đạt)",
}
CHANNEL_LABELS = {"online": "Trực tuyến", "direct": "Trực tiếp", "post": "BCCI"}

# What each count means, in words, for the line that explains a figure (from the declarations).
COMPONENT_VI = {name: c.description for name, c in BY_NAME.items()}


def component_rows(name: str) -> tuple[str, str | None]:
    """(row condition, date column the period applies to) of a dossier component."""
    c = BY_NAME[name]
    return c.where, c.date_column


def describe(name: str, asof: date) -> str:
    """A component's dossiers in words (as of `asof` for the overdue count)."""
    return COMPONENT_VI[name].format(asof=asof.strftime("%d/%m/%Y"))


def describe_part(kpi: str, part: str, asof: date) -> str:
    defn = KPIS[kpi]
    if part == "numerator":
        return describe(defn.numerator, asof)
    if part == "denominator":
        return describe(defn.denominator, asof)
    return f"{describe(defn.denominator, asof)}, nhưng không thuộc tử số"


def _is_dossier_component(name: str | None) -> bool:
    return name is None or name in BY_NAME


# KPIs whose numerator and denominator are both counts of dossier rows.
DRILL_KPIS = [k for k, d in KPIS.items() if _is_dossier_component(d.numerator) and _is_dossier_component(d.denominator)]


def parts(kpi: str) -> list[str]:
    return list(PARTS) if KPIS[kpi].denominator else ["numerator"]


@dataclass(frozen=True)
class Node:
    """A drill-down position: a unit (province or commune), a period and engine filters
    (field, procedure_code, channel), plus the dossier list's own status filter."""
    unit: str
    period: Period
    today: date
    filters: dict = field(default_factory=dict)
    status: str | None = None

    def engine_filters(self) -> dict | None:
        return {k: v for k, v in self.filters.items() if v} or None


def _query(con, node: Node) -> Query:
    unit = scope(con, node.unit)
    return Query(node.period, unit, [m[0] for m in members(con, unit)], node.today, "unit_code",
                 node.engine_filters())


def dossier_set(con, node: Node, kpi: str, part: str = "numerator") -> tuple[str, dict]:
    """WHERE clause (over table `dossiers`) and params of the dossiers counted in a KPI's
    numerator, denominator, or denominator-but-not-numerator ("gap")."""
    defn = KPIS[kpi]
    if kpi not in DRILL_KPIS:
        raise ValueError(f"{kpi} is not counted from dossiers")
    if part not in parts(kpi):
        raise ValueError(f"{kpi} has no {part}")
    q = _query(con, node)
    num_cond, num_date = component_rows(defn.numerator)
    if part == "numerator":
        cond, date_col = num_cond, num_date
    else:
        cond, date_col = component_rows(defn.denominator)
        if part == "gap":
            if date_col != num_date:
                raise ValueError(f"{kpi}: numerator and denominator count different dossiers")
            cond = f"({cond}) AND NOT coalesce(({num_cond}), FALSE)"
    where, params = _where(q, date_col)
    if "$asof" in cond:
        params["asof"] = node.period.as_of(node.today)
    if node.status:
        where += " AND status = $status"
        params["status"] = node.status
    return f"{where} AND ({cond})", params


def count(con, node: Node, kpi: str = "received", part: str = "numerator") -> int:
    where, params = dossier_set(con, node, kpi, part)
    return con.sql(f"SELECT count(*) FROM dossiers WHERE {where}", params=params).fetchall()[0][0]


def dossiers(con, node: Node, kpi: str = "received", part: str = "numerator", offset: int = 0,
             limit: int | None = 500) -> pl.DataFrame:
    """One page of the set, newest first, with unit names and where each dossier stands
    against its due date today."""
    where, params = dossier_set(con, node, kpi, part)
    params["verdict_asof"] = node.today
    page = f"LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
    return query_pl(con, f"""
        WITH chosen AS (
            SELECT * FROM dossiers WHERE {where}
            ORDER BY received_at DESC, dossier_id {page}
        )
        SELECT c.dossier_id, c.unit_code, u.full_name AS unit_name, c.field, c.procedure_code, c.procedure_name,
               c.channel, c.received_at, c.due_date, c.finished_at, c.status,
               CASE
                 WHEN c.due_date IS NULL THEN 'Không có hạn'
                 WHEN c.finished_date IS NOT NULL AND c.finished_date <= $verdict_asof
                   THEN CASE WHEN c.finished_date <= c.due_date THEN 'Đúng hạn' ELSE 'Trễ hạn' END
                 WHEN c.due_date < $verdict_asof THEN 'Đang xử lý, quá hạn'
                 ELSE 'Đang xử lý, trong hạn'
               END AS deadline,
               c.fully_online, c.digitised, c.e_result, c.data_reused, c.paid_online
        FROM chosen c LEFT JOIN units u ON u.code = c.unit_code
        ORDER BY c.received_at DESC, c.dossier_id""", params)


def statuses(con, node: Node) -> list[tuple[str, int]]:
    """Status texts of the unit's dossiers received in the period, most frequent first."""
    where, params = _where(_query(con, node), "received_date")
    return con.sql(f"""SELECT status, count(*) AS n FROM dossiers WHERE {where} AND status IS NOT NULL
                       GROUP BY status ORDER BY n DESC, status""", params=params).fetchall()


def choices(con, unit_code: str, column: str, field_name: str | None = None) -> list[tuple[str, str]]:
    """(value, label) of the fields or procedures a unit has dossiers in (any period),
    from the monthly facts so that it stays fast."""
    if column not in ("field", "procedure_code"):
        raise ValueError(column)
    unit = scope(con, unit_code)
    params: dict = {"units": [m[0] for m in members(con, unit)], "province": unit.province_code}
    extra = ""
    if field_name:
        extra = " AND field = $field"
        params["field"] = field_name
    rows = con.sql(f"""
        WITH v AS (
            SELECT {column} AS value FROM fact_received
            WHERE province_code = $province AND unit_code IN (SELECT unnest($units)) AND {column} IS NOT NULL{extra}
            UNION
            SELECT {column} FROM fact_finished
            WHERE province_code = $province AND unit_code IN (SELECT unnest($units)) AND {column} IS NOT NULL{extra}
        )
        SELECT v.value, {"coalesce(v.value || ' ' || p.procedure_name, v.value)" if column == "procedure_code"
                         else "v.value"} AS label
        FROM v LEFT JOIN procedures p ON p.procedure_code = v.value ORDER BY label""", params=params).fetchall()
    return [(r[0], r[1]) for r in rows]


def procedure_info(con, code: str) -> tuple[str, str | None]:
    """("code name", field) of a procedure as last loaded."""
    rows = con.execute("SELECT procedure_name, field FROM procedures WHERE procedure_code = ?", [code]).fetchall()
    if not rows:
        return code, None
    name, field_name = rows[0]
    return (f"{code} {name}" if name else code), field_name


def kpi_frame(counts: pl.DataFrame, dim: str, period: Period, kpis: list[str]) -> pl.DataFrame:
    """One row per dimension value with, per KPI, `<kpi>` (value), `<kpi>__num`, `<kpi>__den`,
    evaluated exactly as the engine evaluates a unit (a loop over fields or procedures,
    not over dossiers)."""
    rows = []
    for counts_row in counts.iter_rows(named=True):
        row = {"key": counts_row[dim]}
        for kid in kpis:
            value, numerator, denominator = evaluate(KPIS[kid], counts_row, period)
            row |= {kid: value, f"{kid}__num": numerator, f"{kid}__den": denominator}
        rows.append(row)
    return pl.DataFrame(rows, schema=_schema(kpis))


def kpi_frame_from_values(values: list[dict], kpis: list[str], skip: str | None = None) -> pl.DataFrame:
    """The same shape from the engine's KpiValue rows (one row per unit)."""
    by_unit: dict[str, dict] = {}
    for v in values:
        if v["unit_code"] == skip or v["kpi"] not in kpis:
            continue
        row = by_unit.setdefault(v["unit_code"], {"key": v["unit_code"]})
        row |= {v["kpi"]: v["value"], f"{v['kpi']}__num": v["numerator"], f"{v['kpi']}__den": v["denominator"]}
    return pl.DataFrame(list(by_unit.values()), schema=_schema(kpis))


def _schema(kpis: list[str]) -> dict:
    schema: dict = {"key": pl.String}
    for kid in kpis:
        schema |= {kid: pl.Float64, f"{kid}__num": pl.Float64, f"{kid}__den": pl.Float64}
    return schema
