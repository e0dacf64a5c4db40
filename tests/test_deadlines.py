"""Next reporting due dates and task states, computed by hand (today 24/11/2026)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from kpi import deadlines
from kpi.deadlines import next_due, plan_start, reporting_deadline, reporting_deadlines, timeline, with_states
from kpi.tasks import annotate
from store.db import plans

TODAY = date(2026, 11, 24)  # a Tuesday


def rule(kind: str, day: int | None = None, on: str | None = None) -> dict:
    return {"what": f"Báo cáo {kind}", "rule": kind, "day": day, "date": on}


@pytest.mark.parametrize(("given", "today", "due"), [
    (rule("monthly_before_day", 20), TODAY, date(2026, 12, 20)),
    (rule("monthly_before_day", 20), date(2026, 11, 20), date(2026, 11, 20)),  # the day itself: due today
    (rule("monthly_before_day", 20), date(2026, 11, 3), date(2026, 11, 20)),
    (rule("monthly_before_day", 20), date(2026, 12, 21), date(2027, 1, 20)),   # over the year end
    (rule("monthly_before_day", 31), date(2027, 2, 1), date(2027, 2, 28)),     # short month: its last day
    (rule("quarterly", 10), TODAY, date(2026, 12, 10)),
    (rule("quarterly", 10), date(2026, 12, 11), date(2027, 3, 10)),
    (rule("quarterly", 10), date(2026, 9, 10), date(2026, 9, 10)),
    (rule("quarterly", 15), date(2026, 4, 1), date(2026, 6, 15)),
    (rule("yearly_before", on="2025-11-20"), TODAY, date(2027, 11, 20)),
    (rule("yearly_before", on="2025-11-25"), TODAY, date(2026, 11, 25)),
    (rule("yearly_before", on="2025-11-20"), date(2026, 1, 5), date(2026, 11, 20)),
    (rule("once", on="2025-09-25"), TODAY, date(2025, 9, 25)),
    (rule("weekly", 5), TODAY, date(2026, 11, 27)),   # Friday after Tuesday 24/11
    (rule("weekly", 2), TODAY, date(2026, 11, 24)),   # Tuesday: today
    (rule("weekly", 1), TODAY, date(2026, 11, 30)),
])
def test_next_due(given, today, due):
    assert next_due(given, today) == due


def test_days_left_and_states():
    monthly = reporting_deadline(rule("monthly_before_day", 20), TODAY)
    assert (monthly.due, monthly.days_left, monthly.state) == (date(2026, 12, 20), 26, "upcoming")
    assert monthly.days_text == "còn 26 ngày" and monthly.rule_label == "Hằng tháng, trước ngày 20"
    quarterly = reporting_deadline(rule("quarterly", 10), TODAY)
    assert (quarterly.days_left, quarterly.rule_label) == (16, "Hằng quý, trước ngày 10 tháng cuối quý")
    yearly = reporting_deadline(rule("yearly_before", on="2025-11-20"), TODAY)
    assert (yearly.days_left, yearly.rule_label) == (361, "Hằng năm, trước ngày 20/11")
    once = reporting_deadline(rule("once", on="2025-09-25"), TODAY)
    assert (once.state, once.days_left, once.days_text) == ("passed", -425, "đã qua 425 ngày")
    today = reporting_deadline(rule("weekly", 2), TODAY)
    assert (today.state, today.days_text) == ("today", "hôm nay")


@pytest.mark.parametrize("kind", ["monthly_before_day", "quarterly", "yearly_before", "weekly"])
def test_rule_without_a_day(kind):
    row = reporting_deadline(rule(kind), TODAY)
    assert (row.due, row.days_left, row.state) == (None, None, "no_day")
    assert row.days_text == "kế hoạch không ghi ngày"
    assert row.rule_label.startswith("Hằng ")


def test_unknown_rule_has_no_date():
    row = reporting_deadline({"what": "x", "rule": "fortnightly", "day": 3, "date": None}, TODAY)
    assert (row.due, row.state) == (None, "unknown_rule")


def test_dong_phu_plan_deadlines_in_order():
    plan = next(p for p in plans() if p["slug"] == "dong_phu")
    rows = reporting_deadlines(plan, TODAY)
    assert [(r.due, r.state) for r in rows] == [
        (date(2026, 11, 25), "upcoming"),   # year-end report of the party office, before 25/11
        (date(2026, 12, 10), "upcoming"),   # quarterly, before the 10th of December
        (date(2026, 12, 15), "upcoming"),   # quarterly, before the 15th
        (date(2027, 11, 20), "upcoming"),   # year-end, before 20/11: this year's has passed
        (date(2025, 9, 25), "passed"),      # unit plans before 25/9/2025
    ]
    assert reporting_deadlines(None, TODAY) == []


def test_plan_start():
    assert plan_start({"issued": "22/07/2025"}) == date(2025, 7, 22)
    assert plan_start({"issued": None}) == date(2025, 7, 1)
    assert plan_start(None) == date(2025, 7, 1)
    assert plan_start({"issued": "tháng 8/2025"}) == date(2025, 7, 1)


def tasks() -> pl.DataFrame:
    return pl.DataFrame({
        "plan_slug": ["p", "p", "p", "p", "p", "p", "q"],
        "deadline": ["31/12/2025", "10/12/2026", "Năm 2027", "Thường xuyên", None, "Năm 2027", "01/07/2025"],
        "status": ["Đang thực hiện", "Đang thực hiện", "Chưa thực hiện", "Hoàn thành", "Đang thực hiện", None,
                   "Hoàn thành"],
        "progress": [50.0, 10.0, 0.0, 100.0, 20.0, None, 100.0],
    })


def test_task_states():
    frame = with_states(annotate(tasks(), TODAY))
    assert frame["state"].to_list() == ["overdue", "due_soon", "not_started", "done", "in_progress", "not_started",
                                        "done"]
    assert set(deadlines.STATE_LABELS) == {"done", "overdue", "due_soon", "in_progress", "not_started"}


def test_timeline_bars():
    frame = timeline(with_states(annotate(tasks(), TODAY)), {"p": date(2025, 7, 22)}, TODAY)
    assert frame.height == 6  # the task without a deadline is listed apart
    assert frame["start"].to_list()[:4] == [date(2025, 7, 22)] * 4
    assert frame["end"].to_list() == [date(2025, 12, 31), date(2026, 12, 10), date(2027, 12, 31),
                                      date(2026, 12, 31), date(2027, 12, 31), date(2025, 7, 1)]
    assert frame["ongoing"].to_list() == [False, False, False, True, False, False]
    # plan q is unknown: 01/7/2025, and its due date is that day, so a short bar ending on it
    assert frame["start"][-1] == date(2025, 6, 24)
