"""The overview page's figures that are not layout, as plain functions over the engine's rows
(dicts of kpi.engine.KpiValue): whether a unit has any data in the period, the 12-month trend
window, which communes are behind a target, the cards' texts (change against the previous
period, target wording, annualised fraction, plan mismatch flag), the deadlines with their
projections, and the whole view as one Excel workbook. No Streamlit; tested in
tests/test_page_data.py and tests/test_overview_cards.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from kpi import format as fmt
from kpi.definitions import KPIS, STATUS_LABELS
from kpi.export import to_xlsx
from kpi.projection import project


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


def behind_headline(lagging: Behind, target_text: str, what: str, value_text, shown: int = 5) -> tuple[str, bool]:
    """The overview's banner on a target, as (plain text, all met): how many communes with data
    are under `target_text` and the lowest ones, or that every one of them meets it (never
    «0/5 chưa đạt … Thấp nhất: —»). `value_text(value)` formats a commune's value."""
    if not lagging.behind:
        who = (f"Cả {fmt.number(lagging.with_data)} xã/phường có số liệu đều" if lagging.with_data > 1
               else "Xã/phường duy nhất có số liệu đã")
        return (f"{who} đạt chỉ tiêu {target_text} {what}.", True)
    lowest = ", ".join(f"{r['unit_name']} ({value_text(r['value'])})" for r in lagging.behind[:shown])
    more = f" và {fmt.number(len(lagging.behind) - shown)} xã/phường khác" if len(lagging.behind) > shown else ""
    return (f"{fmt.number(len(lagging.behind))}/{fmt.number(lagging.with_data)} xã/phường chưa đạt chỉ tiêu "
            f"{target_text} {what}. "
            f"Thấp nhất: {lowest}{more}.", False)


# --- Cards: change against the previous period, target wording, notes ---------------------------

OPS = {">=": "≥", "<=": "≤", "==": "="}


@dataclass(frozen=True)
class Change:
    """A KPI's value against the previous period's: `text` like "▲ 2,3 điểm % so với kỳ trước";
    `better` says whether the move is good for this KPI (None: unchanged)."""
    delta: float
    text: str
    better: bool | None


def change(kpi: str, value: float | None, previous: float | None) -> Change | None:
    """None when either period has no value (no data is never a change from or to 0)."""
    if value is None or previous is None:
        return None
    defn = KPIS[kpi]
    delta = value - previous
    if abs(delta) < 1e-9 or defn.format_gap(delta) == "0" or _rounds_to_zero(defn, delta):
        return Change(0.0, "Không đổi so với kỳ trước", None)
    arrow = "▲" if delta > 0 else "▼"
    return Change(delta, f"{arrow}\u00a0{defn.format_gap(delta, signed=False).replace(' ', chr(0xa0))} so với kỳ trước",
                  (delta > 0) == defn.higher_is_better)


def _rounds_to_zero(defn, delta: float) -> bool:
    """Whether the change shows as 0 at the KPI's precision (0,04 điểm % shows as "0,0")."""
    shown = abs(delta) * (100 if defn.kind == "rate" else 1)
    digits = 0 if defn.kind == "count" else 1
    return round(shown, digits) == 0


def target_line(row: dict) -> str:
    """The card's target line: "Chỉ tiêu ≥ 80% đến 31/12/2025 · thiếu 13,3 điểm %". A KPI that
    should be low (KpiDef.higher_is_better False, e.g. overdue dossiers) says how far it is above
    the allowed level ("cao hơn mức cho phép 158"), or, against a target of 0, how many remain
    ("còn 158 hồ sơ quá hạn"); never "vượt", which reads as praise. '' without a target."""
    if row.get("target") is None:
        return ""
    defn = KPIS[row["kpi"]]
    op = OPS.get(row.get("target_op") or ">=", "≥")
    deadline = f" đến {fmt.day(row['target_deadline'])}" if row.get("target_deadline") else ""
    text = f"Chỉ tiêu {op} {defn.format_target(row['target'])}{deadline}"
    if row.get("value") is None:
        return text
    gap = row["value"] - row["target"]
    if abs(gap) < 1e-9:
        return text
    size = defn.format_gap(gap, signed=False).replace(" ", "\u00a0")  # "3,1 điểm %" on one line
    if defn.higher_is_better:
        return f"{text} · {'vượt' if gap > 0 else 'thiếu'} {size}"
    if gap < 0:
        return f"{text} · thấp hơn mức cho phép {size}"
    if abs(row["target"]) < 1e-9 and row["kpi"] == "overdue_open":
        return f"{text} · còn {size} hồ sơ quá hạn"
    return f"{text} · cao hơn mức cho phép {size}"


def fraction_line(row: dict, days: int | None = None) -> str:
    """"3 / 4" under the value; an annualised KPI (dossiers per service) says so, since
    11.942 / 430 = 27,8 is not the 337,9 shown: "11.942 / 430 × 365/31 ngày (quy ra năm)"."""
    if row.get("numerator") is None or row.get("denominator") is None or row.get("value") is None:
        return ""  # "0 / 0" under "Chưa có dữ liệu" would show no data as 0
    text = f"{fmt.number(row['numerator'])} / {fmt.number(row['denominator'])}"
    if KPIS[row["kpi"]].annualised:
        text += f" × 365/{days} ngày (quy ra năm)" if days else " (quy ra năm)"
    return text


def plan_note(split: dict | None) -> str | None:
    """The flag docs/domain.md asks for when a plan's printed split does not add up to its
    printed total (kpi.sources.service_split): Đồng Phú prints 386 services as «126 toàn trình
    + 261 một phần», and 126 + 261 = 387."""
    if not split or not split.get("plan_mismatch"):
        return None
    full, partial, total = split["plan_full"], split["plan_partial"], split["plan_total"]
    return (f"Kế hoạch ghi {fmt.number(total)} dịch vụ ({fmt.number(full)} toàn trình + {fmt.number(partial)} "
            f"một phần), nhưng {fmt.number(full)} + {fmt.number(partial)} = {fmt.number(full + partial)} ≠ "
            f"{fmt.number(total)}: chỉ tiêu lấy theo tổng {fmt.number(total)} in trong kế hoạch.")


# --- Deadlines and projections --------------------------------------------------------------------

@dataclass(frozen=True)
class Deadline:
    kpi: str
    target: float
    deadline: date
    days_left: int          # negative: passed
    value: float | None
    status: str
    outlook: str


def deadlines(own: dict[str, dict], months: list[date], series: dict[str, list], today: date) -> list[Deadline]:
    """The unit's KPIs with a dated target, each with the days left and, before the deadline,
    the straight-line projection of the last months (kpi.projection)."""
    out = []
    for kid, row in own.items():
        deadline = row.get("target_deadline")
        if deadline is None or row.get("target") is None:
            continue
        days = (deadline - today).days
        values = series.get(kid) or []
        points = list(zip(months, values, strict=False)) if values else []
        proj = project(points, deadline, row["target"], KPIS[kid].higher_is_better) if points else None
        if days < 0:
            outlook = "Đã đạt" if row["status"] == "met" else "Đã quá hạn, chưa đạt"
        elif proj is None:
            outlook = "Chưa đủ số liệu để dự báo"
        else:
            outlook = (f"Theo đà hiện tại ({'+' if proj.slope_per_month >= 0 else '−'}"
                       f"{fmt.percent(abs(proj.slope_per_month))}/tháng) dự kiến {fmt.percent(proj.projected)}: "
                       + ("kịp đạt" if proj.reaches else "không kịp đạt"))
        out.append(Deadline(kid, row["target"], deadline, days, row.get("value"), row["status"], outlook))
    return out


def deadlines_table(items: list[Deadline]):
    """The screen's table: every cell a text as the card shows it."""
    return pl.DataFrame([{
        "Chỉ tiêu": KPIS[d.kpi].label, "Mục tiêu": KPIS[d.kpi].format_target(d.target), "Thời hạn": fmt.day(d.deadline),
        "Còn lại": f"{d.days_left} ngày" if d.days_left >= 0 else f"quá {-d.days_left} ngày",
        "Hiện tại": KPIS[d.kpi].format(d.value), "Đánh giá": STATUS_LABELS[d.status], "Dự báo": d.outlook,
    } for d in items], schema=dict.fromkeys(
        ("Chỉ tiêu", "Mục tiêu", "Thời hạn", "Còn lại", "Hiện tại", "Đánh giá", "Dự báo"), pl.String))


# --- The whole view as one workbook (kpi.export.to_xlsx: one sheet per section) --------------------

RATE_HEADERS = ("Tỷ lệ", "Chỉ tiêu (tỷ lệ)", "Thay đổi (điểm %)")


def cards_frame(own: dict[str, dict], kpis: list[str], previous: dict[str, dict] | None = None):
    """One row per card: rates in the percent columns, counts and ratios in the number columns,
    so every figure is a number cell with its format (never text); no data stays empty."""
    rows = []
    for kid in kpis:
        row = own[kid]
        rate = KPIS[kid].kind == "rate"
        before = (previous or {}).get(kid, {}).get("value")
        delta = None if row["value"] is None or before is None else row["value"] - before
        rows.append({
            "Chỉ tiêu": KPIS[kid].label,
            "Tỷ lệ": row["value"] if rate else None, "Giá trị": None if rate else row["value"],
            "Tử số": row.get("numerator") if KPIS[kid].denominator else None,
            "Mẫu số": row.get("denominator") if KPIS[kid].denominator else None,
            "Chỉ tiêu (tỷ lệ)": row.get("target") if rate else None,
            "Chỉ tiêu (giá trị)": None if rate else row.get("target"),
            "Thời hạn": row.get("target_deadline"), "Đánh giá": STATUS_LABELS[row["status"]],
            "Thay đổi (điểm %)": delta if rate else None, "Thay đổi": None if rate else delta,
        })
    return pl.DataFrame(rows, schema={
        "Chỉ tiêu": pl.String, "Tỷ lệ": pl.Float64, "Giá trị": pl.Float64, "Tử số": pl.Int64, "Mẫu số": pl.Int64,
        "Chỉ tiêu (tỷ lệ)": pl.Float64, "Chỉ tiêu (giá trị)": pl.Float64, "Thời hạn": pl.Date,
        "Đánh giá": pl.String, "Thay đổi (điểm %)": pl.Float64, "Thay đổi": pl.Float64})


def ranking_frame(communes: list[dict]):
    """The communes' rows of the ranked KPI, weakest first, those without data last."""
    return pl.DataFrame([{
        "Mã": r["unit_code"], "Xã/phường": r["unit_name"], "Tỷ lệ": r["value"],
        "Hồ sơ toàn trình": r["numerator"], "Hồ sơ tiếp nhận": r["denominator"],
        "Đánh giá": STATUS_LABELS[r["status"]]} for r in communes],
        schema={"Mã": pl.String, "Xã/phường": pl.String, "Tỷ lệ": pl.Float64, "Hồ sơ toàn trình": pl.Int64,
                "Hồ sơ tiếp nhận": pl.Int64, "Đánh giá": pl.String}).sort("Tỷ lệ", nulls_last=True)


def trend_frame(months: list[date], series: dict[str, list], kpis: list[str]):
    """Month (first day, shown 01/mm/yyyy) and one percent column per rate KPI."""
    data = {"Tháng": months} | {KPIS[k].label: series[k] for k in kpis if k in series}
    return pl.DataFrame(data, schema={"Tháng": pl.Date} | {KPIS[k].label: pl.Float64 for k in kpis if k in series})


def deadlines_frame(items: list[Deadline]):
    """The deadlines for Excel: dates as dates, days as numbers, values by kind like cards_frame."""
    rows = []
    for d in items:
        rate = KPIS[d.kpi].kind == "rate"
        rows.append({"Chỉ tiêu": KPIS[d.kpi].label, "Chỉ tiêu (tỷ lệ)": d.target if rate else None,
                     "Chỉ tiêu (giá trị)": None if rate else d.target, "Thời hạn": d.deadline,
                     "Còn lại (ngày)": d.days_left, "Tỷ lệ": d.value if rate else None,
                     "Giá trị": None if rate else d.value, "Đánh giá": STATUS_LABELS[d.status], "Dự báo": d.outlook})
    return pl.DataFrame(rows, schema={
        "Chỉ tiêu": pl.String, "Chỉ tiêu (tỷ lệ)": pl.Float64, "Chỉ tiêu (giá trị)": pl.Float64, "Thời hạn": pl.Date,
        "Còn lại (ngày)": pl.Int64, "Tỷ lệ": pl.Float64, "Giá trị": pl.Float64, "Đánh giá": pl.String,
        "Dự báo": pl.String})


def workbook(title: str, sections: dict[str, object]) -> bytes:
    """The whole dashboard view in one workbook, one sheet per section (name → polars frame);
    sections that are None are left out. Rates are number cells shown as 0,0%."""
    frames = {name: frame for name, frame in sections.items() if frame is not None}
    percent = set(RATE_HEADERS) | {d.label for d in KPIS.values() if d.kind == "rate"}
    return to_xlsx(frames, percent_columns=percent, title=title)
