"""The tasks page's data (pages/tasks.py only lays it out): the annotated task list of a unit,
the big numbers, the overdue and due-soon list, progress per pillar and lead unit, the
filtered task table and its Excel frame, the undated tasks, the Gantt chart's groups and the
plans' next reporting deadlines. Plain functions over polars frames; no Streamlit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from kpi import deadlines
from kpi.deadlines import STATE_LABELS, STATES, ReportDeadline
from kpi.tasks import NO_LEAD, PILLARS, annotate, summary, tasks_of

NO_PILLAR = "(Chưa phân loại)"


def load(con, unit: str, with_members: bool, today: date) -> pl.DataFrame:
    """The unit's current task list with due dates and states (unclassified pillar named)."""
    frame = tasks_of(con, unit, with_members)
    if frame.height == 0:
        return frame
    frame = deadlines.with_states(annotate(frame, today))
    return frame.with_columns(pl.col("pillar").fill_null(NO_PILLAR))


def members_of(con, unit: str, today: date) -> pl.DataFrame:
    """The task lists of a province's communes (the province's own list left out)."""
    members = load(con, unit, True, today)
    return members.filter(pl.col("unit_code") != unit) if members.height else members


# --- Small helpers ----------------------------------------------------------------------------

def short(text: str | None, n: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def short_unit(name: str) -> str:
    """The name without its "Xã"/"Phường" word, for short labels."""
    for word in ("Xã ", "Phường ", "Đặc khu "):
        name = name.removeprefix(word)
    return name


def days_text() -> pl.Expr:
    """'quá 12 ngày' / 'hôm nay' / 'còn 5 ngày'; empty for a done task or one without a date."""
    days = pl.col("days_left")
    return (pl.when(pl.col("done") | days.is_null()).then(pl.lit(""))
            .when(days < 0).then(pl.format("quá {} ngày", -days))
            .when(days == 0).then(pl.lit("hôm nay")).otherwise(pl.format("còn {} ngày", days)))


def lead_units(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per (task, lead unit), as kpi.tasks.summary counts them ("A; B" leads twice)."""
    return frame.with_columns(
        pl.col("lead_unit").fill_null(NO_LEAD).str.split(";").list.eval(pl.element().str.strip_chars())
        .alias("lead_unit")).explode("lead_unit").with_columns(
        pl.when(pl.col("lead_unit") == "").then(pl.lit(NO_LEAD)).otherwise(pl.col("lead_unit")).alias("lead_unit"))


def pillar_order(values: list[str]) -> list[str]:
    """The plans' order of pillars (Thể chế, Hạ tầng, …), others after, unclassified last."""
    known = list(PILLARS.values())
    return sorted(values, key=lambda v: (known.index(v) if v in known else len(known), v == NO_PILLAR, v))


def mean_progress(tasks: pl.DataFrame) -> float | None:
    """Mean progress as kpi.tasks.summary computes it (one group of all tasks)."""
    return summary(tasks.with_columns(pl.lit("*").alias("pillar")), by="pillar")["progress"][0]


def state_label() -> pl.Expr:
    return pl.col("state").replace_strict(STATE_LABELS).alias("Tình trạng")


def _unit(multi: bool) -> list[pl.Expr]:
    return [pl.col("unit_name").alias("Đơn vị")] if multi else []


# --- Scope ------------------------------------------------------------------------------------

def scope_labels(own: pl.DataFrame, members: pl.DataFrame) -> dict[str, str]:
    """The radio's labels: the province's own plan and its communes' lists, with counts."""
    return {
        "own": f"Kế hoạch của tỉnh ({own.height} nhiệm vụ"
               + (f", {int(own['overdue'].sum())} quá hạn)" if own.height else ")"),
        "members": f"Các xã/phường có danh sách ({members['unit_code'].n_unique()} đơn vị, {members.height} "
                   f"nhiệm vụ, {int(members['overdue'].sum())} quá hạn)",
    }


# --- Attention --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Counts:
    """The big numbers: tasks per state, ongoing and undated tasks, mean progress (%)."""
    total: int
    overdue: int
    due_soon: int
    in_progress: int
    not_started: int
    done: int
    ongoing: int
    undated: int
    progress: float | None


def counts(tasks: pl.DataFrame) -> Counts:
    by_state = {key: int((tasks["state"] == key).sum()) for key, _, _ in STATES}
    return Counts(total=tasks.height, **by_state,
                  ongoing=int((tasks["deadline_kind"] == "ongoing").sum()),
                  undated=int((tasks["deadline_kind"] == "unknown").sum()),
                  progress=mean_progress(tasks))


def attention(tasks: pl.DataFrame) -> pl.DataFrame:
    """Overdue and due-soon tasks, most overdue first, with their 'left' text."""
    return (tasks.filter(pl.col("overdue") | pl.col("due_soon"))
            .sort(["days_left", "unit_code", "source_row"]).with_columns(days_text().alias("left")))


def attention_excel(shown: pl.DataFrame, multi: bool) -> pl.DataFrame:
    return shown.select(*_unit(multi), pl.col("task_no").alias("STT"),
                        pl.col("task").alias("Nhiệm vụ"), pl.col("lead_unit").alias("Đơn vị chủ trì"),
                        pl.col("deadline").alias("Thời hạn ghi trong kế hoạch"), pl.col("due_date").alias("Hạn"),
                        pl.col("days_left").alias("Số ngày còn lại"), state_label(),
                        pl.col("progress").alias("Tiến độ (%)"))


# --- Reporting deadlines ----------------------------------------------------------------------

def reporting(units: dict[str, str], plan_list: list[dict], today: date) -> tuple[list[tuple[str, ReportDeadline]],
                                                                                   bool]:
    """The next due date of each reporting rule of the plans of `units` (code -> name), and
    whether any of the units has a plan."""
    plan_of_unit = {p["unit_code"]: p for p in plan_list if p.get("unit_code")}
    rows = [(code, r) for code in units for r in deadlines.reporting_deadlines(plan_of_unit.get(code), today)]
    return rows, any(code in plan_of_unit for code in units)


def reporting_excel(units: dict[str, str], rows: list[tuple[str, ReportDeadline]], multi: bool) -> pl.DataFrame:
    return pl.DataFrame([{**({"Đơn vị": units[c]} if multi else {}), "Báo cáo": r.what, "Quy định": r.rule_label,
                          "Hạn tiếp theo": r.due, "Số ngày còn lại": r.days_left, "Ghi chú": r.days_text}
                         for c, r in rows])


# --- Timeline ---------------------------------------------------------------------------------

def bars(tasks: pl.DataFrame, plan_list: list[dict], today: date) -> pl.DataFrame:
    """The Gantt bars (kpi.deadlines.timeline), each plan starting on its issue date."""
    starts = {p["slug"]: deadlines.plan_start(p) for p in plan_list}
    return deadlines.timeline(tasks, starts, today)


def gantt_groups(bars: pl.DataFrame, group: str) -> list[tuple[str, pl.DataFrame]]:
    """The bars by group (largest first; pillars in the plans' order), each by end date."""
    if group == "lead_unit":
        bars = lead_units(bars)
    groups = bars.group_by(group).len().sort(["len", group], descending=[True, False])[group].to_list()
    if group == "pillar":
        groups = pillar_order(groups)
    return [(g, bars.filter(pl.col(group) == g).sort(["end", "unit_code", "source_row"])) for g in groups]


def undated(tasks: pl.DataFrame, multi: bool) -> pl.DataFrame:
    """The tasks without a readable deadline, as the page lists them."""
    return tasks.filter(pl.col("deadline_kind") == "unknown").select(
        *_unit(multi), pl.col("task_no").alias("STT"),
        pl.col("task").alias("Nhiệm vụ"), pl.col("pillar").alias("Trụ cột"),
        pl.col("lead_unit").fill_null(NO_LEAD).alias("Đơn vị chủ trì"), state_label(),
        pl.col("progress").alias("Tiến độ (%)"), pl.col("note").alias("Ghi chú"))


# --- Progress ---------------------------------------------------------------------------------

def by_lead(tasks: pl.DataFrame, multi: bool) -> pl.DataFrame:
    """Per lead unit; across communes each commune's units stay apart ("Nghĩa Thọ · Công an xã")."""
    if not multi:
        return summary(tasks, by="lead_unit")
    parts = []
    for code in tasks["unit_code"].unique(maintain_order=True).to_list():
        part = tasks.filter(pl.col("unit_code") == code)
        parts.append(summary(part, by="lead_unit").with_columns(
            pl.format("{} · {}", pl.lit(short_unit(part["unit_name"][0])), pl.col("lead_unit")).alias("lead_unit")))
    return pl.concat(parts).sort(["overdue", "tasks"], descending=True, maintain_order=True)


def summary_frame(table: pl.DataFrame, key: str, label: str) -> pl.DataFrame:
    return table.select(pl.col(key).alias(label), pl.col("tasks").alias("Số nhiệm vụ"),
                        pl.col("done").alias("Hoàn thành"), pl.col("overdue").alias("Quá hạn"),
                        pl.col("due_soon").alias("Sắp đến hạn"), pl.col("ongoing").alias("Thường xuyên"),
                        pl.col("no_deadline").alias("Chưa rõ thời hạn"),
                        (pl.col("progress") / 100).alias("Tiến độ bình quân"))


# --- Task table -------------------------------------------------------------------------------

def filter_options(tasks: pl.DataFrame) -> tuple[list[str], list[str]]:
    """The pillar (plans' order) and lead unit (sorted, "A; B" split) filter choices."""
    return (pillar_order(tasks["pillar"].unique().to_list()),
            sorted(lead_units(tasks)["lead_unit"].unique().to_list()))


def filtered(tasks: pl.DataFrame, pillars: list[str], leads: list[str], states: list[str]) -> pl.DataFrame:
    """The tasks of the chosen pillars, lead units and states (none chosen: all), in file order."""
    shown = tasks
    if pillars:
        shown = shown.filter(pl.col("pillar").is_in(pillars))
    if leads:
        keep = lead_units(tasks).filter(pl.col("lead_unit").is_in(leads)).select("unit_code", "source_row").unique()
        shown = shown.join(keep, on=["unit_code", "source_row"], how="semi")
    if states:
        shown = shown.filter(pl.col("state").is_in(states))
    return shown.sort(["unit_code", "source_row"])


def table_view(shown: pl.DataFrame, multi: bool) -> pl.DataFrame:
    return shown.select(
        *_unit(multi), pl.col("task_no").alias("STT"), pl.col("task").alias("Nhiệm vụ"),
        pl.col("pillar").alias("Trụ cột"), pl.col("lead_unit").fill_null(NO_LEAD).alias("Đơn vị chủ trì"),
        pl.col("deadline").fill_null("").alias("Thời hạn"),
        pl.col("due_date").dt.strftime("%d/%m/%Y").fill_null("").alias("Hạn"), days_text().alias("Còn lại"),
        state_label(), pl.col("progress").alias("Tiến độ"),
        pl.col("status").fill_null("").alias("Trạng thái báo cáo"),
        pl.col("partners").fill_null("").alias("Đơn vị phối hợp"), pl.col("note").fill_null("").alias("Ghi chú"))


def table_excel(shown: pl.DataFrame, multi: bool) -> pl.DataFrame:
    return shown.select(
        *_unit(multi), pl.col("task_no").alias("STT"), pl.col("task").alias("Nhiệm vụ"),
        pl.col("pillar").alias("Trụ cột"), pl.col("lead_unit").alias("Đơn vị chủ trì"),
        pl.col("partners").alias("Đơn vị phối hợp"), pl.col("deadline").alias("Thời hạn ghi trong kế hoạch"),
        pl.col("due_date").alias("Hạn"), pl.when(~pl.col("done")).then(pl.col("days_left")).alias("Số ngày còn lại"),
        state_label(), pl.col("status").alias("Trạng thái báo cáo"), pl.col("progress").alias("Tiến độ (%)"),
        pl.col("note").alias("Ghi chú"))
