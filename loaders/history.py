"""Upload history, the rejected rows of an upload (to fix and re-upload) and saved column
mappings ("presets") that officers reuse next month."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import duckdb
import polars as pl

from kpi.text import fold
from loaders import batches
from loaders.sources import LABELS
from store import accounts
from store.db import query_pl

KIND_LABELS = LABELS  # each kind's Vietnamese label, declared with the kind in loaders/sources.py

PRESETS_TABLE = """CREATE TABLE IF NOT EXISTS mapping_presets (
    header_key VARCHAR PRIMARY KEY, name VARCHAR, mapping VARCHAR, saved_at TIMESTAMP, saved_by VARCHAR)"""


# Who loaded a batch when no account did: the command line, a scheduled pull, the sample data.
SYSTEM_LOADER = "Hệ thống (dòng lệnh hoặc tác vụ tự động)"


def history(con: duckdb.DuckDBPyConnection, province: str | None = None, unit: str | None = None) -> pl.DataFrame:
    """Uploads touching a unit (or a province, or all), newest first."""
    where, params = "TRUE", {}
    if unit:
        where = "b.batch_id IN (SELECT batch_id FROM batch_units WHERE unit_code = $unit)"
        params["unit"] = unit
    elif province:
        where = ("(b.province_code = $province OR b.batch_id IN (SELECT bu.batch_id FROM batch_units bu "
                 "JOIN units u ON u.code = bu.unit_code WHERE u.province_code = $province))")
        params["province"] = province
    return query_pl(con, f"""
        SELECT b.batch_id, b.kind, b.file_name, b.loaded_at, b.loaded_by,
               CASE WHEN b.loaded_by IS NULL THEN $system
                    ELSE coalesce(nullif(trim(u.full_name), ''), b.loaded_by) END AS loaded_by_name,
               b.period, b.rows_read, b.loaded,
               b.replaced, b.duplicates, b.rejected, b.status, b.undone_at, b.undone_by
        FROM batches b LEFT JOIN users u ON u.username = b.loaded_by
        WHERE {where} ORDER BY b.batch_id DESC""", params | {"system": SYSTEM_LOADER})


def visible_history(con, user, unit: str | None = None, limit: int = 200) -> list[dict]:
    """Uploads `user` may see, newest first (the API's history): those that wrote a unit the
    user may see, were loaded for a province they may see, or that they loaded themselves.
    `unit` narrows to one unit (the caller checks it is visible)."""
    frame = history(con, unit=unit)
    visible = accounts.visible_units(con, user)
    if visible is not None:
        rows = con.execute("""SELECT b.batch_id FROM batches b LEFT JOIN batch_units u ON u.batch_id = b.batch_id
                              WHERE list_contains($units, u.unit_code) OR list_contains($units, b.province_code)
                                 OR b.loaded_by = $me""",
                           {"units": sorted(visible), "me": user.username}).fetchall()
        frame = frame.filter(pl.col("batch_id").is_in([r[0] for r in rows]))
    return frame.head(limit).to_dicts()


def undoable(con: duckdb.DuckDBPyConnection, user, batch_ids: list[int]) -> list[int]:
    """Of `batch_ids` (active uploads), those `user` may undo, by the rule the undo itself
    enforces (batches.may_undo), so a picker offers no batch the undo would refuse (an
    officer: no province-wide upload, no one else's upload that wrote no unit)."""
    if user is None or not batch_ids:
        return list(batch_ids)
    rows = con.execute(
        """SELECT b.batch_id, b.loaded_by, list(DISTINCT u.unit_code) FILTER (WHERE u.unit_code IS NOT NULL)
           FROM batches b LEFT JOIN batch_units u ON u.batch_id = b.batch_id
           WHERE list_contains(?, b.batch_id) GROUP BY b.batch_id, b.loaded_by""", [list(batch_ids)]).fetchall()
    batch = {b: (loaded_by, units or []) for b, loaded_by, units in rows}
    writable: dict[str, bool] = {}

    def may_write(code: str) -> bool:
        if code not in writable:
            writable[code] = accounts.can_write(con, user, code)
        return writable[code]

    return [b for b in batch_ids if b in batch and batches.may_undo(user, batch[b][1], batch[b][0], may_write)]


def describe(row: dict) -> str:
    """An upload as the undo confirmation names it: number, kind, file, time and counts."""
    from kpi.format import number

    when = row["loaded_at"].strftime("%H:%M %d/%m/%Y") if row.get("loaded_at") else "không rõ thời gian"
    file = f"tệp «{row['file_name']}»" if row.get("file_name") else "không có tên tệp"
    return (f"#{row['batch_id']} · {KIND_LABELS.get(row['kind'], row['kind'])} · {file} "
            f"· tải lúc {when} · {number(row['loaded'] or 0)} dòng nạp, {number(row['replaced'] or 0)} thay thế, "
            f"{number(row['rejected'] or 0)} từ chối")


def rejected_frame(con: duckdb.DuckDBPyConnection, batch_id: int) -> pl.DataFrame:
    """The rejected rows of an upload with their original cells, row number and reason:
    the file an officer fixes and uploads again."""
    rows = con.execute(
        "SELECT row_no, column_name, reason, raw FROM rejected_rows WHERE batch_id = ? ORDER BY row_no", [batch_id]
    ).fetchall()
    if not rows:
        return pl.DataFrame(schema={"Dòng": pl.Int64, "Cột lỗi": pl.String, "Lý do": pl.String})
    cells = [json.loads(raw) if raw else {} for *_rest, raw in rows]
    headers: list[str] = []
    for cell in cells:
        headers.extend(h for h in cell if h not in headers)
    data = {"Dòng": [r[0] for r in rows], "Cột lỗi": [r[1] for r in rows], "Lý do": [r[2] for r in rows]}
    for header in headers:
        data[header] = [None if c.get(header) is None else str(c.get(header)) for c in cells]
    return pl.DataFrame(data)


def header_key(headers: list[str]) -> str:
    return hashlib.sha256("|".join(sorted(fold(h) for h in headers)).encode()).hexdigest()[:16]


def save_preset(con, headers: list[str], mapping: dict[str, str], name: str, user: str | None) -> None:
    """Save a mapping for this header set (audited). Only accounts that may upload (officers,
    admins) save one; `user` None or not an account of the store: a system job."""
    con.execute(PRESETS_TABLE)
    accounts.ensure_schema(con)
    role = con.execute("SELECT role FROM users WHERE username = ?", [user]).fetchall() if user else []
    if role and role[0][0] not in accounts.WRITER_ROLES:
        raise accounts.AccessDenied(f"Tài khoản «{user}» ({accounts.ROLES.get(role[0][0], role[0][0])}) "
                                    "không được lưu mẫu ánh xạ cột.")
    con.execute("INSERT OR REPLACE INTO mapping_presets VALUES (?, ?, ?, ?, ?)",
                [header_key(headers), name, json.dumps(mapping, ensure_ascii=False), datetime.now(), user])
    accounts.log(con, user, "save_preset", f"{name}: {json.dumps(mapping, ensure_ascii=False)[:500]}")


def find_preset(con, headers: list[str], user: str | None = None) -> dict[str, str] | None:
    """The saved mapping for this header set. For `user`, only one they saved themselves or
    one saved by an admin or a system job: one commune's officer does not set how another
    commune's files are read."""
    con.execute(PRESETS_TABLE)
    accounts.ensure_schema(con)
    rows = con.execute(
        """SELECT p.mapping FROM mapping_presets p LEFT JOIN users u ON u.username = p.saved_by
           WHERE p.header_key = $key AND ($user IS NULL OR p.saved_by IS NULL OR p.saved_by = $user
                                          OR u.role = 'admin' OR u.username IS NULL)""",
        {"key": header_key(headers), "user": user}).fetchall()
    return json.loads(rows[0][0]) if rows else None
