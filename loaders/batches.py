"""Load batches: every upload is one batch that can be traced and undone.

The current version of a dossier lives in `dossiers`; a version replaced by a later
upload moves to `dossier_history` with `superseded_by`, so undoing that later upload
puts the earlier version back. Monthly facts are recomputed for exactly the
(unit, month) cells a change touched.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import duckdb

from store import accounts
from store import db as store
from store.facts import refresh_facts


def undo_function(kind: str) -> Callable[[duckdb.DuckDBPyConnection, int], dict]:
    """The undo of a kind of batch, as loaders/sources.py declares it; UndoError for a kind
    nothing can undo. The registry is imported here, when an undo needs it, not at import
    (it imports every loader, and they import this module): an undo removes every kind's
    rows whatever this process has imported."""
    from loaders.sources import KIND

    if kind not in KIND:
        raise UndoError(f"Không hoàn tác được lần tải loại «{kind}»: hệ thống không biết loại dữ liệu này.")
    return KIND[kind].undo_batch


def earlier_upload_warning(con, digest: str | None, batch_id: int | None = None) -> list[str]:
    """The same file (by hash) is already loaded and active: say that it replaces, not adds."""
    if not digest:
        return []
    earlier = con.execute(
        "SELECT batch_id, loaded_at FROM batches WHERE file_hash = ? AND status = 'active' AND batch_id <> ? "
        "ORDER BY batch_id DESC LIMIT 1", [digest, batch_id if batch_id is not None else -1]).fetchall()
    if not earlier:
        return []
    earlier_id, loaded_at = earlier[0]
    return [f"Tệp này đã được tải lên lúc {loaded_at:%H:%M %d/%m/%Y} (lần tải #{earlier_id}); "
            "số liệu được thay thế, không bị cộng trùng."]


def open_batch(con, *, kind: str, file_name: str | None, file_hash: str | None, province: str | None,
               user: str | None, period: str | None = None) -> int:
    batch_id = con.execute("SELECT nextval('batch_seq')").fetchall()[0][0]
    con.execute(
        """INSERT INTO batches (batch_id, kind, file_name, file_hash, loaded_at, loaded_by, province_code,
                                period, status)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active')""",
        [batch_id, kind, file_name, file_hash, datetime.now(), user, province, period],
    )
    return batch_id


def close_batch(con, batch_id: int, **counts: int) -> None:
    """Record the counts; inside the load's transaction, so the access check below rolls
    the whole load back when the acting user may not write for one of its units."""
    assignments = ", ".join(f"{k} = ?" for k in counts)
    con.execute(f"UPDATE batches SET {assignments} WHERE batch_id = ?", [*counts.values(), batch_id])
    accounts.check_write(con, batch_unit_codes(con, batch_id), "tải dữ liệu lên")
    user = accounts.current_user()
    accounts.log(con, user.username if user else None, "upload", f"#{batch_id} {counts}")


def batch_unit_codes(con, batch_id: int) -> list[str]:
    return [r[0] for r in con.execute("SELECT DISTINCT unit_code FROM batch_units WHERE batch_id = ?",
                                      [batch_id]).fetchall()]


def _mark_touched_from(con, source: str) -> None:
    con.execute(
        f"""INSERT INTO touched
            SELECT DISTINCT unit_code, province_code, date_trunc('month', received_date)::DATE FROM {source}
            UNION SELECT DISTINCT unit_code, province_code, date_trunc('month', finished_date)::DATE
            FROM {source} WHERE finished_date IS NOT NULL"""
    )


# Ids matched per pass when a load replaces earlier versions: the join's hash table of a
# pass must fit DuckDB's memory limit (store.connect: 1 GB by default) or it spills to disk,
# 2-5x slower (re-uploading 20M rows: 39 s in one pass, 18 s in four).
REPLACE_PASS_ROWS = 5_000_000


def replace_dossiers(con: duckdb.DuckDBPyConnection, batch_id: int, *, id_label: str = "Mã hồ sơ",
                     raw: tuple[str, dict] | None = None) -> int:
    """The batch's rows are in `dossiers` already (inserted in the caller's transaction):
    move the earlier versions of the same dossiers to history and refresh
    the facts they touch. Returns how many were replaced.

    A dossier stored for another unit moves only when the acting user may write that unit
    too (no acting user: a system job, allowed); otherwise its row of this batch is taken
    out and kept in rejected_rows (column `id_label`, cells from `raw`, an SQL expression
    over the row `d` with its parameters), and nothing of it is replaced."""
    b = int(batch_id)
    con.execute("CREATE OR REPLACE TEMP TABLE touched (unit_code VARCHAR, province_code VARCHAR, month DATE)")
    _mark_touched_from(con, f"(SELECT * FROM dossiers WHERE batch_id = {b})")
    replaced = 0
    # First load into an empty store: nothing to replace (skips a join of every new id).
    if con.execute("SELECT EXISTS (SELECT 1 FROM dossiers WHERE batch_id <> ?)", [b]).fetchall()[0][0]:
        new_rows = con.execute(f"SELECT count(*) FROM dossiers WHERE batch_id = {b}").fetchall()[0][0]
        passes = max(1, -(-new_rows // REPLACE_PASS_ROWS))
        for part in _id_parts(passes):
            replaced += con.execute(
                f"""INSERT INTO dossier_history SELECT d.*, {b} FROM dossiers d
                    WHERE d.batch_id <> {b} {part} AND d.dossier_id IN
                    (SELECT dossier_id FROM dossiers WHERE batch_id = {b} {part})"""
            ).fetchall()[0][0]
        actor = accounts.current_user()
        if replaced and actor is not None and not (actor.role == "admin" and actor.unit_code is None):
            replaced -= _refuse_moves(con, b, id_label, raw)  # a national admin may write every unit
        if replaced:
            for part in _id_parts(passes):
                con.execute(f"""DELETE FROM dossiers WHERE batch_id <> {b} {part} AND dossier_id IN
                                (SELECT dossier_id FROM dossier_history WHERE superseded_by = {b} {part})""")
    if replaced:
        _mark_touched_from(con, f"(SELECT * FROM dossier_history WHERE superseded_by = {b})")
    refresh_facts(con)
    return replaced


# Why a row that would move a dossier away from a unit the uploader may not write is refused
# (printf placeholders: column, dossier id, its unit, account, the file's unit); the write path
# and the upload preview (`refused_moves`) both say it with this text.
MOVE_REFUSED = ("Cột «%s»: mã hồ sơ «%s» đã thuộc %s; tài khoản «%s» không được ghi cho đơn vị đó "
                "nên không thể chuyển hồ sơ sang %s")


def refused_moves(con, rows, id_label: str) -> dict[str, str]:
    """For the upload preview: of `rows` (a polars frame with dossier_id and unit_code, the
    valid rows of a file), the dossier ids the write path would refuse for the acting user
    (`_refuse_moves`), each with its reason. Empty for a system job."""
    user = accounts.current_user()
    if user is None or rows.is_empty():
        return {}
    con.register("preview_ids", rows.select("dossier_id", "unit_code"))
    try:
        moves = con.execute(
            """SELECT p.dossier_id, d.unit_code, coalesce(o.full_name, d.unit_code), coalesce(n.full_name, p.unit_code)
               FROM preview_ids p JOIN dossiers d ON d.dossier_id = p.dossier_id AND d.unit_code <> p.unit_code
               LEFT JOIN units o ON o.code = d.unit_code LEFT JOIN units n ON n.code = p.unit_code""").fetchall()
    finally:
        con.unregister("preview_ids")
    writable: dict[str, bool] = {}
    refused = {}
    for dossier_id, owner, owner_name, unit_name in moves:
        if owner not in writable:
            writable[owner] = accounts.can_write(con, user, owner)
        if not writable[owner]:
            refused[dossier_id] = MOVE_REFUSED % (id_label, dossier_id[:80], owner_name, user.username, unit_name)
    return refused


def _refuse_moves(con, b: int, id_label: str, raw: tuple[str, dict] | None) -> int:
    """Rows of batch `b` whose dossier is stored for a unit the acting user may not write
    (see replace_dossiers): rejected with their reason, their earlier versions left in
    place. Only the replaced ids whose unit differs are looked at. Returns how many."""
    user = accounts.current_user()
    moved = f"""FROM dossier_history h JOIN dossiers d ON d.dossier_id = h.dossier_id AND d.batch_id = {b}
                WHERE h.superseded_by = {b} AND h.unit_code <> d.unit_code"""
    owners = [r[0] for r in con.execute(f"SELECT DISTINCT h.unit_code {moved}").fetchall()]
    denied = [u for u in owners if not accounts.can_write(con, user, u)]
    if not denied:
        return 0
    con.execute(f"""CREATE OR REPLACE TEMP TABLE refused AS SELECT d.dossier_id, h.unit_code AS owner
                    {moved} AND list_contains($denied, h.unit_code)""", {"denied": denied})
    raw_sql, raw_params = raw or ("NULL", {})
    con.execute(
        f"""INSERT INTO rejected_rows
            SELECT {b}, d.source_row, $label,
                   printf($reason, $label, left(d.dossier_id, 80), coalesce(o.full_name, r.owner), $user,
                          coalesce(n.full_name, d.unit_code)),
                   {raw_sql}
            FROM refused r JOIN dossiers d ON d.batch_id = {b} AND d.dossier_id = r.dossier_id
            LEFT JOIN units o ON o.code = r.owner LEFT JOIN units n ON n.code = d.unit_code
            ORDER BY d.source_row""",
        {"label": id_label, "user": user.username, "reason": MOVE_REFUSED, **raw_params})
    count = con.execute("SELECT count(*) FROM refused").fetchall()[0][0]
    con.execute(f"DELETE FROM dossier_history WHERE superseded_by = {b} AND dossier_id IN (SELECT dossier_id FROM refused)")
    con.execute(f"DELETE FROM dossiers WHERE batch_id = {b} AND dossier_id IN (SELECT dossier_id FROM refused)")
    con.execute("DROP TABLE refused")
    return count


def _id_parts(passes: int) -> list[str]:
    """SQL conditions splitting dossiers by id into `passes` disjoint parts (one: no split)."""
    if passes == 1:
        return [""]
    return [f"AND hash(dossier_id) % {passes} = {p}" for p in range(passes)]


class UndoError(Exception):
    pass


def may_undo(user, units: list[str], loaded_by: str | None, can_write: Callable[[str], bool]) -> bool:
    """Whether `user` may undo a batch that wrote `units` and was loaded by `loaded_by`, the
    rule `undo_batch` enforces and the upload page's picker offers by: `can_write` (the user's
    accounts.can_write) for every unit; a batch that wrote no unit, an admin, or the officer who
    loaded it. No user: a system job, always."""
    if user is None:
        return True
    if not units:
        return user.role == "admin" or (user.role == "officer" and loaded_by == user.username)
    return all(can_write(code) for code in units)


def undo_batch(con: duckdb.DuckDBPyConnection, batch_id: int, user: str | None = None) -> dict:
    """Undo a whole upload: its dossiers go, the versions it replaced come back."""
    with store.WRITE_LOCK:  # one writer at a time in this process; the status is checked under it
        return _undo_batch(con, batch_id, user)


def _undo_batch(con: duckdb.DuckDBPyConnection, batch_id: int, user: str | None) -> dict:
    row = con.execute("SELECT kind, status, loaded_by FROM batches WHERE batch_id = ?", [batch_id]).fetchall()
    if not row:
        raise UndoError(f"Không có lần tải lên #{batch_id}.")
    kind, status, loaded_by = row[0]
    if status != "active":
        raise UndoError(f"Lần tải lên #{batch_id} đã được hoàn tác trước đó.")
    units = batch_unit_codes(con, batch_id)
    actor = accounts.current_user()
    if not may_undo(actor, units, loaded_by, lambda code: accounts.can_write(con, actor, code)):
        accounts.check_write(con, units, "hoàn tác lần tải lên")  # names the units the account may not write
        # Else a batch that wrote no unit (every row rejected): an officer undoes only their own.
        raise accounts.AccessDenied(f"Tài khoản «{actor.username}» không được hoàn tác lần tải lên #{batch_id} "
                                    "của người khác.")
    undo = undo_function(kind)
    con.execute("BEGIN TRANSACTION")
    try:
        counts = {"removed": 0, "restored": 0, **(undo(con, batch_id) or {})}
        actor = accounts.current_user()
        user = user or (actor.username if actor else None)
        con.execute(
            "UPDATE batches SET status = 'undone', undone_at = ?, undone_by = ? WHERE batch_id = ?",
            [datetime.now(), user, batch_id],
        )
        accounts.log(con, user, "undo", f"#{batch_id} {counts}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts


def undo_dossiers(con, batch_id: int) -> dict:
    """The undo of a dossier upload (loaders/sources.py): its dossiers go, the versions it
    replaced come back, the procedures it added go when unused, the facts are recomputed."""
    con.execute("CREATE OR REPLACE TEMP TABLE touched (unit_code VARCHAR, province_code VARCHAR, month DATE)")
    con.execute("CREATE OR REPLACE TEMP TABLE gone AS SELECT * FROM dossiers WHERE batch_id = ?", [batch_id])
    _mark_touched_from(con, "gone")
    removed = con.execute("SELECT count(*) FROM gone").fetchall()[0][0]
    con.execute("DELETE FROM dossiers WHERE batch_id = ?", [batch_id])
    # The versions this batch replaced, still current for the dossiers it wrote last.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE back AS
           SELECT * EXCLUDE (superseded_by) FROM dossier_history h
           WHERE h.superseded_by = ? AND h.dossier_id IN (SELECT dossier_id FROM gone)""",
        [batch_id],
    )
    _mark_touched_from(con, "back")
    restored = con.execute("SELECT count(*) FROM back").fetchall()[0][0]
    con.execute("INSERT INTO dossiers SELECT * FROM back")
    con.execute(
        "DELETE FROM dossier_history WHERE superseded_by = ? AND dossier_id IN (SELECT dossier_id FROM back)",
        [batch_id],
    )
    # Versions of this batch already replaced by a later one: drop them, and let what they
    # had replaced point at that later batch instead.
    con.execute(
        """UPDATE dossier_history h SET superseded_by = mine.superseded_by
           FROM (SELECT dossier_id, superseded_by FROM dossier_history WHERE batch_id = ?) mine
           WHERE h.superseded_by = ? AND h.dossier_id = mine.dossier_id""",
        [batch_id, batch_id],
    )
    con.execute("DELETE FROM dossier_history WHERE batch_id = ?", [batch_id])
    _undo_procedures(con, batch_id)
    con.execute("DROP TABLE gone")
    con.execute("DROP TABLE back")
    refresh_facts(con)
    return {"removed": removed, "restored": restored}


def add_procedures(con, batch_id: int) -> None:
    """The procedures a batch's dossiers name that the store does not know yet are added,
    recorded as this batch's (procedures_added); a known procedure is never renamed by a
    file (its rows keep the file's name and field in dossiers.procedure_name/field)."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE proc_new AS
           SELECT procedure_code, any_value(procedure_name) AS procedure_name, any_value(field) AS field
           FROM dossiers WHERE batch_id = ? AND procedure_code IS NOT NULL
             AND procedure_code NOT IN (SELECT procedure_code FROM procedures)
           GROUP BY procedure_code""", [batch_id])
    con.execute("INSERT INTO procedures SELECT * FROM proc_new")
    con.execute("INSERT INTO procedures_added SELECT procedure_code, ?::INTEGER FROM proc_new", [batch_id])
    con.execute("DROP TABLE proc_new")


def _undo_procedures(con, batch_id: int) -> None:
    """After the batch's rows are gone (temp table `gone` holds them): the procedures added
    by uploads that it added or used are removed when no dossier names them any more, else
    kept as the earliest remaining upload that names them gave them."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE proc_undo AS SELECT procedure_code FROM procedures_added
           WHERE batch_id = ? OR procedure_code IN (SELECT procedure_code FROM gone)""", [batch_id])
    if not con.execute("SELECT count(*) FROM proc_undo").fetchall()[0][0]:
        con.execute("DROP TABLE proc_undo")
        return
    con.execute("DELETE FROM procedures WHERE procedure_code IN (SELECT procedure_code FROM proc_undo)")
    con.execute("DELETE FROM procedures_added WHERE procedure_code IN (SELECT procedure_code FROM proc_undo)")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE proc_kept AS
           SELECT procedure_code, min(batch_id) AS batch_id,
                  arg_min(procedure_name, batch_id) AS procedure_name, arg_min(field, batch_id) AS field
           FROM (SELECT procedure_code, procedure_name, field, batch_id FROM dossiers
                 UNION ALL SELECT procedure_code, procedure_name, field, batch_id FROM dossier_history)
           WHERE procedure_code IN (SELECT procedure_code FROM proc_undo)
           GROUP BY procedure_code""")
    con.execute("INSERT INTO procedures SELECT procedure_code, procedure_name, field FROM proc_kept")
    con.execute("INSERT INTO procedures_added SELECT procedure_code, batch_id FROM proc_kept")
    con.execute("DROP TABLE proc_kept")
    con.execute("DROP TABLE proc_undo")
