"""The TT 01/2020 report template (biểu 06a by unit, 07a by field): layout, checks, and the
acceptance test that its figures come out of the KPI engine unchanged.

tests/fixtures/template_06a.csv (Nghệ An, Tháng 10/2025), rows:
  1 UBND xã Nghĩa Thọ (16969)  nhận 30 = 12 + 15 + 3, đã 25 = 10 + 12 + 3, đang 5 = 4 + 1
  2 XÃ VÂN TỤ (17611)          nhận 20 = 8 + 10 + 2,  đã 18 = 5 + 11 + 2,  đang 2 = 2 + 0
  3 Phường Thành Vinh (16681)  nhận 100 = 60 + 35 + 5, đã 90 = 40 + 45 + 5, đang 10 = 7 + 3
  4 Xã Không Tồn Tại           rejected: unknown unit
  5 Xã Quế Phong               rejected: 10 ≠ 5 + 5 + 1
  6 Xã Tri Lễ                  rejected: -4
  Tổng cộng = the sum of rows 1-5 (row 6 is unreadable), so no warning.
KPIs for 2025-10: received = Trực tuyến + Trực tiếp (not Từ kỳ trước): 27, 18, 95 -> 140;
online 12, 8, 60 -> 80; on time (Trước + Đúng hạn) / đã giải quyết 22/25, 16/18, 85/90 -> 123/133;
overdue_open (đang giải quyết quá hạn) 1, 0, 3 -> 4.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from kpi.engine import compute
from kpi.periods import parse
from loaders.batches import undo_batch
from loaders.dossiers import load_dossier_file
from loaders.files import LoadError
from loaders.sources import detect_kind, load_file
from loaders.template import load_template_file

from .conftest import TODAY

ROOT = Path(__file__).resolve().parent.parent
NT, VT, TV, PROVINCE = "16969", "17611", "16681", "40"
KPIS = ("received", "online_submission_rate", "on_time_rate", "overdue_open")
OCTOBER = {
    NT: {"received": (27, None), "online_submission_rate": (12, 27), "on_time_rate": (22, 25), "overdue_open": (1, None)},
    VT: {"received": (18, None), "online_submission_rate": (8, 18), "on_time_rate": (16, 18), "overdue_open": (0, None)},
    TV: {"received": (95, None), "online_submission_rate": (60, 95), "on_time_rate": (85, 90), "overdue_open": (3, None)},
    PROVINCE: {"received": (140, None), "online_submission_rate": (80, 140), "on_time_rate": (123, 133),
               "overdue_open": (4, None)},
}
TABLES = ("template_rows", "batches", "rejected_rows", "batch_units")


def state(con) -> dict:
    return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in TABLES}


def kpis(con, period, unit, by=None):
    return {(r.unit_code, r.kpi): (r.numerator, r.denominator)
            for r in compute(con, parse(period), unit, by=by, today=TODAY, kpis=list(KPIS))}


def assert_figures(got, expected):
    for unit, values in expected.items():
        for kpi, pair in values.items():
            assert got[(unit, kpi)] == pair, (unit, kpi)


def test_06a_rows_and_reasons(con, fixtures):
    result = load_template_file(con, fixtures / "template_06a.csv", province=PROVINCE)
    assert (result.kind, result.rows_read, result.loaded, result.replaced) == ("template", 6, 3, 0)
    assert [(r["row"], r["column"]) for r in result.rejected] == [
        (11, "Đơn vị"), (12, "Số hồ sơ nhận giải quyết / Tổng số"),
        (13, "Số hồ sơ nhận giải quyết / Trực tiếp và dịch vụ bưu chính")]
    assert "không tìm thấy đơn vị «Xã Không Tồn Tại»" in result.rejected[0]["reason"]
    assert "Tổng số 10 ≠ Trực tuyến 5 + Trực tiếp và dịch vụ bưu chính 5 + Từ kỳ trước 1 (= 11)" in \
        result.rejected[1]["reason"]
    assert "số âm «-4»" in result.rejected[2]["reason"]
    assert result.warnings == []
    stored = con.execute("SELECT unit_code, period_label, period_start, period_end, received_carried, open_overdue "
                         "FROM template_rows ORDER BY unit_code").fetchall()
    assert [(r[0], r[1], str(r[2]), str(r[3]), r[4], r[5]) for r in stored] == [
        (TV, "2025-10", "2025-10-01", "2025-10-31", 5, 3), (NT, "2025-10", "2025-10-01", "2025-10-31", 3, 1),
        (VT, "2025-10", "2025-10-01", "2025-10-31", 2, 0)]
    raw = json.loads(con.execute("SELECT raw FROM rejected_rows WHERE row_no = 11").fetchall()[0][0])
    assert raw["Đơn vị"] == "Xã Không Tồn Tại" and raw["Số hồ sơ nhận giải quyết / Tổng số"] == "5"


def test_acceptance_figures_by_commune_and_province(con, fixtures):
    load_template_file(con, fixtures / "template_06a.csv", province=PROVINCE)
    assert_figures(kpis(con, "2025-10", PROVINCE, by="commune"), OCTOBER)


def test_cli_reports_the_template_figures(tmp_path, fixtures):
    db = str(tmp_path / "kpi.duckdb")
    run = [sys.executable, "-m", "loaders", str(fixtures / "template_06a.csv"), "--db", db, "--province", PROVINCE,
           "--format", "json"]
    loaded = subprocess.run(run, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(loaded.stdout)["kind"] == "template"
    report = subprocess.run([sys.executable, "-m", "kpi", "--db", db, "--period", "2025-10", "--unit", PROVINCE,
                             "--by", "commune", "--format", "json", "--today", "2025-11-15"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    got = {(r["unit_code"], r["kpi"]): (r["numerator"], r["denominator"]) for r in json.loads(report.stdout)}
    assert_figures(got, OCTOBER)


def test_period_rules(con, fixtures):
    load_template_file(con, fixtures / "template_06a.csv", province=PROVINCE)
    quarter = kpis(con, "2025-Q4", PROVINCE)
    assert quarter[(PROVINCE, "received")] == (140, None)      # October lies within Q4
    assert quarter[(PROVINCE, "overdue_open")] == (None, None)  # a position at 31/10, not at 31/12
    assert kpis(con, "2025-09", PROVINCE)[(PROVINCE, "received")] == (None, None)
    # A range ending mid-October does not contain the October report.
    assert kpis(con, "2025-10-01..2025-10-15", PROVINCE)[(PROVINCE, "received")] == (None, None)


def test_07a_by_field_unit_from_title(con, fixtures):
    # Quý III/2025, UBND XÃ NGHĨA THỌ (not the addressee "UBND tỉnh Nghệ An").
    # Hộ tịch 30+8, Chứng thực 5+20, Đất đai 2+6 -> received 71, online 37;
    # on time (20+15)+(25+0)+(1+3) = 64 of 38+25+7 = 70; overdue 0+0+3 = 3 at 30/09.
    result = load_template_file(con, fixtures / "template_07a.csv")
    assert (result.loaded, result.rejected, result.warnings) == (3, [], [])
    assert con.execute("SELECT DISTINCT unit_code, period_label FROM template_rows").fetchall() == [(NT, "2025-Q3")]
    got = kpis(con, "2025-Q3", NT)
    assert got[(NT, "received")] == (71, None)
    assert got[(NT, "online_submission_rate")] == (37, 71)
    assert got[(NT, "on_time_rate")] == (64, 70)
    assert got[(NT, "overdue_open")] == (3, None)
    assert kpis(con, "2025-09", NT)[(NT, "received")] == (None, None)   # Q3 does not lie within September
    year = kpis(con, "2025", PROVINCE)
    assert year[(PROVINCE, "received")] == (71, None)
    assert year[(PROVINCE, "overdue_open")] == (None, None)


def test_07a_without_a_unit_asks_for_it(con, tmp_path, fixtures):
    text = (fixtures / "template_07a.csv").read_text(encoding="utf-8")
    text = text.replace("UBND XÃ NGHĨA THỌ", "").replace("ỦY BAN NHÂN DÂN TỈNH NGHỆ AN", "")
    path = tmp_path / "no_unit.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LoadError, match="--unit"):
        load_template_file(con, path)
    result = load_file(con, path, kind="template", unit=VT)
    assert result.loaded == 3
    assert con.execute("SELECT DISTINCT unit_code FROM template_rows").fetchall() == [(VT,)]


def test_dossier_rows_win_over_the_report_for_their_month(con, fixtures):
    # golden.csv has October dossiers for Nghĩa Thọ and Vân Tụ (received 4, online 3, on time 2/2,
    # overdue at 31/10: 2); their template rows are left out, Thành Vinh's is counted.
    load_dossier_file(con, fixtures / "golden.csv", province=PROVINCE, today=TODAY)
    load_template_file(con, fixtures / "template_06a.csv", province=PROVINCE)
    got = kpis(con, "2025-10", PROVINCE, by="commune")
    assert got[(NT, "received")] == (2, None) and got[(VT, "received")] == (2, None)
    assert got[(TV, "received")] == (95, None)
    assert got[(PROVINCE, "received")] == (4 + 95, None)
    assert got[(PROVINCE, "online_submission_rate")] == (3 + 60, 4 + 95)
    assert got[(PROVINCE, "on_time_rate")] == (2 + 85, 2 + 90)
    assert got[(PROVINCE, "overdue_open")] == (2 + 3, None)


def test_reupload_replaces_and_undo_restores(con, fixtures, tmp_path):
    first = load_template_file(con, fixtures / "template_06a.csv", province=PROVINCE)
    again = load_template_file(con, fixtures / "template_06a.csv", province=PROVINCE)
    assert again.replaced == 3 and "đã được tải lên" in again.warnings[0]
    assert_figures(kpis(con, "2025-10", PROVINCE, by="commune"), OCTOBER)   # not doubled
    # A corrected report for Nghĩa Thọ alone: online 12 -> 14 (total 32).
    fixed = tmp_path / "fix.csv"
    fixed.write_text((fixtures / "template_06a.csv").read_text(encoding="utf-8").replace(
        "1,UBND xã Nghĩa Thọ,30,12,", "1,UBND xã Nghĩa Thọ,32,14,"), encoding="utf-8")
    correction = load_template_file(con, fixed, province=PROVINCE)
    assert correction.replaced == 3
    assert kpis(con, "2025-10", PROVINCE)[(PROVINCE, "received")] == (142, None)
    undo_batch(con, correction.batch_id)
    assert_figures(kpis(con, "2025-10", PROVINCE, by="commune"), OCTOBER)
    undo_batch(con, again.batch_id)
    assert_figures(kpis(con, "2025-10", PROVINCE, by="commune"), OCTOBER)
    undo_batch(con, first.batch_id)
    assert kpis(con, "2025-10", PROVINCE)[(PROVINCE, "received")] == (None, None)
    assert con.execute("SELECT count(*) FROM template_rows").fetchall() == [(0,)]


def test_undo_of_an_earlier_upload_keeps_the_later(con, fixtures):
    first = load_template_file(con, fixtures / "template_06a.csv", province=PROVINCE)
    load_template_file(con, fixtures / "template_06a.csv", province=PROVINCE)
    undo_batch(con, first.batch_id)
    assert_figures(kpis(con, "2025-10", PROVINCE, by="commune"), OCTOBER)


def test_missing_column_rejects_the_file_and_changes_nothing(con, fixtures, tmp_path):
    load_template_file(con, fixtures / "template_06a.csv", province=PROVINCE)
    before = state(con)
    lines = (fixtures / "template_06a.csv").read_text(encoding="utf-8").splitlines()
    cut = "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != 5) for line in lines)
    path = tmp_path / "cut.csv"
    path.write_text(cut, encoding="utf-8")
    with pytest.raises(LoadError, match="thiếu cột bắt buộc.*Từ kỳ trước"):
        load_template_file(con, path, province=PROVINCE)
    assert state(con) == before


def test_no_period_asks_for_one(con, fixtures, tmp_path):
    text = (fixtures / "template_06a.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "no_period.csv"
    path.write_text("\n".join(line for line in text if "Kỳ báo cáo" not in line), encoding="utf-8")
    before = state(con)
    with pytest.raises(LoadError, match="kỳ báo cáo"):
        load_template_file(con, path, province=PROVINCE)
    assert state(con) == before
    result = load_file(con, path, kind="template", province=PROVINCE, period="2025-10")
    assert result.loaded == 3
    assert_figures(kpis(con, "2025-10", PROVINCE, by="commune"), OCTOBER)


def test_total_row_disagreeing_warns(con, fixtures, tmp_path):
    path = tmp_path / "bad_total.csv"
    path.write_text((fixtures / "template_06a.csv").read_text(encoding="utf-8").replace(
        ",Tổng cộng,165,86,", ",Tổng cộng,165,87,"), encoding="utf-8")
    result = load_template_file(con, path, province=PROVINCE)
    assert result.loaded == 3
    assert len(result.warnings) == 1
    assert "Tổng cộng" in result.warnings[0] and "Trực tuyến: dòng tổng 87, cộng các dòng 86" in result.warnings[0]


def _xlsx_three_header_rows(path: Path) -> None:
    """An unseen layout: other title lines, a period as a date range, three header rows with
    merged cells ("Trong đó" / "Số mới tiếp nhận", "Trả đúng thời hạn"), a numbering row of
    letters and numbers, unit names in capitals, total row first, signatures after."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["ỦY BAN NHÂN DÂN TỈNH NGHỆ AN"])
    ws.append(["Biểu số 06a/VPCP/KSTT"])
    ws.append(["TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT TTHC"])
    ws.append(["(Số liệu từ ngày 01/10/2025 đến ngày 31/10/2025)"])
    ws.append([])
    ws.append(["STT", "Tên đơn vị", "Số hồ sơ nhận giải quyết", None, None, None, "Số hồ sơ đã giải quyết", None,
               None, None, "Số hồ sơ đang giải quyết", None, None])
    ws.append([None, None, "Tổng số", "Trong đó", None, None, "Tổng số", "Trả đúng thời hạn", None, "Trả quá hạn",
               "Tổng số", "Chưa đến hạn", "Quá hạn"])
    ws.append([None, None, None, "Số mới tiếp nhận trực tuyến", "Số mới tiếp nhận trực tiếp, BCCI",
               "Từ kỳ trước chuyển sang", None, "Trước hạn", "Đúng hạn", None, None, None, None])
    for rng in ("A6:A8", "B6:B8", "C6:F6", "G6:J6", "K6:M6", "C7:C8", "D7:F7", "G7:G8", "H7:I7", "J7:J8",
                "K7:K8", "L7:L8", "M7:M8"):
        ws.merge_cells(rng)
    ws.append(["A", "B", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"])
    ws.append([None, "TỔNG CỘNG", 150, 80, 60, 10, 133, 55, 68, 10, 17, 13, 4])
    ws.append([1, "XÃ NGHĨA THỌ", 30, 12, 15, 3, 25, 10, 12, 3, 5, 4, 1])
    ws.append([2, "Xã Vân Tụ", 20, 8, 10, 2, 18, 5, 11, 2, 2, 2, 0])
    ws.append([None, "Cấp phường", None, None, None, None, None, None, None, None, None, None, None])
    ws.append([3, "PHƯỜNG THÀNH VINH", 100, 60, 35, 5, 90, 40, 45, 5, 10, 7, 3])
    ws.append([])
    ws.append([None, "Người lập biểu", None, None, None, None, None, None, "Nghệ An, ngày 05 tháng 11 năm 2025"])
    wb.save(path)


def test_unseen_xlsx_layout(con, tmp_path):
    path = tmp_path / "bao_cao.xlsx"
    _xlsx_three_header_rows(path)
    assert detect_kind(path) == "template"
    result = load_file(con, path, province=PROVINCE)
    assert (result.kind, result.loaded, result.rejected, result.warnings) == ("template", 3, [], [])
    assert con.execute("SELECT DISTINCT period_label FROM template_rows").fetchall() == [("2025-10",)]
    assert_figures(kpis(con, "2025-10", PROVINCE, by="commune"), OCTOBER)


def test_detects_both_csv_forms(fixtures):
    assert detect_kind(fixtures / "template_06a.csv") == "template"
    assert detect_kind(fixtures / "template_07a.csv") == "template"
    assert detect_kind(fixtures / "golden.csv") == "dossiers"


def test_group_label_repeated_instead_of_merged(con, fixtures, tmp_path):
    # Some exporters fill every cell of a merged header with its label.
    lines = (fixtures / "template_06a.csv").read_text(encoding="utf-8").splitlines()
    lines = [",".join(["STT", "Đơn vị"] + ["Số hồ sơ nhận giải quyết"] * 4 + ["Số hồ sơ đã giải quyết"] * 4
                      + ["Số hồ sơ đang giải quyết"] * 3) if line.startswith("STT,") else line for line in lines]
    path = tmp_path / "repeated.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert load_template_file(con, path, province=PROVINCE).loaded == 3
    assert_figures(kpis(con, "2025-10", PROVINCE, by="commune"), OCTOBER)


def test_months_add_up_and_overlapping_reports_do_not(con, fixtures):
    october = load_template_file(con, fixtures / "template_06a.csv", province=PROVINCE)
    december = load_file(con, fixtures / "template_06a.csv", kind="template", province=PROVINCE, period="2025-12")
    assert "Tiêu đề ghi kỳ Tháng 10/2025" in december.warnings[0]
    quarter = kpis(con, "2025-Q4", PROVINCE)
    assert quarter[(PROVINCE, "received")] == (2 * 140, None)    # October + December
    assert quarter[(PROVINCE, "overdue_open")] == (4, None)      # December's, at 31/12
    # A Q4 report as well: it covers both months, so it is taken alone (the longest first).
    load_file(con, fixtures / "template_06a.csv", kind="template", province=PROVINCE, period="2025-Q4")
    assert kpis(con, "2025-Q4", PROVINCE)[(PROVINCE, "received")] == (140, None)
    assert kpis(con, "2025-10", PROVINCE)[(PROVINCE, "received")] == (140, None)   # Q4 does not lie within October
    undo_batch(con, october.batch_id)
    assert kpis(con, "2025-10", PROVINCE)[(PROVINCE, "received")] == (None, None)


def test_template_overdue_replaces_the_older_dossier_rows_of_its_unit(con, fixtures, tmp_path):
    """Thành Vinh sent dossier rows for September (one still open, due 20/09) and the
    October template (3 open overdue at 31/10, that dossier among them). October's overdue
    count is the template's 3, not 3 + 1; September's is the rows' 1."""
    rows = tmp_path / "thanh_vinh_09.csv"
    rows.write_text("Mã hồ sơ,Mã xã,Kênh nộp,Ngày tiếp nhận,Ngày hẹn trả,Ngày có kết quả\n"
                    "TV1,16681,Trực tiếp,10/09/2025,20/09/2025,\n"
                    "TV2,16681,Trực tuyến,11/09/2025,21/09/2025,15/09/2025\n", encoding="utf-8")
    load_dossier_file(con, rows, province=PROVINCE, today=TODAY)
    load_template_file(con, fixtures / "template_06a.csv", province=PROVINCE)
    october = kpis(con, "2025-10", PROVINCE, by="commune")
    assert october[(TV, "overdue_open")] == (3, None)
    assert october[(TV, "received")] == (95, None)           # the template's; the rows are September's
    assert october[(PROVINCE, "overdue_open")] == (1 + 0 + 3, None)
    assert kpis(con, "2025-09", TV)[(TV, "overdue_open")] == (1, None)
