"""Aggregate reports in the standard TTHC-results template (Thông tư 01/2020/TT-VPCP, biểu
06a by unit / 07a by field) -> the store, as one transaction.

Layout: title lines, then two (or three) header rows where the groups "Số hồ sơ nhận giải
quyết", "Số hồ sơ đã giải quyết", "Số hồ sơ đang giải quyết" span their sub-columns,
maybe a row of column numbers, one row per unit (06a) or per field (07a), a "Tổng cộng"
row (checked against the sum, then ignored) and signatures (ignored: nothing after the
last row with a figure is read).

Decisions:
- 06a rows name units, resolved within the province (ambiguous or unknown -> rejected).
  07a rows name fields; the unit is the one given at upload (`unit`), else the one named
  in the title ("UBND XÃ NGHĨA THỌ"), else the file is rejected asking for it.
- The period is the one chosen at upload, else the title's; none -> file rejected.
- An empty figure cell (or "-") is 0, as these reports leave zeros blank; a row whose
  figures are all empty is a section or spacer line and is skipped.
- Figures are whole non-negative numbers and satisfy the template's identities, else the
  row is rejected with the reason.
- A unit's figures for a period replace the ones of an earlier upload for the same unit
  and period (06a or 07a alike); the earlier stay in the table for undo.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from kpi.text import fold
from loaders import aggregate as agg
from loaders.files import ROW, LoadError, file_hash, read_table

TABLE = "template_rows"
KEYS = ("unit_code", "period_start", "period_end")

# (group, sub-column) -> stored column, with the Vietnamese labels used in messages.
FIGURES = {
    "received_total": ("Số hồ sơ nhận giải quyết", "Tổng số"),
    "received_online": ("Số hồ sơ nhận giải quyết", "Trực tuyến"),
    "received_direct": ("Số hồ sơ nhận giải quyết", "Trực tiếp và dịch vụ bưu chính"),
    "received_carried": ("Số hồ sơ nhận giải quyết", "Từ kỳ trước"),
    "finished_total": ("Số hồ sơ đã giải quyết", "Tổng số"),
    "finished_early": ("Số hồ sơ đã giải quyết", "Trước hạn"),
    "finished_on_time": ("Số hồ sơ đã giải quyết", "Đúng hạn"),
    "finished_late": ("Số hồ sơ đã giải quyết", "Quá hạn"),
    "open_total": ("Số hồ sơ đang giải quyết", "Tổng số"),
    "open_within": ("Số hồ sơ đang giải quyết", "Trong hạn"),
    "open_overdue": ("Số hồ sơ đang giải quyết", "Quá hạn"),
}
IDENTITIES = (
    ("received_total", ("received_online", "received_direct", "received_carried")),
    ("finished_total", ("finished_early", "finished_on_time", "finished_late")),
    ("open_total", ("open_within", "open_overdue")),
)

# Group labels (folded), checked in this order ("đang" before "đã", both contain "giải quyết").
_GROUPS = (
    ("open", ("danggiaiquyet", "dangxuly", "chuagiaiquyet", "tondong")),
    ("finished", ("dagiaiquyet", "daxuly", "giaiquyetxong", "dacoketqua")),
    ("received", ("nhangiaiquyet", "tiepnhan", "hosonhan", "nhanmoi", "danhan")),
)
# Sub-column words per group, in order: the first that fits the labels under the group wins.
_SUBS = {
    "received": (("received_carried", ("kytruoc", "truocchuyen", "tonky")),
                 ("received_online", ("tructuyen", "online", "dvctt")),
                 ("received_direct", ("tructiep", "buuchinh", "bcci", "buudien")),
                 ("received_total", ("tongso", "tong", "=cong"))),
    "finished": (("finished_early", ("truochan", "truocthoihan", "somhan")),
                 ("finished_late", ("quahan", "quathoihan", "trehan")),
                 ("finished_on_time", ("dunghan", "dungthoihan")),
                 ("finished_total", ("tongso", "tong", "=cong"))),
    "open": (("open_overdue", ("quahan", "quathoihan")),
             ("open_within", ("tronghan", "chuadenhan", "trongthoihan", "chuaquahan")),
             ("open_total", ("tongso", "tong", "=cong"))),
}
SUB_WORDS = ("tongso", "tructuyen", "tructiep", "buuchinh", "kytruoc", "truochan", "dunghan", "quahan",
             "tronghan", "chuadenhan", "trongdo", "somoi", "thoihan", "tong")
_TOTAL_ROW = ("tongcong", "tong", "cong", "tongso", "toantinh", "toanxa", "toanthanhpho", "toanphuong",
              "tongcongchung")


def _group(label: str) -> str | None:
    key = fold(label)
    for group, words in _GROUPS:
        if any(w in key for w in words):
            return group
    return None


def header_score(cells: list[str]) -> int:
    """3 per distinct group label in the row, 1 more for a unit/field column."""
    groups = {g for c in cells if c and (g := _group(c))}
    named = any(k in fold(c) for c in cells if c for k in ("donvi", "linhvuc", "coquan"))
    return 3 * len(groups) + (1 if named and groups else 0)


def detect(path: Path) -> int:
    score = agg.best_row_score(path, header_score)
    return 20 + score if score >= 6 else 0


def identify(labels: list[list[str]]) -> tuple[dict[str, int], int | None, int | None, int | None, str]:
    """(figure -> column, name column, code column, STT column, "unit" | "field")."""
    figures: dict[str, int] = {}
    name_col = code_col = stt_col = None
    mode = "unit"
    for j, chain in enumerate(labels):
        group_at = next((i for i, label in enumerate(chain) if _group(label)), None)
        if group_at is None:
            key = fold(" ".join(chain))
            if not key:
                continue
            if stt_col is None and (key in ("stt", "tt", "sott", "sothutu") or key.startswith("stt")):
                stt_col = j
            elif code_col is None and any(w in key for w in ("madonvi", "maxa", "madvhc", "macoquan")):
                code_col = j
            elif name_col is None and any(w in key for w in ("linhvuc", "donvi", "coquan", "tenxa", "diaphuong",
                                                             "noidung")):
                name_col = j
                mode = "field" if "linhvuc" in key else "unit"
            continue
        below = chain[group_at + 1:]
        figure = _sub_figure(_group(chain[group_at]), below or chain[group_at:])
        if figure and figure not in figures:
            figures[figure] = j
    if name_col is None:
        # The text column between STT and the first figure.
        first = min(figures.values(), default=0)
        candidates = [j for j in range(first) if j not in (stt_col, code_col)]
        name_col = candidates[-1] if candidates else None
    return figures, name_col, code_col, stt_col, mode


def _sub_figure(group: str, below: list[str]) -> str | None:
    """The figure a column under `group` holds: its innermost label decides ("Trả đúng thời
    hạn / Trước hạn" is Trước hạn), else all its labels under the group together."""
    for text in (fold(below[-1]), fold(" ".join(below))):
        for figure, words in _SUBS[group]:
            if any(agg.fits(w, text) for w in words):
                return figure
    return None


def load_template_file(con, path: str | Path, province: str | None = None, *, name: str | None = None,
                       period: str | None = None, unit: str | None = None, user: str | None = None,
                       today: date | None = None):
    """Load one 06a/07a report. Raises LoadError (database untouched) when rejected whole."""
    path = Path(path)
    name = name or path.name
    table = read_table(path, header_score, name=name, min_score=6)
    try:
        layout = agg.expand_headers(table, SUB_WORDS)
    finally:
        for temp in table.temp_files:
            temp.unlink(missing_ok=True)
    figures, name_col, code_col, stt_col, mode = identify(layout.labels)
    missing = [f"{g} – {s}" for f, (g, s) in FIGURES.items() if f not in figures]
    if name_col is None and code_col is None:
        missing.insert(0, "Đơn vị hoặc Lĩnh vực")
    if missing:
        raise LoadError(f"Tệp «{name}» thiếu cột bắt buộc của biểu mẫu: {', '.join(missing)}.")
    warnings: list[str] = list(getattr(table, "warnings", []))
    chosen = agg.chosen_period(period, table.title_lines, name, warnings)
    if chosen is None:
        raise LoadError(f"Tệp «{name}»: không xác định được kỳ báo cáo (tiêu đề không ghi). "
                        "Hãy chọn kỳ báo cáo khi tải lên (vd. --period 2025-10).")
    if province is None:
        _unit, province = agg.unit_from_titles(con, table.title_lines, None)
    fixed_unit = None
    if mode == "field":
        fixed_unit = _field_report_unit(con, table.title_lines, unit, province, name)
        province = fixed_unit[1]
    frame = _rows(con, layout, figures, name_col, code_col, stt_col, mode, fixed_unit, province, name, warnings)
    rows_read = frame.height
    rejected = agg.rejected_of(frame)
    good = frame.filter(pl.col("_reason").is_null())
    field = pl.col("_name") if mode == "field" else pl.lit(None, pl.String)
    staged = good.select(
        "unit_code", "province_code", field.alias("field"),
        pl.lit(chosen.label).alias("period_label"), pl.lit(chosen.start).alias("period_start"),
        pl.lit(chosen.end).alias("period_end"), *FIGURES, pl.col(ROW).cast(pl.Int32).alias("source_row"))
    result = agg.write_batch(con, kind="template", name=name, digest=file_hash(path), province=province, user=user,
                             period=chosen.label, table=TABLE, staged=staged, rejected=rejected, keys=KEYS,
                             rows_read=rows_read, warnings=warnings)
    return result


def _field_report_unit(con, titles, unit, province, name) -> tuple[str, str]:
    if unit:
        return agg.resolve_unit_arg(con, unit, province, name)
    code, owner = agg.unit_from_titles(con, titles, province)
    if code is None:
        raise LoadError(f"Tệp «{name}» là biểu theo lĩnh vực (07a) nhưng tiêu đề không ghi rõ đơn vị báo cáo. "
                        "Hãy chọn đơn vị khi tải lên (--unit MÃ_ĐƠN_VỊ).")
    return code, owner


def _rows(con, layout: agg.Layout, figures, name_col, code_col, stt_col, mode, fixed_unit, province, name,
          warnings) -> pl.DataFrame:
    """The table's data rows, typed and checked (`_reason` null when valid); the total row is
    checked against the sum of the rows and left out."""
    cols = layout.columns
    names = agg.display_names(layout.labels)
    label = {f: names[j] for f, j in figures.items()}
    frame = layout.data.select(
        pl.col(ROW),
        agg.raw_json(layout.data, cols, names).alias("_raw"),
        (agg.clean_cell(cols[name_col]) if name_col is not None else pl.lit(None, pl.String)).alias("_name"),
        (agg.clean_cell(cols[code_col]) if code_col is not None else pl.lit(None, pl.String)).alias("_code"),
        (agg.clean_cell(cols[stt_col]) if stt_col is not None else pl.lit(None, pl.String)).alias("_stt"),
        *[agg.clean_cell(cols[j]).alias(f"_{f}_raw") for f, j in figures.items()],
    )
    frame = frame.with_columns([agg.whole_number(f"_{f}_raw", empty_as_zero=True).alias(f) for f in figures])
    any_figure = pl.any_horizontal([pl.col(f"_{f}_raw").is_not_null() for f in figures])
    numeric = pl.any_horizontal([pl.col(f"_{f}_raw").str.contains(r"^\s*\d") for f in figures]).fill_null(False)
    last = frame.filter(numeric)[ROW].max()
    if last is None:
        raise LoadError(f"Tệp «{name}»: biểu mẫu không có dòng số liệu nào.")
    frame = frame.filter((pl.col(ROW) <= last) & any_figure)
    label_key = agg.fold_expr(pl.coalesce(pl.col("_name"), pl.col("_stt")))
    stt_key = agg.fold_expr(pl.col("_stt"))
    is_total = label_key.is_in(_TOTAL_ROW) | label_key.str.starts_with("tongcong") | stt_key.is_in(_TOTAL_ROW)
    frame = frame.with_columns(is_total.fill_null(False).alias("_total"))
    totals = frame.filter(pl.col("_total"))
    frame = frame.filter(~pl.col("_total"))

    checks = [(label[f], agg.number_error(f"_{f}_raw", pl.col(f))) for f in figures]
    for total, parts in IDENTITIES:
        expected = pl.sum_horizontal([pl.col(p) for p in parts])
        detail = pl.format(
            "{} ≠ " + " + ".join(f"{FIGURES[p][1]} {{}}" for p in parts) + " (= {})",
            pl.col(total), *[pl.col(p) for p in parts], expected)
        checks.append((label[total], pl.when(pl.col(total) != expected).then(pl.format("Tổng số {}", detail))))
    if mode == "unit":
        frame = agg.resolve_names(con, frame, "_code" if code_col is not None else None, "_name", province, name)
        unit_label = names[name_col] if name_col is not None else names[code_col]
        checks.insert(0, (unit_label, pl.when(pl.col("unit_code").is_null()).then(pl.col("_unit_reason"))))
        key = "unit_code"
    else:
        frame = frame.with_columns(pl.lit(fixed_unit[0]).alias("unit_code"), pl.lit(fixed_unit[1]).alias("province_code"))
        checks.insert(0, (names[name_col], pl.when(pl.col("_name").is_null()).then(pl.lit("thiếu tên lĩnh vực"))))
        key = "_name"
    frame = agg.finish_reasons(frame.with_columns(agg.reasons(checks)))
    frame = agg.reject_repeats(frame, key, names[name_col] if name_col is not None else "Đơn vị")
    _check_total(frame, totals, figures, warnings)
    return frame


def _check_total(frame: pl.DataFrame, totals: pl.DataFrame, figures, warnings: list[str]) -> None:
    """Warn when the "Tổng cộng" row disagrees with the sum of the rows above it."""
    if totals.height == 0:
        return
    readable = frame.filter(pl.all_horizontal([pl.col(f).is_not_null() for f in figures]))
    sums = readable.select([pl.col(f).sum() for f in figures]).row(0, named=True)
    total = totals.row(0, named=True)
    diffs = [f"{FIGURES[f][0].removeprefix('Số hồ sơ ')} – {FIGURES[f][1]}: dòng tổng {total[f]}, cộng các dòng {sums[f]}"
             for f in figures if total[f] is not None and total[f] != sums[f]]
    if diffs:
        warnings.append(f"Dòng «Tổng cộng» (dòng {total[ROW]}) không khớp với tổng các dòng: " + "; ".join(diffs) + ".")

