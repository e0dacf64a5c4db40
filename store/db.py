"""The DuckDB store: schema, connection, the write transaction and the reference data it starts with.

One file (`data/kpi.duckdb` by default, `$KPI_DB` to override) holds everything:
units, dossiers (current version), their superseded versions (so an upload can be
undone), load batches with their rejected rows, and monthly facts per unit x procedure
that keep KPI queries fast at tens of millions of dossiers.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from store.components import fact_table_sql  # declarations only: imports nothing of the project
from store.errors import StoreUnavailable
from store.paths import DEFAULT_DB, ROOT, db_path  # noqa: F401 - db_path is part of this module's API

REFERENCE = ROOT / "reference"
UNITS_JSON = REFERENCE / "vn_units" / "units_2025.json"
PLANS_JSON = REFERENCE / "plans" / "plans.json"

# Held around every write transaction in this process. The app serves all sessions from one
# connection (a cursor per call): two uploads, or an upload and an undo, writing at once
# would otherwise conflict in DuckDB ("Conflict on tuple deletion", duplicate key on
# procedures) and one of them fail. Reads never wait for it (MVCC snapshots).
WRITE_LOCK = threading.RLock()

DOSSIER_COLUMNS = """
    dossier_id VARCHAR NOT NULL,
    unit_code VARCHAR NOT NULL,
    province_code VARCHAR NOT NULL,
    procedure_code VARCHAR,
    procedure_name VARCHAR,
    field VARCHAR,
    channel VARCHAR,            -- online | direct | post | NULL (unknown)
    received_at TIMESTAMP NOT NULL,
    received_date DATE NOT NULL,
    due_at TIMESTAMP,
    due_date DATE,
    finished_at TIMESTAMP,
    finished_date DATE,
    status VARCHAR,
    fully_online BOOLEAN,       -- NULL: the export did not say
    digitised BOOLEAN,
    e_result BOOLEAN,
    data_reused BOOLEAN,
    paid_online BOOLEAN,
    batch_id INTEGER NOT NULL,
    source_row INTEGER
"""

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS units (
    code VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    full_name VARCHAR NOT NULL,
    level VARCHAR NOT NULL,          -- province | commune
    province_code VARCHAR NOT NULL   -- a province's own code for itself
);
CREATE TABLE IF NOT EXISTS procedures (
    procedure_code VARCHAR PRIMARY KEY,
    procedure_name VARCHAR,
    field VARCHAR
);
CREATE SEQUENCE IF NOT EXISTS batch_seq START 1;
CREATE TABLE IF NOT EXISTS batches (
    batch_id INTEGER PRIMARY KEY,
    kind VARCHAR NOT NULL,           -- dossiers | template | catalogue | archive | tasks | sql
    file_name VARCHAR,
    file_hash VARCHAR,
    loaded_at TIMESTAMP NOT NULL,
    loaded_by VARCHAR,
    province_code VARCHAR,
    period VARCHAR,
    rows_read INTEGER,
    loaded INTEGER,
    replaced INTEGER,
    duplicates INTEGER,
    rejected INTEGER,
    status VARCHAR NOT NULL,         -- active | undone
    undone_at TIMESTAMP,
    undone_by VARCHAR,
    note VARCHAR
);
CREATE TABLE IF NOT EXISTS batch_units (batch_id INTEGER, unit_code VARCHAR, rows INTEGER);
CREATE TABLE IF NOT EXISTS rejected_rows (
    batch_id INTEGER NOT NULL,
    row_no INTEGER,
    column_name VARCHAR,
    reason VARCHAR NOT NULL,
    raw VARCHAR                      -- the row's original cells, JSON
);
CREATE TABLE IF NOT EXISTS dossiers ({DOSSIER_COLUMNS});
CREATE TABLE IF NOT EXISTS dossier_history ({DOSSIER_COLUMNS}, superseded_by INTEGER NOT NULL);
{fact_table_sql("fact_received")};  -- keys + one count per component (store.components)
CREATE TABLE IF NOT EXISTS targets (
    unit_code VARCHAR,               -- NULL: every unit
    kpi VARCHAR NOT NULL,
    value DOUBLE NOT NULL,
    op VARCHAR NOT NULL,             -- >= | <= | ==
    deadline DATE,
    from_date DATE,
    plan_slug VARCHAR,
    note VARCHAR
);
CREATE TABLE IF NOT EXISTS sql_sources (  -- one row per SQL source (loaders/sql_source.py)
    name VARCHAR PRIMARY KEY,
    url VARCHAR NOT NULL,            -- SQLAlchemy URL without the password
    query_hash VARCHAR NOT NULL,     -- sha256 of the query (whitespace-normalised)
    watermark_column VARCHAR NOT NULL,
    last_watermark VARCHAR,          -- 'type:value' (datetime:2025-11-10T09:05:00, int:42, ...)
    last_pull_at TIMESTAMP,
    last_batch_id INTEGER,           -- batch of the latest pull that brought rows
    province_code VARCHAR
);
CREATE TABLE IF NOT EXISTS sql_pulls (   -- every pull that made a batch, so an undo can rewind
    batch_id INTEGER PRIMARY KEY,
    source_name VARCHAR NOT NULL,
    pulled_at TIMESTAMP NOT NULL,
    since VARCHAR NOT NULL,          -- 'type:value' bound to :since
    watermark VARCHAR NOT NULL,      -- 'type:value', the highest watermark read
    rows_read INTEGER,
    replayed BOOLEAN NOT NULL        -- undone and pulled again since
);
{fact_table_sql("fact_finished")};
-- Aggregate sources (loaders/template.py, catalogue.py, archive.py, tasks.py). A row replaced
-- by a later upload of the same key keeps living with superseded_by = that upload, for undo.
CREATE TABLE IF NOT EXISTS template_rows (      -- TT 01/2020 biểu 06a (per unit) / 07a (per field)
    batch_id INTEGER NOT NULL, unit_code VARCHAR NOT NULL, province_code VARCHAR NOT NULL,
    field VARCHAR,                   -- 07a: the row's field; NULL for a 06a unit row
    period_label VARCHAR NOT NULL, period_start DATE NOT NULL, period_end DATE NOT NULL,
    received_total BIGINT, received_online BIGINT, received_direct BIGINT, received_carried BIGINT,
    finished_total BIGINT, finished_early BIGINT, finished_on_time BIGINT, finished_late BIGINT,
    open_total BIGINT, open_within BIGINT, open_overdue BIGINT,
    source_row INTEGER, superseded_by INTEGER  -- key: unit_code, period_start, period_end
);
CREATE TABLE IF NOT EXISTS catalogue_services (  -- a unit's service catalogue (snapshot)
    batch_id INTEGER NOT NULL, unit_code VARCHAR NOT NULL, province_code VARCHAR NOT NULL,
    procedure_code VARCHAR, procedure_name VARCHAR, field VARCHAR,
    level VARCHAR,                   -- full (toàn trình) | partial (một phần) | NULL: not offered online
    online BOOLEAN NOT NULL,
    business BOOLEAN, location_free BOOLEAN, on_portal BOOLEAN, exempt BOOLEAN,  -- NULL: no such column
    source_row INTEGER, superseded_by INTEGER  -- key: unit_code
);
CREATE TABLE IF NOT EXISTS archive_stats (
    batch_id INTEGER NOT NULL, unit_code VARCHAR NOT NULL, province_code VARCHAR NOT NULL, month DATE NOT NULL,
    archive_total BIGINT, archive_digitised BIGINT,        -- cumulative at the end of the month
    documents_total BIGINT, documents_electronic BIGINT,   -- in the month
    source_row INTEGER, superseded_by INTEGER  -- key: unit_code, month
);
CREATE TABLE IF NOT EXISTS plan_tasks (
    batch_id INTEGER NOT NULL, unit_code VARCHAR NOT NULL, province_code VARCHAR NOT NULL, plan_slug VARCHAR,
    task_no VARCHAR, task VARCHAR NOT NULL, pillar VARCHAR, lead_unit VARCHAR, partners VARCHAR,
    deadline VARCHAR, status VARCHAR, progress DOUBLE, note VARCHAR,
    source_row INTEGER, superseded_by INTEGER  -- key: unit_code (the latest list replaces the earlier)
);
"""


def connect(path: str | os.PathLike | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (and create or upgrade) the store."""
    target = db_path(path)
    if str(target) != ":memory:":
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(target), read_only=read_only, config=_config())
    except duckdb.Error as exc:
        raise StoreUnavailable(cannot_open_text(target, exc)) from exc
    con.execute("SET enable_progress_bar = false")  # no bar drawn on the terminal of a CLI load
    if not read_only:
        try:
            init_schema(con)
        except BaseException:
            con.close()  # a failed migration leaves the store as it was (its transaction rolled back)
            raise
    else:
        _check_migrated(con, target)
    _remember_meta(con)
    return con


_SHARED: dict[str, duckdb.DuckDBPyConnection] = {}
_SHARED_LOCK = threading.Lock()


def shared(path: str | os.PathLike | None = None) -> duckdb.DuckDBPyConnection:
    """This process's one connection to the store at `path`, opened on first use. The server's
    doors (pages, HTTP API, scheduler, inbox) all go through it, each call on its own
    `.cursor()`: DuckDB lets one process write a file, so they must share that process's
    database instance rather than open the file again."""
    key = str(db_path(path).resolve())
    with _SHARED_LOCK:
        con = _SHARED.get(key)
        if con is None:
            con = _SHARED[key] = connect(key)
        return con


def close_shared() -> None:
    """Close every shared connection (a test moving on to another store; a server stopping)."""
    with _SHARED_LOCK:
        for con in _SHARED.values():
            with suppress(duckdb.Error):
                con.close()
        _SHARED.clear()


# The `meta` table of the store this process opened last, read when it was opened (and kept
# up to date by set_meta): settings such as the admin's caps on uploaded workbooks
# (loaders.limits) apply from the moment a store is opened, without this package knowing them.
_opened_meta: dict[str, str] = {}


def _remember_meta(con: duckdb.DuckDBPyConnection) -> None:
    global _opened_meta
    try:
        rows = con.execute("SELECT key, value FROM meta").fetchall()
    except duckdb.Error:  # a store without meta yet (read-only, very old): nothing to apply
        rows = []
    _opened_meta = dict(rows)


def opened_meta() -> dict[str, str]:
    """The `meta` of the store this process opened last, as it was opened or since changed
    through set_meta (empty before any store is opened)."""
    return dict(_opened_meta)


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    """Write one `meta` key; it applies to this process from now on (opened_meta)."""
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])
    _opened_meta[key] = value


@contextmanager
def write_transaction(con) -> Iterator[None]:
    """One load's writes: this process's write lock (DuckDB has one writer) and one
    transaction, committed when the block ends, rolled back whole when it raises."""
    with WRITE_LOCK:
        con.execute("BEGIN TRANSACTION")
        try:
            yield
            con.execute("COMMIT")
        except BaseException:
            # DuckDB may have ended the transaction itself (a COMMIT that failed, e.g. on a
            # full disk, is rolled back): raise the error that ended it, not "cannot rollback".
            with suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise


def _check_migrated(con: duckdb.DuckDBPyConnection, target: Path) -> None:
    """A store opened read-only cannot be migrated: say so (in Vietnamese) instead of failing
    later on a table or column it does not have yet."""
    from store import migrations

    if migrations.pending(con):
        con.close()
        raise StoreOutdated(f"Kho dữ liệu «{target}» được tạo bởi phiên bản trước và cần được nâng cấp: hãy mở nó "
                            "một lần ở chế độ ghi (ví dụ chạy ứng dụng hoặc «python -m loaders») rồi thử lại.")


class StoreOutdated(StoreUnavailable):
    """A read-only open of a store that still has migrations to apply."""


def cannot_open_text(path: Path, exc: Exception) -> str:
    """Why DuckDB refused to open the store, in Vietnamese (its own text is English)."""
    text = str(exc)
    if "lock" in text.lower():
        pid = re.search(r"PID (\d+)", text)
        return (f"Kho dữ liệu «{path}» đang được một tiến trình khác sử dụng"
                f"{f' (PID {pid.group(1)})' if pid else ''}, thường là ứng dụng bảng điều khiển đang chạy; "
                "DuckDB chỉ cho một tiến trình ghi. Hãy tải tệp lên qua trang «Tải dữ liệu lên» của ứng dụng, "
                "hoặc dừng ứng dụng rồi chạy lại lệnh. Kho dữ liệu không thay đổi.")
    if "not a valid DuckDB database" in text:
        return f"Tệp «{path}» không phải là kho dữ liệu DuckDB (hoặc đã hỏng): hãy kiểm tra lại đường dẫn --db."
    if "Is a directory" in text:
        return f"«{path}» là một thư mục, không phải tệp kho dữ liệu: hãy chỉ tới tệp .duckdb."
    if "Permission denied" in text:
        return f"Không có quyền mở kho dữ liệu «{path}»."
    if "No such file or directory" in text:
        return f"Không tìm thấy kho dữ liệu «{path}» hoặc thư mục chứa nó."
    return f"Không mở được kho dữ liệu «{path}» (DuckDB báo: {text})."


def _config() -> dict:
    """DuckDB settings of every store connection. The memory limit keeps a big load's
    process near its own working set (20M rows: 1.6 GB instead of 6.9 GB, same time); DuckDB
    spills to `<store>.tmp` beyond it. `KPI_DUCKDB_MEMORY` overrides it (e.g. "4GB")."""
    return {"memory_limit": os.environ.get("KPI_DUCKDB_MEMORY", "1GB")}


def init_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Bring the store up to date (the named migrations of store/migrations.py, then the
    monthly facts if the component declarations changed) and seed its reference data."""
    from store import migrations

    migrations.migrate(con)
    if con.execute("SELECT count(*) FROM units").fetchall()[0][0] == 0:
        load_units(con)
    seed_targets(con)


def plans() -> list[dict]:
    """The plans' presets (reference/plans/plans.json): targets and task lists."""
    if not PLANS_JSON.exists():
        return []
    return json.loads(PLANS_JSON.read_text(encoding="utf-8"))


def seed_targets(con: duckdb.DuckDBPyConnection) -> None:
    """Copy the plans' presets into the store once."""
    if con.execute("SELECT count(*) FROM targets").fetchall()[0][0]:
        return
    rows = []
    for plan in plans():
        for t in plan.get("targets", []):
            rows.append((plan.get("unit_code"), t["kpi"], float(t["value"]), t.get("op", ">="),
                         t.get("deadline"), t.get("from"), plan.get("slug"), t.get("note")))
    if rows:
        con.executemany("INSERT INTO targets VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


def units_rows(path: Path = UNITS_JSON) -> list[tuple[str, str, str, str, str]]:
    """(code, name, full_name, level, province_code) for the 34 provinces and their communes."""
    rows = []
    for province in json.loads(path.read_text(encoding="utf-8")):
        rows.append((province["Code"], province["Name"], province["FullName"], "province", province["Code"]))
        for ward in province["Wards"]:
            rows.append((ward["Code"], ward["Name"], ward["FullName"], "commune", province["Code"]))
    return rows


def load_units(con: duckdb.DuckDBPyConnection) -> None:
    import polars as pl

    frame = pl.DataFrame(units_rows(), schema=["code", "name", "full_name", "level", "province_code"], orient="row")
    con.register("units_frame", frame)
    con.execute("INSERT INTO units SELECT * FROM units_frame")
    con.unregister("units_frame")


def query_pl(con: duckdb.DuckDBPyConnection, sql: str, params=None):
    """Run a query and return a polars DataFrame. (Through the Arrow C stream interface,
    `pl.DataFrame(relation)`, pyarrow would not be imported, ~0.1 s of a CLI run; DuckDB 2.0
    then prints "nanobind: leaked 27 instances" on every exit, so `.pl()` it stays.)"""
    return con.sql(sql, params=params).pl()
