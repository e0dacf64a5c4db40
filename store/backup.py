"""Backup and restore of the store.

    python -m store.backup create  --db PATH --out DIR
    python -m store.backup restore --from DIR --db PATH [--force]

A backup is DuckDB's `EXPORT DATABASE ... (FORMAT parquet)`: schema.sql, load.sql and one
Parquet file per table, plus our manifest.json (time, DuckDB version, rows per table).
Chosen over copying the .duckdb file after a CHECKPOINT because:
- it is a consistent snapshot taken inside one read transaction, so it can also be made
  from the running app's own connection (`create(cursor, out)`) while officers upload,
  where a file copy would need every writer stopped and the WAL checkpointed first;
- it does not depend on DuckDB's storage format, which changes between DuckDB versions: a
  backup restores into a newer DuckDB after an upgrade, a copied file may not open;
- Parquet (zstd) is smaller than the database file and readable by any tool (polars,
  pandas, another DuckDB) to audit or recover one table by hand.
Cost: restore rebuilds tables and indexes (seconds per million dossiers).

Both steps are atomic: a backup is written to DIR.partial and renamed to DIR when complete;
a restore imports into PATH.restoring, checks every table's row count against the
manifest, then replaces PATH in one rename, so a killed restore never leaves a half-filled
store. Restore refuses to overwrite a store that holds data (any upload, account, log...;
the reference units and targets every new store starts with do not count) unless --force.
The CLI needs the store to itself (DuckDB allows one writing process): stop the dashboard
first, or call create() with the app's connection.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from datetime import datetime
from pathlib import Path

import duckdb

from store import cli, migrations, sqlquote
from store import db as store

MANIFEST = "manifest.json"
SEEDED = {"units", "targets", "meta", "migrations"}  # filled by store.connect in every new store


class BackupError(Exception):
    """Vietnamese message for the officer or administrator."""


def _tables(con) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND schema_name = 'main' ORDER BY table_name"
    ).fetchall()]


def _counts(con) -> dict[str, int]:
    return {t: con.execute(f"SELECT count(*) FROM {sqlquote.identifier(t)}").fetchall()[0][0] for t in _tables(con)}


def _sql_text(path: Path) -> str:
    """`path` as a SQL literal (EXPORT/IMPORT DATABASE take no parameter): quotes doubled,
    control characters refused with a Vietnamese message."""
    try:
        return sqlquote.literal(path, "Đường dẫn bản sao lưu")
    except sqlquote.UnsafeSQLText as exc:
        raise BackupError(str(exc)) from None


def create(con: duckdb.DuckDBPyConnection, out: str | os.PathLike) -> dict:
    """Export the whole store to the new folder `out`; returns the manifest."""
    out = Path(out)
    _sql_text(out.with_name(out.name + ".partial"))  # refuse a bad path before touching the disk
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"Thư mục «{out}» đã có dữ liệu: hãy chọn một thư mục mới cho bản sao lưu.")
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    con.execute("BEGIN TRANSACTION")  # counts and export from the same snapshot
    try:
        counts = _counts(con)
        batches = con.execute("SELECT coalesce(max(batch_id), 0), count(*) FROM batches").fetchall()[0]
        applied = migrations.applied(con)  # the store's schema, by the migrations it has
        con.execute(f"EXPORT DATABASE {_sql_text(partial)} (FORMAT parquet, COMPRESSION zstd)")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        shutil.rmtree(partial, ignore_errors=True)
        raise
    manifest = {
        "created_at": datetime.now().isoformat(timespec="seconds"),
        "duckdb_version": duckdb.__version__,
        "migrations": applied,
        "tables": counts,
        "last_batch_id": batches[0],
        "batches": batches[1],
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    if out.exists():
        out.rmdir()
    partial.rename(out)
    return manifest


def read_manifest(source: str | os.PathLike) -> dict:
    source = Path(source)
    try:
        return json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BackupError(f"«{source}» không phải bản sao lưu hợp lệ (thiếu hoặc hỏng tệp {MANIFEST}).") from None


def user_data(db: Path) -> dict[str, int]:
    """Tables of an existing store that hold data beyond what every new store starts with."""
    con = _open(db)
    try:
        return {t: n for t, n in _counts(con).items() if n and t not in SEEDED}
    finally:
        con.close()


def _open(db: Path) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(db))
    except duckdb.Error as exc:
        raise BackupError(store.cannot_open_text(db, exc)) from None


def restore(source: str | os.PathLike, db: str | os.PathLike, force: bool = False) -> dict:
    """Replace the store at `db` with the backup in `source`; returns the manifest."""
    source, db = Path(source), Path(db)
    _sql_text(source)
    manifest = read_manifest(source)
    if db.exists():
        held = user_data(db)
        if held and not force:
            listed = ", ".join(f"{t} ({n} dòng)" for t, n in sorted(held.items()))
            raise BackupError(f"Kho dữ liệu «{db}» đang có dữ liệu ({listed}). Khôi phục sẽ ghi đè toàn bộ: "
                              "thêm --force nếu chắc chắn, hoặc chọn một tệp kho mới.")
    target = db.with_name(db.name + ".restoring")
    db.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (target, Path(str(target) + ".wal")):
        leftover.unlink(missing_ok=True)
    try:
        con = duckdb.connect(str(target))
        try:
            con.execute(f"IMPORT DATABASE {_sql_text(source)}")
            counts = _counts(con)
            wrong = {t: (counts.get(t), n) for t, n in manifest["tables"].items() if counts.get(t) != n}
            if wrong:
                raise BackupError(f"Bản sao lưu «{source}» không đầy đủ (số dòng khác với manifest: {wrong}); "
                                  "kho dữ liệu chưa bị thay đổi.")
            store.init_schema(con)  # tables added to the code since the backup
            con.execute("CHECKPOINT")
        finally:
            con.close()
        Path(str(db) + ".wal").unlink(missing_ok=True)
        os.replace(target, db)
    except duckdb.Error as exc:
        raise BackupError(f"Không khôi phục được từ «{source}»: {exc}. Kho dữ liệu chưa bị thay đổi.") from None
    finally:
        for leftover in (target, Path(str(target) + ".wal")):
            leftover.unlink(missing_ok=True)
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser("python -m store.backup", "Sao lưu và khôi phục kho dữ liệu KPI.")
    commands = parser.add_subparsers(dest="command", required=True, title="Lệnh", metavar="LỆNH")
    make = commands.add_parser("create", help="Sao lưu toàn bộ kho vào một thư mục mới")
    cli.add_db(make)
    make.add_argument("--out", required=True, type=Path, metavar="THƯ_MỤC", help="Thư mục mới chứa bản sao lưu")
    back = commands.add_parser("restore", help="Khôi phục kho từ một bản sao lưu")
    back.add_argument("--from", dest="source", required=True, type=Path, metavar="THƯ_MỤC", help="Thư mục bản sao lưu")
    cli.add_db(back, "Tệp kho dữ liệu DuckDB sẽ được thay thế (mặc định $KPI_DB, rồi data/kpi.duckdb)")
    back.add_argument("--force", action="store_true", help="Ghi đè cả khi kho đang có dữ liệu")
    args = parser.parse_args(argv)
    db = store.db_path(args.db)
    from store import remote

    server = remote.find(db)
    if server is not None:
        if args.command == "restore":  # replacing the store under a running server would lose its writes
            print("LỖI  Máy chủ bảng điều khiển đang dùng kho dữ liệu này: hãy dừng máy chủ rồi khôi phục.",
                  file=sys.stderr)
            return 1
        return _create_through_server(server, db, args.out)
    try:
        if args.command == "create":
            if not db.exists():
                raise BackupError(f"Không có kho dữ liệu «{db}».")
            con = _open(db)
            try:
                manifest = create(con, args.out)
            finally:
                con.close()
            print(f"Đã sao lưu «{db}» vào «{args.out}»: {_summary(manifest)}.")
        else:
            manifest = restore(args.source, db, force=args.force)
            print(f"Đã khôi phục «{db}» từ bản sao lưu lúc {manifest['created_at']}: {_summary(manifest)}.")
    except BackupError as exc:
        print(f"LỖI  {exc}", file=sys.stderr)
        return 1
    return 0


def _create_through_server(server, db: Path, out: Path) -> int:
    from store import remote

    body = remote.call(server, "POST", "/api/v1/backups", fields={"out": str(out.resolve())}, failure=1,
                       prefix="LỖI  ")
    if isinstance(body, int):
        return body
    print(f"Đã sao lưu «{db}» vào «{out}»: {_summary(json.loads(body))}.")
    return 0


def _summary(manifest: dict) -> str:
    tables = manifest["tables"]
    return (f"{tables.get('dossiers', 0):,} hồ sơ, {manifest['batches']:,} lần tải lên, "
            f"{len(tables)} bảng").replace(",", ".")


if __name__ == "__main__":
    sys.exit(cli.run(main))
