"""Plan task lists (`STT, Nhiệm vụ, Trụ cột, Đơn vị chủ trì, Đơn vị phối hợp, Thời hạn,
Trạng thái, Tiến độ (%), Ghi chú`, and the usual variants of those headers) -> the store.

A task list belongs to one unit: the one given at upload (`unit`, a code or a name), else
the plan in reference/plans/plans.json whose task file has this file's name (the five
plans' lists load without arguments), else the unit named in the title. A unit's latest
list replaces its earlier one (kept for undo). Deadlines are kept as written; kpi/tasks.py
reads them (a deadline it cannot read is loaded and reported as a warning). A section
line ("I | THỂ CHẾ") is not a task; tasks under it without a pillar of their own get its.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from kpi.tasks import PILLARS, parse_deadline, pillar_label
from loaders import aggregate as agg
from loaders.files import ROW, LoadError, file_hash, read_table
from store.db import plans

TABLE = "plan_tasks"
KEYS = ("unit_code",)
SPEC = [
    ("stt", ("=stt", "=tt", "=sott", "sothutu"), ()),
    ("lead_unit", ("chutri",), ()),
    ("partners", ("phoihop",), ()),
    ("progress", ("tiendo", "phantram", "tylehoanthanh", "mucdohoanthanh"), ("thoihan",)),
    ("deadline", ("thoihan", "thoigianhoanthanh", "hanhoanthanh", "thoigianthuchien", "=thoigian", "=han",
                  "hanchot"), ()),
    ("status", ("trangthai", "tinhtrang"), ()),
    ("note", ("ghichu",), ()),
    ("pillar", ("trucot", "nhomnhiemvu", "=linhvuc", "=nhom", "nhomgiaiphap"), ()),
    ("task", ("nhiemvu", "noidung", "congviec", "giaiphap"), ()),
]
LABELS = {"task": "Nhiệm vụ", "progress": "Tiến độ (%)"}
TEXT = ("task_no", "task", "pillar", "lead_unit", "partners", "deadline", "status", "note")


def header_score(cells: list[str]) -> int:
    found = agg.match_columns([[c] if c else [] for c in cells], SPEC)
    if "task" not in found or not {"lead_unit", "deadline"} & found.keys():
        return 0
    return len(found)


def detect(path: Path) -> int:
    score = agg.best_row_score(path, header_score)
    return 10 + score if score >= 3 else 0


def plan_for_file(name: str) -> dict | None:
    """The plan whose task list is a file of this name."""
    return next((p for p in plans() if p.get("tasks_file") and Path(p["tasks_file"]).name == Path(name).name), None)


def load_tasks_file(con, path: str | Path, province: str | None = None, *, name: str | None = None,
                    unit: str | None = None, user: str | None = None):
    """Load one task list. Raises LoadError (database untouched) when rejected whole."""
    path = Path(path)
    name = name or path.name
    table = read_table(path, header_score, name=name, min_score=2)
    try:
        layout = agg.expand_headers(table, (), max_rows=0)
    finally:
        for temp in table.temp_files:
            temp.unlink(missing_ok=True)
    cols = agg.match_columns(layout.labels, SPEC)
    if "task" not in cols:
        raise LoadError(f"Tệp «{name}» thiếu cột bắt buộc: Nhiệm vụ.")
    plan = plan_for_file(name) or plan_for_file(path.name)
    if unit:
        code, owner = agg.resolve_unit_arg(con, unit, province, name)
        plan = plan if plan and plan.get("unit_code") == code else _only_plan_of(code)
    elif plan and plan.get("unit_code"):
        code, owner = agg.resolve_unit_arg(con, plan["unit_code"], None, name)
    else:
        code, owner = agg.unit_from_titles(con, table.title_lines, province)
        if code is None:
            raise LoadError(f"Tệp «{name}»: không biết danh sách nhiệm vụ này của đơn vị nào. "
                            "Hãy chọn đơn vị khi tải lên (--unit MÃ_ĐƠN_VỊ).")
        plan = _only_plan_of(code)
    frame = _rows(layout, cols)
    warnings = list(getattr(table, "warnings", [])) + _unread_deadlines(frame)
    rejected = agg.rejected_of(frame)
    staged = frame.filter(pl.col("_reason").is_null()).select(
        pl.lit(code).alias("unit_code"), pl.lit(owner).alias("province_code"),
        pl.lit(plan.get("slug") if plan else None, pl.String).alias("plan_slug"),
        *TEXT, "progress", pl.col(ROW).cast(pl.Int32).alias("source_row"))
    return agg.write_batch(con, kind="tasks", name=name, digest=file_hash(path), province=owner, user=user,
                           period=None, table=TABLE, staged=staged, rejected=rejected, keys=KEYS,
                           rows_read=frame.height, warnings=warnings)


def _only_plan_of(code: str) -> dict | None:
    found = [p for p in plans() if p.get("unit_code") == code]
    return found[0] if len(found) == 1 else None


def _rows(layout: agg.Layout, cols: dict[str, int]) -> pl.DataFrame:
    columns = layout.columns
    names = agg.display_names(layout.labels)

    def raw(field_name: str, alias: str) -> pl.Expr:
        j = cols.get(field_name)
        return (agg.clean_cell(columns[j]) if j is not None else pl.lit(None, pl.String)).alias(alias)

    frame = layout.data.select(
        pl.col(ROW), agg.raw_json(layout.data, columns, names).alias("_raw"), raw("stt", "task_no"),
        *[raw(f, f) for f in TEXT if f != "task_no"], raw("progress", "_progress"))
    others = pl.any_horizontal([pl.col(f).is_not_null()
                                for f in ("lead_unit", "partners", "deadline", "status", "note", "_progress")])
    # A section line ("I | THỂ CHẾ", nothing else) is not a task; its pillar goes to the tasks under it.
    section = pl.col("task_no").str.contains(r"^([IVXLC]+|[A-Z])\.?$").fill_null(False) & ~others
    frame = frame.with_columns(
        pl.when(section).then(pl.col("task")).otherwise(None).forward_fill().alias("_section"),
        section.alias("_is_section"))
    frame = frame.filter(~pl.col("_is_section") & (pl.col("task").is_not_null() | others))
    text = pl.col("_progress").str.replace(r"\s*%$", "").str.replace(",", ".", literal=True)
    progress = text.cast(pl.Float64, strict=False)
    sections = {v: label for v in frame["_section"].drop_nulls().unique().to_list()
                if (label := pillar_label(v)) in PILLARS.values()}
    frame = frame.with_columns(pl.coalesce(pl.col("pillar"), pl.col("_section").replace_strict(
        sections, default=None, return_dtype=pl.String)).alias("pillar"))
    pillars = {v: pillar_label(v) for v in frame["pillar"].drop_nulls().unique().to_list()}
    frame = frame.with_columns(progress.alias("progress"),
                               pl.col("pillar").replace_strict(pillars, default=None, return_dtype=pl.String))

    def label(field_name: str) -> str:
        return names[cols[field_name]] if field_name in cols else LABELS[field_name]

    checks = [(label("task"), pl.when(pl.col("task").is_null()).then(pl.lit("thiếu nội dung nhiệm vụ")))]
    if "progress" in cols:
        checks.append((label("progress"), pl.when(pl.col("_progress").is_not_null() & pl.col("progress").is_null())
                       .then(pl.format("tiến độ «{}» không phải số", pl.col("_progress")))
                       .when((pl.col("progress") < 0) | (pl.col("progress") > 100))
                       .then(pl.format("tiến độ «{}» ngoài khoảng 0–100%", pl.col("_progress")))))
    return agg.finish_reasons(frame.with_columns(agg.reasons(checks)))


def _unread_deadlines(frame: pl.DataFrame) -> list[str]:
    unread = [t for t in frame["deadline"].drop_nulls().unique(maintain_order=True).to_list()
              if parse_deadline(t).kind == "unknown"]
    if not unread:
        return []
    return [f"Không đọc được thời hạn: {', '.join(f'«{t}»' for t in unread[:10])}"
            + (f" và {len(unread) - 10} giá trị khác" if len(unread) > 10 else "")
            + " (nhiệm vụ vẫn được nạp, coi như chưa rõ thời hạn)."]

