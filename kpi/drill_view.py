"""The drill-down page's figures that are not layout, as plain functions: breadcrumbs, filter
and status choices, the children table (kept rows, names, order, screen cells, Excel
export), the dossier list's paging and its screen and Excel columns. No Streamlit; the page
(pages/drilldown.py) only lays these out. Tested in tests/test_drill_view.py."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from kpi import format as fmt
from kpi.definitions import KPIS
from kpi.drill import CHANNEL_LABELS

# The table's columns: every KPI declared with a short header (kpi.definitions), in its order.
MAIN_KPIS = [k for k, d in KPIS.items() if d.short]
SHORT = {k: KPIS[k].short for k in MAIN_KPIS}
PAGE_SIZE = 500
BY = {"xa": "unit_code", "linh_vuc": "field", "tthc": "procedure_code"}
BY_LABELS = {"unit_code": "Xã/phường", "field": "Lĩnh vực", "procedure_code": "Thủ tục"}
NO_FIELD = "(Không ghi lĩnh vực)"
NO_PROCEDURE = "(Không ghi mã thủ tục)"
SORT_OPTIONS = ["received", "full_online_rate", "online_submission_rate", "e_result_rate", "on_time_rate",
                "overdue_open", "name"]

FLAGS = {"fully_online": "Toàn trình", "digitised": "Số hóa", "e_result": "KQ điện tử",
         "data_reused": "Tái sử dụng", "paid_online": "Thanh toán trực tuyến"}
SCREEN_FLAGS = ["fully_online", "digitised", "e_result", "data_reused"]  # the KPIs' flags; Excel has all
FLAG_HELP = {"Tái sử dụng": "Tái sử dụng dữ liệu đã số hóa", "KQ điện tử": "Kết quả điện tử"}
# Screen widths (px) so the list fits 1920 px without scrolling sideways; Excel has every column.
WIDTHS = {"Mã hồ sơ": 185, "Đơn vị": 125, "Thủ tục": 250, "Kênh nộp": 80, "Tiếp nhận": 84, "Hạn trả": 84,
          "Có kết quả": 84, "Trạng thái": 112, "Thời hạn": 130, "Toàn trình": 76, "Số hóa": 62,
          "KQ điện tử": 78, "Tái sử dụng": 84}


# --- Position ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Crumb:
    prefix: str          # our label (plain text)
    name: str            # the name from the data or the URL (to be escaped by the page)
    target: str | None   # where a click goes: "province", "unit", "field", or None (not clickable)


def crumbs(province_name: str, unit_name: str, is_province: bool, field: str | None,
           procedure_label: str | None) -> list[Crumb]:
    """The breadcrumbs of a position: province, commune, field, procedure."""
    out = [Crumb("", province_name, "province")]
    if not is_province:
        out.append(Crumb("", unit_name, "unit"))
    if field:
        out.append(Crumb("Lĩnh vực: ", field, "field"))
    if procedure_label is not None:
        out.append(Crumb("Thủ tục: ", procedure_label, None))
    return out


def crumbs_text(items: list[Crumb]) -> str:
    """The position in plain text: «Tỉnh … › Lĩnh vực: …»."""
    return " › ".join(c.prefix + c.name for c in items)


def dimensions(is_province: bool, field: str | None, procedure: str | None) -> list[str]:
    """The dimensions the position's children can be listed along, first the default."""
    return ((["unit_code"] if is_province else []) + ([] if field or procedure else ["field"])
            + ([] if procedure else ["procedure_code"]))


def pick_dimension(dims: list[str], by_param: str | None) -> str:
    """The dimension the URL's `theo` asks for when offered, else the first."""
    wanted = BY.get(by_param) if by_param else None
    return wanted if wanted in dims else dims[0]


# --- Filter and status choices ------------------------------------------------------------------

def with_current(values: list, current: str | None) -> list:
    """[None (all)] + the values, + the current one when the URL names one the data lacks."""
    return [None] + list(values) + ([current] if current and current not in values else [])


def field_options(fields: list[tuple[str, str]], field: str | None) -> list[str | None]:
    return with_current([v for v, _ in fields], field)


def procedure_names(procedures: list[tuple[str, str]], procedure: str | None,
                    procedure_label: str | None) -> dict[str, str]:
    """Code → label of the procedures to choose from (the current one always included)."""
    return dict(procedures) | ({procedure: procedure_label} if procedure else {})


def status_options(statuses: list[tuple[str, int]], status: str | None) -> list[str | None]:
    return with_current([s for s, _ in statuses], status)


def status_label(status: str | None, counts: dict[str, int]) -> str:
    return "Tất cả trạng thái" if status is None else f"{status} ({fmt.number(counts.get(status, 0))})"


def no_dossiers(own: dict[str, dict]) -> bool:
    """Whether the position shows nothing: no dossier received, none overdue, no rate."""
    return (not own["received"]["value"] and not own["overdue_open"]["value"]
            and all(own[k]["value"] is None for k in MAIN_KPIS if KPIS[k].kind == "rate"))


# --- Children table -------------------------------------------------------------------------------

def procedure_short_names(labels: dict[str, str]) -> dict[str, str]:
    """Code → name without the code in front (the code itself when the name is empty), from
    the "code name" labels of kpi.drill.procedure_info."""
    return {code: label.removeprefix(code).strip() or code for code, label in labels.items()}


def named_children(frame: pl.DataFrame, dim: str, names: dict[str, str] | None = None) -> tuple[pl.DataFrame, int]:
    """The children (a kpi.drill.kpi_frame) that count at least one dossier, with a `name`
    column, and how many were left out for having none. Units and procedures are named by
    `names` (units without one keep their code; procedures without a code are «không ghi mã»),
    fields by themselves."""
    if dim == "unit_code":
        named = pl.col("key").replace_strict(names or {}, default=pl.col("key"))
    elif dim == "field":
        named = pl.col("key").fill_null(NO_FIELD)
    else:
        named = pl.col("key").replace_strict(names or {}, default=NO_PROCEDURE)
    kept = frame.filter(pl.sum_horizontal(pl.col("^.*__(num|den)$").fill_null(0)) > 0)
    return kept.with_columns(named.alias("name")), frame.height - kept.height


def sort_label(key: str) -> str:
    return "Tên" if key == "name" else f"{SHORT[key]} ({'thấp → cao' if KPIS[key].kind == 'rate' else 'nhiều → ít'})"


def sort_children(frame: pl.DataFrame, sort_by: str) -> pl.DataFrame:
    """Counts most first, rates lowest first, then by name; no value last."""
    descending = sort_by in ("received", "overdue_open")
    order = [sort_by] if sort_by == "name" else [sort_by, "name"]
    return frame.sort(order, descending=[descending, False][:len(order)], nulls_last=True)


def cell(frame: pl.DataFrame, kid: str) -> pl.Series:
    """'66,7% (2/3)' for a rate, '1.234' for a count: the value and where it comes from.
    Formatted in Python over the table's few rows: a Python function inside a polars
    expression (map_elements) deadlocked the server when several sessions drew this table at
    once (polars' workers waiting for the GIL that another session's thread held while
    waiting for those workers)."""
    defn = KPIS[kid]
    rows = frame.select(kid, f"{kid}__num", f"{kid}__den").rows()
    if defn.denominator is None or defn.kind != "rate":
        texts = [defn.format(v) for v, _num, _den in rows]
    else:
        texts = [defn.format(v) if v is None else f"{defn.format(v)} ({fmt.number(num)}/{fmt.number(den)})"
                 for v, num, den in rows]
    return pl.Series(SHORT[kid], texts, dtype=pl.String)


def children_table(frame: pl.DataFrame, dim: str) -> pl.DataFrame:
    """The children as shown: code (not for fields), name, one text cell per KPI."""
    shown = frame.select(
        pl.col("key").fill_null("").alias("Mã"), pl.col("name").alias(BY_LABELS[dim]),
        *[cell(frame, k) for k in MAIN_KPIS])
    return shown.drop("Mã") if dim == "field" else shown


def children_export(frame: pl.DataFrame, dim: str) -> pl.DataFrame:
    """The children for Excel: values typed, rates with their numerator and denominator."""
    return frame.select(
        pl.col("key").alias("Mã"), pl.col("name").alias(BY_LABELS[dim]),
        *[c for k in MAIN_KPIS for c in (
            [pl.col(k).alias(SHORT[k]), pl.col(f"{k}__num").cast(pl.Int64).alias(f"{SHORT[k]}: tử số"),
             pl.col(f"{k}__den").cast(pl.Int64).alias(f"{SHORT[k]}: mẫu số")] if KPIS[k].kind == "rate"
            else [pl.col(k).cast(pl.Int64).alias(SHORT[k])])])


def percent_columns() -> set[str]:
    return {SHORT[k] for k in MAIN_KPIS if KPIS[k].kind == "rate"}


def from_reports(own_received: int | float | None, frame: pl.DataFrame) -> int:
    """Dossiers received that the children do not hold (counted from aggregate reports)."""
    return (own_received or 0) - int(frame["received__num"].fill_null(0).sum())


# --- Dossier list ---------------------------------------------------------------------------------

def part_figure(row: dict, part: str) -> int | float:
    """The engine's figure of a KPI's part (numerator, denominator, gap), 0 when none."""
    return {"numerator": row["numerator"], "denominator": row["denominator"],
            "gap": (row["denominator"] or 0) - (row["numerator"] or 0)}[part] or 0


@dataclass(frozen=True)
class Paging:
    pages: int
    page_no: int    # clamped to the pages there are
    first: int      # offset of the page's first dossier


def paging(total: int, page_no: int, page_size: int = PAGE_SIZE) -> Paging:
    pages = max(1, -(-total // page_size))
    page_no = min(page_no, pages)
    return Paging(pages, page_no, (page_no - 1) * page_size)


def _flag(col: str) -> pl.Expr:
    c = pl.col(col)
    return pl.when(c).then(pl.lit("Có")).when(c.not_()).then(pl.lit("Không")).otherwise(pl.lit(""))


def on_screen(frame: pl.DataFrame, is_province: bool) -> pl.DataFrame:
    """The dossier list as shown: dd/mm/yyyy dates, Có/Không flags, procedure code and name
    in one column; the unit only at province level."""
    return frame.select(
        pl.col("dossier_id").alias("Mã hồ sơ"),
        *([pl.col("unit_name").alias("Đơn vị")] if is_province else []),
        pl.concat_str([pl.col("procedure_code"), pl.col("procedure_name")], separator=" ", ignore_nulls=True)
        .alias("Thủ tục"),
        pl.col("channel").replace_strict(CHANNEL_LABELS, default=None).alias("Kênh nộp"),
        pl.col("received_at").dt.strftime("%d/%m/%Y").alias("Tiếp nhận"),
        pl.col("due_date").dt.strftime("%d/%m/%Y").alias("Hạn trả"),
        pl.col("finished_at").dt.strftime("%d/%m/%Y").alias("Có kết quả"),
        pl.col("status").alias("Trạng thái"), pl.col("deadline").alias("Thời hạn"),
        *[_flag(c).alias(FLAGS[c]) for c in SCREEN_FLAGS],
    ).with_columns(pl.col(pl.String).fill_null(""))


def for_excel(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column, typed (dates with their time, Có/Không from the booleans)."""
    return frame.select(
        pl.col("dossier_id").alias("Mã hồ sơ"), pl.col("unit_code").alias("Mã đơn vị"),
        pl.col("unit_name").alias("Đơn vị"), pl.col("field").alias("Lĩnh vực"),
        pl.col("procedure_code").alias("Mã TTHC"), pl.col("procedure_name").alias("Tên TTHC"),
        pl.col("channel").replace_strict(CHANNEL_LABELS, default=None).alias("Kênh nộp"),
        pl.col("received_at").alias("Ngày tiếp nhận"), pl.col("due_date").alias("Ngày hẹn trả"),
        pl.col("finished_at").alias("Ngày có kết quả"), pl.col("status").alias("Trạng thái"),
        pl.col("deadline").alias("Thời hạn"),
        *[pl.col(c).alias(FLAG_HELP.get(label, label)) for c, label in FLAGS.items()],
    )
