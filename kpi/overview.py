"""The overview page's figures that are not layout, as plain functions over the engine's rows
(dicts of kpi.engine.KpiValue): whether a unit has any data in the period, the 12-month trend
window, and which communes are behind a target. No Streamlit; tested in tests/test_page_data.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


def has_data(own: dict[str, dict]) -> bool:
    """Whether any KPI of the unit has a value (overdue_open alone does not count: it can come
    from an older period's dossiers)."""
    return any(r["value"] is not None for k, r in own.items() if k != "overdue_open")


def trend_window(period_end: date, months: int = 12) -> tuple[date, date]:
    """First days of the first and the last month of the `months` months up to the period's end."""
    last = date(period_end.year, period_end.month, 1)
    first_index = last.year * 12 + last.month - 1 - (months - 1)
    return date(first_index // 12, first_index % 12 + 1, 1), last


@dataclass(frozen=True)
class Behind:
    behind: list[dict]      # communes with data under the target, worst first
    with_data: int          # communes with a value


def behind_target(rows: list[dict], unit: str, kpi: str, target: float | None) -> Behind | None:
    """The communes (rows of `kpi` other than `unit`'s own) under `target`; None when there is no
    target or no commune has data (no data is never "behind")."""
    with_data = [r for r in rows if r["unit_code"] != unit and r["kpi"] == kpi and r["value"] is not None]
    if target is None or not with_data:
        return None
    behind = sorted([r for r in with_data if r["value"] < target - 1e-9], key=lambda r: r["value"])
    return Behind(behind, len(with_data))
