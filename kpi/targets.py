"""Targets from the plans' presets and how a value stands against them.

Presets come from reference/plans/plans.json (one entry per plan, plus `national_02`
for every unit) and are copied into the store's `targets` table when a store is created
(store.db.plans, store.db.seed_targets), where an admin can edit them. A unit's target is its own, else (for rates) its province's, else the
national one. Among several targets for one KPI (archive: 30% by 2025, 100% by 2026)
the one in force is the first whose deadline is on or after the period's end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

TOLERANCE_RATE = 0.10    # within 10 percentage points before the deadline: on track
TOLERANCE_COUNT = 0.10   # within 10% of a count target

@dataclass(frozen=True)
class Target:
    kpi: str
    value: float
    op: str
    deadline: date | None
    from_date: date | None
    unit_code: str | None
    plan_slug: str | None
    note: str | None

    def met(self, value: float) -> bool:
        eps = 1e-9
        if self.op == "<=":
            return value <= self.value + eps
        if self.op == "==":
            return abs(value - self.value) <= eps
        return value >= self.value - eps


def load_targets(con: duckdb.DuckDBPyConnection) -> list[Target]:
    return [Target(*r) for r in con.execute(
        "SELECT kpi, value, op, deadline, from_date, unit_code, plan_slug, note FROM targets"
    ).fetchall()]


def pick(targets: list[Target], kpi: str, unit_code: str, province_code: str, is_rate: bool,
         period_end: date) -> Target | None:
    """The target in force for a unit and KPI at the end of a period."""
    scopes = [unit_code] + ([province_code] if is_rate and province_code != unit_code else []) + [None]
    for scope in scopes:
        found = [t for t in targets if t.kpi == kpi and t.unit_code == scope]
        if found:
            found.sort(key=lambda t: (t.deadline is None, t.deadline or date.max))
            for t in found:
                if t.deadline is None or t.deadline >= period_end:
                    return t
            return found[-1]
    return None


def status(value: float | None, target: Target | None, period_start: date, period_end: date, is_rate: bool) -> str:
    """met / on_track / at_risk / missed / no_data / no_target.

    Missed: not reached by the end of a period that reaches the deadline (a target without
    a deadline is due at once). Before the deadline: on track within the tolerance, else at risk.
    """
    if value is None:
        return "no_data"
    if target is None or (target.from_date and period_end < target.from_date):
        return "no_target"
    if target.met(value):
        return "met"
    if target.deadline is None or period_end >= target.deadline:
        return "missed"
    gap = abs(target.value - value)
    tolerance = TOLERANCE_RATE if is_rate else TOLERANCE_COUNT * abs(target.value)
    return "on_track" if gap <= tolerance else "at_risk"


TARGET_COLUMNS = ("unit_code", "kpi", "value", "op", "deadline", "from_date", "plan_slug", "note")


def editable_targets(con: duckdb.DuckDBPyConnection, visible: set[str] | None):
    """The targets an admin may edit, as a polars frame: every target for a national admin
    (`visible` None), only those of their units for an admin of a province or commune (never
    the national defaults, whose unit is empty)."""
    from store.db import query_pl

    where = "TRUE" if visible is None else "list_contains($units, unit_code)"
    params = {} if visible is None else {"units": sorted(visible)}
    return query_pl(con, f"SELECT {', '.join(TARGET_COLUMNS)} FROM targets WHERE {where} "
                         "ORDER BY unit_code NULLS FIRST, kpi, deadline", params)


def save_targets(con: duckdb.DuckDBPyConnection, rows, visible: set[str] | None, username: str | None) -> int:
    """Replace the targets `editable_targets` gave this admin by `rows` (a polars frame with
    TARGET_COLUMNS), in one write transaction, audited; targets outside the admin's units are
    left as they are. A row for a unit the admin may not edit, an unknown KPI or comparison,
    or a national default edited by a provincial admin is refused whole (ValueError, Vietnamese)."""
    import polars as pl

    from kpi.definitions import KPIS
    from store import accounts
    from store.db import write_transaction

    rows = rows.filter(pl.col("kpi").is_not_null() & pl.col("value").is_not_null()).select(TARGET_COLUMNS)
    rows = rows.with_columns(
        *[_dates(rows, c) for c in ("deadline", "from_date")],
        *[pl.col(c).cast(pl.String).str.strip_chars().replace("", None) for c in ("plan_slug", "note")])
    known = {r[0] for r in con.execute("SELECT code FROM units").fetchall()}
    for number, row in enumerate(rows.iter_rows(named=True), start=1):
        unit = (row["unit_code"] or "").strip() or None
        if row["kpi"] not in KPIS:
            raise ValueError(f"Dòng {number}: chỉ tiêu «{row['kpi']}» không có trong danh mục KPI.")
        if row["op"] not in (">=", "<=", "=="):
            raise ValueError(f"Dòng {number}: phép so sánh «{row['op']}» không hợp lệ (>=, <=, ==).")
        if unit is None and visible is not None:
            raise ValueError(f"Dòng {number}: chỉ quản trị viên toàn quốc được đặt chỉ tiêu chung cho mọi đơn vị.")
        if unit is not None and (unit not in known or (visible is not None and unit not in visible)):
            raise ValueError(f"Dòng {number}: không được đặt chỉ tiêu cho đơn vị mã «{unit}» "
                             "(không có trong danh mục hoặc ngoài phạm vi của tài khoản).")
    rows = rows.with_columns(pl.col("unit_code").str.strip_chars().replace("", None))
    with write_transaction(con):
        if visible is None:
            con.execute("DELETE FROM targets")
        else:
            con.execute("DELETE FROM targets WHERE list_contains(?, unit_code)", [sorted(visible)])
        con.register("edited_targets", rows)
        try:
            columns = ", ".join(TARGET_COLUMNS)
            con.execute(f"INSERT INTO targets ({columns}) SELECT {columns} FROM edited_targets")
        finally:
            con.unregister("edited_targets")
        accounts.log(con, username, "edit_targets", f"{rows.height} dòng")
    return rows.height


def _dates(rows, column: str):
    """A date column of an edited table as dates: dates as they are, texts read as dd/mm/yyyy
    (or ISO), empty as none; a text that is not a date is refused, naming its row."""
    import polars as pl

    if rows[column].dtype == pl.Date:
        return pl.col(column)
    values = []
    for number, text in enumerate(rows[column].cast(pl.String).to_list(), start=1):
        text = (text or "").strip()
        if not text:
            values.append(None)
            continue
        try:
            values.append(_parse_day(text))
        except ValueError:
            label = {"deadline": "Thời hạn", "from_date": "Áp dụng từ"}[column]
            raise ValueError(f"Dòng {number}, cột «{label}»: «{text}» không phải ngày (dd/mm/yyyy).") from None
    return pl.Series(column, values, dtype=pl.Date)


def _parse_day(text: str) -> date:
    from datetime import datetime

    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)
