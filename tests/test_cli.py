"""The two CLIs as officers' scripts call them: real processes, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args, env_db=None):
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_load_then_report_json(tmp_path, fixtures):
    db = str(tmp_path / "kpi.duckdb")
    loaded = run("loaders", str(fixtures / "messy.csv"), str(fixtures / "golden.csv"), "--db", db,
                 "--province", "40", "--format", "json")
    assert loaded.returncode == 0, loaded.stderr
    summaries = json.loads(loaded.stdout)
    assert [s["kind"] for s in summaries] == ["dossiers", "dossiers"]
    assert summaries[0]["rejected"][0] == {"row": 6, "column": "MÃ HỒ SƠ", "reason": "Cột «MÃ HỒ SƠ»: thiếu mã hồ sơ"}
    assert {k: summaries[1][k] for k in ("rows_read", "loaded", "replaced", "duplicates")} == {
        "rows_read": 11, "loaded": 10, "replaced": 0, "duplicates": 1}

    report = run("kpi", "--db", db, "--period", "2025-09", "--unit", "40", "--by", "commune", "--format", "json",
                 "--today", "2025-11-15")
    assert report.returncode == 0, report.stderr
    records = json.loads(report.stdout)
    assert set(records[0]) == {"unit_code", "unit_name", "period", "kpi", "value", "numerator", "denominator",
                               "target", "status"}
    by_key = {(r["unit_code"], r["kpi"]): r for r in records}
    # messy.csv adds HS-001, HS-002 (online, fully online) and HS-003 (direct) to Nghĩa Thọ's September.
    assert by_key[("16969", "received")]["numerator"] == 3 + 3
    assert by_key[("40", "full_online_rate")]["numerator"] == 2 + 2
    assert by_key[("40", "full_online_rate")]["denominator"] == 5 + 3


def test_rejected_file_exits_nonzero_with_message(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Mã hồ sơ,Kênh nộp\nA,2\n", encoding="utf-8")
    result = run("loaders", str(bad), "--db", str(tmp_path / "k.duckdb"))
    assert result.returncode == 1
    assert "bad.csv" in result.stdout and "thiếu cột bắt buộc" in result.stdout


def test_kpi_cli_bad_period_and_table_format(tmp_path, fixtures):
    db = str(tmp_path / "kpi.duckdb")
    run("loaders", str(fixtures / "golden.csv"), "--db", db, "--province", "40")
    bad = run("kpi", "--db", db, "--period", "2025-13")
    assert bad.returncode == 2 and "không hợp lệ" in bad.stderr
    table = run("kpi", "--db", db, "--period", "2025-Q3", "--unit", "16969", "--today", "2025-11-15")
    assert table.returncode == 0
    assert "Tỷ lệ hồ sơ xử lý hoàn toàn trực tuyến" in table.stdout and "66,7% (2/3)" in table.stdout
    csv_out = run("kpi", "--db", db, "--period", "2025-Q3", "--unit", "16969", "--format", "csv")
    assert csv_out.stdout.splitlines()[0] == "unit_code,unit_name,period,kpi,value,numerator,denominator,target,status"


def test_a_store_that_cannot_be_opened_is_a_vietnamese_message_in_every_cli(tmp_path):
    """Fixed defect: `python -m kpi --db` on a file that is not a store (or a directory, or an
    outdated store) ended in a Python traceback with DuckDB's English text."""
    not_a_store = tmp_path / "khong-phai-kho.duckdb"
    not_a_store.write_text("hello", encoding="utf-8")
    folder = tmp_path / "thu-muc.duckdb"
    folder.mkdir()
    for target, reason in ((not_a_store, "không phải là kho dữ liệu DuckDB"), (folder, "là một thư mục")):
        commands = [("kpi", "--db", str(target), "--period", "2025-Q3"),
                    ("store.lake", "export", "--db", str(target), "--out", str(tmp_path / "lake")),
                    ("reports", "--db", str(target), "reminders", "--dry-run"),
                    ("loaders.sql_source", "status", "--db", str(target)),
                    ("loaders", str(tmp_path / "x.csv"), "--db", str(target))]
        for command in commands:
            result = run(*command)
            assert result.returncode in (1, 2), (command, result.stderr)
            assert "Traceback" not in result.stderr and "Error" not in result.stderr, (command, result.stderr)
            assert reason in result.stderr and target.name in result.stderr, (command, result.stderr)
