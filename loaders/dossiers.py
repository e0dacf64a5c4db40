"""Dossier exports (one row per dossier) -> the store, as one transaction.

Parse, map and validate are polars expressions over the whole file; only distinct unit
names are resolved in Python. A dossier exported again replaces its earlier version
(kept in dossier_history so the upload can be undone); an identical row repeated in one
file counts once; a bad row is rejected with its reason and kept in rejected_rows.
"""

from __future__ import annotations

import json
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
from loaders import batches, store
from loaders.files import ROW, LoadError, RawTable, file_hash, read_table, unreadable
from loaders.text import fold
from loaders.units import UnitResolver
from loaders.values import by_distinct, clean, clean_key, parse_channel, parse_datetime_column, parse_yes_no

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
EARLIEST = datetime(2000, 1, 1)

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


def _unit_lookup(con, frame: pl.DataFrame, mapping: dict[str, str], province: str | None) -> pl.DataFrame:
    """Distinct (code text, name text) -> unit_code or reason, resolved once each."""
    resolver = UnitResolver(con, province)
    code_col = "_unit_code_raw" if "unit_code" in mapping else None
    name_col = "_unit_name_raw" if "unit_name" in mapping else None
    keys = frame.select([c for c in (code_col, name_col) if c]).unique()
    codes, reasons = [], []
    for row in keys.iter_rows(named=True):
        code_text = row.get(code_col) if code_col else None
        name_text = row.get(name_col) if name_col else None
        if code_text:
            res = resolver.resolve_code(code_text)
            if res.code is None and name_text:
                res = resolver.resolve_name(name_text)
        elif name_text:
            res = resolver.resolve_name(name_text)
        else:
            res = None
        codes.append(res.code if res else None)
        reasons.append(res.reason if res else "thiếu mã đơn vị và tên đơn vị")
    lookup = keys.with_columns(
        pl.Series("unit_code", codes, dtype=pl.String),
        pl.Series("_unit_reason", reasons, dtype=pl.String),
    )
    provinces = dict(con.execute("SELECT code, province_code FROM units").fetchall())
    return lookup.with_columns(pl.col("unit_code").replace_strict(provinces, default=None).alias("province_code"))


def prepare(con, table: RawTable, mapping: dict[str, str], province: str | None, today: date) -> pl.DataFrame:
    """Typed dossier rows plus `_reason`/`_column` (null when the row is valid) and `_raw`."""
    lf = table.frame
    select = [pl.col(ROW)]
    for name in FIELDS:
        header = mapping.get(name)
        alias = f"_{name}_raw"
        if not header:
            select.append(pl.lit(None, dtype=pl.String).alias(alias))
        else:
            select.append((clean_key(header) if name in KEYS else clean(header)).alias(alias))
    frame = lf.select(select).collect()
    frame = frame.join(_unit_lookup(con, frame, mapping, province),
                       on=[c for c in ("_unit_code_raw", "_unit_name_raw") if c.removeprefix("_").removesuffix("_raw") in mapping],
                       how="left", nulls_equal=True)
    typed = [
        pl.col("_dossier_id_raw").alias("dossier_id"),
        pl.col("_procedure_code_raw").alias("procedure_code"),
        pl.col("_procedure_name_raw").alias("procedure_name"),
        pl.col("_field_raw").alias("field"),
        pl.col("_status_raw").alias("status"),
        by_distinct(frame["_channel_raw"], parse_channel).alias("channel"),
    ]
    # Whole-column forms of parse_datetime / parse_yes_no: same values, a fraction of the work.
    typed += [parse_datetime_column(frame[f"_{d}_raw"]).alias(d) for d in DATES]
    typed += [
        (by_distinct(frame[f"_{f}_raw"], parse_yes_no) if f in mapping else pl.lit(None, dtype=pl.Boolean)).alias(f)
        for f in YES_NO
    ]
    frame = frame.with_columns(typed)
    now_limit = datetime.combine(today, datetime.max.time())

    def label(name: str) -> str:
        return mapping.get(name) or FIELDS[name][0]

    checks: list[tuple[str, pl.Expr, pl.Expr]] = [
        (label("dossier_id"), pl.col("dossier_id").is_null(), pl.lit("thiếu mã hồ sơ")),
        (
            label("unit_code" if "unit_code" in mapping else "unit_name"),
            pl.col("unit_code").is_null(),
            pl.col("_unit_reason"),
        ),
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
    checks.append((label("channel"), pl.col("channel") == "invalid",
                   pl.format("kênh nộp «{}» không nhận ra (Trực tuyến / Trực tiếp / Bưu chính công ích hoặc 1/2/3)",
                             pl.col("_channel_raw"))))
    for f in YES_NO:
        if f in mapping:
            checks.append((label(f), pl.col(f).is_null(),
                           pl.format("giá trị «{}» không phải Có/Không", pl.col(f"_{f}_raw"))))
    columns = [pl.when(cond.fill_null(False)).then(pl.lit(col)) for col, cond, _ in checks]
    messages = [pl.when(cond.fill_null(False)).then(pl.format("Cột «{}»: {}", pl.lit(col), msg)) for col, cond, msg in checks]
    frame = frame.with_columns(pl.coalesce(columns).alias("_column"))
    # Messages are written for the rejected rows only (formatting them for every row cost
    # more than all the checks).
    flagged = frame["_column"].is_not_null().arg_true()
    reasons = frame[flagged].select(
        pl.concat_str(messages, separator="; ", ignore_nulls=True)
        .str.replace_all(r"«([^»]{80})[^»]+»", "«$1…»")  # 100k-char cells
    ).to_series()
    frame = frame.with_columns(pl.repeat(None, frame.height, dtype=pl.String, eager=True).alias("_reason")
                               .scatter(flagged, reasons))
    return _with_raw(frame, table)


def _with_raw(frame: pl.DataFrame, table: RawTable) -> pl.DataFrame:
    """`_raw`, the row's original cells as JSON, for the rejected rows only (the only ones
    that keep it); encoding every row cost more than parsing it."""
    bad_rows = frame.filter(pl.col("_reason").is_not_null())[ROW]
    raw = pl.struct([pl.col(h) for h in table.headers]).struct.json_encode().alias("_raw")
    if bad_rows.len() == 0:
        return frame.with_columns(pl.lit(None, dtype=pl.String).alias("_raw"))
    encoded = table.frame.filter(pl.col(ROW).is_in(bad_rows.implode())).select(pl.col(ROW), raw).collect()
    return frame.join(encoded, on=ROW, how="left", maintain_order="left")


STORE_COLUMNS = (
    "dossier_id", "unit_code", "province_code", "procedure_code", "procedure_name", "field", "channel",
    "received_at", "received_date", "due_at", "due_date", "finished_at", "finished_date", "status",
    "fully_online", "digitised", "e_result", "data_reused", "paid_online", "batch_id", "source_row",
)
CHUNK_ROWS = 250_000  # rows validated at a time when loading a file: bounds memory on big exports


Progress = Callable[[float, str], None]


def _no_progress(_fraction: float, _message: str) -> None:
    pass


def _open_table(path: Path, name: str, mapping: dict[str, str] | None) -> tuple[RawTable, dict[str, str]]:
    """Find the header and map the columns; LoadError when a required column is missing."""
    table = read_table(path, header_score, name=name, min_score=2)
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
    mapping: dict[str, str] | None = None,
    today: date | None = None,
    progress: Progress = _no_progress,
) -> tuple[RawTable, dict[str, str], pl.DataFrame]:
    """Read, map and validate without writing anything (the upload page's preview step).
    Returns the table, the field mapping used and the prepared rows (with `_reason`)."""
    path = Path(path)
    name = name or path.name
    progress(0.05, "Đang đọc tệp…")
    table, fields = _open_table(path, name, mapping)
    try:
        progress(0.2, "Đang kiểm tra dữ liệu…")
        try:
            frame = prepare(con, table, fields, province, today or date.today())
        except pl.exceptions.PolarsError as exc:
            raise unreadable(name, exc) from None
        if frame.height == 0:
            raise _no_rows(name, table)
        return table, fields, frame
    finally:
        _remove_temps(table)


def load_dossier_file(
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
    """Load one export. Raises LoadError (database untouched) when the file is rejected whole.

    The rows are read and validated CHUNK_ROWS at a time and staged in DuckDB (_Staging), so
    an export of millions of rows never sits in memory whole; the file hash is computed
    meanwhile. Same result as check_dossier_file + write_dossiers."""
    path = Path(path)
    name = name or path.name
    today = today or date.today()
    progress(0.05, "Đang đọc tệp…")
    table, fields = _open_table(path, name, mapping)
    try:
        with ThreadPoolExecutor(1) as pool:
            digest = pool.submit(file_hash, path)
            progress(0.2, "Đang kiểm tra dữ liệu…")
            staging = _stage(con, _prepared_chunks(con, table, fields, province, today, name, progress))
            try:
                if staging.rows == 0:
                    raise _no_rows(name, table)
                progress(0.6, "Đang ghi vào kho dữ liệu…")
                result = _commit(con, staging, name=name, kind="dossiers", file_hash=digest.result(),
                                 province=province, user=user, mapping=fields)
            finally:
                staging.close(con)
    finally:
        _remove_temps(table)
    result.warnings[:0] = table.warnings
    progress(1.0, "Hoàn tất.")
    return result


def _prepared_chunks(con, table: RawTable, fields: dict[str, str], province: str | None, today: date,
                     name: str, progress: Progress) -> Iterator[pl.DataFrame]:
    """prepare() over the file CHUNK_ROWS rows at a time (row numbers as in the whole file)."""
    done = 0
    try:
        for index, batch in enumerate(table.frame.collect_batches(chunk_size=CHUNK_ROWS, maintain_order=True)):
            yield prepare(con, replace(table, frame=batch.lazy()), fields, province, today)
            done += batch.height
            progress(0.2 + 0.35 * (1 - 0.7 ** (index + 1)), f"Đã kiểm tra {number(done)} dòng…")
    except pl.exceptions.PolarsError as exc:
        raise unreadable(name, exc) from None


def write_dossiers(con, frame: pl.DataFrame, *, name: str, kind: str, file_hash: str | None,
                   province: str | None, user: str | None, mapping: dict[str, str] | None = None,
                   period: str | None = None) -> LoadResult:
    """One transaction: batch row, rejected rows, replace-or-insert dossiers, facts refresh."""
    staging = _stage(con, [frame])
    try:
        return _commit(con, staging, name=name, kind=kind, file_hash=file_hash, province=province, user=user,
                       mapping=mapping, period=period)
    finally:
        staging.close(con)


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


@dataclass
class _Staging:
    """One load's rows before the transaction, as Parquet files in a private temp directory,
    one pair per chunk: `good_*` (valid rows typed as in the store) and `bad_*` (rejected
    rows), `_ord` = order in the file. Compressed on disk and read back by DuckDB column by
    column as the transaction needs them, they keep memory at one chunk's worth whatever
    the file's size (a temp table held every row in memory, ~250 bytes each); and nothing
    persistent changes before the transaction."""
    dir: Path
    rows: int = 0
    valid: int = 0

    def files(self, kind: str) -> str:
        pattern = str(self.dir / f"{kind}_*.parquet").replace("'", "''")
        return f"read_parquet('{pattern}')"

    def close(self, con) -> None:
        con.execute("DROP VIEW IF EXISTS staged")
        con.execute("DROP TABLE IF EXISTS staged_dropped")
        shutil.rmtree(self.dir, ignore_errors=True)


def _stage(con, frames: Iterable[pl.DataFrame]) -> _Staging:
    _sweep_orphans()
    staging = _Staging(Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-")))
    try:
        for index, frame in enumerate(frames):
            rows = staging.rows
            frame = frame.with_columns(pl.int_range(rows, rows + frame.height, dtype=pl.Int64).alias("_ord"))
            good = frame.filter(pl.col("_reason").is_null()).select(
                *(pl.col(c) for c in STORE_COLUMNS[:8]),
                pl.col("received_at").dt.date().alias("received_date"),
                pl.col("due_at"), pl.col("due_at").dt.date().alias("due_date"),
                pl.col("finished_at"), pl.col("finished_at").dt.date().alias("finished_date"),
                *(pl.col(c) for c in STORE_COLUMNS[13:19]),
                pl.col(ROW).cast(pl.Int32).alias("source_row"), pl.col("_ord"),
            )
            bad = frame.filter(pl.col("_reason").is_not_null()).select(
                pl.col(ROW).cast(pl.Int32).alias("row_no"), pl.col("_column").alias("column_name"),
                pl.col("_reason").alias("reason"), pl.col("_raw").alias("raw"), pl.col("_ord"),
            )
            for kind, part in (("good", good), ("bad", bad)):
                part.write_parquet(staging.dir / f"{kind}_{index:06d}.parquet", compression="lz4", statistics=False)
            staging.rows += frame.height
            staging.valid += good.height
        if staging.rows:
            # Identical rows count once; for the same id the last row in the file wins: the
            # earlier rows of the few repeated ids, found by aggregate, are left out of
            # `staged` (a row_number() window over every row cost 3x the time).
            good = staging.files("good")
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE staged_dropped AS
                    SELECT s._ord FROM {good} s
                    JOIN (SELECT dossier_id, max(_ord) AS last_ord FROM {good}
                          GROUP BY dossier_id HAVING count(*) > 1) r
                      ON s.dossier_id = r.dossier_id AND s._ord <> r.last_ord"""
            )
        else:
            con.execute("CREATE OR REPLACE TEMP TABLE staged_dropped (_ord BIGINT)")
    except BaseException:
        staging.close(con)
        raise
    return staging


def _commit(con, staging: _Staging, *, name: str, kind: str, file_hash: str | None,
            province: str | None, user: str | None, mapping: dict[str, str] | None = None,
            period: str | None = None) -> LoadResult:
    """One transaction from the staged rows: batch row, rejected rows, replace-or-insert
    dossiers, facts refresh."""
    warnings = []
    if file_hash:
        earlier = con.execute(
            "SELECT batch_id, loaded_at FROM batches WHERE file_hash = ? AND status = 'active' ORDER BY batch_id DESC LIMIT 1",
            [file_hash],
        ).fetchall()
        if earlier:
            earlier = earlier[0]
            warnings.append(
                f"Tệp này đã được tải lên lúc {earlier[1]:%H:%M %d/%m/%Y} (lần tải #{earlier[0]}); "
                "dữ liệu được thay thế, không bị cộng trùng."
            )
    store.WRITE_LOCK.acquire()  # one writer at a time in this process (see store.WRITE_LOCK)
    con.execute("BEGIN TRANSACTION")
    try:
        batch_id = batches.open_batch(con, kind=kind, file_name=name, file_hash=file_hash,
                                      province=province, user=user, period=period)
        columns = ", ".join(f"{int(batch_id)}::INTEGER AS batch_id" if c == "batch_id" else c for c in STORE_COLUMNS)
        con.execute(f"""CREATE OR REPLACE TEMP VIEW staged AS SELECT {columns} FROM {staging.files("good")}
                        WHERE _ord NOT IN (SELECT _ord FROM staged_dropped)""")
        loaded = staging.valid - con.execute("SELECT count(*) FROM staged_dropped").fetchall()[0][0]
        bad = staging.files("bad")
        rejected = con.execute(f"SELECT row_no, column_name, reason FROM {bad} ORDER BY _ord").fetchall()
        con.execute(f"INSERT INTO rejected_rows SELECT ?, row_no, column_name, reason, raw FROM {bad} ORDER BY _ord",
                    [batch_id])
        replaced = batches.replace_dossiers(con, batch_id)
        con.execute(
            "INSERT INTO batch_units SELECT ?, unit_code, count(*) FROM staged GROUP BY unit_code", [batch_id]
        )
        con.execute(
            """INSERT OR REPLACE INTO procedures
               SELECT procedure_code, any_value(procedure_name), any_value(field) FROM staged
               WHERE procedure_code IS NOT NULL GROUP BY procedure_code"""
        )
        batches.close_batch(con, batch_id, rows_read=staging.rows, loaded=loaded, replaced=replaced,
                            duplicates=staging.valid - loaded, rejected=len(rejected))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        store.WRITE_LOCK.release()
    return LoadResult(
        file=name, kind=kind, batch_id=batch_id, rows_read=staging.rows, loaded=loaded,
        replaced=replaced, duplicates=staging.valid - loaded,
        rejected=[{"row": r, "column": c, "reason": why} for r, c, why in rejected],
        warnings=warnings, mapping=mapping or {},
    )


def rejected_rows_json(raw: str) -> dict:
    return json.loads(raw)
