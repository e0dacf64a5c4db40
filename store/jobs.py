"""What the server does by itself, recorded in the store: SQL-source schedules set by an admin,
every scheduled or inbox run (time, rows, rejected, error), and the inbox files already seen
(by content digest, so the same file dropped twice is recognised).

The server's scheduler and inbox watcher (service/) write these; the admin page and the API
read them. Times are local wall-clock, like the rest of the store.
"""

from __future__ import annotations

from datetime import datetime

from store import accounts

SCHEMA = """
CREATE TABLE IF NOT EXISTS source_schedules (
    name VARCHAR PRIMARY KEY,            -- the SQL source's name (its config file's stem)
    config_file VARCHAR NOT NULL,        -- file name inside the sources folder
    cron VARCHAR NOT NULL,               -- 5 fields: minute hour day month weekday
    enabled BOOLEAN NOT NULL, updated_at TIMESTAMP NOT NULL, updated_by VARCHAR);
CREATE SEQUENCE IF NOT EXISTS job_run_ids;
CREATE TABLE IF NOT EXISTS job_runs (
    run_id BIGINT PRIMARY KEY, kind VARCHAR NOT NULL,   -- 'pull' | 'inbox'
    name VARCHAR NOT NULL, attempt INTEGER NOT NULL, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP,
    status VARCHAR NOT NULL,             -- running | ok | failed | interrupted
    rows_read BIGINT, loaded BIGINT, rejected BIGINT, batch_id INTEGER, error VARCHAR, next_try_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS inbox_files (
    digest VARCHAR PRIMARY KEY, file_name VARCHAR NOT NULL, unit_code VARCHAR NOT NULL,
    seen_at TIMESTAMP NOT NULL, batch_id INTEGER, status VARCHAR NOT NULL, message VARCHAR);
"""

STATUS_LABELS = {"running": "Đang chạy", "ok": "Thành công", "failed": "Lỗi", "interrupted": "Bị ngắt (máy chủ dừng)"}


def ensure_schema(con) -> None:
    con.execute(SCHEMA)


def set_schedule(con, by: accounts.User | None, name: str, config_file: str, cron: str, enabled: bool = True) -> None:
    if by is not None and by.role != "admin":
        raise accounts.AccessDenied("Chỉ quản trị viên được đặt lịch kéo dữ liệu.")
    con.execute("INSERT OR REPLACE INTO source_schedules VALUES (?, ?, ?, ?, ?, ?)",
                [name, config_file, cron, bool(enabled), datetime.now(), by.username if by else None])
    accounts.log(con, by.username if by else None, "schedule",
                 f"{name}: «{cron}» {'bật' if enabled else 'tắt'}")


def delete_schedule(con, by: accounts.User | None, name: str) -> None:
    if by is not None and by.role != "admin":
        raise accounts.AccessDenied("Chỉ quản trị viên được đặt lịch kéo dữ liệu.")
    con.execute("DELETE FROM source_schedules WHERE name = ?", [name])
    accounts.log(con, by.username if by else None, "schedule", f"{name}: xóa lịch")


def schedules(con) -> list[dict]:
    rows = con.execute("SELECT name, config_file, cron, enabled, updated_at, updated_by FROM source_schedules "
                       "ORDER BY name").fetchall()
    return [dict(zip(("name", "config_file", "cron", "enabled", "updated_at", "updated_by"), r, strict=True))
            for r in rows]


def start_run(con, kind: str, name: str, attempt: int = 1) -> int:
    run_id = con.execute("SELECT nextval('job_run_ids')").fetchall()[0][0]
    con.execute("INSERT INTO job_runs (run_id, kind, name, attempt, started_at, status) VALUES (?, ?, ?, ?, ?, 'running')",
                [run_id, kind, name, attempt, datetime.now()])
    return run_id


def finish_run(con, run_id: int, status: str, *, rows_read: int | None = None, loaded: int | None = None,
               rejected: int | None = None, batch_id: int | None = None, error: str | None = None,
               next_try_at: datetime | None = None) -> None:
    con.execute("""UPDATE job_runs SET finished_at = ?, status = ?, rows_read = ?, loaded = ?, rejected = ?,
                   batch_id = ?, error = ?, next_try_at = ? WHERE run_id = ?""",
                [datetime.now(), status, rows_read, loaded, rejected, batch_id, error, next_try_at, run_id])


def interrupt_running(con) -> int:
    """Runs left 'running' by a server that died: marked interrupted (their batch, if any,
    was one transaction and either committed or not; the next pull brings what is missing)."""
    count = con.execute("SELECT count(*) FROM job_runs WHERE status = 'running'").fetchall()[0][0]
    con.execute("UPDATE job_runs SET status = 'interrupted', finished_at = ? WHERE status = 'running'",
                [datetime.now()])
    return count


def runs(con, limit: int = 200, kind: str | None = None) -> list[dict]:
    keys = ("run_id", "kind", "name", "attempt", "started_at", "finished_at", "status", "rows_read", "loaded",
            "rejected", "batch_id", "error", "next_try_at")
    rows = con.execute(f"SELECT {', '.join(keys)} FROM job_runs WHERE $kind IS NULL OR kind = $kind "
                       "ORDER BY run_id DESC LIMIT $limit", {"kind": kind, "limit": int(limit)}).fetchall()
    return [dict(zip(keys, r, strict=True)) for r in rows]


def inbox_seen(con, digest: str) -> dict | None:
    rows = con.execute("SELECT file_name, unit_code, seen_at, batch_id, status, message FROM inbox_files "
                       "WHERE digest = ?", [digest]).fetchall()
    keys = ("file_name", "unit_code", "seen_at", "batch_id", "status", "message")
    return dict(zip(keys, rows[0], strict=True)) if rows else None


def record_inbox(con, digest: str, file_name: str, unit_code: str, batch_id: int | None, status: str,
                 message: str) -> None:
    con.execute("INSERT OR REPLACE INTO inbox_files VALUES (?, ?, ?, ?, ?, ?, ?)",
                [digest, file_name, unit_code, datetime.now(), batch_id, status, message])
