"""Crash safety: a load killed with SIGKILL at any moment leaves the store exactly as before
the load or exactly as fully loaded, never in between, and the next load works.

A real process is killed: `python -m loaders FILE --db DB --province 40` on a generated
export of Nghệ An communes big enough to take a couple of seconds. To hit the moments that
matter exactly (after reading, inside the transaction before/while writing, just before
COMMIT, after COMMIT before the checkpoint), the same CLI is also run through a small
runner that only prints a marker at those calls and, when asked, stops itself there
(SIGSTOP) so that the SIGKILL lands at that point; mid-statement moments are hit with
timed kills after a marker.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from loaders.dossiers import load_dossier_file
from store import db as store
from store.db import units_rows

from .conftest import db_state

ROOT = Path(__file__).resolve().parent.parent
ROWS = 300_000          # the killed load: 2-3 s on this 2-core machine
BASE_ROWS = 20_000      # already in the store before it: the killed load replaces these
TABLES = ("dossiers", "dossier_history", "fact_received", "fact_finished", "batches", "rejected_rows",
          "batch_units", "procedures")
VOLATILE = {"batch_id", "superseded_by", "loaded_at", "undone_at"}  # differ between two identical loads

RUNNER = r"""
import os, runpy, signal, sys, time
T0 = time.monotonic()
def mark(label):
    print(f"@@{label} {time.monotonic() - T0:.3f}", file=sys.stderr, flush=True)
    if os.environ.get("STOP_AT") == label:
        os.kill(os.getpid(), signal.SIGSTOP)
from loaders import batches, dossiers, sources
def wrap(module, name, before, after=None):
    original = getattr(module, name)
    def hooked(*args, **kwargs):
        mark(before)
        result = original(*args, **kwargs)
        if after:
            mark(after)
        return result
    setattr(module, name, hooked)
wrap(sources, "load_file", "load", "committed")       # committed: load returned, store not yet closed
wrap(dossiers, "prepare", "read")                     # validating a chunk of rows (staged in temp tables)
wrap(batches, "open_batch", "begin")                  # first statement after BEGIN TRANSACTION
wrap(batches, "replace_dossiers", "write", "written")  # history, delete, insert, facts
wrap(batches, "close_batch", "closing")               # last statements before COMMIT
sys.argv = ["loaders", *sys.argv[1:]]
runpy.run_module("loaders", run_name="__main__", alter_sys=True)
"""


def write_export(path: Path, rows: int, start: int = 0, prefix: str = "CS", units: list[str] | None = None,
                 all_online: bool = False) -> Path:
    """A dossier export of Nghệ An's 130 communes (province 40, or of `units`), written by
    polars: ids {prefix}-00000000..., July-October 2025, some open, channels and flags
    varied (every dossier fully online with `all_online`: a corrected re-export)."""
    communes = pl.Series(units or [u[0] for u in units_rows() if u[4] == "40" and u[3] == "commune"])
    i = pl.Series("i", range(start, start + rows), dtype=pl.Int64)
    received = pl.lit(datetime(2025, 7, 1)) + pl.duration(minutes=(pl.col("i") * 7919) % (120 * 24 * 60))
    yes = pl.lit("Có")
    pl.DataFrame(i).select(
        pl.format(f"{prefix}-{{}}", pl.col("i").cast(pl.String).str.zfill(8)).alias("Mã hồ sơ"),
        communes.gather(i % communes.len()).alias("Mã xã"),
        pl.when(pl.col("i") % 2 == 0).then(pl.lit("1.001193")).otherwise(pl.lit("2.000908")).alias("Mã TTHC"),
        pl.when(pl.col("i") % 2 == 0).then(pl.lit("Đăng ký khai sinh")).otherwise(pl.lit("Chứng thực bản sao"))
        .alias("Tên TTHC"),
        pl.when(pl.col("i") % 2 == 0).then(pl.lit("Hộ tịch")).otherwise(pl.lit("Chứng thực")).alias("Lĩnh vực"),
        pl.when(pl.col("i") % 3 == 0).then(pl.lit("Trực tiếp")).otherwise(pl.lit("Trực tuyến")).alias("Kênh nộp"),
        received.dt.strftime("%d/%m/%Y %H:%M").alias("Ngày tiếp nhận"),
        (received + pl.duration(days=5)).dt.strftime("%d/%m/%Y").alias("Ngày hẹn trả"),
        pl.when(pl.col("i") % 4 == 0).then(None)
        .otherwise((received + pl.duration(days=pl.col("i") % 9)).dt.strftime("%d/%m/%Y")).alias("Ngày có kết quả"),
        pl.when((pl.col("i") % 5 < 3) | all_online).then(yes).otherwise(pl.lit("Không")).alias("Toàn trình"),
        pl.when(pl.col("i") % 2 == 0).then(yes).otherwise(pl.lit("Không")).alias("Số hóa"),
        pl.when(pl.col("i") % 7 < 5).then(yes).otherwise(pl.lit("Không")).alias("Kết quả điện tử"),
    ).write_csv(path)
    return path


def stable_state(con, tables=TABLES) -> dict:
    """Like db_state, without the ids and times that differ between two identical loads;
    hashed in DuckDB (order-independent) so that 200k rows take milliseconds."""
    state = {}
    for table in tables:
        cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] not in VOLATILE]
        row = con.execute(f"SELECT count(*), sum(hash({', '.join(cols)})::HUGEINT) FROM {table}").fetchall()[0]
        state[table] = (row[0], int(row[1] or 0))
    return state


def copy_store(src: Path, dst: Path) -> Path:
    for suffix in ("", ".wal"):
        Path(str(dst) + suffix).unlink(missing_ok=True)
        if Path(str(src) + suffix).exists():
            shutil.copyfile(str(src) + suffix, str(dst) + suffix)
    return dst


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """The export, a store holding an earlier export (BASE_ROWS of the same dossiers) and a
    reference: that store after the full load."""
    folder = tmp_path_factory.mktemp("crash")
    export = write_export(folder / "export.csv", ROWS)
    base = folder / "base.duckdb"
    con = store.connect(base)
    load_dossier_file(con, write_export(folder / "earlier.csv", BASE_ROWS), province="40")
    before = db_state(con)
    before_stable = stable_state(con)
    con.close()
    reference = copy_store(base, folder / "reference.duckdb")
    started = time.perf_counter()
    run = cli(export, reference)
    duration = time.perf_counter() - started
    assert run.returncode == 0, run.stderr
    con = store.connect(reference)
    after = stable_state(con)
    con.close()
    assert after["dossiers"][0] == ROWS and after["dossier_history"][0] == BASE_ROWS
    return {"folder": folder, "export": export, "base": base, "before": before, "before_stable": before_stable,
            "after": after, "duration": duration}


def cli(export: Path, db: Path, *, runner: bool = False, env: dict | None = None, **popen):
    args = ["-c", RUNNER] if runner else ["-m", "loaders"]
    command = [sys.executable, *args, str(export), "--db", str(db), "--province", "40"]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    if popen:
        return subprocess.Popen(command, cwd=ROOT, env=environment, **popen)
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=180)


def _stopped(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()[0] == "T"


def kill_at(export: Path, db: Path, marker: str | None, delay: float = 0.0, stop: bool = False) -> dict:
    """Run the load and SIGKILL it `delay` seconds after it prints `marker` (after start when
    None); with stop=True the process stops itself at the marker and is killed there."""
    env = {"STOP_AT": marker} if stop else {}
    proc = cli(export, db, runner=marker is not None, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
               text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()
    started = time.perf_counter()
    seen = []
    if marker is not None:
        deadline = time.monotonic() + 60
        while not any(s.startswith(f"@@{marker} ") for s in seen):
            assert proc.poll() is None or not lines.empty(), f"exited before {marker}: {seen}"
            assert time.monotonic() < deadline, seen
            try:
                seen.append(lines.get(timeout=0.5))
            except queue.Empty:
                continue
        if stop:
            while not _stopped(proc.pid):
                time.sleep(0.001)
    time.sleep(delay)
    finished = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    while not lines.empty():
        seen.append(lines.get())
    return {"at": time.perf_counter() - started, "finished_first": finished,
            "markers": [s.split()[0][2:] for s in seen if s.startswith("@@")]}


def outcome(db: Path, stores: dict) -> str:
    """'before' or 'after' (asserting it is exactly one of them); then proves the store
    takes the next load."""
    con = store.connect(db)
    try:
        now = stable_state(con)
        if now == stores["before_stable"]:
            assert db_state(con) == stores["before"]  # exactly, ids and times included
            result = "before"
        else:
            assert now == stores["after"], {t: (now[t], stores["after"][t]) for t in now if now[t] != stores["after"][t]}
            result = "after"
        small = load_dossier_file(con, write_export(db.with_suffix(".next.csv"), 500, start=10_000_000, prefix="NX"),
                                  province="40")
        assert small.loaded == 500
        assert con.execute("SELECT count(*) FROM dossiers").fetchall()[0][0] == (
            stores["before_stable"]["dossiers"][0] if result == "before" else ROWS) + 500
    finally:
        con.close()
    return result


# (name, marker, delay, stop, expected): the stop points are exact; the timed ones land
# somewhere in a statement, so either state is right there, as long as it is one of them.
MOMENTS = [
    ("starting", None, 0.25, False, "before"),
    ("reading", "read", 0.0, True, "before"),
    ("reading +0.3 s", "read", 0.3, False, "before"),
    ("in transaction", "begin", 0.0, True, "before"),
    ("writing", "write", 0.0, True, "before"),
    ("mid-write +0.1 s", "write", 0.1, False, None),
    ("mid-write +0.3 s", "write", 0.3, False, None),
    ("before COMMIT", "closing", 0.0, True, "before"),
    ("after COMMIT", "committed", 0.0, True, "after"),
    ("closing the store", "committed", 0.005, False, "after"),
]


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_before_or_after_never_partial(stores):
    folder, export = stores["folder"], stores["export"]
    report = []
    for name, marker, delay, stop, expected in MOMENTS:
        db = copy_store(stores["base"], folder / "killed.duckdb")
        kill = kill_at(export, db, marker, delay, stop)
        state = outcome(db, stores)
        report.append(f"{name}: killed at {kill['at']:.2f} s after {kill['markers'][-1:] or ['start']} -> {state}")
        if expected:
            assert state == expected, report[-1]
    # The plain CLI, killed at fractions of a full load's duration.
    for fraction in (0.5, 0.75, 0.9):
        db = copy_store(stores["base"], folder / "killed.duckdb")
        kill = kill_at(export, db, None, stores["duration"] * fraction)
        report.append(f"python -m loaders killed at {fraction:.0%} ({kill['at']:.2f} s of {stores['duration']:.2f} s)"
                      f" -> {outcome(db, stores)}")
    print("\n".join(["", *report]))


@pytest.mark.slow
def test_full_load_after_a_kill_mid_write_gives_the_reference(stores):
    folder = stores["folder"]
    db = copy_store(stores["base"], folder / "again.duckdb")
    kill_at(stores["export"], db, "write", 0.1)
    run = cli(stores["export"], db)
    assert run.returncode == 0, run.stderr
    con = store.connect(db)
    try:
        now = stable_state(con)
    finally:
        con.close()
    # Same dossiers and facts as a load that was never interrupted (the kill lands before
    # COMMIT on this machine; had it landed after, this load replaced the same rows).
    same = ("dossiers", "fact_received", "fact_finished", "procedures")
    assert {t: now[t] for t in same} == {t: stores["after"][t] for t in same}
