"""Archive and document statistics per unit and month -> the store, as one transaction.

Columns: unit, month, high-value archive items total and digitised (cumulative at the end
of the month), work documents total and processed electronically (in the month). The
archive pair and the document pair are each optional per row (a unit may report one of
them), but each pair is given whole.

Decisions:
- The unit is a column, else the one given at upload (`unit`), else the title's.
- The month is a column ("10/2025", "Tháng 10/2025", "2025-10", a date), else the period
  chosen at upload or stated in the title, which must then be one month.
- A unit's figures for a month replace those of an earlier upload for the same unit and
  month (kept for undo). Parts larger than their total are rejected.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from loaders import aggregate as agg
from loaders.files import ROW, LoadError, file_hash, read_table

TABLE = "archive_stats"
KEYS = ("unit_code", "month")
PAIRS = (("archive_total", "archive_digitised"), ("documents_total", "documents_electronic"))
FIGURES = tuple(f for pair in PAIRS for f in pair)
LABELS = {
    "archive_total": "Tài liệu lưu trữ giá trị cao – Tổng số",
    "archive_digitised": "Tài liệu lưu trữ giá trị cao – Đã số hóa",
    "documents_total": "Văn bản – Tổng số",
    "documents_electronic": "Văn bản – Xử lý trên môi trường điện tử",
}
SPEC = [
    ("stt", ("=stt", "=tt", "=sott", "sothutu"), ()),
    ("unit_code", ("madonvi", "maxa", "madvhc", "macoquan"), ()),
    ("month", ("=thang", "=ky", "kybaocao", "thoigian", "=thangnam", "=namthang", "thangbaocao", "=kythang"), ()),
    ("archive_digitised", ("sohoa",), ("vanban",)),
    ("archive_total", ("luutru", "giatricao"), ()),
    ("documents_electronic", ("vanban&dientu", "vanban&xuly", "moitruongdientu", "=xulydientu", "=dientu"), ()),
    ("documents_total", ("vanban",), ()),
    ("unit_name", ("donvi", "coquan", "tenxa", "=xa", "=phuong", "diaphuong"), ("madonvi",)),
]


def header_score(cells: list[str]) -> int:
    found = agg.match_columns([[c] if c else [] for c in cells], SPEC)
    figures = len(set(FIGURES) & found.keys())
    return len(found) if figures >= 2 else 0


def detect(path: Path) -> int:
    score = agg.best_row_score(path, header_score)
    return 10 + score if score >= 2 else 0


def load_archive_file(con, path: str | Path, province: str | None = None, *, name: str | None = None,
                      period: str | None = None, unit: str | None = None, user: str | None = None):
    """Load one statistics file. Raises LoadError (database untouched) when rejected whole."""
    path = Path(path)
    name = name or path.name
    table = read_table(path, _top_score, name=name, min_score=1)
    try:
        layout = agg.expand_headers(table, ("tongso", "sohoa", "dientu", "xuly", "tong"))
    finally:
        for temp in table.temp_files:
            temp.unlink(missing_ok=True)
    cols = agg.match_columns(layout.labels, SPEC)
    for pair in PAIRS:
        found = [f for f in pair if f in cols]
        if len(found) == 1:
            other = next(f for f in pair if f not in cols)
            raise LoadError(f"Tệp «{name}» có cột «{agg.display_names(layout.labels)[cols[found[0]]]}» nhưng thiếu "
                            f"cột đi cùng: «{LABELS[other]}».")
    pairs = [p for p in PAIRS if set(p) <= cols.keys()]
    if not pairs:
        raise LoadError(f"Tệp «{name}» thiếu cột số liệu: cần cặp cột «{LABELS['archive_total']}» và "
                        f"«{LABELS['archive_digitised']}», hoặc «{LABELS['documents_total']}» và "
                        f"«{LABELS['documents_electronic']}».")
    warnings: list[str] = list(getattr(table, "warnings", []))
    fixed_month = None
    if "month" not in cols:
        fixed_month = agg.chosen_period(period, table.title_lines, name, warnings)
        if fixed_month is None or fixed_month.kind != "month":
            raise LoadError(f"Tệp «{name}» không có cột tháng và không xác định được tháng báo cáo. "
                            "Hãy chọn tháng khi tải lên (vd. --period 2025-10).")
    fixed = None
    if not {"unit_code", "unit_name"} & cols.keys():
        fixed = agg.resolve_unit_arg(con, unit, province, name) if unit else agg.unit_from_titles(
            con, table.title_lines, province)
        if fixed[0] is None:
            raise LoadError(f"Tệp «{name}» không có cột đơn vị và tiêu đề không ghi rõ đơn vị. "
                            "Hãy chọn đơn vị khi tải lên (--unit MÃ_ĐƠN_VỊ).")
    frame = _rows(con, layout, cols, pairs, fixed, fixed_month, province, name)
    rejected = agg.rejected_of(frame)
    staged = frame.filter(pl.col("_reason").is_null()).select(
        "unit_code", "province_code", "month", *FIGURES, pl.col(ROW).cast(pl.Int32).alias("source_row"))
    return agg.write_batch(con, kind="archive", name=name, digest=file_hash(path),
                           province=province or (fixed[1] if fixed else None), user=user,
                           period=fixed_month.label if fixed_month else None, table=TABLE, staged=staged,
                           rejected=rejected, keys=KEYS, rows_read=frame.height, warnings=warnings)


def _top_score(cells: list[str]) -> int:
    """The top header row: figure columns (maybe only group labels "Tài liệu lưu trữ", "Văn
    bản", with the pairs in the row under them)."""
    found = agg.match_columns([[c] if c else [] for c in cells], SPEC)
    return len(found) if set(FIGURES) & found.keys() else 0


def _rows(con, layout: agg.Layout, cols, pairs, fixed, fixed_month, province, name) -> pl.DataFrame:
    columns = layout.columns
    names = agg.display_names(layout.labels)

    def raw(field_name: str) -> pl.Expr:
        j = cols.get(field_name)
        return (agg.clean_cell(columns[j]) if j is not None else pl.lit(None, pl.String)).alias(f"_{field_name}")

    def label(field_name: str) -> str:
        return names[cols[field_name]] if field_name in cols else LABELS.get(field_name, field_name)

    frame = layout.data.select(pl.col(ROW), agg.raw_json(layout.data, columns, names).alias("_raw"),
                               *[raw(f) for f in ("unit_code", "unit_name", "month", *FIGURES)])
    frame = frame.filter(pl.any_horizontal([pl.col(f"_{f}").is_not_null() for f in FIGURES]).fill_null(False))
    frame = frame.with_columns([agg.whole_number(f"_{f}", empty_as_zero=False).alias(f) for f in FIGURES])
    if fixed_month:
        frame = frame.with_columns(pl.lit(fixed_month.start).alias("month"))
    else:
        months = {v: (p.start if (p := agg.month_in_cell(v)) else None)
                  for v in frame["_month"].drop_nulls().unique().to_list()}
        frame = frame.with_columns(pl.col("_month").replace_strict(months, default=None, return_dtype=pl.Date)
                                   .alias("month"))
    frame, unit_label = agg.assign_units(con, frame, fixed, cols, label, province, name)
    checks = [(unit_label, pl.when(pl.col("unit_code").is_null()).then(pl.col("_unit_reason")))]
    if not fixed_month:
        checks.append((label("month"), pl.when(pl.col("_month").is_null()).then(pl.lit("thiếu tháng báo cáo"))
                       .when(pl.col("month").is_null())
                       .then(pl.format("tháng «{}» không hợp lệ (dùng dạng 10/2025)", pl.col("_month")))))
    checks += [(label(f), agg.number_error(f"_{f}", pl.col(f))) for f in FIGURES]
    for total, part in PAIRS:
        if (total, part) not in pairs:
            continue
        checks.append((label(part), pl.when(pl.col(f"_{total}").is_null() & pl.col(f"_{part}").is_not_null())
                       .then(pl.lit("có số thành phần nhưng thiếu tổng số"))
                       .when(pl.col(f"_{total}").is_not_null() & pl.col(f"_{part}").is_null())
                       .then(pl.lit("có tổng số nhưng thiếu số thành phần"))
                       .when(pl.col(part) > pl.col(total))
                       .then(pl.format("{} lớn hơn tổng số {}", pl.col(part), pl.col(total)))))
    frame = agg.finish_reasons(frame.with_columns(agg.reasons(checks)))
    frame = frame.with_columns(pl.concat_str([pl.col("unit_code"), pl.col("month").cast(pl.String)],
                                             separator="|").alias("_unit_month"))
    return agg.reject_repeats(frame, "_unit_month", unit_label)

