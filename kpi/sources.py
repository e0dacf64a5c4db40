"""Component providers for the sources other than dossier rows: aggregate reports (TT
01/2020 template), service catalogues, archive and document statistics.

Each provider (listed in kpi/providers.py) returns counts per unit for a Query, under the
component names of kpi/definitions.py; the engine sums them with the dossier counts. So
each must give only what no other provider covers for the same unit and month:

- Template: a report's period counts toward the query period only if it lies within it.
  Where the unit has dossier rows (monthly facts) for any month of a report's period, the
  dossiers win and the report is left out. Reports of the same unit that overlap (a
  quarter and one of its months) are not added up: the longest is taken, then the others
  that do not overlap it. received = Trực tuyến + Trực tiếp/BCCI (new in the period, not
  "Từ kỳ trước"); finished_on_time = Trước hạn + Đúng hạn; finished_with_due = đã giải quyết
  Tổng số; overdue_open = đang giải quyết Quá hạn, only from the report whose period ends
  where the query period ends (it is a position at that date, so it replaces the open
  overdue dossiers the unit's rows of earlier months give instead of adding to them).
- Catalogue: the unit's current catalogue (a snapshot, whatever the period), each (unit,
  procedure) row counted once. A province's catalogue figures (docs/domain.md "Catalogue
  figures of a province") come from its own catalogue alone when one was loaded for the
  province itself; otherwise they pool its communes' rows: online_services = the number
  of rows (split toàn trình / một phần), full_online_services_on_portal = rows that are
  toàn trình and published (both flags of the same row), the rates = matching rows / rows.
  dossiers_per_service = online dossiers of the units that have a catalogue / the sum of
  their non-exempt rows (`catalogued_received_online`, derived per unit; the province's
  own catalogue covers all of its dossiers). `catalogue_basis` names what the figures
  come from ("danh mục của tỉnh", "tổng danh mục của N xã/phường").
- Archive: archive items at the end of the period (each unit's latest month ending by
  then), documents summed over the months lying within the period; pooled by the engine.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from kpi.engine import BASIS, REPLACES, Query, members, scope
from kpi.periods import parse
from store.db import plans, query_pl

TEMPLATE_COMPONENTS = ("received", "received_online", "finished", "finished_on_time", "finished_with_due",
                       "overdue_open")
CATALOGUE_COMPONENTS = ("services", "services_full", "services_partial", "services_full_on_portal",
                        "services_counted", "services_listed", "services_location_free", "business_services",
                        "business_services_online")
# Dossier counts of the units that have a catalogue: dossiers_per_service's numerator and data check.
CATALOGUED = {"catalogued_received_online": "received_online", "catalogued_received": "received"}
PROVINCE_BASIS = "danh mục của tỉnh"

_SCOPE = "province_code = $province AND unit_code IN (SELECT unnest($units))"


def _params(q: Query) -> dict:
    return {"province": q.unit.province_code, "units": q.unit_codes}


def _by_unit_only(q: Query, allowed: tuple[str, ...]) -> bool:
    """Aggregate sources answer per unit only, and only under filters they can honour."""
    active = {k for k, v in (q.filters or {}).items() if v}
    return q.dimension == "unit_code" and active <= set(allowed)


# ------------------------------------------------------------------ template
def template_components(con: duckdb.DuckDBPyConnection, q: Query) -> pl.DataFrame | None:
    if not _by_unit_only(q, ("field",)):
        return None
    params = _params(q) | {"start": q.period.start, "end": q.period.end}
    field = ""
    if (q.filters or {}).get("field"):
        field = "AND field = $field"
        params["field"] = q.filters["field"]
    reports = query_pl(con, f"""
        WITH cur AS (
            SELECT unit_code, period_start, period_end, max(batch_id) AS batch_id,
                   sum(received_online + received_direct) AS received, sum(received_online) AS received_online,
                   sum(finished_total) AS finished, sum(finished_early + finished_on_time) AS finished_on_time,
                   sum(finished_total) AS finished_with_due, sum(open_overdue) AS overdue_open
            FROM template_rows
            WHERE superseded_by IS NULL AND {_SCOPE} AND period_start >= $start AND period_end <= $end {field}
            GROUP BY ALL),
        covered AS (
            SELECT unit_code, month FROM fact_received
            WHERE unit_code IN (SELECT unnest($units)) AND month BETWEEN date_trunc('month', $start) AND $end
            UNION
            SELECT unit_code, month FROM fact_finished
            WHERE unit_code IN (SELECT unnest($units)) AND month BETWEEN date_trunc('month', $start) AND $end)
        SELECT * FROM cur c
        WHERE NOT EXISTS (SELECT 1 FROM covered f WHERE f.unit_code = c.unit_code
                          AND f.month BETWEEN date_trunc('month', c.period_start) AND c.period_end)
        ORDER BY unit_code, period_end - period_start DESC, batch_id DESC""", params)
    if reports.height == 0:
        return None
    reports = _without_overlaps(reports)
    # The open overdue count is the unit's position at the report's end, dossiers of every
    # earlier month included: it replaces (REPLACES) what the unit's older dossier rows give.
    return reports.with_columns(
        pl.when(pl.col("period_end") == q.period.end).then(pl.col("overdue_open")).otherwise(None)
        .alias("overdue_open")
    ).group_by("unit_code", maintain_order=True).agg(
        [pl.col(c).sum() if c != "overdue_open" else
         pl.when(pl.col(c).is_null().all()).then(None).otherwise(pl.col(c).sum()).alias(c + REPLACES)
         for c in TEMPLATE_COMPONENTS])


def _without_overlaps(reports: pl.DataFrame) -> pl.DataFrame:
    """Per unit, keep reports in the given order (longest first) unless they overlap one
    already kept. Loops over a unit's few report periods, not over data rows."""
    keep = []
    for _unit, group in reports.group_by("unit_code", maintain_order=True):
        taken: list[tuple] = []
        for i, (start, end) in enumerate(group.select("period_start", "period_end").iter_rows()):
            if all(end < s or start > e for s, e in taken):
                taken.append((start, end))
                keep.append(group.slice(i, 1))
    return pl.concat(keep)


# ------------------------------------------------------------------ catalogue
_COUNTS = """
    count(*) FILTER (WHERE online) AS services,
    count(*) FILTER (WHERE online AND level = 'full') AS services_full,
    count(*) FILTER (WHERE online AND level = 'partial') AS services_partial,
    CASE WHEN count(on_portal) > 0
         THEN count(*) FILTER (WHERE online AND level = 'full' AND on_portal) END AS services_full_on_portal,
    count(*) FILTER (WHERE online AND NOT coalesce(exempt, false)) AS services_counted,
    CASE WHEN count(location_free) > 0 THEN count(*) FILTER (WHERE online) END AS services_listed,
    CASE WHEN count(location_free) > 0
         THEN count(*) FILTER (WHERE online AND location_free) END AS services_location_free,
    CASE WHEN count(business) > 0 THEN count(*) FILTER (WHERE business) END AS business_services,
    CASE WHEN count(business) > 0 THEN count(*) FILTER (WHERE business AND online) END AS business_services_online
"""


def _catalogue_where(q: Query) -> tuple[str, dict]:
    where, params = f"superseded_by IS NULL AND {_SCOPE}", _params(q)
    for key in ("field", "procedure_code"):
        if (q.filters or {}).get(key):
            where += f" AND {key} = ${key}"
            params[key] = q.filters[key]
    return where, params


def _rows(where: str) -> str:
    """The current catalogue rows, each (unit, procedure) once (the latest batch's)."""
    return f"""(SELECT * FROM catalogue_services WHERE {where}
              QUALIFY row_number() OVER (PARTITION BY unit_code, coalesce(procedure_code, lower(procedure_name))
                                         ORDER BY batch_id DESC, source_row DESC) = 1)"""


def catalogue_components(con: duckdb.DuckDBPyConnection, q: Query) -> pl.DataFrame | None:
    if not _by_unit_only(q, ("field", "procedure_code", "channel")):
        return None
    where, params = _catalogue_where(q)
    frame = query_pl(con, f"SELECT unit_code, {_COUNTS} FROM {_rows(where)} GROUP BY unit_code", params)
    return frame if frame.height else None


def catalogued_dossiers(counts: pl.DataFrame) -> pl.DataFrame:
    """Per unit: its dossier counts where it has a catalogue (`services` is counted for every
    unit with catalogue rows), else null, so a group's dossiers_per_service divides the
    dossiers of the units with a catalogue by their services only."""
    has = pl.col("services").is_not_null() if "services" in counts.columns else pl.lit(False)
    return counts.with_columns(
        pl.when(has).then(pl.col(src) if src in counts.columns else pl.lit(None, dtype=pl.Float64))
        .otherwise(None).cast(pl.Float64).alias(name)
        for name, src in CATALOGUED.items())


def _basis(con: duckdb.DuckDBPyConnection, q: Query) -> tuple[str | None, bool]:
    """(basis text, own catalogue?) of a unit's catalogue figures under the query's filters."""
    where, params = _catalogue_where(q)
    found = con.execute(f"""SELECT count(*) FILTER (WHERE unit_code = $own), count(DISTINCT unit_code)
                            FROM catalogue_services WHERE {where}""", params | {"own": q.unit.code}).fetchall()[0]
    own, units = found
    if own:
        return (PROVINCE_BASIS if q.unit.is_province else "danh mục của đơn vị"), True
    if not units:
        return None, False
    return f"tổng danh mục của {units} xã/phường", False


def catalogue_group(con: duckdb.DuckDBPyConnection, q: Query, per_unit: pl.DataFrame | None = None) -> dict:
    """A province's catalogue figures: all from its own catalogue when it has one (and its
    dossiers_per_service numerator is then all of its dossiers), else the sums of its
    communes' counts that the engine pools; with the basis in words (engine.BASIS)."""
    if not q.unit.is_province or not _by_unit_only(q, ("field", "procedure_code", "channel")):
        return {}
    basis, own = _basis(con, q)
    if basis is None:
        return {}
    out = {BASIS: basis}
    if own:
        where, params = _catalogue_where(q)
        params["own"] = q.unit.code
        rows = query_pl(con, f"SELECT {_COUNTS} FROM {_rows(where + ' AND unit_code = $own')}", params)
        out.update({c: rows[c][0] for c in CATALOGUE_COMPONENTS})
        for name, src in CATALOGUED.items():
            column = per_unit[src] if per_unit is not None and src in per_unit.columns else None
            out[name] = None if column is None or column.is_null().all() else column.sum()
    return out


def catalogue_basis(con: duckdb.DuckDBPyConnection, unit_code: str, filters: dict | None = None) -> str | None:
    """What a unit's catalogue figures are taken from, for pages to name it: "danh mục của
    tỉnh" (the province's own list), "tổng danh mục của N xã/phường" (its communes' lists
    pooled), "danh mục của đơn vị" (a commune's own); None without a catalogue."""
    unit = scope(con, unit_code)
    q = Query(parse(str(date.today().year)), unit, [m[0] for m in members(con, unit)], date.today(),
              filters=filters)
    return _basis(con, q)[0]


def catalogue_counts(con: duckdb.DuckDBPyConnection, unit_code: str) -> dict:
    """The catalogue components of one unit as the KPIs see them (a province: its own
    catalogue's, else the sums over its communes'); {} when no catalogue covers it."""
    unit = scope(con, unit_code)
    q = Query(parse(str(date.today().year)), unit, [m[0] for m in members(con, unit)], date.today())
    frame = catalogue_components(con, q)
    if frame is None:
        return {}
    counts = {c: frame[c][0] for c in CATALOGUE_COMPONENTS} if frame.height == 1 and not unit.is_province else {}
    if unit.is_province:
        counts = {c: None if frame[c].is_null().all() else frame[c].sum() for c in CATALOGUE_COMPONENTS}
        group = catalogue_group(con, q)
        counts.update({c: group[c] for c in CATALOGUE_COMPONENTS if c in group})
    return counts


def service_split(con: duckdb.DuckDBPyConnection, unit_code: str) -> dict:
    """Toàn trình / một phần counts of a unit's catalogue beside its plan's printed target.
    Đồng Phú's plan prints "386 (126 toàn trình + 261 một phần)", and 126 + 261 = 387: the
    page shows the plan's figures as printed and flags `plan_mismatch`."""
    counts = catalogue_counts(con, unit_code)
    out = {"full": counts.get("services_full"), "partial": counts.get("services_partial"),
           "total": counts.get("services"), "plan_total": None, "plan_full": None, "plan_partial": None,
           "plan_mismatch": False, "plan_note": None}
    for plan in plans():
        if plan.get("unit_code") != unit_code:
            continue
        for target in plan.get("targets", []):
            if target["kpi"] != "online_services":
                continue
            printed = target.get("printed_breakdown") or {}
            out.update(plan_total=target["value"], plan_full=printed.get("full"), plan_partial=printed.get("partial"),
                       plan_note=target.get("note"))
            if printed:
                out["plan_mismatch"] = printed.get("full", 0) + printed.get("partial", 0) != target["value"]
    return out


# ------------------------------------------------------------------ archive and documents
def archive_components(con: duckdb.DuckDBPyConnection, q: Query) -> pl.DataFrame | None:
    if not _by_unit_only(q, ()):
        return None
    frame = query_pl(con, f"""
        WITH cur AS (SELECT * FROM archive_stats WHERE superseded_by IS NULL AND {_SCOPE}),
        archive AS (
            SELECT unit_code, archive_total, archive_digitised FROM cur
            WHERE archive_total IS NOT NULL AND last_day(month) <= $end
            QUALIFY row_number() OVER (PARTITION BY unit_code ORDER BY month DESC) = 1),
        documents AS (
            SELECT unit_code, sum(documents_total) AS documents_total,
                   sum(documents_electronic) AS documents_electronic
            FROM cur WHERE documents_total IS NOT NULL AND month >= $start AND last_day(month) <= $end
            GROUP BY unit_code)
        SELECT coalesce(a.unit_code, d.unit_code) AS unit_code, a.archive_total, a.archive_digitised,
               d.documents_total, d.documents_electronic
        FROM archive a FULL JOIN documents d ON a.unit_code = d.unit_code""",
                     _params(q) | {"start": q.period.start, "end": q.period.end})
    return frame if frame.height else None
