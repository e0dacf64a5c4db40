"""The SQL source against REAL PostgreSQL and MariaDB servers (scripts/test_services.sh):
real connections, real column types, a fresh `ho_so` table per test.

Fixture rows are in Hà Nội (01): Ba Đình 00004 and Ngọc Hà 00008 (leading zeros), plus
one row with an unknown commune code. KPI figures below are counted by hand from them.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from kpi.engine import compute
from kpi.periods import parse
from loaders import batches, sql_source
from loaders.files import LoadError
from loaders.sql_source import SqlSource, config_from_dict, pull

from .conftest import TODAY, db_state

ROOT = Path(__file__).resolve().parent.parent
SERVERS = {"pg": "KPI_TEST_PG_URL", "mysql": "KPI_TEST_MYSQL_URL"}

DDL = {
    "pg": """CREATE TABLE {t} (
        ma_ho_so VARCHAR(40) PRIMARY KEY, ma_xa VARCHAR(5) NOT NULL, ma_tthc VARCHAR(20), ten_tthc VARCHAR(300),
        linh_vuc VARCHAR(200), kenh_nop SMALLINT, ngay_tiep_nhan TIMESTAMP NOT NULL, han_xu_ly DATE,
        ngay_co_ket_qua TIMESTAMP NULL, trang_thai VARCHAR(100), toan_trinh BOOLEAN, so_hoa BOOLEAN,
        ket_qua_dien_tu SMALLINT, tai_su_dung VARCHAR(10), updated_at TIMESTAMP NOT NULL DEFAULT now())""",
    "mysql": """CREATE TABLE {t} (
        ma_ho_so VARCHAR(40) PRIMARY KEY, ma_xa VARCHAR(5) NOT NULL, ma_tthc VARCHAR(20), ten_tthc VARCHAR(300),
        linh_vuc VARCHAR(200), kenh_nop SMALLINT, ngay_tiep_nhan DATETIME NOT NULL, han_xu_ly DATE,
        ngay_co_ket_qua DATETIME NULL, trang_thai VARCHAR(100), toan_trinh TINYINT(1), so_hoa TINYINT(1),
        ket_qua_dien_tu SMALLINT, tai_su_dung VARCHAR(10),
        updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
        KEY ix_updated (updated_at)) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci""",
}
COLUMNS = ("ma_ho_so", "ma_xa", "ma_tthc", "ten_tthc", "linh_vuc", "kenh_nop", "ngay_tiep_nhan", "han_xu_ly",
           "ngay_co_ket_qua", "trang_thai", "toan_trinh", "so_hoa", "ket_qua_dien_tu", "tai_su_dung", "updated_at")
KS, HT = ("1.001193", "Đăng ký khai sinh", "Hộ tịch"), ("1.004227", "Cấp giấy chứng nhận quyền sử dụng đất", "Đất đai")
DONE, OPEN = "Đã trả kết quả", "Đang xử lý"


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def row(id_, xa, proc, kenh, recv, due, fin, status, tt, sh, kq, tsd, upd) -> dict:
    values = (id_, xa, *proc, kenh, dt(recv), date.fromisoformat(due), fin and dt(fin), status, tt, sh, kq, tsd, dt(upd))
    return dict(zip(COLUMNS, values, strict=True))


FIRST = [
    row("HS-0001", "00004", KS, 2, "2025-09-02 08:15", "2025-09-10", "2025-09-08 10:00", DONE, True, True, 1, "Có",
        "2025-11-01 08:01"),
    row("HS-0002", "00004", KS, 2, "2025-09-05 09:00", "2025-09-15", "2025-09-20 16:30", DONE + " (quá hạn)", True,
        True, 0, "Không", "2025-11-01 08:02"),
    row("HS-0003", "00004", HT, 1, "2025-09-10 14:00", "2025-09-25", None, OPEN, False, True, 0, "Không",
        "2025-11-01 08:03"),
    row("HS-BAD", "99999", KS, 2, "2025-09-03 10:00", "2025-09-12", None, OPEN, True, True, 0, "Không",
        "2025-11-01 08:04"),
    row("HS-0005", "00008", HT, 2, "2025-09-15 10:00", "2025-09-30", "2025-09-29 11:00", DONE + " 📨", True, True, 1,
        "Có", "2025-11-01 08:05"),
    row("HS-0006", "00008", KS, 2, "2025-10-01 08:00", "2025-10-10", None, OPEN, True, False, 0, None,
        "2025-11-01 08:06"),
    # the newest row of the first pull: its update below moves the watermark boundary
    row("HS-0004", "00008", HT, 3, "2025-09-12 07:45", "2025-10-05", None, OPEN, False, False, 0, "Không",
        "2025-11-01 08:09"),
]
NEW = row("HS-0007", "00004", KS, 2, "2025-09-30 16:45", "2025-10-15", None, OPEN, True, True, 0, "Có",
          "2025-11-10 09:05")
LATE = row("HS-0008", "00008", HT, 1, "2025-10-20 08:00", "2025-11-05", "2025-10-25 14:00", DONE, False, True, 0,
           "Không", "2025-11-10 09:05")  # committed after pull 3 with the watermark's very timestamp

KPIS = ("received", "online_submission_rate", "full_online_rate", "digitisation_rate", "data_reuse_rate",
        "e_result_rate", "on_time_rate", "overdue_open")
# (numerator, denominator) per KPI for Hà Nội (01), counted by hand from the rows above.
AFTER_FIRST = {
    "2025-09": {"received": (5, None), "online_submission_rate": (3, 5), "full_online_rate": (3, 5),
                "digitisation_rate": (4, 5), "data_reuse_rate": (2, 5), "e_result_rate": (2, 3),
                "on_time_rate": (2, 3), "overdue_open": (1, None)},
    "2025-10": {"received": (1, None), "online_submission_rate": (1, 1), "full_online_rate": (1, 1),
                "digitisation_rate": (0, 1), "data_reuse_rate": (0, 1), "e_result_rate": (None, None),
                "on_time_rate": (None, None), "overdue_open": (3, None)},  # nothing finished in October
}
# HS-0003 finished 02/10 (late), HS-0004 finished 03/10 (on time), HS-0007 received 30/9.
AFTER_SECOND = {
    "2025-09": {**AFTER_FIRST["2025-09"], "received": (6, None), "online_submission_rate": (4, 6),
                "full_online_rate": (4, 6), "digitisation_rate": (5, 6), "data_reuse_rate": (3, 6)},
    "2025-10": {**AFTER_FIRST["2025-10"], "e_result_rate": (2, 2), "on_time_rate": (1, 2), "overdue_open": (2, None)},
}
AFTER_LATE = {
    "2025-09": AFTER_SECOND["2025-09"],
    "2025-10": {"received": (2, None), "online_submission_rate": (1, 2), "full_online_rate": (1, 2),
                "digitisation_rate": (1, 2), "data_reuse_rate": (0, 2), "e_result_rate": (2, 3),
                "on_time_rate": (2, 3), "overdue_open": (2, None)},
}


def server_url(env_name: str) -> str:
    url = os.environ.get(env_name)
    if not url:
        message = (f"{env_name} is not set: start the servers with `bash scripts/test_services.sh start` and "
                   f'`eval "$(bash scripts/test_services.sh env)"` (scripts/test_all.sh does both)')
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return url


@dataclass
class Remote:
    kind: str
    url: str
    engine: sa.Engine
    table: str

    def insert(self, *rows: dict) -> None:
        columns = ", ".join(COLUMNS)
        with self.engine.begin() as c:
            c.execute(sa.text(f"INSERT INTO {self.table} ({columns}) VALUES ({', '.join(':' + k for k in COLUMNS)})"),
                      list(rows))

    def finish(self, dossier_id: str, finished: str, updated: str) -> None:
        with self.engine.begin() as c:
            c.execute(sa.text(f"""UPDATE {self.table} SET ngay_co_ket_qua = :fin, trang_thai = :st,
                                  ket_qua_dien_tu = 1, updated_at = :upd WHERE ma_ho_so = :id"""),
                      {"fin": dt(finished), "st": DONE, "upd": dt(updated), "id": dossier_id})

    def source(self, **overrides) -> SqlSource:
        query = (f"SELECT {', '.join(COLUMNS)} FROM {self.table} WHERE updated_at >= :since"
                 " AND ma_ho_so LIKE 'HS-%' ORDER BY updated_at, ma_ho_so")  # a literal % must survive the driver
        settings = {"name": f"Một cửa Hà Nội ({self.kind})", "url": self.url, "query": query,
                    "watermark": "updated_at", "province": "01", "mapping": {"ma_xa": "unit_code"}, "batch_size": 3}
        return SqlSource(**{**settings, **overrides})


@pytest.fixture(params=sorted(SERVERS))
def remote(request):
    url = server_url(SERVERS[request.param])
    engine = sa.create_engine(url, poolclass=NullPool)
    table = f"ho_so_{uuid.uuid4().hex[:10]}"
    with engine.begin() as c:
        c.exec_driver_sql(DDL[request.param].format(t=table))
    try:
        yield Remote(request.param, url, engine, table)
    finally:
        with engine.begin() as c:
            c.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        engine.dispose()


def figures(con, period: str) -> dict:
    values = compute(con, parse(period), "01", today=TODAY, kpis=list(KPIS))
    return {v.kpi: (v.numerator, v.denominator) for v in values}


def check(con, expected: dict) -> None:
    for period, want in expected.items():
        assert figures(con, period) == want, period


def sql_state(con) -> list:
    return con.execute("SELECT * FROM sql_sources ORDER BY name").fetchall() + \
        con.execute("SELECT * FROM sql_pulls ORDER BY batch_id").fetchall()


# ------------------------------------------------------------------ real servers

@pytest.mark.services
def test_first_pull_types_text_and_rejected_row(con, remote):
    remote.insert(*FIRST)
    result = pull(con, remote.source(), today=TODAY)
    assert (result.kind, result.file) == ("sql", f"SQL: Một cửa Hà Nội ({remote.kind})")
    assert (result.rows_read, result.loaded, result.replaced, result.duplicates) == (7, 6, 0, 0)
    assert result.rejected == [{"row": 4, "column": "ma_xa",
                                "reason": "Cột «ma_xa»: không có đơn vị mã «99999» thuộc Thành phố Hà Nội"}]
    raw = json.loads(con.execute("SELECT raw FROM rejected_rows").fetchall()[0][0])
    assert raw["ma_ho_so"] == "HS-BAD" and raw["ngay_tiep_nhan"] == "2025-09-03 10:00:00"
    assert (result.since, result.watermark) == ("1900-01-01T00:00:00", "2025-11-01T08:09:00")
    check(con, AFTER_FIRST)
    stored = {r[0]: r[1:] for r in con.execute(
        """SELECT dossier_id, unit_code, procedure_name, field, channel, received_at, due_date, finished_at, status,
                  fully_online, e_result, data_reused FROM dossiers""").fetchall()}
    assert stored["HS-0005"] == ("00008", HT[1], "Đất đai", "online", dt("2025-09-15 10:00"), date(2025, 9, 30),
                                 dt("2025-09-29 11:00"), "Đã trả kết quả 📨", True, True, True)
    assert stored["HS-0004"][3] == "post" and stored["HS-0004"][6] is None  # SMALLINT 3 = BCCI; NULL = still open
    assert stored["HS-0006"][-1] is False  # NULL "tái sử dụng" reads as "không", like an empty cell
    assert stored["HS-0001"][:3] == ("00004", "Đăng ký khai sinh", "Hộ tịch")
    assert con.execute("SELECT kind, rows_read, rejected FROM batches").fetchall() == [("sql", 7, 1)]


@pytest.mark.services
def test_incremental_pulls_bring_only_changes_without_double_counting(con, remote):
    source = remote.source()
    remote.insert(*FIRST)
    pull(con, source, today=TODAY)
    remote.finish("HS-0003", "2025-10-02 15:00", "2025-11-10 09:00")
    remote.finish("HS-0004", "2025-10-03 09:30", "2025-11-10 09:00")
    remote.insert(NEW)

    second = pull(con, source, today=TODAY)
    assert (second.rows_read, second.loaded, second.replaced, second.rejected) == (3, 3, 2, [])
    assert (second.since, second.watermark) == ("2025-11-01T08:09:00", "2025-11-10T09:05:00")
    check(con, AFTER_SECOND)
    assert con.execute("SELECT count(*) FROM dossiers").fetchall() == [(7,)]

    # No change: `>=` reads the boundary row again; it replaces itself, figures stay.
    third = pull(con, source, today=TODAY)
    assert (third.rows_read, third.loaded, third.replaced) == (1, 1, 1)
    assert third.watermark == second.watermark
    check(con, AFTER_SECOND)

    # A row committed later with the watermark's very timestamp is not missed (`>` would miss it).
    remote.insert(LATE)
    fourth = pull(con, source, today=TODAY)
    assert (fourth.rows_read, fourth.loaded, fourth.replaced) == (2, 2, 1)
    check(con, AFTER_LATE)
    batches_before = con.execute("SELECT count(*) FROM batches").fetchall()

    # `>` instead of `>=`: nothing after the watermark, so no batch at all (and a warning
    # that the query changed); --full re-reads everything, replacing, never adding.
    nothing = pull(con, remote.source(query=source.query.replace(">=", ">")), today=TODAY)
    assert (nothing.rows_read, nothing.batch_id) == (0, None) and "đã thay đổi" in nothing.warnings[0]
    assert con.execute("SELECT count(*) FROM batches").fetchall() == batches_before
    everything = pull(con, source, today=TODAY, full=True)
    assert (everything.rows_read, everything.loaded, everything.replaced, len(everything.rejected)) == (9, 8, 8, 1)
    check(con, AFTER_LATE)

    url = sa.engine.make_url(remote.url)
    public = f"{url.drivername}://{url.username}@{url.host}:{url.port}/{url.database}"
    state = con.execute("SELECT name, url, watermark_column, last_watermark, last_batch_id FROM sql_sources").fetchall()
    assert state == [(source.name, public + ("?charset=utf8mb4" if remote.kind == "mysql" else ""),
                      "updated_at", "datetime:2025-11-10T09:05:00", everything.batch_id)]


@pytest.mark.services
def test_undo_restores_first_pull_and_next_pull_brings_changes_back(con, remote):
    source = remote.source()
    remote.insert(*FIRST)
    pull(con, source, today=TODAY)
    after_first = {p: figures(con, p) for p in AFTER_FIRST}
    remote.finish("HS-0003", "2025-10-02 15:00", "2025-11-10 09:00")
    remote.finish("HS-0004", "2025-10-03 09:30", "2025-11-10 09:00")
    remote.insert(NEW)
    second = pull(con, source, today=TODAY)
    check(con, AFTER_SECOND)

    assert batches.undo_batch(con, second.batch_id, user="test") == {"removed": 3, "restored": 2}
    assert {p: figures(con, p) for p in AFTER_FIRST} == after_first
    check(con, AFTER_FIRST)

    again = pull(con, source, today=TODAY)  # rewound to the undone pull's start
    assert (again.rows_read, again.loaded, again.replaced) == (3, 3, 2)
    assert again.since == "2025-11-01T08:09:00" and "hoàn tác" in again.warnings[0]
    check(con, AFTER_SECOND)
    assert pull(con, source, today=TODAY).rows_read == 1  # back to the normal boundary re-read


@pytest.mark.services
def test_failures_give_vietnamese_errors_and_leave_the_store_unchanged(con, remote):
    remote.insert(*FIRST)
    pull(con, remote.source(), today=TODAY)
    before, sql_before = db_state(con), sql_state(con)
    url = sa.engine.make_url(remote.url)
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    cases = {
        "máy chủ không phản hồi hoặc từ chối kết nối": remote.source(
            url=url.set(port=closed_port).render_as_string(False), connect_timeout=3),
        "sai tên đăng nhập hoặc mật khẩu": remote.source(url=url.set(password="sai-mat-khau").render_as_string(False)),
        "CSDL từ chối câu truy vấn": remote.source(
            query=f"SELECT ma_ho_so, ma_xa, ngay_tiep_nhan, updated_at FROM {remote.table} WHERE cot_khong_co >= :since"),
        "thiếu cột bắt buộc: Mã hồ sơ": remote.source(
            query=f"SELECT ma_xa, ngay_tiep_nhan, updated_at FROM {remote.table} WHERE updated_at >= :since"),
        "không trả về cột mốc": remote.source(
            query=f"SELECT ma_ho_so, ma_xa, ngay_tiep_nhan FROM {remote.table} WHERE updated_at >= :since"),
        "phải lọc theo mốc bằng tham số :since": remote.source(query=f"SELECT * FROM {remote.table}"),
    }
    messages = {}
    for needle, source in cases.items():
        with pytest.raises(LoadError) as err:
            pull(con, source, today=TODAY)
        messages[needle] = str(err.value)
        assert needle in messages[needle] and source.name in messages[needle], messages[needle]
        assert db_state(con) == before and sql_state(con) == sql_before, needle
    assert "sai-mat-khau" not in messages["sai tên đăng nhập hoặc mật khẩu"]

    # The pull only reads: a statement that writes is refused and the source keeps its rows.
    with pytest.raises(LoadError, match="CSDL từ chối câu truy vấn"):
        pull(con, remote.source(query=f"DELETE FROM {remote.table} WHERE updated_at >= :since"), today=TODAY)
    with remote.engine.connect() as c:
        assert c.execute(sa.text(f"SELECT count(*) FROM {remote.table}")).scalar() == len(FIRST)
    assert db_state(con) == before and sql_state(con) == sql_before


@pytest.mark.services
def test_cli_pull_with_password_from_env(remote, tmp_path):
    remote.insert(*FIRST)
    url = sa.engine.make_url(remote.url)
    source = remote.source()
    config = tmp_path / "motcua.toml"
    config.write_text(
        f'name = "{source.name}"\nurl = "{sql_source.without_password(url)}"\n'
        f'password_env = "KPI_SQL_TEST_PASSWORD"\nprovince = "01"\nwatermark = "updated_at"\n'
        f'query = """\n{source.query}\n"""\n[mapping]\nma_xa = "unit_code"\n', encoding="utf-8")
    db = tmp_path / "kpi.duckdb"
    env = {**os.environ, "KPI_SQL_TEST_PASSWORD": url.password}

    def run(*args, environ=env):
        return subprocess.run([sys.executable, "-m", "loaders.sql_source", *args], cwd=ROOT, env=environ,
                              capture_output=True, text=True, timeout=120)

    first = run("pull", "--config", str(config), "--db", str(db), "--format", "json")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert {k: summary[k] for k in ("file", "kind", "rows_read", "loaded", "replaced", "duplicates")} == {
        "file": f"SQL: {source.name}", "kind": "sql", "rows_read": 7, "loaded": 6, "replaced": 0, "duplicates": 0}
    assert summary["rejected"][0]["row"] == 4 and summary["watermark"] == "2025-11-01T08:09:00"

    text = run("pull", "--config", str(config), "--db", str(db))
    assert text.returncode == 0 and "đọc 1 dòng, nạp 1, thay thế 1" in text.stdout
    assert "mốc: 08:09:00 01/11/2025 → 08:09:00 01/11/2025" in text.stdout
    no_password = run("pull", "--config", str(config), "--db", str(db),
                      environ={k: v for k, v in env.items() if k != "KPI_SQL_TEST_PASSWORD"})
    assert no_password.returncode == 1 and "KPI_SQL_TEST_PASSWORD" in no_password.stdout
    status = run("status", "--db", str(db), "--format", "json")
    stored = json.loads(status.stdout)[0]
    assert stored["last_watermark"] == "datetime:2025-11-01T08:09:00"
    assert stored["url"].startswith(f"{url.drivername}://{url.username}@127.0.0.1:")  # no password kept


# ------------------------------------------------------------------ no server needed

def test_config_file_and_errors(tmp_path):
    config = tmp_path / "nguon.toml"
    config.write_text('name = "A"\nurl = "sqlite://"\nwatermark = "updated_at"\ninitial_watermark = "2025-01-01"\n'
                      'query = "SELECT * FROM ho_so WHERE updated_at >= :since"\n[mapping]\n"Số HS" = "dossier_id"\n',
                      encoding="utf-8")
    source = sql_source.load_config(config)
    assert source.mapping == {"Số HS": "dossier_id"} and source.initial_watermark == datetime(2025, 1, 1)
    as_json = tmp_path / "nguon.json"
    as_json.write_text(json.dumps({"name": "B", "url": "sqlite://", "watermark": "id", "initial_watermark": 0,
                                   "query": "SELECT * FROM ho_so WHERE id >= :since"}), encoding="utf-8")
    assert sql_source.load_config(as_json).initial_watermark == 0
    example = sql_source.load_config(ROOT / "sample_data" / "sql_source.example.toml")
    assert example.password_env and "password" not in example.url and ":since" in example.query
    with pytest.raises(LoadError, match="thiếu khóa bắt buộc: query"):
        config_from_dict({"name": "A", "url": "sqlite://", "watermark": "x"})
    with pytest.raises(LoadError, match="khóa không hợp lệ: watermark_column"):
        config_from_dict({"name": "A", "url": "sqlite://", "query": "q", "watermark": "x", "watermark_column": "x"})
    with pytest.raises(LoadError, match="trường không hợp lệ trong mapping"):
        pull(None, config_from_dict({"name": "A", "url": "sqlite://", "watermark": "x", "mapping": {"a": "ma_ho_so"},
                                     "query": "SELECT 1 WHERE x >= :since"}))


def test_values_become_text_the_dossier_parsers_read():
    rows = [(Decimal("2.50"), 2.0, True, datetime(2025, 9, 1, 1, 0, tzinfo=UTC), date(2025, 9, 1), None,
             uuid.UUID(int=1), b"\xc4\x90\xc3\xa3"),
            (Decimal("3"), 1.5, False, None, None, None, uuid.UUID(int=2), None)]
    headers = ["dec", "flt", "bool", "tz", "day", "null", "uuid", "bytes"]
    typed = sql_source._chunk(headers, rows)
    text = typed.select([sql_source._text_column(typed[h]) for h in headers])
    assert text.rows() == [
        ("2.5", "2", "true", "2025-09-01 08:00:00", "2025-09-01", None, "00000000-0000-0000-0000-000000000001", "Đã"),
        ("3", "1.5", "false", None, None, None, "00000000-0000-0000-0000-000000000002", None)]
    assert text.schema == pl.Schema({h: pl.String for h in headers})
    assert sql_source.decode_mark(sql_source.encode_mark(typed["tz"].max())) == datetime(2025, 9, 1, 1, tzinfo=UTC)
