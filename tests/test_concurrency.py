"""Concurrent use: leaders reading pages while officers upload.

The real app: `python -m service` on a temp store (KPI_DB, KPI_TODAY=2025-11-15). Leaders
are real Streamlit sessions over the server's websocket, speaking its protobuf protocol as
a browser does (log in through the form, then open pages by URL path and query string):
page runs go through the server's own script threads, caches and its one DuckDB
connection. Officers upload inside the server process, as the upload page does: a few
threads started in that process call load_dossier_file(ui.data.cursor(), ...) (different
exports of their commune, an identical re-upload, a corrected re-export), because DuckDB
gives the store to one writing process: in-process concurrency goes through cursors of one
connection. Meanwhile `python -m loaders` and `python -m store.backup` from another
process find the running server (store/remote.py) and go through its API: the load counts
once and the backup is made, without a traceback.

Why not AppTest in threads: AppTest swaps process-global state for each run
(Runtime._instance, config options, PagesManager flags), so two runs at once break the
harness itself ("Runtime hasn't been created!"), not the app.

Asserted: no exception in any session or upload; every session opened every page at least
once while the officers uploaded; every dossier uploaded is there once (final counts equal a
sequential load of each officer's last versions). Latency is reported, never asserted (a
busy machine is slow, not wrong): printed (pytest -s) and written to
artifacts/concurrency.json (sessions, uploads, page runs, p50/p95/max per page, errors).
The time bounds below only keep a hang from blocking the suite; they are minutes, not a
performance target.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import date
from pathlib import Path

import pytest

from bench.ws_session import Session, free_port  # noqa: F401 - free_port: other tests import it from here
from kpi.engine import compute
from kpi.periods import parse
from loaders.batches import undo_batch
from loaders.dossiers import load_dossier_file
from store import accounts
from store import db as store

from .test_crash_safety import write_export

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2025-11-15"
OFFICER_COMMUNES = ["16969", "17611", "16681"]   # Nghĩa Thọ and two more communes of Nghệ An (40)
ROWS_PER_EXPORT = 6_000
SESSIONS = 4
SESSION_SECONDS = 20      # leaders keep opening pages at least this long, and until the officers are done
HANG_SECONDS = 600        # a hang guard only: nothing here is expected to come near it

# Runs inside the server process: officers wait for the go file, upload, write results.
OFFICERS = r"""
import json, os, sys, threading, time, traceback
from pathlib import Path
plan = json.loads(Path(os.environ["OFFICER_PLAN"]).read_text())
def officers():
    while not Path(plan["go"]).exists():
        time.sleep(0.05)
    from store import accounts
    from loaders.dossiers import load_dossier_file
    from ui import data
    results, errors = {}, []
    def officer(commune, files):
        try:
            cur = data.cursor()
            user = accounts.session_user(cur, accounts.authenticate(cur, f"canbo{commune}", "matkhau-canbo"))
            with accounts.acting_as(user):
                for file in files:
                    started = time.perf_counter()
                    r = load_dossier_file(data.cursor(), file, "40", name=Path(file).name, user=user.username)
                    results.setdefault(commune, []).append(
                        {"loaded": r.loaded, "replaced": r.replaced, "seconds": time.perf_counter() - started})
        except Exception:
            errors.append(traceback.format_exc())
    threads = [threading.Thread(target=officer, args=item) for item in plan["officers"].items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    Path(plan["results"] + ".tmp").write_text(json.dumps({"results": results, "errors": errors}))
    os.replace(plan["results"] + ".tmp", plan["results"])
threading.Thread(target=officers, daemon=True).start()
from service import server
sys.exit(server.main(sys.argv[1:]))
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def figures(name: str, latencies: list[float], **counts) -> str:
    parts = [f"{k}={v}" for k, v in counts.items()]
    if latencies:
        parts += [f"p50={statistics.median(latencies):.2f}s", f"p95={pct(latencies, 0.95):.2f}s",
                  f"max={max(latencies):.2f}s"]
    return f"{name}: " + ", ".join(parts)


def spread(latencies: list[float]) -> dict:
    if not latencies:
        return {"n": 0}
    return {"n": len(latencies), "p50": round(statistics.median(latencies), 3),
            "p95": round(pct(latencies, 0.95), 3), "max": round(max(latencies), 3)}


def report_latency(artifacts: Path, runs: list[tuple], upload_times: list[float], *, errors: list[str],
                   failed_runs: list[tuple], upload_errors: list[str]) -> dict:
    """Latency as figures, never as a verdict: printed and written to artifacts/concurrency.json,
    with the machine's load, so a slow run on a busy machine can be read as such."""
    latencies = [r[2] for r in runs]
    report = {
        "sessions": SESSIONS, "officers": len(OFFICER_COMMUNES), "page_runs": len(runs),
        "uploads": len(upload_times), "errors": len(errors) + len(failed_runs) + len(upload_errors),
        "page_seconds": spread(latencies),
        "page_seconds_by_page": {page or "tong-quan": spread([r[2] for r in runs if r[1] == page])
                                 for page in sorted({r[1] for r in runs})},
        "upload_seconds": spread(upload_times),
        "cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print("\n" + figures("real server", latencies, sessions=SESSIONS, page_runs=len(runs),
                         officers=len(OFFICER_COMMUNES), uploads=len(upload_times), errors=report["errors"]))
    print(figures("  uploads inside the server", upload_times))
    (artifacts / "concurrency.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return report


@pytest.fixture
def populated(tmp_path):
    """A store with 60,000 dossiers of Nghệ An, the golden fixture, leaders and officers."""
    path = tmp_path / "kpi.duckdb"
    con = store.connect(path)
    base = [write_export(tmp_path / "base.csv", 60_000, prefix="BA"), ROOT / "tests" / "fixtures" / "golden.csv"]
    for file in base:
        load_dossier_file(con, file, province="40")
    for i in range(1, SESSIONS + 1):
        accounts.create_user(con, f"lanhdao{i}", "matkhau-lanhdao", "leader", "40", f"Lãnh đạo {i}")
    for commune in OFFICER_COMMUNES:
        accounts.create_user(con, f"canbo{commune}", "matkhau-canbo", "officer", commune, f"Cán bộ {commune}")
    con.close()
    return {"path": path, "base": base, "folder": tmp_path}


def officer_plans(folder: Path) -> dict[str, list[Path]]:
    """Per officer: two exports of their commune, the first again (identical), then a
    corrected re-export of the first (the same dossiers, now all fully online)."""
    plans = {}
    for i, commune in enumerate(OFFICER_COMMUNES):
        first = write_export(folder / f"{commune}_a.csv", ROWS_PER_EXPORT, start=i * 100_000, prefix="OF",
                             units=[commune])
        second = write_export(folder / f"{commune}_b.csv", ROWS_PER_EXPORT, start=i * 100_000 + 50_000,
                              prefix="OF", units=[commune])
        fixed = write_export(folder / f"{commune}_a_fixed.csv", ROWS_PER_EXPORT, start=i * 100_000, prefix="OF",
                             units=[commune], all_online=True)
        plans[commune] = [first, second, first, fixed]
    return plans


def kpi_counts(con) -> list[tuple]:
    out = []
    for period in ("2025-Q3", "2025-10", "2025"):
        out += sorted((v.unit_code, v.kpi, v.numerator, v.denominator)
                      for v in compute(con, parse(period), "40", by="commune", today=date.fromisoformat(TODAY)))
    return out


# --- The real server: websocket sessions, officers in the server process, the CLI meanwhile ------------

def wait_healthy(port: int, proc: subprocess.Popen, timeout: float = HANG_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("the server did not start")


@pytest.mark.slow
def test_leaders_and_officers_on_the_real_server(populated, artifacts):
    pytest.importorskip("websocket")
    path, folder = populated["path"], populated["folder"]
    plans = officer_plans(folder)
    plan = {"go": str(folder / "go"), "results": str(folder / "officers.json"),
            "officers": {c: [str(f) for f in files] for c, files in plans.items()}}
    (folder / "plan.json").write_text(json.dumps(plan))
    port = free_port()
    log = open(folder / "server.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [sys.executable, "-c", OFFICERS, "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1"],
        cwd=ROOT, env={**os.environ, "KPI_DB": str(path), "KPI_TODAY": TODAY, "OFFICER_PLAN": str(folder / "plan.json"),
                       "PYTHONPATH": str(ROOT)},
        stdout=log, stderr=subprocess.STDOUT)
    runs: list[tuple[int, str, float, int, list[str]]] = []   # (session, page, seconds, status, exceptions)
    errors: list[str] = []
    logged_in = threading.Barrier(SESSIONS + 1)
    officers_done = Path(plan["results"]).exists
    try:
        wait_healthy(port, server)
        pages = [("", "tinh=40&ky=2025-09"), ("chi-tiet", "tinh=40&ky=2025-Q3&don_vi=16969"),
                 ("ban-do", "tinh=40&ky=2025-09"), ("bao-cao", "tinh=40&ky=2025-08"), ("nhiem-vu", "tinh=40"),
                 ("chi-tiet", "tinh=40&ky=2025-09"), ("", "tinh=40&ky=2025-Q3&don_vi=17611")]
        stop_at = time.monotonic() + HANG_SECONDS

        def leader(i: int) -> None:
            try:
                session = Session(port)
                session.login(f"lanhdao{i + 1}", "matkhau-lanhdao")
                logged_in.wait(timeout=HANG_SECONDS)
                # Every page once at least, then on for SESSION_SECONDS and until the officers
                # are done, however slow the machine (HANG_SECONDS only stops a hang).
                k = 0
                while k < len(pages) or not (time.monotonic() >= stop_at and officers_done()):
                    if time.monotonic() >= hang_at:
                        errors.append(f"session {i}: still running after {HANG_SECONDS} s ({k} page runs)")
                        break
                    page, query = pages[(i + k) % len(pages)]
                    started = time.perf_counter()
                    status, elements = session.run(page, query)
                    shown = [e.message for kind, e in elements if kind == "exception"]
                    runs.append((i, page, time.perf_counter() - started, status, shown))
                    k += 1
                session.close()
            except Exception as exc:  # noqa: BLE001 - every failure is a finding
                errors.append(f"session {i}: {exc!r}")

        hang_at = time.monotonic() + 2 * HANG_SECONDS
        threads = [threading.Thread(target=leader, args=(i,)) for i in range(SESSIONS)]
        for thread in threads:
            thread.start()
        logged_in.wait(timeout=HANG_SECONDS)
        stop_at = time.monotonic() + SESSION_SECONDS
        hang_at = time.monotonic() + HANG_SECONDS
        (folder / "go").touch()                                  # officers start uploading now
        time.sleep(1)
        # Meanwhile an officer's script tries to load from another process: refused cleanly.
        load = subprocess.run([sys.executable, "-m", "loaders", str(ROOT / "tests" / "fixtures" / "golden_update.csv"),
                               "--db", str(path), "--province", "40", "--format", "json"],
                              cwd=ROOT, capture_output=True, text=True, timeout=HANG_SECONDS)
        saved = subprocess.run([sys.executable, "-m", "store.backup", "create", "--db", str(path), "--out",
                                str(folder / "backup")], cwd=ROOT, capture_output=True, text=True, timeout=HANG_SECONDS)
        for thread in threads:
            thread.join(timeout=2 * HANG_SECONDS)
        errors += [f"session {i}: did not finish" for i, thread in enumerate(threads) if thread.is_alive()]
        deadline = time.monotonic() + HANG_SECONDS
        while not officers_done() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()

    assert officers_done(), "the officers' uploads did not finish"
    officers = json.loads(Path(plan["results"]).read_text())
    upload_times = [u["seconds"] for results in officers["results"].values() for u in results]
    failed_runs = [r for r in runs if r[3] != 0 or r[4]]
    report_latency(artifacts, runs, upload_times, errors=errors, failed_runs=failed_runs,
                   upload_errors=officers["errors"])
    assert not errors, errors
    assert failed_runs == []                                    # every run finished, no exception element
    for i in range(SESSIONS):                                   # each session opened every page
        assert {page for s, page, *_ in runs if s == i} == {page for page, _ in pages}, i
    assert not officers["errors"], officers["errors"]
    for commune in OFFICER_COMMUNES:
        assert [(u["loaded"], u["replaced"]) for u in officers["results"][commune]] == [
            (ROWS_PER_EXPORT, 0), (ROWS_PER_EXPORT, 0), (ROWS_PER_EXPORT, ROWS_PER_EXPORT),
            (ROWS_PER_EXPORT, ROWS_PER_EXPORT)], commune
    assert load.returncode == 0 and "Traceback" not in load.stderr, load.stderr
    cli_load = json.loads(load.stdout)
    assert cli_load["loaded"] > 0 and "error" not in cli_load, cli_load
    assert saved.returncode == 0 and "Đã sao lưu" in saved.stdout, saved.stderr
    assert json.loads((folder / "backup" / "manifest.json").read_text())["tables"]["dossiers"] > 60_000
    server_log = (folder / "server.log").read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in server_log, server_log[-3000:]

    # Nothing lost, nothing counted twice: the same figures as loading, one after the other,
    # the base and each officer's last versions; and the CLI load that went through the server.
    reference = store.connect(":memory:")
    for file in [*populated["base"], *(f for c in OFFICER_COMMUNES for f in (plans[c][1], plans[c][3])),
                 ROOT / "tests" / "fixtures" / "golden_update.csv"]:
        load_dossier_file(reference, file, province="40")
    con = store.connect(path)
    try:
        expected = reference.execute("SELECT count(*) FROM dossiers").fetchall()[0][0]
        assert expected > 60_000 + 2 * ROWS_PER_EXPORT * len(OFFICER_COMMUNES)
        assert con.execute("SELECT count(*), count(DISTINCT dossier_id) FROM dossiers").fetchall() == [
            (expected, expected)]
        assert con.execute("SELECT sum(received) FROM fact_received").fetchall() == [(expected,)]
        assert kpi_counts(con) == kpi_counts(reference)
        fixed = con.execute("SELECT count(*) FILTER (WHERE fully_online), count(*) FROM dossiers WHERE dossier_id IN "
                            "(SELECT dossier_id FROM dossier_history) AND batch_id NOT IN (SELECT batch_id FROM "
                            "batches WHERE file_name = 'golden_update.csv')").fetchall()[0]
        assert fixed == (ROWS_PER_EXPORT * 3, ROWS_PER_EXPORT * 3)  # the corrected re-exports won
        assert con.execute("SELECT count(*) FROM batches WHERE file_name = 'golden_update.csv'").fetchall() == [(1,)]
    finally:
        con.close()
        reference.close()


@pytest.mark.slow
def test_uploads_undo_and_reads_on_one_connection(tmp_path):
    """The write lock and snapshots without the server: three officers upload while an
    earlier upload is undone and readers check, in one read transaction each, that the
    facts always agree with the dossier rows (never a half-applied upload)."""
    con = store.connect(tmp_path / "kpi.duckdb")
    first = load_dossier_file(con, write_export(tmp_path / "first.csv", 20_000, prefix="FI"), province="40")
    files = [write_export(tmp_path / f"{c}.csv", 8_000, start=i * 100_000, prefix="UP", units=[c])
             for i, c in enumerate(OFFICER_COMMUNES)]
    errors, reads = [], []
    writing = threading.Event()

    def guarded(work) -> None:
        try:
            work()
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    def reader() -> None:
        cur = con.cursor()
        while not writing.is_set() or len(reads) < 5:
            cur.execute("BEGIN TRANSACTION")
            rows = cur.execute("SELECT count(*) FROM dossiers").fetchall()[0][0]
            facts = cur.execute("SELECT coalesce(sum(received), 0) FROM fact_received").fetchall()[0][0]
            cur.execute("COMMIT")
            reads.append((rows, facts))

    workers = [threading.Thread(target=guarded, args=(lambda f=f: load_dossier_file(con.cursor(), f, "40"),))
               for f in files]
    workers.append(threading.Thread(target=guarded, args=(lambda: undo_batch(con.cursor(), first.batch_id),)))
    readers = [threading.Thread(target=guarded, args=(reader,)) for _ in range(2)]
    for thread in readers + workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=HANG_SECONDS)
    writing.set()
    for thread in readers:
        thread.join(timeout=HANG_SECONDS)
    assert not any(t.is_alive() for t in workers + readers), "a thread hung"
    assert not errors, errors
    assert all(rows == facts for rows, facts in reads), [r for r in reads if r[0] != r[1]][:5]
    assert {rows for rows, _ in reads} <= {20_000 + n * 8_000 for n in range(4)} | {n * 8_000 for n in range(4)}
    assert con.execute("SELECT count(*) FROM dossiers").fetchall() == [(3 * 8_000,)]
    con.close()


@pytest.mark.slow
def test_cli_refuses_a_store_in_use_with_a_vietnamese_message(tmp_path):
    """The same refusal without the server: any process holding the store."""
    db = tmp_path / "kpi.duckdb"
    store.connect(db).close()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('ready', flush=True); time.sleep(3600)", str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        load = subprocess.run([sys.executable, "-m", "loaders", str(ROOT / "tests" / "fixtures" / "golden.csv"),
                               "--db", str(db)], cwd=ROOT, capture_output=True, text=True, timeout=HANG_SECONDS)
    finally:
        holder.kill()
        holder.wait()
    assert load.returncode == 1 and "Traceback" not in load.stderr
    assert f"PID {holder.pid}" in load.stderr and "Tải dữ liệu lên" in load.stderr


def test_latency_is_reported_not_asserted(tmp_path):
    """A busy machine makes pages slow, not wrong: the figures are written down whatever
    they are, and only errors decide."""
    runs = [(0, "", 0.5, 0, []), (0, "bao-cao", 95.0, 0, []), (1, "ban-do", 240.0, 0, [])]
    report = report_latency(tmp_path, runs, [1.5, 300.0], errors=[], failed_runs=[], upload_errors=[])
    written = json.loads((tmp_path / "concurrency.json").read_text())
    assert written == report
    assert written["errors"] == 0 and written["page_runs"] == 3 and written["uploads"] == 2
    assert written["page_seconds"] == {"n": 3, "p50": 95.0, "p95": 240.0, "max": 240.0}
    assert written["page_seconds_by_page"]["tong-quan"] == {"n": 1, "p50": 0.5, "p95": 0.5, "max": 0.5}
    assert written["upload_seconds"]["max"] == 300.0
