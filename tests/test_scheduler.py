"""Scheduled pulls (service/scheduler.py): schedules are checked before they are saved; a
run pulls from the REAL PostgreSQL test server and is recorded; a failing source is retried
with backoff, reported in Vietnamese, and never holds up another source."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta

import pytest

from service.scheduler import RETRIES, ScheduleError, Scheduler, config_files, parse_cron, save
from store import accounts, jobs
from store import db as store

from .test_sql_source import FIRST, Remote, server_url

TODAY = date(2025, 11, 15)


def write_config(folder, file_name: str, **settings) -> None:
    folder.mkdir(exist_ok=True)
    (folder / file_name).write_text(json.dumps(settings, ensure_ascii=False), encoding="utf-8")


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "kpi.duckdb"
    store.connect(path).close()
    return path


def test_cron_expressions_are_checked():
    assert parse_cron("30 1 * * *")
    assert parse_cron("0 */6 * * 1-5")
    for bad in ("", "* * * *", "61 * * * *", "hàng ngày", "* * * * * *"):
        with pytest.raises(ScheduleError):
            parse_cron(bad)


def test_a_schedule_names_a_config_inside_the_sources_folder(db, tmp_path):
    folder = tmp_path / "sources"
    write_config(folder, "motcua.json", name="Một cửa", url="postgresql+psycopg://u@127.0.0.1:1/x",
                 query="SELECT * FROM t WHERE updated_at >= :since", watermark="updated_at")
    (folder / "ghi_chu.txt").write_text("không phải cấu hình")
    assert config_files(folder) == ["motcua.json"]
    con = store.shared(db).cursor()
    admin = accounts.User("admin", "Quản trị", "admin", None)
    for name, cron in (("../kpi.duckdb", "30 1 * * *"), ("ghi_chu.txt", "30 1 * * *"), ("motcua.json", "mỗi ngày")):
        with pytest.raises(ScheduleError):
            save(con, admin, folder, name, cron)
    with pytest.raises(accounts.AccessDenied):
        save(con, accounts.User("canbo", "Cán bộ", "officer", "16969"), folder, "motcua.json", "30 1 * * *")
    assert save(con, admin, folder, "motcua.json", " 30  1 * * * ") == "Một cửa"
    assert [(s["name"], s["config_file"], s["cron"], s["enabled"]) for s in jobs.schedules(con)] == [
        ("Một cửa", "motcua.json", "30 1 * * *", True)]
    assert con.execute("SELECT detail FROM audit_log WHERE action = 'schedule'").fetchall() == [
        ("Một cửa: «30 1 * * *» bật",)]


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.mark.services
def test_a_failing_source_is_retried_with_backoff_and_the_other_still_pulls(db, tmp_path):
    import uuid

    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    from .test_sql_source import DDL

    url = server_url("KPI_TEST_PG_URL")
    engine = sa.create_engine(url, poolclass=NullPool)
    table = f"ho_so_{uuid.uuid4().hex[:10]}"
    with engine.begin() as c:
        c.exec_driver_sql(DDL["pg"].format(t=table))
    remote = Remote("pg", url, engine, table)
    remote.insert(*FIRST)
    folder = tmp_path / "sources"
    good = remote.source()
    write_config(folder, "tot.json", name="Nguồn tốt", url=url, query=good.query, watermark="updated_at",
                 province="01", mapping={"ma_xa": "unit_code"}, batch_size=3)
    write_config(folder, "hong.json", name="Nguồn hỏng", url="postgresql+psycopg://kpi@127.0.0.1:1/khong_co",
                 query="SELECT * FROM t WHERE updated_at >= :since", watermark="updated_at", connect_timeout=2)
    con = store.shared(db).cursor()
    for file in ("hong.json", "tot.json"):
        save(con, None, folder, file, "0 3 * * *")
    scheduler = Scheduler(db, folder, today=lambda: TODAY, retry_base=timedelta(seconds=0.3)).start()
    try:
        scheduler.run_now("Nguồn hỏng")
        scheduler.run_now("Nguồn tốt")
        wait_for(lambda: len([r for r in jobs.runs(con) if r["name"] == "Nguồn hỏng"
                              and r["status"] == "failed"]) == RETRIES + 1)
        wait_for(lambda: any(r["name"] == "Nguồn tốt" and r["status"] == "ok" for r in jobs.runs(con)))
        time.sleep(1.5)  # no fifth attempt: after RETRIES retries it waits for its next scheduled time
    finally:
        scheduler.stop()
        with engine.begin() as c:
            c.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        engine.dispose()
    failed = sorted((r for r in jobs.runs(con) if r["name"] == "Nguồn hỏng"), key=lambda r: r["attempt"])
    assert [r["attempt"] for r in failed] == [1, 2, 3, 4]
    assert all("Nguồn hỏng" in r["error"] or "kết nối" in r["error"].lower() for r in failed), failed[0]["error"]
    assert [r["next_try_at"] is not None for r in failed] == [True, True, True, False]
    gaps = [(b["started_at"] - a["started_at"]).total_seconds() for a, b in zip(failed, failed[1:], strict=False)]
    assert gaps[1] > gaps[0] * 1.5 and gaps[2] > gaps[1] * 1.5, gaps   # 0.3 s, 0.6 s, 1.2 s and the connect time
    [ok] = [r for r in jobs.runs(con) if r["name"] == "Nguồn tốt"]
    assert (ok["rows_read"], ok["loaded"], ok["rejected"]) == (len(FIRST), len(FIRST) - 1, 1)  # HS-BAD: unknown commune
    assert con.execute("SELECT count(*) FROM dossiers").fetchall()[0][0] == len(FIRST) - 1


def test_a_run_left_running_by_a_killed_server_is_marked_interrupted(db):
    con = store.shared(db).cursor()
    run_id = jobs.start_run(con, "pull", "Nguồn")
    assert jobs.interrupt_running(con) == 1
    assert [(r["run_id"], r["status"]) for r in jobs.runs(con)] == [(run_id, "interrupted")]
