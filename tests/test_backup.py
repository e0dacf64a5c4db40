"""Backup and restore of the store (store/backup.py), through the real command line:
back up, load more, restore -> every KPI is what it was at backup time, and the store keeps
working (new loads, undo of loads made before the backup)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kpi.engine import compute
from kpi.periods import parse
from loaders.batches import undo_batch
from loaders.dossiers import load_dossier_file
from store import backup
from store import db as store

from .conftest import TODAY, db_state
from .test_crash_safety import write_export

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def kpis(db: Path) -> list[tuple]:
    con = store.connect(db)
    try:
        out = []
        for period in ("2025-09", "2025-Q3", "2025"):
            for unit, by in (("40", "commune"), ("16969", None)):
                out += [(period, v.unit_code, v.kpi, v.value, v.numerator, v.denominator)
                        for v in compute(con, parse(period), unit, by=by, today=TODAY)]
        return out
    finally:
        con.close()


def state(db: Path) -> dict:
    con = store.connect(db)
    try:
        return db_state(con)
    finally:
        con.close()


def test_backup_load_more_restore_gives_the_kpis_at_backup_time(tmp_path, fixtures):
    db, saved = tmp_path / "kpi.duckdb", tmp_path / "backup-2025-11"
    assert run("loaders", str(fixtures / "golden.csv"), "--db", str(db), "--province", "40").returncode == 0
    at_backup, state_at_backup = kpis(db), state(db)

    made = run("store.backup", "create", "--db", str(db), "--out", str(saved))
    assert made.returncode == 0, made.stderr
    assert "Đã sao lưu" in made.stdout and "10 hồ sơ" in made.stdout
    assert (saved / "manifest.json").exists() and (saved / "dossiers.parquet").exists()
    assert not saved.with_name(saved.name + ".partial").exists()

    more = run("loaders", str(fixtures / "golden_update.csv"), str(fixtures / "messy.csv"), "--db", str(db),
               "--province", "40")
    assert more.returncode == 0, more.stderr
    assert kpis(db) != at_backup
    newer = state(db)

    refused = run("store.backup", "restore", "--from", str(saved), "--db", str(db))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "đang có dữ liệu" in refused.stderr and "--force" in refused.stderr
    assert state(db) == newer                                   # refused: untouched

    restored = run("store.backup", "restore", "--from", str(saved), "--db", str(db), "--force")
    assert restored.returncode == 0, restored.stderr
    assert "Đã khôi phục" in restored.stdout
    assert kpis(db) == at_backup
    assert state(db) == state_at_backup                         # every row, ids and times included
    assert not list(tmp_path.glob("*.restoring*"))

    # The restored store keeps working: the next batch id follows the backed-up ones, and a
    # load made before the backup can still be undone.
    con = store.connect(db)
    try:
        result = load_dossier_file(con, fixtures / "golden_update.csv", province="40", today=TODAY)
        assert result.batch_id == 2 and result.replaced > 0
        undo_batch(con, result.batch_id)
        undo_batch(con, 1)
        assert con.execute("SELECT count(*) FROM dossiers").fetchall() == [(0,)]
    finally:
        con.close()


def test_restore_into_a_new_store_and_the_refusals(tmp_path, fixtures):
    db, saved = tmp_path / "kpi.duckdb", tmp_path / "saved"
    con = store.connect(db)
    load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY)
    backup.create(con, saved)
    con.close()

    fresh = tmp_path / "elsewhere" / "new.duckdb"                # a new path: no --force needed
    assert run("store.backup", "restore", "--from", str(saved), "--db", str(fresh)).returncode == 0
    assert kpis(fresh) == kpis(db)
    empty = tmp_path / "empty.duckdb"                           # a store with only the reference data
    store.connect(empty).close()
    assert run("store.backup", "restore", "--from", str(saved), "--db", str(empty)).returncode == 0

    again = run("store.backup", "create", "--db", str(db), "--out", str(saved))
    assert again.returncode == 1 and "đã có dữ liệu" in again.stderr
    not_backup = run("store.backup", "restore", "--from", str(tmp_path / "elsewhere"), "--db", str(db), "--force")
    assert not_backup.returncode == 1 and "không phải bản sao lưu" in not_backup.stderr
    missing = run("store.backup", "create", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "x"))
    assert missing.returncode == 1 and "Không có kho dữ liệu" in missing.stderr

    # A damaged backup (a table file missing) is refused and the store stays as it was.
    broken = tmp_path / "broken"
    import shutil

    shutil.copytree(saved, broken)
    (broken / "dossiers.parquet").unlink()
    before = state(db)
    damaged = run("store.backup", "restore", "--from", str(broken), "--db", str(db), "--force")
    assert damaged.returncode == 1 and "Traceback" not in damaged.stderr and "chưa bị thay đổi" in damaged.stderr
    assert state(db) == before


def test_store_in_use_by_another_process(tmp_path, fixtures):
    db = tmp_path / "kpi.duckdb"
    store.connect(db).close()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('ready', flush=True); time.sleep(60)", str(db)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        made = run("store.backup", "create", "--db", str(db), "--out", str(tmp_path / "b"))
        assert made.returncode == 1 and "đang được một tiến trình khác sử dụng" in made.stderr
        assert "Traceback" not in made.stderr
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.slow
def test_backup_from_the_app_connection_while_an_officer_uploads(tmp_path, fixtures):
    """create() on a cursor of the running app's connection is a consistent snapshot: the
    upload going on meanwhile is in the backup whole or not at all."""
    db = tmp_path / "kpi.duckdb"
    con = store.connect(db)
    load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY)
    export = write_export(tmp_path / "big.csv", 100_000)
    upload = threading.Thread(target=lambda: load_dossier_file(con.cursor(), export, province="40", today=TODAY))
    upload.start()
    time.sleep(0.3)
    manifest = backup.create(con.cursor(), tmp_path / "during")
    upload.join()
    con.close()
    assert manifest["tables"]["dossiers"] in (10, 10 + 100_000)
    copy = tmp_path / "copy.duckdb"
    backup.restore(tmp_path / "during", copy)
    check = store.connect(copy)
    try:
        received = check.execute("SELECT sum(received) FROM fact_received").fetchall()[0][0]
        dossiers = check.execute("SELECT count(*) FROM dossiers").fetchall()[0][0]
        assert received == dossiers == manifest["tables"]["dossiers"]   # facts and rows from one moment
    finally:
        check.close()
