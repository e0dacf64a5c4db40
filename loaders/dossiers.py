"""Dossier exports (one row per dossier) -> the store, as one transaction.

Parse, map and validate are polars expressions over the whole file; only distinct unit
names are resolved in Python. A dossier exported again replaces its earlier version
(kept in dossier_history so the upload can be undone); an identical row repeated in one
file counts once; a bad row is rejected with its reason and kept in rejected_rows.

Rows rejected (row, column, reason), besides unreadable or missing required cells:
- a date before 2000, a received or finished date after today, a finished date before the
  received date;
- a due date before the received date, or more than DUE_MAX_YEARS (5) years after it
  (31/12/9999 and the like: a placeholder, not a deadline);
- a CSV row with more fields than the header whose first extra field has text («số cột
  nhiều hơn dòng tiêu đề»); an empty extra field (a trailing separator) is ignored;
- on the lossy read of a CSV with bytes that are not UTF-8 past its start, a row where a
  mapped cell holds such bytes (shown as U+FFFD): rejected rather than stored garbled, and
  the load's warnings list those rows.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from kpi.format import number
from kpi.text import fold
from loaders import batches
from loaders.files import (
    EXTRA,
    ROW,
    LoadError,
    NotUtf8,
    RawTable,
    disk_full_said,
    file_hash,
    is_not_utf8,
    read_table,
    unreadable,
)
from loaders.units import UnitResolver
from loaders.values import (
    clean_key,
    datetime_plan,
    fast_datetime,
    finish_datetime,
    lookup,
    null_empty,
    parse_channel,
    parse_yes_no,
    stripped,
    without_invisible,
)
from store import sqlquote
from store.db import query_pl, write_transaction

# canonical field -> (Vietnamese label, header names seen in exports)
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "dossier_id": ("Mã hồ sơ", ("Mã hồ sơ", "Số hồ sơ", "Mã HS", "Ma ho so")),
    "unit_code": ("Mã đơn vị", ("Mã đơn vị", "Mã xã", "Mã ĐVHC", "Mã đơn vị tiếp nhận")),
    "unit_name": ("Đơn vị", ("Đơn vị tiếp nhận", "Đơn vị", "Tên đơn vị", "Tên xã", "Cơ quan tiếp nhận")),
    "procedure_code": ("Mã TTHC", ("Mã TTHC", "Mã thủ tục", "Mã thủ tục hành chính")),
    "procedure_name": ("Tên TTHC", ("Tên TTHC", "Tên thủ tục", "Tên thủ tục hành chính", "Thủ tục")),
    "field": ("Lĩnh vực", ("Lĩnh vực", "Tên lĩnh vực")),
    "channel": ("Kênh nộp", ("Kênh nộp", "Hình thức nộp", "Kênh thực hiện", "Hình thức tiếp nhận")),
    "received_at": ("Ngày tiếp nhận", ("Ngày tiếp nhận", "Ngày nhận", "Thời gian tiếp nhận", "Ngày nộp")),
    "due_at": ("Ngày hẹn trả", ("Ngày hẹn trả", "Hạn xử lý", "Hạn giải quyết", "Ngày hẹn trả kết quả")),
    "finished_at": ("Ngày có kết quả", ("Ngày có kết quả", "Ngày kết thúc xử lý", "Ngày trả kết quả", "Ngày hoàn thành")),
    "status": ("Trạng thái", ("Trạng thái", "Tình trạng", "Trạng thái hồ sơ")),
    "fully_online": ("Toàn trình", ("Toàn trình", "Xử lý toàn trình", "Hoàn toàn trực tuyến", "Xử lý hoàn toàn trực tuyến")),
    "digitised": ("Số hóa", ("Số hóa", "Đã số hóa", "Số hóa hồ sơ")),
    "e_result": ("Kết quả điện tử", ("Kết quả điện tử", "Có kết quả điện tử", "Trả kết quả điện tử")),
    "data_reused": ("Tái sử dụng dữ liệu", ("Tái sử dụng dữ liệu", "Tái sử dụng")),
    "paid_online": ("Thanh toán trực tuyến", ("Thanh toán trực tuyến", "Thanh toán điện tử")),
}
YES_NO = ("fully_online", "digitised", "e_result", "data_reused", "paid_online")
DATES = ("received_at", "due_at", "finished_at")
KEYS = ("dossier_id", "unit_code", "unit_name", "procedure_code")  # invisible characters dropped
LOOKED_UP = ("channel", *YES_NO)  # parsed once per distinct text
EARLIEST = datetime(2000, 1, 1)
DUE_MAX_YEARS = 5  # a due date further than this after the received date is a placeholder, rejected
BAD_BYTES = "có byte không phải mã UTF-8"  # in the reason of a row rejected on the lossy read

_SYNONYMS = {fold(h): f for f, (_label, headers) in FIELDS.items() for h in headers}


def match_headers(headers: list[str], manual: dict[str, str] | None = None) -> dict[str, str]:
    """field -> header. Exact folded match first, then a header that starts with a known
    name (e.g. "Ngày hẹn trả kết quả (dự kiến)"); a hand-made mapping wins over both."""
    mapping: dict[str, str] = {}
    manual = manual or {}
    for header, field_name in manual.items():
        if field_name in FIELDS and header in headers:
            mapping[field_name] = header
    taken = set(mapping.values())
    for header in headers:
        field_name = _SYNONYMS.get(fold(header))
        if field_name and field_name not in mapping and header not in taken:
            mapping[field_name] = header
            taken.add(header)
    for header in headers:
        if header in taken:
            continue
        key = fold(header)
        candidates = {f for syn, f in _SYNONYMS.items() if len(syn) >= 4 and key.startswith(syn) and f not in mapping}
        if len(candidates) == 1:
            field_name = candidates.pop()
            mapping[field_name] = header
            taken.add(header)
    return mapping


def header_score(cells: list[str]) -> int:
    return len(match_headers([c for c in cells if c]))


def _listed(headers: list[str], limit: int = 30) -> str:
    shown = [h if len(h) <= 60 else h[:60] + "…" for h in headers[:limit]]
    return ", ".join(shown) + (f"… (tổng {len(headers)} cột)" if len(headers) > limit else "")


def missing_required(mapping: dict[str, str]) -> list[str]:
    missing = [FIELDS[f][0] for f in ("dossier_id", "received_at") if f not in mapping]
    if "unit_code" not in mapping and "unit_name" not in mapping:
        missing.append("Mã đơn vị hoặc Đơn vị")
    return missing


@dataclass
class LoadResult:
    file: str
    kind: str
    batch_id: int | None
    rows_read: int
    loaded: int
    replaced: int
    duplicates: int
    rejected: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict:
        return {
            "file": self.file,
            "kind": self.kind,
            "batch_id": self.batch_id,
            "rows_read": self.rows_read,
            "loaded": self.loaded,
            "replaced": self.replaced,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "warnings": self.warnings,
        }


class LoadMemo:
    """What the chunks of one load share: each distinct written unit (code text, name text)
    resolved once to a unit code or the reason it is rejected (a load's chunks repeat the
    same few hundred), and the form each date column is read in (chosen on the first chunk
    that has dates; a later chunk in another form is still read right, by the fallback), and
    the parsed value of each distinct flag or channel text."""

    def __init__(self, con, province: str | None):
        self.resolver = UnitResolver(con, province)
        # As two Series, built once: replace_strict would turn a dict of 3,355 units into
        # Series again on every chunk.
        units = query_pl(con, "SELECT code, province_code FROM units")
        self.provinces = (units["code"], units["province_code"])
        self._memo: dict[tuple[str | None, str | None], tuple[str | None, str | None, str | None]] = {}
        self.date_plans: dict[str, tuple[str, bool]] = {}
        self._parsed: dict[str, dict] = {}

    def parsed(self, field_name: str, parser, texts: list[str | None]) -> pl.Expr:
        """The typed values of a flag or channel column whose cells are `texts`, each
        distinct text parsed once per load."""
        known = self._parsed.setdefault(field_name, {})
        new = pl.Series([t for t in texts if t not in known], dtype=pl.String)
        if new.len():
            known.update(zip(new.to_list(), new.to_frame("k").select(parser(pl.col("k"))).to_series().to_list(),
                             strict=True))
        dtype = pl.String if field_name == "channel" else pl.Boolean
        return lookup(pl.col(f"_{field_name}_raw"), texts, [known[t] for t in texts], dtype).alias(field_name)

    def resolve(self, code_text: str | None, name_text: str | None) -> tuple[str | None, str | None, str | None]:
        """(unit code, reason it is missing, the field whose text gave that reason:
        "unit_name" when the name was tried last, else "unit_code"; None when resolved)."""
        key = (code_text, name_text)
        if key not in self._memo:
            failed = "unit_code"
            if code_text:
                res = self.resolver.resolve_code(code_text)
                if res.code is None and name_text:
                    res, failed = self.resolver.resolve_name(name_text), "unit_name"
            elif name_text:
                res, failed = self.resolver.resolve_name(name_text), "unit_name"
            else:
                res = None
            self._memo[key] = ((res.code, res.reason, None if res.code else failed) if res
                               else (None, "thiếu mã đơn vị và tên đơn vị", failed))
        return self._memo[key]

    def units(self, frame: pl.DataFrame, mapping: dict[str, str]) -> pl.DataFrame:
        """`unit_code`, `_unit_reason`, `_unit_failed` (the field named in the rejection) and
        `province_code` of each row of `frame`.

        Each distinct text of the leading column (the code, else the name) is resolved
        alone, since a code that resolves decides whatever the name says (see `resolve`);
        looking rows up by one text costs a fraction of matching them on two. Only rows
        left without a unit (a bad or missing code) go by their (code, name) pair."""
        code_col = "_unit_code_raw" if "unit_code" in mapping else None
        name_col = "_unit_name_raw" if "unit_name" in mapping else None
        lead = code_col or name_col
        distinct = frame[lead].drop_nulls().unique()
        # Each row's position in `distinct`, then a gather: cheaper than a join on the text.
        position = frame[lead].replace_strict(distinct, pl.int_range(distinct.len(), dtype=pl.UInt32, eager=True),
                                              default=None)
        alone = (code_col, None) if code_col else (None, name_col)
        out = self._pairs(distinct.to_frame(), *alone).drop(lead).select(pl.all().gather(position))
        missed = out["unit_code"].is_null().arg_true()
        if missed.len():
            pairs = frame[missed].select([c for c in (code_col, name_col) if c])
            keys = pairs.unique()
            resolved = self._pairs(keys, code_col, name_col)
            fixed = pairs.join(resolved, on=keys.columns, how="left", nulls_equal=True, maintain_order="left")
            out = out.with_columns(out[c].scatter(missed, fixed[c]) for c in out.columns)
        return out

    def _pairs(self, keys: pl.DataFrame, code_col: str | None, name_col: str | None) -> pl.DataFrame:
        """`keys` (distinct code and/or name texts) with their resolution."""
        codes = keys[code_col].to_list() if code_col else [None] * keys.height
        # Names are cleaned of invisible characters here, once per distinct name, rather
        # than on every cell (see prepare): only their resolution is kept.
        names = keys.select(clean_key(name_col)).to_series().to_list() if name_col else [None] * keys.height
        resolved = [self.resolve(code, name) for code, name in zip(codes, names, strict=True)]
        units = pl.Series("unit_code", [r[0] for r in resolved], dtype=pl.String)
        return keys.with_columns(
            units,
            pl.Series("_unit_reason", [r[1] for r in resolved], dtype=pl.String),
            pl.Series("_unit_failed", [r[2] for r in resolved], dtype=pl.String),
            units.replace_strict(*self.provinces, default=None, return_dtype=pl.String).alias("province_code"),
        )


def prepare(con, table: RawTable, mapping: dict[str, str], province: str | None, today: date,
            memo: LoadMemo | None = None, lossy: bool = False) -> pl.DataFrame:
    """Typed dossier rows plus `_reason`/`_column` (null when the row is valid) and `_raw`.
    `memo` carries what the chunks of one load share (LoadMemo). `lossy`: the table was read
    with U+FFFD for bytes that are not UTF-8, so rows holding one are rejected."""
    memo = memo or LoadMemo(con, province)
    lf = table.frame
    select = [pl.col(ROW)]
    extra = EXTRA in lf.collect_schema()
    if extra:
        select.append(pl.col(EXTRA).alias("_extra_raw"))
    for name in FIELDS:
        header = mapping.get(name)
        alias = f"_{name}_raw"
        if not header:
            select.append(pl.lit(None, dtype=pl.String).alias(alias))
        else:
            # Flag and channel cells are read whole: their parsers drop spaces and punctuation
            # anyway (once per distinct text), so trimming every cell would be wasted.
            select.append((pl.col(header) if name in LOOKED_UP else stripped(header)).alias(alias))
    frame = lf.select(select).collect()
    frame = without_invisible(frame, [f"_{name}_raw" for name in KEYS if name in mapping and name != "unit_name"])
    frame = null_empty(frame, [f"_{name}_raw" for name in FIELDS if name in mapping and name not in LOOKED_UP])
    frame = frame.with_columns(memo.units(frame, mapping))
    # Whole-column forms of parse_datetime / parse_yes_no / parse_channel, as expressions of
    # one select so that polars runs the columns in parallel: flags and channels are parsed
    # once per distinct text; each date column by the one form a sample shows first.
    distinct = {"channel": parse_channel, **{f: parse_yes_no for f in YES_NO if f in mapping}}
    uniques = frame.select(pl.col(f"_{f}_raw").unique().implode() for f in distinct).row(0)
    mapped = [memo.parsed(f, parser, texts) for (f, parser), texts in zip(distinct.items(), uniques, strict=True)]
    plans = {}
    for d in DATES:
        plans[d] = memo.date_plans.get(d) or datetime_plan(frame[f"_{d}_raw"])
        if plans[d]:
            memo.date_plans[d] = plans[d]
    typed = [
        pl.col("_dossier_id_raw").alias("dossier_id"),
        pl.col("_procedure_code_raw").alias("procedure_code"),
        pl.col("_procedure_name_raw").alias("procedure_name"),
        pl.col("_field_raw").alias("field"),
        pl.col("_status_raw").alias("status"),
        *mapped,
        *(pl.lit(None, dtype=pl.Boolean).alias(f) for f in YES_NO if f not in mapping),
        *(fast_datetime(f"_{d}_raw", plans[d]).alias(d) for d in DATES),
    ]
    frame = frame.with_columns(typed)
    frame = frame.with_columns(finish_datetime(frame[f"_{d}_raw"], frame[d]).alias(d) for d in DATES)
    now_limit = datetime.combine(today, datetime.max.time())

    def label(name: str) -> str:
        return mapping.get(name) or FIELDS[name][0]

    checks: list[tuple[str, pl.Expr, pl.Expr]] = [
        (label("dossier_id"), pl.col("dossier_id").is_null(), pl.lit("thiếu mã hồ sơ")),
        # The column whose text failed: the name when it was tried last (no code, or a code
        # that did not resolve), else the code.
        (label("unit_name"), pl.col("unit_code").is_null() & (pl.col("_unit_failed") == "unit_name"),
         pl.col("_unit_reason")),
        (label("unit_code" if "unit_code" in mapping else "unit_name"),
         pl.col("unit_code").is_null() & (pl.col("_unit_failed") != "unit_name"), pl.col("_unit_reason")),
        (label("received_at"), pl.col("_received_at_raw").is_null(), pl.lit("thiếu ngày tiếp nhận")),
    ]
    for d in DATES:
        raw = pl.col(f"_{d}_raw")
        checks.append((label(d), raw.is_not_null() & pl.col(d).is_null(),
                       pl.format("ngày không hợp lệ «{}» (cần dạng dd/mm/yyyy)", raw)))
        checks.append((label(d), pl.col(d) < EARLIEST,
                       pl.format("ngày «{}» trước năm 2000, không hợp lý", raw)))
    for d in ("received_at", "finished_at"):
        checks.append((label(d), pl.col(d) > now_limit,
                       pl.format("ngày «{}» ở tương lai (sau {})", pl.col(f"_{d}_raw"), pl.lit(today.strftime("%d/%m/%Y")))))
    checks.append((label("finished_at"), pl.col("finished_at").dt.date() < pl.col("received_at").dt.date(),
                   pl.lit("ngày có kết quả trước ngày tiếp nhận")))
    if "due_at" in mapping:
        # due date before the received date, as "before the received day's midnight" (4x cheaper than two dt.date)
        checks.append((label("due_at"), pl.col("due_at") < pl.col("received_at").dt.truncate("1d"),
                       pl.format("ngày hẹn trả «{}» trước ngày tiếp nhận", pl.col("_due_at_raw"))))
        checks.append((label("due_at"),
                       pl.col("due_at") > pl.col("received_at") + pl.duration(days=365 * DUE_MAX_YEARS + 1),
                       pl.format("ngày hẹn trả «{}» sau ngày tiếp nhận hơn {} năm, không hợp lý",
                                 pl.col("_due_at_raw"), pl.lit(DUE_MAX_YEARS))))
    if extra:
        value = pl.col("_extra_raw").str.strip_chars()
        checks.append((_extra_label(table), value != "",
                       pl.format("số cột nhiều hơn dòng tiêu đề ({} cột): giá trị thừa «{}»",
                                 pl.lit(len(table.headers)), value)))
    if lossy:
        for name in FIELDS:
            if name in mapping:
                raw = pl.col(f"_{name}_raw")
                checks.append((label(name), raw.str.contains("\ufffd", literal=True),
                               pl.format(BAD_BYTES + " (đọc thành «{}»); hãy lưu lại tệp dạng «CSV UTF-8»",
                                         raw.str.strip_chars())))
    checks.append((label("channel"), pl.col("channel") == "invalid",
                   pl.format("kênh nộp «{}» không nhận ra (Trực tuyến / Trực tiếp / Bưu chính công ích hoặc 1/2/3)",
                             pl.col("_channel_raw").str.strip_chars())))
    for f in YES_NO:
        if f in mapping:
            checks.append((label(f), pl.col(f).is_null(),
                           pl.format("giá trị «{}» không phải Có/Không", pl.col(f"_{f}_raw").str.strip_chars())))
    columns = [pl.when(cond.fill_null(False)).then(pl.lit(col)) for col, cond, _ in checks]
    messages = [pl.when(cond.fill_null(False)).then(pl.format("Cột «{}»: {}", pl.lit(col), msg)) for col, cond, msg in checks]
    # The column and the messages are written for the rejected rows only (formatting them
    # for every row cost more than all the checks): one pass of plain conditions finds them.
    flagged = frame.select(pl.any_horizontal(cond.fill_null(False) for _, cond, _ in checks)).to_series().arg_true()
    rejected = frame[flagged].select(
        pl.coalesce(columns).alias("_column"),
        pl.concat_str(messages, separator="; ", ignore_nulls=True)
        .str.replace_all(r"«([^»]{80})[^»]+»", "«$1…»")  # 100k-char cells
        .alias("_reason"),
    )
    frame = frame.with_columns(
        pl.repeat(None, frame.height, dtype=pl.String, eager=True).scatter(flagged, rejected[c]).alias(c)
        for c in ("_column", "_reason")
    )
    return _with_raw(frame, table)


def _with_raw(frame: pl.DataFrame, table: RawTable) -> pl.DataFrame:
    """`_raw`, the row's original cells as JSON, for the rejected rows only (the only ones
    that keep it); encoding every row cost more than parsing it."""
    bad_rows = frame.filter(pl.col("_reason").is_not_null())[ROW]
    cells = [pl.col(h) for h in table.headers]
    if "_extra_raw" in frame.columns and frame.filter(pl.col("_reason").is_not_null())["_extra_raw"].is_not_null().any():
        cells.append(pl.col(EXTRA).alias(_extra_label(table)))  # the extra field of a row it rejects
    raw = pl.struct(cells).struct.json_encode().alias("_raw")
    if bad_rows.len() == 0:
        return frame.with_columns(pl.lit(None, dtype=pl.String).alias("_raw"))
    encoded = table.frame.filter(pl.col(ROW).is_in(bad_rows.implode())).select(pl.col(ROW), raw).collect()
    return frame.join(encoded, on=ROW, how="left", maintain_order="left")


def _extra_label(table: RawTable) -> str:
    """The name of a CSV's first field past its header, in rejections and the raw cells."""
    label = f"Cột {len(table.headers) + 1}"
    return label if label not in table.headers else f"{label} (thừa)"


STORE_COLUMNS = (
    "dossier_id", "unit_code", "province_code", "procedure_code", "procedure_name", "field", "channel",
    "received_at", "received_date", "due_at", "due_date", "finished_at", "finished_date", "status",
    "fully_online", "digitised", "e_result", "data_reused", "paid_online", "batch_id", "source_row",
)
CHUNK_ROWS = 125_000  # rows validated at a time: bounds memory whatever the file's size (bench/RESULTS.md: 125k
# rows cost no more CPU than 250k and hold the 5M load under the 1.5 GB target)


Progress = Callable[[float, str], None]


def _no_progress(_fraction: float, _message: str) -> None:
    pass


# A hand-made mapping (header -> field), or a function choosing one from the headers read.
MappingChoice = dict[str, str] | Callable[[list[str]], dict[str, str] | None] | None


def _open_table(path: Path, name: str, mapping: MappingChoice) -> tuple[RawTable, dict[str, str]]:
    """Find the header and map the columns; LoadError when a required column is missing."""
    table = read_table(path, header_score, name=name, min_score=2)
    if callable(mapping):
        try:
            mapping = mapping(table.headers)
        except BaseException:
            _remove_temps(table)
            raise
    fields = match_headers(table.headers, mapping)
    missing = missing_required(fields)
    if missing:
        _remove_temps(table)
        raise LoadError(
            f"Tệp «{name}» thiếu cột bắt buộc: {', '.join(missing)} "
            f"(dòng tiêu đề {table.header_row}: {_listed(table.headers)})."
        )
    return table, fields


def _remove_temps(table: RawTable) -> None:
    for temp in table.temp_files:
        temp.unlink(missing_ok=True)


def _no_rows(name: str, table: RawTable) -> LoadError:
    return LoadError(f"Tệp «{name}» chỉ có dòng tiêu đề (dòng {table.header_row}), không có dòng dữ liệu nào.")


def check_dossier_file(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    province: str | None = None,
    *,
    name: str | None = None,
    mapping: MappingChoice = None,
    today: date | None = None,
    progress: Progress = _no_progress,
) -> tuple[RawTable, dict[str, str], pl.DataFrame]:
    """Read, map and validate without writing anything (the upload page's preview step).
    `mapping` may be a function of the headers read (loaders.preview picks a saved preset so).
    Returns the table, the field mapping used and the prepared rows (with `_reason`)."""
    path = Path(path)
    name = name or path.name
    with disk_full_said(name):  # a UTF-16 or Windows-1258 file's UTF-8 copy goes to the temp folder
        return _check_dossier_file(con, path, province, name, mapping, today, progress)


def _check_dossier_file(con, path: Path, province: str | None, name: str, mapping: MappingChoice,
                        today: date | None, progress: Progress) -> tuple[RawTable, dict[str, str], pl.DataFrame]:
    progress(0.05, "Đang đọc tệp…")
    table, fields = _open_table(path, name, mapping)
    try:
        progress(0.2, "Đang kiểm tra dữ liệu…")
        try:
            frame = prepare(con, table, fields, province, today or date.today(),
                            lossy=table.strict_frame is not None)
        except pl.exceptions.PolarsError as exc:
            raise unreadable(name, exc) from None
        if frame.height == 0:
            raise _no_rows(name, table)
        return table, fields, _with_refused_moves(con, frame, fields)
    finally:
        _remove_temps(table)


def _with_refused_moves(con, frame: pl.DataFrame, fields: dict[str, str]) -> pl.DataFrame:
    """The preview also shows the rows the write path will refuse for the acting user because
    their dossier belongs to a unit the user may not write (batches.refused_moves)."""
    label = fields.get("dossier_id", FIELDS["dossier_id"][0])
    refused = batches.refused_moves(con, frame.filter(pl.col("_reason").is_null()), label)
    if not refused:
        return frame
    reason = pl.col("dossier_id").replace_strict(refused, default=None, return_dtype=pl.String)
    return frame.with_columns(
        pl.when(pl.col("_reason").is_null() & reason.is_not_null()).then(pl.lit(label))
        .otherwise(pl.col("_column")).alias("_column"),
        pl.coalesce(pl.col("_reason"), reason).alias("_reason"))


def load_dossier_file(con: duckdb.DuckDBPyConnection, path: str | Path, province: str | None = None, *,
                      name: str | None = None, mapping: dict[str, str] | None = None, user: str | None = None,
                      today: date | None = None, progress: Progress = _no_progress) -> LoadResult:
    """Load one export. Raises LoadError (database untouched) when the file is rejected whole,
    a full disk included (store or temp folder: said in Vietnamese, see files.disk_full).

    The rows are read and validated CHUNK_ROWS at a time and staged on disk (_Staging), so an
    export of millions of rows never sits in memory whole; one transaction then writes them
    all; the file hash is computed meanwhile. Same result as check_dossier_file +
    write_dossiers."""
    name = name or Path(path).name
    with disk_full_said(name):
        return _load_dossier_file(con, path, province, name=name, mapping=mapping, user=user, today=today,
                                  progress=progress)


def _load_dossier_file(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    province: str | None = None,
    *,
    name: str | None = None,
    mapping: dict[str, str] | None = None,
    user: str | None = None,
    today: date | None = None,
    progress: Progress = _no_progress,
) -> LoadResult:
    path = Path(path)
    name = name or path.name
    today = today or date.today()
    progress(0.05, "Đang đọc tệp…")
    table, fields = _open_table(path, name, mapping)
    try:
        with ThreadPoolExecutor(1) as pool:
            digest = pool.submit(file_hash, path)
            memo = LoadMemo(con, province)
            progress(0.1, "Đang kiểm tra dữ liệu…")

            def write(source: RawTable) -> LoadResult:
                chunks = _prepared_chunks(con, source, fields, province, today, name, progress, memo)
                return _write(con, chunks, name=name, kind="dossiers", file_hash=digest.result, province=province,
                              user=user, mapping=fields, empty=lambda: _no_rows(name, table), progress=progress)

            try:
                result = write(table.fast())
            except NotUtf8:  # nothing is written before the whole file is read: read it again, lossily
                result = write(table)
                garbled = [r["row"] for r in result.rejected if BAD_BYTES in r["reason"]]
                if garbled:
                    shown = ", ".join(map(str, garbled[:20])) + ("…" if len(garbled) > 20 else "")
                    result.warnings.append(
                        f"Tệp «{name}» có byte không phải mã UTF-8 sau phần đầu tệp (tệp lưu lẫn bảng mã khác?): "
                        f"{number(len(garbled))} dòng chứa chúng bị từ chối (dòng {shown}). Hãy lưu lại tệp dạng "
                        "«CSV UTF-8» rồi tải lên lại các dòng đó.")
    finally:
        _remove_temps(table)
    result.warnings[:0] = table.warnings
    progress(1.0, "Hoàn tất.")
    return result


def _prepared_chunks(con, table: RawTable, fields: dict[str, str], province: str | None, today: date,
                     name: str, progress: Progress, memo: LoadMemo) -> Iterator[pl.DataFrame]:
    """prepare() over the file CHUNK_ROWS rows at a time (row numbers as in the whole file)."""
    done = 0
    try:
        lossy = table.strict_frame is not None and table.frame is not table.strict_frame
        for index, batch in enumerate(table.frame.collect_batches(chunk_size=CHUNK_ROWS, maintain_order=True)):
            yield prepare(con, replace(table, frame=batch.lazy()), fields, province, today, memo, lossy)
            done += batch.height
            progress(0.1 + 0.7 * (1 - 0.8 ** (index + 1)), f"Đã kiểm tra {number(done)} dòng…")
    except pl.exceptions.PolarsError as exc:
        if table.strict_frame is not None and table.frame is table.strict_frame and is_not_utf8(exc):
            raise NotUtf8(name) from None
        raise unreadable(name, exc) from None


def write_dossiers(con, frame: pl.DataFrame, *, name: str, kind: str, file_hash: str | None,
                   province: str | None, user: str | None, mapping: dict[str, str] | None = None,
                   period: str | None = None) -> LoadResult:
    """One transaction: batch row, rejected rows, replace-or-insert dossiers, facts refresh."""
    return _write(con, [frame], name=name, kind=kind, file_hash=lambda: file_hash, province=province, user=user,
                  mapping=mapping, period=period)


# Columns of the dossiers table the INSERT computes rather than the staged rows carry.
DERIVED = {"received_date": "received_at::DATE", "due_date": "due_at::DATE", "finished_date": "finished_at::DATE"}


def _staged_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """A prepared chunk as it is staged: every row, typed as the dossiers table (less what
    the INSERT derives), with `_reason`. The INSERT takes the rows without a reason; a
    polars filter here would copy every column of the chunk for the 0.1% it drops."""
    return frame.select(
        *(pl.col(c) for c in STORE_COLUMNS if c not in DERIVED and c not in ("batch_id", "source_row")),
        pl.col(ROW).cast(pl.Int32).alias("source_row"),
        pl.col("_reason"),
    )


def _bad_rows(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("_reason").is_not_null()).select(
        pl.col(ROW).cast(pl.Int32).alias("row_no"), pl.col("_column").alias("column_name"),
        pl.col("_reason").alias("reason"), pl.col("_raw").alias("raw"),
    )


class Repeats:
    """A dossier written more than once in one upload counts once, and the last valid row
    in the file wins. The id hash of every valid row is noted as the chunks go by (8 bytes
    a row); at the end only the rows whose hash is shared are candidates, and their real
    ids decide: exact, with the hashes only narrowing the search."""

    def __init__(self):
        self.hashes: list[pl.DataFrame] = []

    def note(self, staged: pl.DataFrame) -> None:
        """Note the valid rows of a staged chunk (see _staged_rows)."""
        valid = pl.col("_reason").is_null()
        self.hashes.append(staged.select(pl.col("dossier_id").hash().filter(valid).alias("h"),
                                         pl.col("source_row").filter(valid)))

    def candidates(self) -> pl.Series:
        """Rows whose id hash another row shares."""
        if not self.hashes:
            return pl.Series("source_row", [], dtype=pl.Int32)
        # Sorted, a shared hash sits next to its twin: 4x faster than is_duplicated's hash table.
        hashed = pl.concat(self.hashes)
        ordered = hashed["h"].sort()
        shared = ordered.filter(ordered == ordered.shift(1))
        return hashed.filter(pl.col("h").is_in(shared.implode()))["source_row"]

    @staticmethod
    def dropped(ids: pl.DataFrame) -> pl.DataFrame:
        """Of candidate rows (dossier_id, source_row), those a later row of the same id replaces."""
        return ids.filter(pl.col("source_row") != pl.col("source_row").max().over("dossier_id")).select("source_row")


STAGING_PREFIX = "kpi-load-"


def _sweep_orphans() -> None:
    """Remove the staging directories of loads whose process is gone (killed before it could
    clean up); the directory name carries the pid."""
    for path in Path(tempfile.gettempdir()).glob(f"{STAGING_PREFIX}*-*"):
        pid = path.name.removeprefix(STAGING_PREFIX).split("-")[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:  # alive, another user's
            pass


class _Staging:
    """A load's prepared chunks as Parquet files in a private temp folder (`rows_*`: every
    row typed as the dossiers table, with its `_reason` if rejected; `bad_*`: the rejected
    rows as rejected_rows keeps them), written on a thread of their
    own while polars prepares the next chunk; DuckDB then takes them all in one INSERT.

    Why files and one INSERT at the end: rows inserted from Arrow stay in memory until
    COMMIT (~150 bytes a row: 750 MB for 5M rows); many INSERTs of one chunk each leave
    DuckDB a CHECKPOINT that costs as much again as the inserts (3 s for 5M rows); one
    INSERT from Parquet with insertion order not preserved writes compressed row groups in
    parallel and leaves nothing to checkpoint. A killed load's folder is swept by the next
    load (the pid is in its name)."""

    def __init__(self):
        _sweep_orphans()
        self.dir = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-"))
        self.pool = ThreadPoolExecutor(1)
        self.pending = None
        self.count = 0

    def files(self, kind: str) -> str:
        return f"read_parquet({sqlquote.literal(self.dir / f'{kind}_*.parquet')})"  # the temp folder, quoted

    def submit(self, rows: pl.DataFrame, bad: pl.DataFrame) -> None:
        self.wait()
        self.count += 1
        self.pending = self.pool.submit(self._write, rows, bad, self.count)

    def _write(self, rows: pl.DataFrame, bad: pl.DataFrame, index: int) -> None:
        for kind, frame in (("rows", rows), ("bad", bad)):
            # Uncompressed (dictionary-encoded still): written and read back once, mostly from
            # the page cache; lz4 cost 0.35 s more at 5M rows for 1/3 less temp space
            # (56 MB per 1M rows here).
            frame.write_parquet(self.dir / f"{kind}_{index:06d}.parquet", compression="uncompressed",
                                statistics=False)

    def wait(self) -> None:
        if self.pending:
            pending, self.pending = self.pending, None
            pending.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self.pool.shutdown()
            shutil.rmtree(self.dir, ignore_errors=True)


def _write(con, frames: Iterable[pl.DataFrame], *, name: str, kind: str, file_hash: Callable[[], str | None],
           province: str | None, user: str | None, mapping: dict[str, str] | None = None,
           period: str | None = None, empty: Callable[[], Exception] | None = None,
           progress: Progress = _no_progress) -> LoadResult:
    """Stage the prepared chunks, then one transaction: the batch row, rejected rows, the
    valid rows less the repeats, earlier versions moved to history, facts refreshed.
    `file_hash` is asked for at the end (it is computed while the rows are read)."""
    staging = _Staging()
    try:
        repeats = Repeats()
        rows_read = valid = 0
        for frame in frames:
            staged = _staged_rows(frame)
            repeats.note(staged)
            staging.submit(staged, _bad_rows(frame))
            rows_read += frame.height
            valid += frame["_reason"].null_count()
        staging.wait()
        if rows_read == 0:
            raise empty() if empty else LoadError(f"«{name}» không có dòng dữ liệu nào.")
        progress(0.8, "Đang ghi vào kho dữ liệu…")
        digest = file_hash()
        return _commit(con, staging, repeats, name=name, kind=kind, digest=digest, province=province, user=user,
                       mapping=mapping, period=period, rows_read=rows_read, valid=valid)
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # see _commit: a failed INSERT leaves it to be reset here
            con.execute("RESET preserve_insertion_order")
        raise
    finally:
        staging.close()


_CHANNEL_TEXT = {"online": "Trực tuyến", "direct": "Trực tiếp", "post": "Bưu chính công ích"}


def _refused_raw(mapping: dict[str, str] | None) -> tuple[str, dict]:
    """The cells of a stored row `d` as JSON under the file's headers, in the forms the
    loader reads back (dd/mm/yyyy dates, Có/Không, channel names): the rejected-row file of
    a row refused while writing. An SQL expression and its parameters (headers are values,
    never SQL text)."""
    mapping = mapping or {f: FIELDS[f][0] for f in STORE_COLUMNS if f in FIELDS}
    parts, params = [], {}
    for index, (field_name, header) in enumerate(mapping.items()):
        if field_name not in STORE_COLUMNS:
            continue
        if field_name in DATES:
            value = f"strftime(d.{field_name}, '%d/%m/%Y %H:%M')"
        elif field_name in YES_NO:
            value = f"CASE WHEN d.{field_name} THEN 'Có' WHEN NOT d.{field_name} THEN 'Không' END"
        elif field_name == "channel":
            value = "CASE d.channel " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in _CHANNEL_TEXT.items()) + " END"
        else:
            value = f"d.{field_name}"
        params[f"h{index}"] = header
        parts.append(f"$h{index}, {value}")
    return (f"json_object({', '.join(parts)})::VARCHAR" if parts else "NULL"), params


def _commit(con, staging: _Staging, repeats: Repeats, *, name: str, kind: str, digest: str | None,
            province: str | None, user: str | None, mapping: dict[str, str] | None, period: str | None,
            rows_read: int, valid: int) -> LoadResult:
    rows, bad = staging.files("rows"), staging.files("bad")
    with write_transaction(con):
        batch_id = batches.open_batch(con, kind=kind, file_name=name, file_hash=digest,
                                      province=province, user=user, period=period)
        warnings = batches.earlier_upload_warning(con, digest, batch_id)
        con.register("repeat_candidates", repeats.candidates().to_frame().to_arrow())
        ids = query_pl(con, f"SELECT dossier_id, source_row FROM {rows} "
                            "WHERE source_row IN (SELECT source_row FROM repeat_candidates)")
        con.unregister("repeat_candidates")
        con.register("repeat_dropped", Repeats.dropped(ids).to_arrow())
        duplicates = con.execute("SELECT count(*) FROM repeat_dropped").fetchall()[0][0]
        derived = {**DERIVED, "batch_id": f"{int(batch_id)}::INTEGER"}
        columns = ", ".join(f"{derived[c]} AS {c}" if c in derived else c for c in STORE_COLUMNS)
        # Global setting, on only for this statement (under the write lock): the parallel
        # insert it allows is the one that leaves no CHECKPOINT behind.
        con.execute("SET preserve_insertion_order = false")
        try:
            con.execute(f"INSERT INTO dossiers SELECT {columns} FROM {rows} "
                        "WHERE _reason IS NULL AND source_row NOT IN (SELECT source_row FROM repeat_dropped)")
        finally:
            with contextlib.suppress(duckdb.Error):  # a failed INSERT aborted the transaction: _write resets it
                con.execute("RESET preserve_insertion_order")
            con.unregister("repeat_dropped")
        con.execute(f"INSERT INTO rejected_rows SELECT ?, row_no, column_name, reason, raw FROM {bad} ORDER BY row_no",
                    [batch_id])
        replaced = batches.replace_dossiers(con, batch_id, id_label=(mapping or {}).get("dossier_id", "Mã hồ sơ"),
                                            raw=_refused_raw(mapping))
        con.execute("INSERT INTO batch_units SELECT ?, unit_code, count(*) FROM dossiers WHERE batch_id = ? "
                    "GROUP BY unit_code", [batch_id, batch_id])
        batches.add_procedures(con, batch_id)
        rejected = con.execute("SELECT row_no, column_name, reason FROM rejected_rows WHERE batch_id = ? "
                               "ORDER BY row_no", [batch_id]).fetchall()
        # Rows rejected while writing (a dossier of a unit the user may not write, see
        # batches.replace_dossiers) are those beyond the ones rejected while reading.
        loaded = valid - duplicates - (len(rejected) - (rows_read - valid))
        batches.close_batch(con, batch_id, rows_read=rows_read, loaded=loaded, replaced=replaced,
                            duplicates=duplicates, rejected=len(rejected))
    return LoadResult(
        file=name, kind=kind, batch_id=batch_id, rows_read=rows_read, loaded=loaded,
        replaced=replaced, duplicates=duplicates,
        rejected=[{"row": r, "column": c, "reason": why} for r, c, why in rejected],
        warnings=warnings, mapping=mapping or {},
    )

