"""Targets from the plans' presets and how a value stands against them.

Presets come from reference/plans/plans.json (one entry per plan, plus `national_02`
for every unit) and are copied into the store's `targets` table, where an admin can
edit them. A unit's target is its own, else (for rates) its province's, else the
national one. Among several targets for one KPI (archive: 30% by 2025, 100% by 2026)
the one in force is the first whose deadline is on or after the period's end.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import duckdb

from loaders.store import REFERENCE

PLANS_JSON = REFERENCE / "plans" / "plans.json"
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


def plans() -> list[dict]:
    if not PLANS_JSON.exists():
        return []
    return json.loads(PLANS_JSON.read_text(encoding="utf-8"))


def seed_targets(con: duckdb.DuckDBPyConnection) -> None:
    """Copy the plans' presets into the store once."""
    if con.execute("SELECT count(*) FROM targets").fetchall()[0][0]:
        return
    rows = []
    for plan in plans():
        for t in plan.get("targets", []):
            rows.append((plan.get("unit_code"), t["kpi"], float(t["value"]), t.get("op", ">="),
                         t.get("deadline"), t.get("from"), plan.get("slug"), t.get("note")))
    if rows:
        con.executemany("INSERT INTO targets VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


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
