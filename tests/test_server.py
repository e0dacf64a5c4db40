"""The always-on server, for real: `python -m service` (what `make run` starts) on 127.0.0.1,
with the REAL PostgreSQL test server as a scheduled SQL source.

1. Every door at once: page sessions over the websocket while two units upload through the
   API, the scheduler pulls from PostgreSQL, an inbox file arrives and `python -m kpi` /
   `python -m loaders` run on the same store; afterwards the store equals loading the same
   inputs one after another, and no page raised.
2. The CLIs print the same through the server as on the file alone.
3. SIGKILL during an API upload and during a scheduled pull: after a restart the store is as
   before that batch, and the next pull brings what was missed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from bench.ws_session import Session, free_port
from kpi.engine import compute
from kpi.periods import parse
from loaders.dossiers import load_dossier_file
from loaders.sql_source import load_config, pull
from service.scheduler import save as save_schedule
from store import accounts, api_tokens, remote
from store import db as store

from .test_crash_safety import write_export
from .test_sql_source import DDL, FIRST, Remote, server_url

pytestmark = [pytest.mark.services, pytest.mark.slow]
RUN_URL = "/api/v1/sources/" + urllib.parse.quote("Một cửa Hà Nội") + "/run"
ROOT = Path(__file__).resolve().parent.parent
TODAY = "2025-11-15"
START_SECONDS = 120


class Server:
    """`python -m service` on a free port of 127.0.0.1, its log in the test's folder."""

    running: list[Server] = []  # killed after each test if a failed assertion left one up

    def __init__(self, db: Path, folder: Path, **env: str):
        self.db, self.port = db, free_port()
        self.log = (folder / f"server-{self.port}.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service", "--server.headless", "true", "--server.port", str(self.port),
             "--server.address", "127.0.0.1"],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
            env=os.environ | {"KPI_DB": str(db), "KPI_TODAY": TODAY, **env})
        Server.running.append(self)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "the server exited"
            self.link = remote.find(db)
            if self.link is not None:
                return
            time.sleep(0.3)
        self.proc.kill()
        raise AssertionError("the server did not announce itself")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, method: str, path: str, token: str | None = None, **kwargs) -> tuple[int, object]:
        server = self.link if token is None else remote.Server(self.link.url, token)
        status, _, body = remote.request(server, method, path, timeout=300, **kwargs)
        return status, json.loads(body) if body else None

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.log.close()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=60)
        self.log.close()


@pytest.fixture(autouse=True)
def _no_server_left():
    yield
    while Server.running:
        server = Server.running.pop()
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait(timeout=60)


@pytest.fixture
def pg(tmp_path):
    url = server_url("KPI_TEST_PG_URL")
    engine = sa.create_engine(url, poolclass=NullPool)
    table = f"ho_so_{uuid.uuid4().hex[:10]}"
    with engine.begin() as c:
        c.exec_driver_sql(DDL["pg"].format(t=table))
    source = Remote("pg", url, engine, table)
    folder = tmp_path / "sources"
    folder.mkdir()
    query = source.source().query
    (folder / "motcua.json").write_text(json.dumps({
        "name": "Một cửa Hà Nội", "url": url, "query": query, "watermark": "updated_at", "province": "01",
        "mapping": {"ma_xa": "unit_code"}, "batch_size": 5000}, ensure_ascii=False), encoding="utf-8")
    try:
        yield source, folder
    finally:
        with engine.begin() as c:
            c.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        engine.dispose()


def prepare(db: Path, fixtures: Path, sources: Path | None = None, cron: str = "* * * * *") -> dict[str, str]:
    con = store.connect(db)
    load_dossier_file(con, fixtures / "golden.csv", province="40", today=date.fromisoformat(TODAY))
    accounts.create_user(con, "admin", "matkhau-quantri", "admin", None, "Quản trị viên")
    accounts.create_user(con, "lanhdao", "matkhau-lanhdao", "leader", "40", "Lãnh đạo tỉnh")
    for commune in ("16969", "17611"):
        accounts.create_user(con, f"canbo{commune}", "matkhau-canbo", "officer", commune, f"Cán bộ {commune}")
    tokens = {c: api_tokens.issue(con, None, f"canbo{c}", "phần mềm một cửa", 30) for c in ("16969", "17611")}
    if sources is not None:
        save_schedule(con, None, sources, "motcua.json", cron)
    con.close()
    return tokens


def kpi_counts(con, province: str) -> list[tuple]:
    out = []
    for period in ("2025-Q3", "2025-10", "2025"):
        out += sorted((v.unit_code, v.kpi, v.numerator, v.denominator)
                      for v in compute(con, parse(period), province, by="commune", today=date.fromisoformat(TODAY)))
    return out


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def pulls(server: Server) -> list[dict]:
    status, answer = server.api("GET", "/api/v1/sources")
    assert status == 200, answer
    return [r for r in answer["runs"] if r["kind"] == "pull"]


def test_every_door_at_once_on_the_real_server(tmp_path, fixtures, pg):
    source, sources = pg
    source.insert(*FIRST)
    db = tmp_path / "kpi.duckdb"
    tokens = prepare(db, fixtures, sources)
    files = {c: write_export(tmp_path / f"api_{c}.csv", 3000, prefix=f"API{c}", units=[c]) for c in tokens}
    inbox_file = write_export(tmp_path / "inbox_16969.csv", 2000, prefix="INB", units=["16969"])
    cli_file = write_export(tmp_path / "cli.csv", 2500, prefix="CLI", units=["16969", "17611"])
    inbox = tmp_path / "inbox"
    server = Server(db, tmp_path, KPI_SOURCES=str(sources), KPI_INBOX=str(inbox), KPI_INBOX_POLL="0.5")
    errors: list[str] = []
    page_runs: list[tuple] = []
    done = threading.Event()
    try:
        def viewer(i: int) -> None:
            try:
                session = Session(server.port)
                session.login("lanhdao", "matkhau-lanhdao")
                pages = [("", "tinh=40&ky=2025-Q3"), ("chi-tiet", "tinh=40&ky=2025-10&don_vi=16969"),
                         ("ban-do", "tinh=40&ky=2025-09"), ("nhiem-vu", "tinh=40")]
                k = 0
                while not done.is_set() or k < len(pages):
                    page, query = pages[k % len(pages)]
                    status, elements = session.run(page, query)
                    page_runs.append((i, page, status, [e.message for kind, e in elements if kind == "exception"]))
                    k += 1
                session.close()
            except Exception as exc:  # noqa: BLE001 - every failure is a finding
                errors.append(f"viewer {i}: {exc!r}")

        def api_upload(commune: str) -> None:
            try:
                status, answer = server.api("POST", "/api/v1/uploads", tokens[commune], fields={},
                                            files=[files[commune]])
                assert status == 200 and answer[0]["loaded"] == 3000, answer
            except Exception as exc:  # noqa: BLE001
                errors.append(f"upload {commune}: {exc!r}")

        threads = [threading.Thread(target=viewer, args=(i,)) for i in range(3)]
        threads += [threading.Thread(target=api_upload, args=(c,)) for c in tokens]
        for t in threads:
            t.start()
        (inbox / "16969").mkdir(parents=True)
        (inbox / "16969" / inbox_file.name).write_bytes(inbox_file.read_bytes())
        env = os.environ | {"KPI_TODAY": TODAY}
        figures = subprocess.run([sys.executable, "-m", "kpi", "--db", str(db), "--period", "2025-Q3", "--unit", "40",
                                  "--format", "json"], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
        load = subprocess.run([sys.executable, "-m", "loaders", str(cli_file), "--db", str(db), "--province", "40",
                               "--format", "json"], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
        assert figures.returncode == 0 and json.loads(figures.stdout)[0]["unit_code"] == "40", figures.stderr
        assert load.returncode == 0 and json.loads(load.stdout)["loaded"] == 2500, load.stderr + load.stdout
        wait_for(lambda: any(r["status"] == "ok" for r in pulls(server)), 150, "the scheduled pull")
        wait_for(lambda: list((inbox / "processed" / "16969").glob("*_inbox_16969.csv")), 60, "the inbox")
        done.set()
        for t in threads:
            t.join(timeout=300)
        [ok] = [r for r in pulls(server) if r["status"] == "ok"][:1]
        assert (ok["rows_read"], ok["loaded"]) == (len(FIRST), len(FIRST) - 1)
    finally:
        done.set()
        server.stop()
    assert not errors, errors
    assert not [r for r in page_runs if r[2] != 0 or r[3]], [r for r in page_runs if r[2] != 0 or r[3]][:3]
    assert {i for i, *_ in page_runs} == {0, 1, 2}
    assert not remote.link_file(db).exists()       # removed by the server when it stopped
    log = (tmp_path / f"server-{server.port}.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]

    reference = store.connect(":memory:")
    for file in (fixtures / "golden.csv", *files.values(), inbox_file, cli_file):
        load_dossier_file(reference, file, province="40", today=date.fromisoformat(TODAY))
    pull(reference, load_config(sources / "motcua.json"), today=date.fromisoformat(TODAY))
    con = store.connect(db, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM dossiers").fetchall() == reference.execute(
            "SELECT count(*) FROM dossiers").fetchall()
        for province in ("40", "01"):
            assert kpi_counts(con, province) == kpi_counts(reference, province), province
    finally:
        con.close()
        reference.close()


def test_the_clis_print_the_same_through_the_server(tmp_path, fixtures):
    db = tmp_path / "kpi.duckdb"
    prepare(db, fixtures)
    env = os.environ | {"KPI_TODAY": TODAY, "KPI_DB": str(db)}
    day = ["--today", TODAY]
    commands = [["kpi", "--period", "2025-Q3", "--unit", "40", "--by", "commune", "--format", "json", *day],
                ["kpi", "--period", "2025-09", "--unit", "16969", "--format", "table", *day],
                ["kpi", "--period", "2025", "--format", "csv", *day],
                ["kpi", "--period", "2025-13", *day], ["kpi", "--period", "2025-09", "--unit", "99999", *day],
                ["reports", "send", "--unit", "40", "--period", "2025-10", "--to", "lanhdao@tinh.vn", "--dry-run",
                 "--now", "2025-11-15T08:00"],
                ["reports", "send", "--unit", "40", "--period", "2025-13", "--dry-run"],
                ["reports", "reminders", "--dry-run", "--now", "2025-11-15T08:00"]]

    def run_all() -> list[tuple]:
        return [(r.returncode, r.stdout, r.stderr) for r in (
            subprocess.run([sys.executable, "-m", *c], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=300) for c in commands)]

    alone = run_all()
    lake = [sys.executable, "-m", "store.lake", "export", "--out"]
    lake_alone = subprocess.run([*lake, str(tmp_path / "lake_a")], cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=300)
    upload = write_export(tmp_path / "mot.csv", 500, prefix="ONE", units=["16969"])
    server = Server(db, tmp_path, KPI_SCHEDULER="off", KPI_INBOX="off")
    try:
        assert run_all() == alone
        lake_served = subprocess.run([*lake, str(tmp_path / "lake_b")], cwd=ROOT, env=env, capture_output=True,
                                     text=True, timeout=300)
        assert (lake_served.returncode, lake_served.stdout) == (0, lake_alone.stdout) and "dossiers" in lake_alone.stdout
        via = subprocess.run([sys.executable, "-m", "loaders", str(upload), str(tmp_path / "khong_co.csv"),
                              "--db", str(db), "--format", "json"], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=300)
        backup = subprocess.run([sys.executable, "-m", "store.backup", "create", "--db", str(db), "--out",
                                 str(tmp_path / "saoluu")], cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=300)
        restore = subprocess.run([sys.executable, "-m", "store.backup", "restore", "--db", str(db), "--from",
                                  str(tmp_path / "saoluu")], cwd=ROOT, env=env, capture_output=True, text=True,
                                 timeout=300)
    finally:
        server.stop()
    assert alone[0][0] == 0 and alone[3][0] == 2 and alone[4][0] == 2 and "99999" in alone[4][2]
    assert alone[5][0] == 0 and "lanhdao@tinh.vn" in alone[5][1] and alone[6][0] == 2 and alone[7][0] == 0
    assert via.returncode == 1, via.stderr                      # one of the two files does not exist
    first, missing = json.loads(via.stdout)
    assert first["loaded"] == 500 and "khong_co.csv" in missing["error"]
    assert backup.returncode == 0 and "Đã sao lưu" in backup.stdout, backup.stderr
    assert restore.returncode == 1 and "đang dùng kho dữ liệu" in restore.stderr
    # And on the file alone, the same load prints the same (a fresh copy of the store before it).
    again = tmp_path / "again.duckdb"
    prepare(again, fixtures)
    here = subprocess.run([sys.executable, "-m", "loaders", str(upload), str(tmp_path / "khong_co.csv"), "--db",
                           str(again), "--format", "json"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    strip = [{k: v for k, v in s.items() if k != "batch_id"} for s in json.loads(here.stdout)]
    assert (here.returncode, strip) == (1, [{k: v for k, v in s.items() if k != "batch_id"}
                                            for s in json.loads(via.stdout)])


def dossier_count(db: Path) -> int:
    con = store.connect(db, read_only=True)
    try:
        return con.execute("SELECT count(*) FROM dossiers").fetchall()[0][0]
    finally:
        con.close()


def test_sigkill_during_an_api_upload_and_a_scheduled_pull(tmp_path, fixtures, pg):
    source, sources = pg
    db = tmp_path / "kpi.duckdb"
    tokens = prepare(db, fixtures, sources, cron="0 3 1 1 *")  # scheduled, but only run on demand here
    before = dossier_count(db)
    for stale in Path(tempfile.gettempdir()).glob("kpi_api_*/*/lon.csv"):  # an earlier interrupted run's
        shutil.rmtree(stale.parent.parent, ignore_errors=True)
    big = write_export(tmp_path / "lon.csv", 600_000, prefix="BIG", units=["16969"])

    # 1. An API upload killed after its body arrived, while it loads.
    server = Server(db, tmp_path, KPI_INBOX="off")
    size = big.stat().st_size

    def upload() -> None:
        with contextlib.suppress(Exception):  # the server is killed under it
            server.api("POST", "/api/v1/uploads", tokens["16969"], fields={}, files=[big])

    thread = threading.Thread(target=upload)
    thread.start()
    # The body is on the server once its spooled copy reaches the file's size.
    wait_for(lambda: any(p.stat().st_size >= size for p in Path(tempfile.gettempdir()).glob("kpi_api_*/*/lon.csv")), 120,
             "the uploaded body")
    time.sleep(0.3)
    server.kill()
    thread.join(timeout=60)
    # Killed mid-load: the request never reached its end, which removes its copy of the file.
    left = list(Path(tempfile.gettempdir()).glob("kpi_api_*/*/lon.csv"))
    assert left
    for path in left:
        shutil.rmtree(path.parent.parent, ignore_errors=True)
    assert dossier_count(db) == before
    con = store.connect(db, read_only=True)
    assert con.execute("SELECT count(*) FROM batches WHERE file_name = 'lon.csv'").fetchall() == [(0,)]
    con.close()

    # 2. A scheduled pull killed while it reads from PostgreSQL.
    with source.engine.begin() as c:
        c.exec_driver_sql(f"""INSERT INTO {source.table} (ma_ho_so, ma_xa, ma_tthc, ten_tthc, linh_vuc, kenh_nop,
            ngay_tiep_nhan, han_xu_ly, trang_thai, toan_trinh, so_hoa, ket_qua_dien_tu, updated_at)
            SELECT 'HS-' || lpad(i::text, 7, '0'), '00004', '1.001193', 'Đăng ký khai sinh', 'Hộ tịch', 2,
                   timestamp '2025-09-01' + i * interval '1 second', date '2025-09-30', 'Đang xử lý', true, true, 0,
                   timestamp '2025-11-01' + i * interval '1 millisecond'
            FROM generate_series(1, 400000) i""")
    server = Server(db, tmp_path, KPI_INBOX="off")
    status, answer = server.api("POST", RUN_URL)
    assert status == 202, answer
    wait_for(lambda: any(r["status"] == "running" for r in pulls(server)), 60, "the pull to start")
    time.sleep(1.0)
    server.kill()
    assert dossier_count(db) == before

    # 3. After a restart: the interrupted run is shown as such, the next pull brings everything.
    server = Server(db, tmp_path, KPI_INBOX="off")
    try:
        assert [r["status"] for r in pulls(server)] == ["interrupted"]
        status, _ = server.api("POST", RUN_URL)
        wait_for(lambda: any(r["status"] == "ok" for r in pulls(server)), 300, "the next pull")
        ok = next(r for r in pulls(server) if r["status"] == "ok")
        assert ok["loaded"] == 400_000
        # The killed upload, sent again, loads whole.
        status, answer = server.api("POST", "/api/v1/uploads", tokens["16969"], fields={}, files=[big])
        assert status == 200 and answer[0]["loaded"] == 600_000
    finally:
        server.stop()
    assert dossier_count(db) == before + 400_000 + 600_000
