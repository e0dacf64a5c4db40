"""Reporting deadlines of the plans and where each plan task stands on the timeline.

Reporting rules (reference/plans/plans.json `reporting`): `monthly_before_day` (day d of
every month), `quarterly` (day d of the quarter's last month), `yearly_before` (the day and
month of `date`, every year), `weekly` (day = ISO weekday, 1 = Thứ Hai), `once` (`date`).
"Before the 20th" means the report is due on the 20th: as for tasks, the day itself is not
late, so on the 20th the next due date is today. A rule whose plan gives no day (null) has
no due date ("kế hoạch không ghi ngày").

Every occurrence (`occurrences`, `plan_deadlines`, `task_deadlines`, `deadlines_of`): the
reminders and e-mails (reports/reminders.py, reports/delivery.py) take every due date of a
unit's plan from here. A rule yields its dates in a window: the d-th of each month, the d-th
of March, June, September and December, a fixed day and month each year, a weekday each
week, a once-off date; a task its parsed deadline (kpi/tasks.parse_deadline) with its lead
unit. "Thường xuyên" (ongoing) tasks and rules without a day yield none. Days are calendar
days, as the plans write them: a 20th that falls on a Saturday or Sunday stays the 20th (no
shift to the Friday or the Monday; the reminder N days before is N calendar days before).

Task states, in this order of precedence: done, overdue, due soon (within 30 days), in
progress (a status "Đang …" or some progress), not started.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from kpi import format as fmt

DEFAULT_START = date(2025, 7, 1)  # plans without a readable issue date: the two-level government's start
NO_DAY = "kế hoạch không ghi ngày"
WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")

# Task states: (key, label, colour), in display order.
STATES = (
    ("overdue", "Quá hạn", "#cf222e"),
    ("due_soon", "Sắp đến hạn (≤ 30 ngày)", "#d97706"),
    ("in_progress", "Đang thực hiện", "#0969da"),
    ("not_started", "Chưa bắt đầu", "#8c959f"),
    ("done", "Hoàn thành", "#1a7f37"),
)
STATE_LABELS = {key: label for key, label, _ in STATES}
STATE_COLORS = {key: color for key, _, color in STATES}


@dataclass(frozen=True)
class ReportDeadline:
    what: str
    rule: str
    rule_label: str      # "Hằng tháng, trước ngày 20"
    due: date | None     # the next due date (a once-off date even when passed); None: no day given
    days_left: int | None
    state: str           # upcoming | today | passed | no_day | unknown_rule

    @property
    def days_text(self) -> str:
        if self.state in ("no_day", "unknown_rule"):
            return NO_DAY if self.state == "no_day" else "—"
        if self.state == "passed":
            return f"đã qua {-self.days_left} ngày"
        return "hôm nay" if self.days_left == 0 else f"còn {self.days_left} ngày"


def _on(year: int, month: int, day: int) -> date:
    """That day of the month, or the month's last day when it has fewer days."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + n
    return index // 12, index % 12 + 1


def _iso(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def next_due(rule: dict, today: date) -> date | None:
    """The next date (on or after today) a reporting rule falls due; for `once`, its date
    even when passed. None when the plan gives no day or the rule is unknown."""
    kind, day, fixed = rule.get("rule"), rule.get("day"), _iso(rule.get("date"))
    if kind == "once":
        return fixed
    if kind == "monthly_before_day" and day:
        due = _on(today.year, today.month, day)
        return due if due >= today else _on(*_add_months(today.year, today.month, 1), day)
    if kind == "quarterly" and day:
        last_month = (today.month - 1) // 3 * 3 + 3
        due = _on(today.year, last_month, day)
        return due if due >= today else _on(*_add_months(today.year, last_month, 3), day)
    if kind == "yearly_before" and fixed:
        due = _on(today.year, fixed.month, fixed.day)
        return due if due >= today else _on(today.year + 1, fixed.month, fixed.day)
    if kind == "weekly" and day:
        return today + timedelta(days=(int(day) - 1 - today.weekday()) % 7)
    return None


def rule_label(rule: dict) -> str:
    kind, day, fixed = rule.get("rule"), rule.get("day"), _iso(rule.get("date"))
    if kind == "once":
        return f"Một lần, trước ngày {fmt.day(fixed)}" if fixed else "Một lần"
    if kind == "monthly_before_day":
        return f"Hằng tháng, trước ngày {day}" if day else "Hằng tháng"
    if kind == "quarterly":
        return f"Hằng quý, trước ngày {day} tháng cuối quý" if day else "Hằng quý"
    if kind == "yearly_before":
        return f"Hằng năm, trước ngày {fixed:%d/%m}" if fixed else "Hằng năm"
    if kind == "weekly":
        return f"Hằng tuần, {WEEKDAYS[int(day) - 1]}" if day else "Hằng tuần"
    return str(kind or "—")


def reporting_deadline(rule: dict, today: date) -> ReportDeadline:
    due = next_due(rule, today)
    known = rule.get("rule") in ("once", "monthly_before_day", "quarterly", "yearly_before", "weekly")
    if due is None:
        state, days = ("no_day" if known else "unknown_rule"), None
    else:
        days = (due - today).days
        state = "passed" if days < 0 else "today" if days == 0 else "upcoming"
    return ReportDeadline(rule.get("what") or "", rule.get("rule") or "", rule_label(rule), due, days, state)


def reporting_deadlines(plan: dict | None, today: date) -> list[ReportDeadline]:
    """A plan's reporting rules with their next due dates: soonest first, then the ones
    without a day, then the passed once-off ones (most recent first)."""
    rows = [reporting_deadline(r, today) for r in (plan or {}).get("reporting") or []]
    order = {"today": 0, "upcoming": 0, "no_day": 1, "unknown_rule": 1, "passed": 2}
    return sorted(rows, key=lambda r: (order[r.state], abs(r.days_left) if r.days_left is not None else 0))


@dataclass(frozen=True)
class Occurrence:
    """One due date of a reporting rule or a plan task."""
    kind: str                 # report | task
    unit_code: str            # the unit whose plan or task list it is
    key: str                  # stable id of the rule or task: "report:<plan>:<n>", "task:<unit>:<no>"
    what: str
    rule: str                 # the rule kind (monthly_before_day, …), "task" for a task
    rule_label: str           # "Hằng tháng, trước ngày 20"; a task: its deadline as written
    due: date
    lead: str = ""            # a task's lead unit
    progress: float | None = None  # a task's progress, percent
    status: str = ""

    @property
    def occurrence_key(self) -> str:
        """The rule or task and this due date: what a reminder is sent once for."""
        return f"{self.key}@{self.due.isoformat()}"


def occurrences(rule: dict, start: date, end: date) -> list[date]:
    """Every due date of a reporting rule from `start` to `end` (both included), in order.
    None for a rule without a day or an unknown rule; a once-off date only when inside."""
    kind, day, fixed = rule.get("rule"), rule.get("day"), _iso(rule.get("date"))
    if start > end:
        return []
    if kind == "once":
        return [fixed] if fixed and start <= fixed <= end else []
    if kind == "weekly" and day:
        first = start + timedelta(days=(int(day) - 1 - start.weekday()) % 7)
        return [first + timedelta(weeks=n) for n in range((end - first).days // 7 + 1)] if first <= end else []
    if kind == "monthly_before_day" and day:
        months, pick = range(1, 13), int(day)
    elif kind == "quarterly" and day:
        months, pick = (3, 6, 9, 12), int(day)
    elif kind == "yearly_before" and fixed:
        months, pick = (fixed.month,), fixed.day
    else:
        return []
    found = []
    for year in range(start.year, end.year + 1):
        for month in months:
            due = _on(year, month, pick)
            if start <= due <= end:
                found.append(due)
    return found


def plan_deadlines(plan: dict, start: date, end: date) -> list[Occurrence]:
    """The due dates of a plan's reporting rules from `start` to `end`."""
    out = []
    for n, rule in enumerate(plan.get("reporting") or []):
        for due in occurrences(rule, start, end):
            out.append(Occurrence("report", plan.get("unit_code") or "", f"report:{plan.get('slug')}:{n}",
                                  rule.get("what") or "", rule.get("rule") or "", rule_label(rule), due))
    return sorted(out, key=lambda o: (o.due, o.key))


def task_deadlines(tasks: pl.DataFrame, start: date, end: date, today: date) -> list[Occurrence]:
    """The plan tasks (a task list as kpi.tasks.tasks_of gives it) not done by `today` whose
    deadline falls from `start` to `end`; ongoing and undated tasks have none."""
    from kpi.tasks import annotate

    if tasks.is_empty():
        return []
    rows = (annotate(tasks, today).filter(~pl.col("done") & pl.col("due_date").is_between(start, end))
            .iter_rows(named=True))
    return sorted((Occurrence("task", r["unit_code"], f"task:{r['unit_code']}:{r['task_no'] or r['source_row']}",
                              r["task"] or "", "task", r["deadline"] or "", r["due_date"], r["lead_unit"] or "",
                              r["progress"], r["status"] or "")
                   for r in rows), key=lambda o: (o.due, o.key))


def deadlines_of(plan_list: list[dict], tasks: pl.DataFrame, units: set[str] | None, start: date, end: date,
                 today: date) -> list[Occurrence]:
    """Every reporting and task due date from `start` to `end` of the plans and task lists of
    `units` (None: every unit), soonest first."""
    plans_in = [p for p in plan_list if p.get("unit_code") and (units is None or p["unit_code"] in units)]
    found = [o for p in plans_in for o in plan_deadlines(p, start, end)]
    if units is not None and not tasks.is_empty():
        tasks = tasks.filter(pl.col("unit_code").is_in(sorted(units)))
    found += task_deadlines(tasks, start, end, today)
    return sorted(found, key=lambda o: (o.due, o.kind, o.key))


def plan_start(plan: dict | None) -> date:
    """The plan's issue date ("22/07/2025"), or 01/7/2025 when the plan does not give one."""
    text = (plan or {}).get("issued")
    if text:
        try:
            d, m, y = (int(p) for p in str(text).split("/"))
            return date(y, m, d)
        except ValueError:
            pass
    return DEFAULT_START


def with_states(annotated: pl.DataFrame) -> pl.DataFrame:
    """Add `state` (a key of STATES) to a task list annotated by kpi.tasks.annotate."""
    status = (pl.col("status").cast(pl.String).fill_null("").str.to_lowercase().str.replace_all("đ", "d")
              .str.normalize("NFD").str.replace_all(r"\p{Mn}", "").str.replace_all(r"[^0-9a-z]", ""))
    progress = pl.col("progress").cast(pl.Float64).fill_null(0)
    started = ~status.str.starts_with("chua") & (status.str.starts_with("dang") | (progress > 0))
    return annotated.with_columns(
        pl.when(pl.col("done")).then(pl.lit("done"))
        .when(pl.col("overdue")).then(pl.lit("overdue"))
        .when(pl.col("due_soon")).then(pl.lit("due_soon"))
        .when(started).then(pl.lit("in_progress"))
        .otherwise(pl.lit("not_started")).alias("state"))


def timeline(tasks: pl.DataFrame, starts: dict[str, date], today: date, min_days: int = 7) -> pl.DataFrame:
    """Gantt bars for the tasks with a date or ongoing (`start`, `end`, `ongoing`). A bar
    starts at its plan's issue date (`starts[plan_slug]`, else 01/7/2025) and ends at the
    task's due date; an ongoing task ("Thường xuyên") runs to the end of today's year. A due
    date on or before the start still gets a short bar (`min_days`) ending on it."""
    year_end = date(today.year, 12, 31)
    start = pl.col("plan_slug").replace_strict(starts, default=DEFAULT_START, return_dtype=pl.Date) \
        if starts else pl.lit(DEFAULT_START)
    ongoing = pl.col("deadline_kind") == "ongoing"
    end = pl.when(ongoing).then(pl.lit(year_end)).otherwise(pl.col("due_date"))
    return (tasks.filter(ongoing | pl.col("due_date").is_not_null())
            .with_columns(start.alias("start"), end.alias("end"), ongoing.alias("ongoing"))
            .with_columns(pl.min_horizontal("start", pl.col("end") - pl.duration(days=min_days)).alias("start")))
