"""Plan tasks: deadlines as the plans write them, and where each task stands.

Deadlines: "31/12/2025", "Trước 30/9/2025" (that day), "Tháng 8/2025" (its last day),
"Quý IV/2025" (31/12/2025), "6 tháng đầu năm 2026" (30/6/2026), "Năm 2026" (31/12/2026),
"2025-2030" (31/12/2030), "Thường xuyên" / "Hằng năm" (ongoing: no date), empty or
unreadable (unknown). When a text gives several dates, the latest is the deadline.

A task is done when its status says Hoàn thành (or, with no status, progress is 100%);
overdue when not done and its deadline has passed (the deadline day itself is not late);
due soon when not done and its deadline is within the next 30 days.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from kpi.text import fold, nfc_lower, strip_diacritics

SOON_DAYS = 30
PILLARS = {  # folded word -> the plans' label
    "theche": "Thể chế", "hatang": "Hạ tầng", "dulieu": "Dữ liệu", "nentang": "Nền tảng",
    "nhanluc": "Nhân lực", "taichinh": "Tài chính", "antoan": "An toàn thông tin",
}
NO_LEAD = "(Chưa rõ đơn vị chủ trì)"
_ONGOING = ("thuong xuyen", "hang nam", "hang thang", "hang quy", "hang tuan", "lien tuc", "dinh ky", "hanh nam")
_DONE = ("hoanthanh", "dahoanthanh", "daxong", "xong", "completed", "done")
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


@dataclass(frozen=True)
class Deadline:
    due: date | None
    kind: str  # date | ongoing | unknown


def _last_day(year: int, month: int) -> date | None:
    if not (1 <= month <= 12 and 1900 < year < 2200):
        return None
    return date(year, month, calendar.monthrange(year, month)[1])


def _day(d: str, m: str, y: str) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


# Most specific first; each match is removed before the next pattern looks ("Tháng 8/2025"
# must not also read as "2025").
_PATTERNS = (
    (r"ngay\s*(\d{1,2})\s*thang\s*(\d{1,2})\s*nam\s*(\d{4})", lambda m: _day(m[1], m[2], m[3])),
    (r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})", lambda m: _day(m[1], m[2], m[3])),
    (r"(\d{4})-(\d{1,2})-(\d{1,2})", lambda m: _day(m[3], m[2], m[1])),
    (r"\bquy\s*(iv|iii|ii|i|[1-4])\b\s*(?:/|-|nam)?\s*(\d{4})",
     lambda m: _last_day(int(m[2]), 3 * (_ROMAN.get(m[1]) or int(m[1])))),
    (r"\b(?:6|sau)\s*thang\s*dau\s*nam\s*(\d{4})", lambda m: _last_day(int(m[1]), 6)),
    (r"\b(?:6|sau)\s*thang\s*cuoi\s*nam\s*(\d{4})", lambda m: _last_day(int(m[1]), 12)),
    (r"\b9\s*thang\s*(?:dau\s*)?nam\s*(\d{4})", lambda m: _last_day(int(m[1]), 9)),
    (r"\bthang\s*(\d{1,2})\s*(?:/|-|nam)\s*(\d{4})", lambda m: _last_day(int(m[2]), int(m[1]))),
    (r"\b(\d{1,2})\s*/\s*(\d{4})\b", lambda m: _last_day(int(m[2]), int(m[1]))),
    (r"\b((?:19|20)\d{2})\b", lambda m: _last_day(int(m[1]), 12)),
)


def parse_deadline(text: str | None) -> Deadline:
    """A deadline cell -> its date (or ongoing / unknown)."""
    if text is None or not str(text).strip():
        return Deadline(None, "unknown")
    t = strip_diacritics(nfc_lower(str(text)))
    found: list[date] = []
    for pattern, make in _PATTERNS:
        for m in re.finditer(pattern, t):
            if (d := make(m)) is not None:
                found.append(d)
        t = re.sub(pattern, " ", t)
    if found:
        return Deadline(max(found), "date")
    if any(word in strip_diacritics(nfc_lower(str(text))) for word in _ONGOING):
        return Deadline(None, "ongoing")
    return Deadline(None, "unknown")


def pillar_label(text: str | None) -> str | None:
    """The plans' pillar name for a cell ("THỂ CHẾ", "the che" -> "Thể chế"); other text as is."""
    if text is None or not str(text).strip():
        return None
    key = fold(text)
    for word, label in PILLARS.items():
        if word in key:
            return label
    return str(text).strip()


def _deadlines(texts: pl.Series) -> pl.DataFrame:
    distinct = texts.drop_nulls().unique().to_list()
    parsed = [parse_deadline(t) for t in distinct]
    return pl.DataFrame({"deadline": distinct, "due_date": [p.due for p in parsed],
                         "deadline_kind": [p.kind for p in parsed]},
                        schema={"deadline": pl.String, "due_date": pl.Date, "deadline_kind": pl.String})


def annotate(tasks: pl.DataFrame, today: date, soon_days: int = SOON_DAYS) -> pl.DataFrame:
    """Add due_date, deadline_kind, done, overdue, due_soon and days_left to a task list
    (columns deadline, status, progress), judged as of `today`: a report passes its period's
    as-of day (kpi.periods.Period.as_of), so a March 2025 report counts from 31/03/2025."""
    frame = tasks.join(_deadlines(tasks["deadline"]), on="deadline", how="left", nulls_equal=False)
    status = pl.col("status").cast(pl.String).str.strip_chars()
    folded = (status.str.to_lowercase().str.replace_all("đ", "d", literal=True).str.normalize("NFD")
              .str.replace_all(r"\p{Mn}", "").str.replace_all(r"[^0-9a-z]", ""))
    said_done = pl.any_horizontal([folded.str.starts_with(w) for w in _DONE])
    done = pl.when(status.is_null() | (status == "")).then(pl.col("progress").cast(pl.Float64) >= 100) \
        .otherwise(said_done)
    soon_limit = today + timedelta(days=soon_days)
    return frame.with_columns(
        pl.col("deadline_kind").fill_null("unknown"),
        done.fill_null(False).alias("done"),
    ).with_columns(
        (~pl.col("done") & (pl.col("due_date") < today)).fill_null(False).alias("overdue"),
        (~pl.col("done") & (pl.col("due_date") >= today) & (pl.col("due_date") <= soon_limit))
        .fill_null(False).alias("due_soon"),
        (pl.col("due_date") - pl.lit(today)).dt.total_days().alias("days_left"),
    )


def summary(annotated: pl.DataFrame, by: str = "pillar") -> pl.DataFrame:
    """Per pillar or per lead unit ("lead_unit": a task led by "A; B" counts for both):
    tasks, done, overdue, due_soon, ongoing, no_deadline and mean progress (a done task
    without a figure counts as 100%)."""
    frame = annotated
    if by == "lead_unit":
        frame = frame.with_columns(
            pl.col("lead_unit").fill_null(NO_LEAD).str.split(";").list.eval(pl.element().str.strip_chars())
            .alias("lead_unit")).explode("lead_unit").with_columns(
            pl.when(pl.col("lead_unit") == "").then(pl.lit(NO_LEAD)).otherwise(pl.col("lead_unit")).alias("lead_unit"))
    elif by == "pillar":
        frame = frame.with_columns(pl.col("pillar").fill_null("(Chưa phân loại)"))
    else:
        raise ValueError(by)
    progress = pl.coalesce(pl.col("progress").cast(pl.Float64),
                           pl.when(pl.col("done")).then(pl.lit(100.0)))
    return frame.group_by(by, maintain_order=True).agg(
        pl.len().alias("tasks"),
        pl.col("done").sum().alias("done"),
        pl.col("overdue").sum().alias("overdue"),
        pl.col("due_soon").sum().alias("due_soon"),
        (pl.col("deadline_kind") == "ongoing").sum().alias("ongoing"),
        (pl.col("deadline_kind") == "unknown").sum().alias("no_deadline"),
        progress.mean().alias("progress"),
    ).sort(["overdue", "tasks"], descending=True, maintain_order=True)


def tasks_of(con, unit_code: str, with_members: bool = False) -> pl.DataFrame:
    """The current task list of a unit (with its communes' lists when `with_members`)."""
    from store.db import query_pl

    where = "t.unit_code = $unit"
    if with_members:
        where = "(t.unit_code = $unit OR t.province_code = $unit)"
    return query_pl(con, f"""
        SELECT t.unit_code, u.full_name AS unit_name, t.plan_slug, t.task_no, t.task, t.pillar, t.lead_unit,
               t.partners, t.deadline, t.status, t.progress, t.note, t.batch_id, t.source_row
        FROM plan_tasks t JOIN units u ON u.code = t.unit_code
        WHERE t.superseded_by IS NULL AND {where}
        ORDER BY t.unit_code, t.source_row""", {"unit": unit_code})
