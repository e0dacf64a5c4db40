"""Reminders: what a user's units must do soon or are late with, and what is missing.

As of a day, for the units a user may see (store.accounts.visible_units, the one scope rule):
  * reporting deadlines of their plans due within the window (default 7 days), and those
    passed within the window whose month's data is still missing;
  * plan tasks not done, due within the window or overdue (with progress and lead unit);
  * communes that have not uploaded last month's data by the set day (UPLOAD_DAY, or
    `meta` `mail.upload_day`), named to the commune's officer and to the province's leaders.
A monthly, quarterly or yearly report due in a month reports on the month before: its
reminder says how many communes (or whether the commune) have no data for that month yet,
«Tháng 11/2026: 12 xã/phường chưa tải dữ liệu». A commune is expected to upload once it has
data for any month or an officer account; a commune that never started is not named.
Due dates come from kpi/deadlines.py (docs/domain.md, "Deadlines and reminders").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from kpi import deadlines, periods
from kpi import format as fmt
from kpi.periods import latest_complete_month
from kpi.tasks import tasks_of
from store import accounts
from store import db as store

WINDOW_DAYS = 7
UPLOAD_DAY = 5      # last month's data is expected by the 5th
MAX_NAMES = 10      # communes named in one reminder; the rest are counted


@dataclass(frozen=True)
class Reminder:
    kind: str                       # report | task | missing_upload
    unit_code: str
    unit_name: str
    what: str
    due: date
    today: date
    missing: str = ""               # "Tháng 11/2026: 12 xã/phường chưa tải dữ liệu"
    missing_names: tuple[str, ...] = ()
    detail: str = ""                # a task: "Chủ trì: …; tiến độ 40%"
    key: str = ""                   # the rule or task and its due date (sent once)
    level: str = ""                 # missing_upload: province (its communes named) | commune

    @property
    def days_left(self) -> int:
        return (self.due - self.today).days

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def when_text(self) -> str:
        days = self.days_left
        if days < 0:
            return f"quá hạn {fmt.number(-days)} ngày (hạn {fmt.day(self.due)})"
        if days == 0:
            return f"đến hạn hôm nay ({fmt.day(self.due)})"
        return f"còn {fmt.number(days)} ngày (hạn {fmt.day(self.due)})"

    @property
    def label(self) -> str:
        return {"report": "Hạn báo cáo", "task": "Nhiệm vụ", "missing_upload": "Chưa tải dữ liệu"}[self.kind]

    @property
    def text(self) -> str:
        """One line: what, when, what is missing."""
        parts = [f"{self.label} — {self.unit_name}: {self.what}", self.when_text]
        if self.detail:
            parts.append(self.detail)
        if self.missing and self.kind != "missing_upload":
            parts.append(self.missing)
        return "; ".join(parts) + "."

    @property
    def names_text(self) -> str:
        more = f" và {fmt.number(len(self.missing_names) - MAX_NAMES)} xã/phường khác" \
            if len(self.missing_names) > MAX_NAMES else ""
        return ", ".join(self.missing_names[:MAX_NAMES]) + more


def upload_day(con) -> int:
    rows = con.execute("SELECT value FROM meta WHERE key = 'mail.upload_day'").fetchall()
    try:
        return min(28, max(1, int(rows[0][0]))) if rows else UPLOAD_DAY
    except ValueError:
        return UPLOAD_DAY


def set_upload_day(con, day: int) -> None:
    """The day of the month by which last month's data is expected (1–28). ValueError in Vietnamese."""
    if not 1 <= int(day) <= 28:
        raise ValueError("Hạn tải dữ liệu tháng trước phải từ ngày 1 đến ngày 28.")
    with store.write_transaction(con):
        store.set_meta(con, "mail.upload_day", str(int(day)))


def month_before(day: date) -> date:
    """The first day of the month before `day`'s month."""
    return latest_complete_month(day).start


def month_text(first: date) -> str:
    return f"Tháng {first.month}/{first.year}"


def missing_communes(con, units: set[str] | None, month: date) -> pl.DataFrame:
    """Communes among `units` (None: all) expected to upload (data for some month, or an officer
    account) with no dossier received and no aggregate report row in `month`:
    code, name, province_code, sorted by province and name."""
    last = periods.month(month).end
    where = "" if units is None else "AND list_contains($units, u.code)"
    params = {"first": month, "last": last} | ({} if units is None else {"units": sorted(units)})
    return store.query_pl(con, f"""
        WITH expected AS (
            SELECT DISTINCT unit_code FROM fact_received
            UNION SELECT unit_code FROM template_rows WHERE superseded_by IS NULL
            UNION SELECT unit_code FROM users WHERE role = 'officer' AND active AND unit_code IS NOT NULL),
        present AS (
            SELECT DISTINCT unit_code FROM fact_received WHERE month = $first
            UNION SELECT unit_code FROM template_rows
            WHERE superseded_by IS NULL AND period_start <= $last AND period_end >= $first)
        SELECT u.code, u.full_name AS name, u.province_code FROM units u
        WHERE u.level = 'commune' AND u.code IN (SELECT unit_code FROM expected)
          AND u.code NOT IN (SELECT unit_code FROM present) {where}
        ORDER BY u.province_code, u.full_name""", params)


def _missing_line(con, unit_code: str, level: str, name: str, month: date,
                  missing: pl.DataFrame) -> tuple[str, tuple[str, ...]]:
    """What is missing for a report of `unit_code` on `month` (empty when nothing)."""
    rows = missing.filter(pl.col("code") == unit_code) if level == "commune" else \
        missing.filter(pl.col("province_code") == unit_code)
    if rows.is_empty():
        return "", ()
    names = tuple(rows["name"].to_list())
    if level == "commune":
        return f"{month_text(month)}: {name} chưa tải dữ liệu", names
    return f"{month_text(month)}: {fmt.number(len(names))} xã/phường chưa tải dữ liệu", names


def _units(con, codes) -> dict[str, tuple[str, str, str]]:
    """code -> (full_name, level, province_code)."""
    rows = con.execute("SELECT code, full_name, level, province_code FROM units WHERE list_contains(?, code)",
                       [sorted(codes)]).fetchall()
    return {c: (n, lv, p) for c, n, lv, p in rows}


def current_tasks(con, units: set[str] | None) -> pl.DataFrame:
    """The current task lists of `units` (None: every unit with one), one frame."""
    codes = [c for (c,) in con.execute(
        "SELECT DISTINCT unit_code FROM plan_tasks WHERE superseded_by IS NULL ORDER BY 1").fetchall()
        if units is None or c in units]
    frames = [tasks_of(con, c) for c in codes]
    frames = [f for f in frames if not f.is_empty()]
    return pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()


def for_units(con, units: set[str] | None, today: date, window: int = WINDOW_DAYS,
              include_overdue_tasks: bool = True) -> list[Reminder]:
    """The reminders of `units` (None: every unit) as of `today`: overdue first (most late
    first), then by due date."""
    tasks = current_tasks(con, units)
    found = deadlines.deadlines_of(store.plans(), tasks, units, today - timedelta(days=window),
                                   today + timedelta(days=window), today)
    if include_overdue_tasks and not tasks.is_empty():
        late = deadlines.task_deadlines(tasks, date.min, today - timedelta(days=window + 1), today)
        found = late + found
    names = _units(con, {o.unit_code for o in found} | (units or set()))
    out: list[Reminder] = []
    missing_cache: dict[date, pl.DataFrame] = {}

    def missing_for(month: date) -> pl.DataFrame:
        if month not in missing_cache:
            missing_cache[month] = missing_communes(con, units, month)
        return missing_cache[month]

    for o in found:
        name, level, _province = names.get(o.unit_code, (o.unit_code, "commune", ""))
        if o.kind == "report":
            missing, listed = "", ()
            if o.rule in ("monthly_before_day", "quarterly", "yearly_before", "once"):
                month = month_before(o.due)
                missing, listed = _missing_line(con, o.unit_code, level, name, month, missing_for(month))
            if o.due < today and not missing:
                continue  # passed with nothing missing: nothing to remind
            out.append(Reminder("report", o.unit_code, name, o.what, o.due, today,
                                missing, listed, key=o.occurrence_key))
        else:
            progress = "chưa ghi tiến độ" if o.progress is None else f"tiến độ {fmt.number(o.progress, 0)}%"
            lead = f"Chủ trì: {o.lead}; " if o.lead else ""
            status = f" ({o.status})" if o.status else ""
            out.append(Reminder("task", o.unit_code, name, o.what, o.due, today,
                                detail=f"{lead}{progress}{status}", key=o.occurrence_key))
    out += missing_uploads(con, units, today, names, missing_for)
    return sorted(out, key=lambda r: (not r.overdue, r.due, r.kind, r.unit_code))


def missing_uploads(con, units: set[str] | None, today: date, names=None, missing_for=None) -> list[Reminder]:
    """From the set day of a month on, the communes without last month's data: one reminder
    per commune (its own), and one per province naming its communes."""
    day = upload_day(con)
    if today.day < day:
        return []
    month = month_before(today)
    due = today.replace(day=day)
    missing = missing_for(month) if missing_for else missing_communes(con, units, month)
    if missing.is_empty():
        return []
    names = names if names is not None else {}
    provinces = _units(con, set(missing["province_code"].to_list()))
    out = []
    for province, rows in missing.group_by("province_code", maintain_order=True):
        code = province[0]
        if units is None or code in units:
            listed = tuple(rows["name"].to_list())
            line = f"{month_text(month)}: {fmt.number(len(listed))} xã/phường chưa tải dữ liệu"
            out.append(Reminder("missing_upload", code, provinces.get(code, (code,))[0],
                                f"{line} (hạn ngày {day} hằng tháng)", due, today, line, listed,
                                key=f"missing:{code}:{month:%Y-%m}", level="province"))
        for code_c, name_c in rows.select("code", "name").iter_rows():
            line = f"{month_text(month)}: {name_c} chưa tải dữ liệu"
            out.append(Reminder("missing_upload", code_c, name_c, f"{line} (hạn ngày {day} hằng tháng)",
                                due, today, line, (name_c,), key=f"missing:{code_c}:{month:%Y-%m}", level="commune"))
    return out


def for_user(con, user: accounts.User | None, today: date, window: int = WINDOW_DAYS,
             pool: list[Reminder] | None = None) -> list[Reminder]:
    """The reminders a user sees on opening the dashboard (their visible units only). A
    province-level user gets the province's missing-upload line, not one per commune.
    `pool`: the reminders of a wider scope, already computed by for_units for the same day
    and window, kept for the user's units instead of computed again (the e-mail run makes one
    pool per scheduled unit, not one per recipient)."""
    units = accounts.visible_units(con, user)
    if pool is None:
        found = for_units(con, units, today, window)
    else:
        found = [r for r in pool if units is None or r.unit_code in units]
    if user is not None and user.role != "officer" and (units is None or len(units) > 1):
        found = [r for r in found if not (r.kind == "missing_upload" and r.level == "commune")]
    return found


def summary(reminders: list[Reminder]) -> str:
    """"2 việc quá hạn, 3 việc sắp đến hạn" (empty when none)."""
    late = sum(r.overdue for r in reminders)
    soon = len(reminders) - late
    parts = ([f"{fmt.number(late)} việc quá hạn"] if late else []) + (
        [f"{fmt.number(soon)} việc sắp đến hạn"] if soon else [])
    return ", ".join(parts)
