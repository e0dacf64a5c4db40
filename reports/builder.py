"""The content of a periodic report (báo cáo định kỳ) for one unit and period, collected
from the KPI engine into plain data. The Excel, Word and PDF writers only lay it out, so
the three files and the page preview always carry the same figures.

Sections, as officials send them upward:
  I.   Kết quả thực hiện các chỉ tiêu (every KPI with a value or a target)
  II.  Các xã/phường chưa đạt (a province's communes under the full-online target, worst first)
  III. Nhiệm vụ quá hạn (overdue plan tasks, given by the caller; None = no task list yet),
       judged as of the report's day A = min(end of the period, today) (docs/domain.md §4.6):
       a March 2025 report lists what was overdue on 31/03/2025, late by days counted to it
  IV.  Biểu đồ (monthly full_online_rate with the target line)
  V.   Đề xuất, kiến nghị (an editable paragraph)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date

import duckdb
import polars as pl

from kpi import format as fmt
from kpi import series
from kpi.definitions import KPIS, STATUS_LABELS
from kpi.engine import KpiValue, compute, scope
from kpi.periods import Period
from kpi.targets import load_targets, pick
from store.db import plans

TREND_KPI = "full_online_rate"
RANK_KPI = "full_online_rate"
# Order of section I: the headline target first, then the other dossier KPIs, then the
# catalogue and archive KPIs (shown only where they have a value, a target or a source:
# dossiers_per_service with a catalogue but no dossiers reads "Chưa có dữ liệu").
ORDER = ["full_online_rate", "online_submission_rate", "e_result_rate", "data_reuse_rate", "digitisation_rate",
         "on_time_rate", "overdue_open", "received", "online_services", "full_online_services_on_portal",
         "dossiers_per_service", "location_free_rate", "business_online_rate", "archive_digitisation_rate",
         "e_document_rate"]
MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
NO_TASK_LIST = "Chưa có danh sách nhiệm vụ."
DEFAULT_RECOMMENDATIONS = (
    "[Nêu khó khăn, vướng mắc trong kỳ và đề xuất, kiến nghị với cấp trên (hạ tầng, kinh phí, nhân lực, "
    "hướng dẫn nghiệp vụ, kết nối dữ liệu…). Đoạn này do đơn vị tự soạn trước khi ký ban hành.]"
)


def nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", text or "")


def long_date(d: date) -> str:
    """"ngày 05 tháng 01 năm 2026": a zero before days under 10 and months 1 and 2, as the
    rules for administrative documents (Nghị định 30/2020/NĐ-CP) require."""
    month = f"{d.month:02d}" if d.month <= 2 else str(d.month)
    return f"ngày {d.day:02d} tháng {month} năm {d.year}"


def period_phrase(period: Period) -> str:
    """The period inside a sentence: "tháng 09/2025", "quý III/2025", "năm 2025"."""
    if period.kind == "range":
        return f"từ ngày {fmt.day(period.start)} đến ngày {fmt.day(period.end)}"
    label = period.vi()
    return label[0].lower() + label[1:]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _percent_target(value: float) -> str:
    return KPIS[RANK_KPI].format_target(value)


def _met(value: float, target: float, op: str | None) -> bool:
    if op == "<=":
        return value <= target + 1e-9
    if op == "==":
        return abs(value - target) <= 1e-9
    return value >= target - 1e-9


@dataclass
class KpiLine:
    """One row of section I: a KPI's value traced to its numerator and denominator."""
    kpi: str
    label: str
    kind: str                      # rate | count | ratio
    value: float | None
    numerator: float | None
    denominator: float | None
    target: float | None
    target_op: str | None
    deadline: date | None
    target_from: date | None
    status: str

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def value_text(self) -> str:
        return fmt.format_value(self, self.value)

    @property
    def fraction_text(self) -> str:
        """"2/3" for a rate or ratio with data, else empty."""
        if self.value is None or self.denominator is None or self.numerator is None:
            return ""
        return f"{fmt.number(self.numerator)}/{fmt.number(self.denominator)}"

    @property
    def result_text(self) -> str:
        return self.value_text + (f" ({self.fraction_text})" if self.fraction_text else "")

    @property
    def target_text(self) -> str:
        if self.target is None:
            return "—"
        op = {"<=": "≤", "==": "="}.get(self.target_op or ">=", "≥")
        shown = fmt.format_target(self, self.target)
        return f"{op} {shown}"

    @property
    def deadline_text(self) -> str:
        if self.target is None:
            return "—"
        if self.deadline:
            return fmt.day(self.deadline)
        if self.target_from:
            return f"Từ {fmt.day(self.target_from)}"
        return "Thường xuyên"

    @property
    def gap(self) -> float | None:
        """Value minus target (rates in fractions: -0.133 = 13.3 points under)."""
        if self.value is None or self.target is None:
            return None
        return self.value - self.target

    @property
    def gap_text(self) -> str:
        gap = self.gap
        if gap is None:
            return "—"
        return fmt.format_gap(self, gap)


@dataclass
class CommuneLine:
    code: str
    name: str
    value: float
    numerator: float | None
    denominator: float | None
    target: float

    @property
    def gap(self) -> float:
        return self.value - self.target

    @property
    def result_text(self) -> str:
        return f"{KPIS[RANK_KPI].format(self.value)} ({fmt.number(self.numerator or 0)}/{fmt.number(self.denominator or 0)})"

    @property
    def gap_text(self) -> str:
        return KPIS[RANK_KPI].format_gap(self.gap)


@dataclass
class CommuneSection:
    """Section II for a province: communes under the target (worst first) among those with data."""
    behind: list[CommuneLine]
    with_data: int
    without_data: int
    target: float | None

    @property
    def summary(self) -> str:
        if self.target is None:
            return "Chưa có chỉ tiêu tỷ lệ hồ sơ xử lý hoàn toàn trực tuyến cho các xã/phường."
        if not self.with_data:
            return "Chưa có xã/phường nào có dữ liệu trong kỳ."
        goal = f"chỉ tiêu {_percent_target(self.target)} hồ sơ xử lý hoàn toàn trực tuyến"
        if self.behind:
            text = (f"{fmt.number(len(self.behind))}/{fmt.number(self.with_data)} xã/phường có dữ liệu chưa đạt "
                    f"{goal} (xếp từ thấp nhất).")
        else:
            text = f"Cả {fmt.number(self.with_data)} xã/phường có dữ liệu đều đạt {goal}."
        if self.without_data:
            text += f" {fmt.number(self.without_data)} xã/phường chưa có dữ liệu trong kỳ (không tính là 0%)."
        return text


@dataclass
class OverdueTask:
    """A plan task past its deadline and not finished (from the task list)."""
    name: str
    lead: str = ""
    deadline: date | None = None
    deadline_text: str = ""        # as the plan words it ("Tháng 8/2025", "Trước 30/9/2025")
    status: str = ""
    progress: float | None = None  # percent, 0..100
    note: str = ""
    days_late: int | None = None   # filled in by build()

    @property
    def progress_text(self) -> str:
        return "" if self.progress is None else f"{fmt.number(self.progress, 0)}%"

    @property
    def late_text(self) -> str:
        return "" if self.days_late is None else f"{fmt.number(self.days_late)} ngày"


def tasks_from_records(records) -> list[OverdueTask]:
    """OverdueTask objects from task rows (dicts or objects) as a task store returns them,
    accepting the usual field names: name/task, lead/lead_unit, deadline (a date),
    deadline_text/deadline_raw, status, progress (percent), note."""
    def get(record, *names):
        for name in names:
            value = record.get(name) if isinstance(record, dict) else getattr(record, name, None)
            if value is not None:
                return value
        return None

    out = []
    for r in records:
        deadline = get(r, "deadline", "deadline_date", "due_date")
        progress = get(r, "progress", "progress_pct")
        out.append(OverdueTask(
            name=nfc(str(get(r, "name", "task", "title") or "")), lead=nfc(str(get(r, "lead", "lead_unit") or "")),
            deadline=deadline if isinstance(deadline, date) else None,
            deadline_text=nfc(str(get(r, "deadline_text", "deadline_raw") or (fmt.day(deadline) if deadline else ""))),
            status=nfc(str(get(r, "status") or "")), progress=float(progress) if progress is not None else None,
            note=nfc(str(get(r, "note") or "")),
        ))
    return out


def overdue_tasks(con: duckdb.DuckDBPyConnection, unit_code: str, today: date) -> list[OverdueTask] | None:
    """The plan tasks of a unit (a province: with its communes') that are overdue on `today`,
    from the task store (kpi/tasks.py). None when no task list is loaded for the unit, so the
    report says "Chưa có danh sách nhiệm vụ" rather than "none overdue". `build()` keeps
    those overdue on its period's as-of day (on or before `today`, so among these) and counts
    their days late to it."""
    try:
        from kpi import tasks as plan_tasks
    except ImportError:  # the task store is not part of this installation
        return None
    unit = scope(con, unit_code)
    frame = plan_tasks.tasks_of(con, unit.code, with_members=unit.is_province)
    if frame.height == 0:
        return None
    over = plan_tasks.annotate(frame, today).filter(pl.col("overdue"))
    records = [
        {"name": r["task"], "deadline": r["due_date"], "deadline_text": r["deadline"], "status": r["status"],
         "progress": r["progress"], "note": r["note"],
         "lead": (r["lead_unit"] or "") + (f" ({r['unit_name']})" if r["unit_code"] != unit.code else "")}
        for r in over.iter_rows(named=True)
    ]
    return tasks_from_records(records)


@dataclass
class TrendPoint:
    month: date
    value: float | None
    numerator: float | None
    denominator: float | None

    @property
    def label(self) -> str:
        return f"{self.month:%m/%Y}"


@dataclass
class Report:
    unit_code: str
    unit_name: str           # "Xã Nghĩa Thọ"
    place: str               # "Nghĩa Thọ" (for "Nghĩa Thọ, ngày …")
    level: str
    province_code: str
    province_name: str
    period: Period
    today: date
    as_of: date
    plan_title: str
    kpis: list[KpiLine]
    has_data: bool
    communes: CommuneSection | None      # None for a commune's own report
    tasks: list[OverdueTask] | None      # None: no task list available yet
    trend: list[TrendPoint]
    trend_target: float | None
    recommendations: str = DEFAULT_RECOMMENDATIONS
    issuer: tuple[str, str] = ("ỦY BAN NHÂN DÂN", "")
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return "BÁO CÁO"

    @property
    def subtitle(self) -> str:
        return (f"Kết quả thực hiện chuyển đổi số của {_lower_first(self.unit_name)} "
                f"kỳ {period_phrase(self.period)}")

    @property
    def heading(self) -> str:
        """Title and subtitle on one line (sheet titles, the page)."""
        return f"{self.title} {self.subtitle}"

    @property
    def place_date(self) -> str:
        return f"{self.place}, {long_date(self.today)}"

    @property
    def number_line(self) -> str:
        return "Số:        /BC-UBND"

    @property
    def opening(self) -> str:
        return (f"Thực hiện {self.plan_title}, {self.issuer[0].capitalize()} {_lower_first(self.unit_name)} "
                f"báo cáo kết quả thực hiện các chỉ tiêu chuyển đổi số kỳ {period_phrase(self.period)} "
                f"(số liệu tính đến {long_date(self.as_of)}) như sau:")

    @property
    def no_data_text(self) -> str:
        return f"Chưa có dữ liệu của {self.unit_name} cho kỳ {period_phrase(self.period)}."

    @property
    def file_stem(self) -> str:
        """bao_cao_CDS_16969_2025-Q3 (ASCII, no diacritics)."""
        label = re.sub(r"[^0-9A-Za-z-]+", "_", self.period.label).strip("_")
        return f"bao_cao_CDS_{self.unit_code}_{label}"

    def kpi(self, kpi_id: str) -> KpiLine | None:
        return next((k for k in self.kpis if k.kpi == kpi_id), None)


def _plan_title(unit_code: str) -> str:
    """The unit's own plan, else the national Plan 02."""
    by_unit = {p.get("unit_code"): p for p in plans()}
    for code in (unit_code, None):
        if code in by_unit:
            return nfc(by_unit[code]["title"])
    return "Kế hoạch số 02-KH/BCĐTW ngày 19/6/2025 của Ban Chỉ đạo Trung ương"


def _kpi_lines(rows: list[KpiValue], targets, unit_code: str, province_code: str, period: Period) -> list[KpiLine]:
    own = {r.kpi: r for r in rows if r.unit_code == unit_code}
    lines = []
    for kid in ORDER + [k for k in KPIS if k not in ORDER]:
        row = own.get(kid)
        if row is None:
            continue
        defn = KPIS[kid]
        if defn.source != "dossier" and row.value is None and row.target is None and row.denominator is None:
            continue  # no catalogue or archive data at all; with a catalogue but no dossiers: "no data"
        chosen = pick(targets, kid, unit_code, province_code, defn.kind == "rate", period.end)
        lines.append(KpiLine(
            kpi=kid, label=defn.label, kind=defn.kind, value=row.value, numerator=row.numerator,
            denominator=row.denominator, target=row.target, target_op=row.target_op,
            deadline=row.target_deadline, target_from=chosen.from_date if chosen else None, status=row.status,
        ))
    return lines


def _communes(rows: list[KpiValue], unit_code: str) -> CommuneSection:
    members = [r for r in rows if r.unit_code != unit_code and r.kpi == RANK_KPI]
    with_data = [r for r in members if r.value is not None]
    own = next((r for r in rows if r.unit_code == unit_code and r.kpi == RANK_KPI), None)
    behind = [
        CommuneLine(r.unit_code, nfc(r.unit_name), r.value, r.numerator, r.denominator, r.target)
        for r in with_data if r.target is not None and not _met(r.value, r.target, r.target_op)
    ]
    behind.sort(key=lambda c: (c.value, -(c.denominator or 0), c.name))
    return CommuneSection(behind, len(with_data), len(members) - len(with_data), own.target if own else None)


def _trend(con, unit_code: str, period: Period, today: date, months: int) -> list[TrendPoint]:
    """Monthly full_online_rate for up to `months` months ending with the period (not past
    today), leading months without data dropped (all of the period's months are kept when
    none has data, for the chart to say so)."""
    last = period.as_of(today)
    last = date(last.year, last.month, 1)
    index = last.year * 12 + last.month - 1 - (months - 1)
    first = min(date(index // 12, index % 12 + 1, 1), date(period.start.year, period.start.month, 1))
    frame = series.monthly(con, unit_code, first, last, today=today)
    value_col = TREND_KPI if TREND_KPI in frame.columns else None
    defn = KPIS[TREND_KPI]
    points = [
        TrendPoint(r["month"], r.get(value_col) if value_col else None, r.get(defn.numerator), r.get(defn.denominator))
        for r in frame.iter_rows(named=True)
    ]
    period_first = date(period.start.year, period.start.month, 1)
    if not any(p.value is not None for p in points):
        return [p for p in points if p.month >= period_first]
    while points[0].value is None:
        points.pop(0)
    return points


def build(
    con: duckdb.DuckDBPyConnection,
    unit_code: str,
    period: Period,
    today: date,
    tasks: list[OverdueTask] | None = None,
    recommendations: str | None = None,
    trend_months: int = 12,
) -> Report:
    """Collect the report of `unit_code` for `period`. `tasks`: the unit's overdue plan
    tasks (None while no task list is loaded: the report says so); the report keeps those
    overdue on its as-of day (`period.as_of(today)`: a task due after it was not late then)
    and counts days late to that day, not to today."""
    unit = scope(con, unit_code)
    province = unit if unit.is_province else scope(con, unit.province_code)
    rows = compute(con, period, unit.code, by="commune" if unit.is_province else None, today=today)
    lines = _kpi_lines(rows, load_targets(con), unit.code, unit.province_code, period)
    has_data = any(k.value is not None for k in lines if k.kpi != "overdue_open")
    trend_line = next((k for k in lines if k.kpi == TREND_KPI), None)
    as_of = period.as_of(today)
    if tasks is not None:
        # Due on the as-of day itself is not late yet (docs/domain.md §2.5); a task without a
        # date is listed as the caller gave it, without a count of days.
        tasks = sorted(
            (replace(t, days_late=(as_of - t.deadline).days if t.deadline else None)
             for t in tasks if t.deadline is None or t.deadline < as_of),
            key=lambda t: (t.deadline is None, t.deadline or date.max, t.name))
    notes = []
    if unit.is_province:
        notes.append("Tỷ lệ của tỉnh tính gộp tử số và mẫu số của các xã/phường (không lấy trung bình các tỷ lệ).")
    notes.append("«Chưa có dữ liệu»: kỳ báo cáo chưa có số liệu để tính, không phải 0%.")
    return Report(
        unit_code=unit.code, unit_name=nfc(unit.full_name), place=nfc(unit.name), level=unit.level,
        province_code=province.code, province_name=nfc(province.full_name), period=period, today=today,
        as_of=as_of, plan_title=_plan_title(unit.code), kpis=lines,
        has_data=has_data, communes=_communes(rows, unit.code) if unit.is_province else None, tasks=tasks,
        trend=_trend(con, unit.code, period, today, trend_months),
        trend_target=trend_line.target if trend_line else None,
        recommendations=nfc(recommendations) if recommendations and recommendations.strip()
        else DEFAULT_RECOMMENDATIONS,
        issuer=("ỦY BAN NHÂN DÂN", nfc(unit.full_name).upper()), notes=notes,
    )
