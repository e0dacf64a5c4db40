"""A unit's service catalogue (its online public services) -> the store, as one transaction.

One row per procedure: code, name, field, level (toàn trình / một phần), and yes/no
columns: business-related, usable anywhere (not bound to the administrative boundary),
published on the National Public Service Portal, exempt from the dossiers-per-service
target, and optionally "provided online".

Decisions:
- The unit is a column of the file (a province-wide catalogue lists every commune's), else
  the one given at upload (`unit`), else the one named in the title; none -> rejected.
- A catalogue is a snapshot: a unit's latest upload replaces its earlier catalogue (kept
  for undo).
- A row is an online service when its level is toàn trình or một phần (old "mức độ 4" /
  "mức độ 3" too) and, where the file has a "provided online" column, that says yes. A
  row with level "Không", empty or "mức độ 2" is a procedure not offered online: it counts
  only in the business-related denominator.
- A yes/no column missing from the file is stored as NULL, so the KPIs built on it show
  "no data" rather than 0% (no exempt column = nothing exempt).
- A procedure listed twice for the same unit counts once (the later row).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from kpi.text import fold
from loaders import aggregate as agg
from loaders.files import ROW, LoadError, file_hash, read_table
from loaders.values import parse_yes_no

TABLE = "catalogue_services"
KEYS = ("unit_code",)

SPEC = [
    ("stt", ("=stt", "=tt", "=sott", "sothutu"), ()),
    ("unit_code", ("madonvi", "maxa", "madvhc", "maphuong", "macoquan"), ()),
    ("procedure_code", ("matthc", "mathutuc", "masothutuc", "madvc", "madichvu", "=ma", "=maso", "mathutuchanhchinh"),
     ()),
    ("level", ("mucdo", "capdo", "toantrinhmotphan", "loaidvc", "loaidichvu", "hinhthuccungcap", "=muc"), ()),
    ("business", ("doanhnghiep",), ()),
    ("location_free", ("diagioi", "khongphuthuoc", "batkydiadiem", "batkynoi"), ()),
    ("on_portal", ("congdvcqg", "congdichvucongquocgia", "congquocgia", "dvcqg", "congdvcquocgia"), ()),
    ("exempt", ("mienchitieu", "=mien", "khongapdungchitieu", "khongtinhchitieu", "tansuatthap", "mienapdung"), ()),
    ("online", ("cungcaptructuyen", "=tructuyen", "=dvctt", "=codvctt", "cotructuyen", "=dichvucongtructuyen"), ()),
    ("full_flag", ("=toantrinh", "=dvcttoantrinh", "=dvctttoantrinh", "=dichvucongtructuyentoantrinh"), ()),
    ("partial_flag", ("=motphan", "=dvcttmotphan", "=dvcttmotphan", "=dichvucongtructuyenmotphan"), ()),
    ("procedure_name", ("tentthc", "tenthutuc", "tendichvu", "tendvc", "thutuchanhchinh", "=thutuc", "=tthc",
                        "=dichvucong", "=ten"), ()),
    ("field", ("linhvuc",), ()),
    ("unit_name", ("donvi", "tenxa", "=xa", "=phuong", "diaphuong"), ("madonvi",)),
]
FLAGS = ("business", "location_free", "on_portal", "exempt")
LABELS = {
    "procedure_code": "Mã TTHC", "procedure_name": "Tên TTHC", "level": "Mức độ (toàn trình / một phần)",
    "business": "Liên quan doanh nghiệp", "location_free": "Không phụ thuộc địa giới hành chính",
    "on_portal": "Công khai trên Cổng DVCQG", "exempt": "Miễn chỉ tiêu hồ sơ/dịch vụ",
    "online": "Cung cấp trực tuyến", "full_flag": "Toàn trình", "partial_flag": "Một phần",
}
_SPECIFIC = {"level", "business", "location_free", "on_portal", "exempt", "online", "full_flag", "partial_flag"}
_DOSSIER_WORDS = ("mahoso", "sohoso", "ngaytiepnhan", "ngaynhan", "ngayhentra", "kenhnop")


def header_score(cells: list[str]) -> int:
    """Catalogue columns found in the row; 0 unless it has a procedure and a catalogue-only
    column, or when it looks like a dossier export."""
    found = agg.match_columns([[c] if c else [] for c in cells], SPEC)
    keys = [fold(c) for c in cells if c]
    if any(w in k for k in keys for w in _DOSSIER_WORDS):
        return 0
    if not ({"procedure_code", "procedure_name"} & found.keys()) or not (_SPECIFIC & found.keys()):
        return 0
    return len(found)


def detect(path: Path) -> int:
    score = agg.best_row_score(path, header_score)
    return 10 + score if score >= 3 else 0


def _level(raw: pl.Expr) -> pl.Expr:
    """full | partial | none (not online) | invalid."""
    f = agg.fold_expr(raw)
    return (
        pl.when(raw.is_null() | (f == "")).then(pl.lit("none"))
        .when(f.str.contains("toantrinh") | f.is_in(["4", "muc4", "mucdo4"])).then(pl.lit("full"))
        .when(f.str.contains("motphan") | f.is_in(["3", "muc3", "mucdo3"])).then(pl.lit("partial"))
        .when(f.is_in(["khong", "chua", "khongcungcap", "chuacungcap", "0", "1", "2", "muc1", "muc2", "mucdo1",
                       "mucdo2", "thongtin", "cungcapthongtin", "khongco"]))
        .then(pl.lit("none"))
        .otherwise(pl.lit("invalid"))
    )


def load_catalogue_file(con, path: str | Path, province: str | None = None, *, name: str | None = None,
                        unit: str | None = None, user: str | None = None):
    """Load one catalogue. Raises LoadError (database untouched) when rejected whole."""
    path = Path(path)
    name = name or path.name
    table = read_table(path, header_score, name=name, min_score=2)
    try:
        layout = agg.expand_headers(table, ("toantrinh", "motphan", "mucdo"))
    finally:
        for temp in table.temp_files:
            temp.unlink(missing_ok=True)
    cols = agg.match_columns(layout.labels, SPEC)
    missing = []
    if not {"procedure_code", "procedure_name"} & cols.keys():
        missing.append("Mã TTHC hoặc Tên TTHC")
    if not {"level", "full_flag", "partial_flag"} & cols.keys():
        missing.append("Mức độ (toàn trình / một phần)")
    if missing:
        raise LoadError(f"Tệp «{name}» thiếu cột bắt buộc của danh mục dịch vụ công: {', '.join(missing)}.")
    names = agg.display_names(layout.labels)
    fixed = None
    if not {"unit_code", "unit_name"} & cols.keys():
        fixed = agg.resolve_unit_arg(con, unit, province, name) if unit else None
        if fixed is None:
            code, owner = agg.unit_from_titles(con, table.title_lines, province)
            if code is None:
                raise LoadError(f"Tệp «{name}»: danh mục không có cột đơn vị và tiêu đề không ghi rõ đơn vị. "
                                "Hãy chọn đơn vị khi tải lên (--unit MÃ_ĐƠN_VỊ).")
            fixed = (code, owner)
    frame = _rows(con, layout, cols, names, fixed, province, name)
    rows_read = frame.height
    rejected = agg.rejected_of(frame)
    good = frame.filter(pl.col("_reason").is_null())
    deduped = good.unique(subset=["unit_code", "_key"], keep="last", maintain_order=True)
    staged = deduped.select("unit_code", "province_code", "procedure_code", "procedure_name", "field", "level",
                            "online", *FLAGS, pl.col(ROW).cast(pl.Int32).alias("source_row"))
    return agg.write_batch(con, kind="catalogue", name=name, digest=file_hash(path),
                           province=province or (fixed[1] if fixed else None), user=user, period=None, table=TABLE,
                           staged=staged, rejected=rejected, keys=KEYS, rows_read=rows_read,
                           duplicates=good.height - deduped.height, warnings=getattr(table, "warnings", []))


def _rows(con, layout: agg.Layout, cols: dict[str, int], names: list[str], fixed, province, name) -> pl.DataFrame:
    columns = layout.columns

    def raw(field_name: str) -> pl.Expr:
        j = cols.get(field_name)
        return (agg.clean_cell(columns[j]) if j is not None else pl.lit(None, pl.String)).alias(f"_{field_name}")

    fields = ("unit_code", "unit_name", "procedure_code", "procedure_name", "field", "level", "online", "full_flag",
              "partial_flag", *FLAGS)
    frame = layout.data.select(pl.col(ROW), agg.raw_json(layout.data, columns, names).alias("_raw"),
                               *[raw(f) for f in fields])
    attributes = [pl.col(f"_{f}") for f in ("level", "online", "full_flag", "partial_flag", *FLAGS)]
    # Blank lines and section lines ("I. LĨNH VỰC HỘ TỊCH": no code, no attributes) are not procedures.
    listed = pl.col("_procedure_code").is_not_null() | pl.any_horizontal([a.is_not_null() for a in attributes])
    frame = frame.filter(listed.fill_null(False))

    def label(field_name: str) -> str:
        return names[cols[field_name]] if field_name in cols else LABELS[field_name]

    if "level" in cols:
        level = _level(pl.col("_level"))
    else:
        full = parse_yes_no(pl.col("_full_flag")) if "full_flag" in cols else pl.lit(False)
        partial = parse_yes_no(pl.col("_partial_flag")) if "partial_flag" in cols else pl.lit(False)
        level = pl.when(full).then(pl.lit("full")).when(partial).then(pl.lit("partial")).otherwise(pl.lit("none"))
    typed = [level.alias("_level_kind"),
             pl.col("_procedure_code").alias("procedure_code"), pl.col("_procedure_name").alias("procedure_name"),
             pl.col("_field").alias("field")]
    typed += [(parse_yes_no(pl.col(f"_{f}")) if f in cols else pl.lit(None, pl.Boolean)).alias(f)
              for f in (*FLAGS, "online", "full_flag", "partial_flag")]
    frame = frame.with_columns(typed)
    offered = pl.col("_level_kind").is_in(["full", "partial"])
    frame = frame.with_columns(
        pl.when(offered).then(pl.col("_level_kind")).otherwise(None).alias("level"),
        (offered & pl.col("online").fill_null(True)).alias("online"),
        pl.coalesce(pl.col("procedure_code"), agg.fold_expr(pl.col("procedure_name"))).alias("_key"),
    )
    frame, unit_label = agg.assign_units(con, frame, fixed, cols, label, province, name)
    checks = [
        (unit_label, pl.when(pl.col("unit_code").is_null()).then(pl.col("_unit_reason"))),
        (label("procedure_code") if "procedure_code" in cols else label("procedure_name"),
         pl.when(pl.col("_key").is_null() | (pl.col("_key") == "")).then(pl.lit("thiếu mã và tên thủ tục"))),
    ]
    if "level" in cols:
        checks.append((label("level"), pl.when(pl.col("_level_kind") == "invalid").then(
            pl.format("mức độ «{}» không nhận ra (Toàn trình / Một phần / Không)", pl.col("_level")))))
    for f in (*FLAGS, "online", "full_flag", "partial_flag"):
        if f in cols:
            checks.append((label(f), pl.when(pl.col(f"_{f}").is_not_null() & pl.col(f).is_null())
                           .then(pl.format("giá trị «{}» không phải Có/Không", pl.col(f"_{f}")))))
    if "online" in cols:
        checks.append((label("online"), pl.when(pl.col("_online").is_not_null()
                                                 & parse_yes_no(pl.col("_online")).fill_null(False)
                                                 & (pl.col("_level_kind") == "none"))
                       .then(pl.lit("cung cấp trực tuyến nhưng không ghi mức độ toàn trình hay một phần"))))
    return agg.finish_reasons(frame.with_columns(agg.reasons(checks)))

