"""No data is not zero (docs/domain.md): a dossier KPI for a unit and period with no dossier data
behind it is "Chưa có dữ liệu" in the engine, the CLI, the cards and the reports.

Hand figures from tests/fixtures/golden.csv (A = 16969 Xã Nghĩa Thọ, B = 17611 Xã Vân Tụ,
province 40 Nghệ An; today 15/11/2025):
  A's first dossier G01 is received 02/09/2025, B's first G04 on 15/09/2025.
  overdue_open needs a dossier received on or before the as-of day:
    07/2025, 08/2025: nobody -> no data (A, B and the province).
    01/09..01/09: nobody yet -> no data;  01/09..02/09: A has G01 (not overdue) -> A 0, B no data, province 0.
    01/09..14/09: A 1 (G02 due 12/09, finished 15/09), B no data, province 1.
  dossiers_per_service (catalogue_nghia_tho.csv: 3 non-exempt services of A) needs a dossier
  received in the period: 08/2025 -> no data; 09/2025 -> 2 online / 3 x 365 / 30.
"""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from docx import Document

from kpi import __main__ as kpi_cli
from kpi import format as fmt
from kpi.engine import compute
from kpi.periods import parse
from loaders.catalogue import load_catalogue_file
from loaders.dossiers import load_dossier_file
from reports import builder, excel, word
from store import db as store
from ui.widgets import card

from .conftest import TODAY

A, B, PROVINCE = "16969", "17611", "40"


def rows(con, period, unit=PROVINCE, by="commune", kpis=None):
    return {(r.unit_code, r.kpi): r for r in compute(con, parse(period), unit, by=by, today=TODAY, kpis=kpis)}


@pytest.fixture
def golden(con, fixtures):
    load_dossier_file(con, fixtures / "golden.csv", province=PROVINCE, today=TODAY)
    return con


@pytest.mark.parametrize("period", ["2025-07", "2025-08", "2025-09-01..2025-09-01", "2025-Q2", "2024"])
def test_overdue_open_before_any_dossier_is_no_data(golden, period):
    got = rows(golden, period, kpis=["overdue_open"])
    for unit in (A, B, PROVINCE):
        r = got[(unit, "overdue_open")]
        assert (r.value, r.numerator, r.status) == (None, None, "no_data"), (unit, period)


@pytest.mark.parametrize(("period", "expected"), [
    ("2025-09-01..2025-09-02", {A: 0, B: None, PROVINCE: 0}),
    ("2025-09-01..2025-09-14", {A: 1, B: None, PROVINCE: 1}),   # G02: due 12/09, finished 15/09
    ("2025-09-01..2025-09-15", {A: 0, B: 0, PROVINCE: 0}),
    ("2025-09", {A: 1, B: 0, PROVINCE: 1}),
])
def test_overdue_open_needs_a_dossier_received_by_the_as_of_day(golden, period, expected):
    got = rows(golden, period, kpis=["overdue_open"])
    for unit, value in expected.items():
        assert got[(unit, "overdue_open")].value == value, (unit, period)
    # The channel filter reads the dossier rows: same rule.
    filtered = {r.unit_code: r.value for r in compute(golden, parse(period), PROVINCE, by="commune", today=TODAY,
                                                       kpis=["overdue_open"], filters={"channel": "online"})}
    for unit, value in expected.items():
        if value is None:
            assert filtered[unit] is None, (unit, period)


def test_overdue_open_a_dossier_received_long_before_counts(golden):
    # December 2025 (as of today 15/11): A and B received dossiers in earlier months, none in December.
    got = rows(golden, "2025-12", kpis=["overdue_open", "received"])
    assert got[(A, "overdue_open")].value == 3          # G03, G07 (due 30/10), G10 (due 05/11), as of 15/11
    assert got[(B, "overdue_open")].value == 0
    assert got[(A, "received")].value is None           # nothing received in December itself


def test_template_row_gives_overdue_open_without_dossiers(con, tmp_path):
    # A unit with no dossier rows but a TT 01/2020 report ending with the period: its "đang giải
    # quyết quá hạn" (here 0) is data, so the figure is 0, not "no data".
    path = tmp_path / "06a.csv"
    path.write_text(
        "Kỳ báo cáo: Tháng 08/2025\n"
        "STT,Đơn vị,Số hồ sơ nhận giải quyết,,,,Số hồ sơ đã giải quyết,,,,Số hồ sơ đang giải quyết,,\n"
        ",,Tổng số,Trực tuyến,Trực tiếp và dịch vụ bưu chính,Từ kỳ trước,Tổng số,Trước hạn,Đúng hạn,Quá hạn,"
        "Tổng số,Trong hạn,Quá hạn\n"
        "1,Xã Nghĩa Thọ,5,3,2,0,4,2,2,0,1,1,0\n", encoding="utf-8")
    from loaders.sources import load_file
    load_file(con, path, province=PROVINCE, kind="template")
    got = rows(con, "2025-08", kpis=["overdue_open"])
    assert got[(A, "overdue_open")].value == 0
    assert got[(A, "overdue_open")].status != "no_data"
    assert got[(B, "overdue_open")].value is None
    assert got[(PROVINCE, "overdue_open")].value == 0   # one commune with data: the province has data


def test_dossiers_per_service_without_dossiers_is_no_data(golden, fixtures):
    load_catalogue_file(golden, fixtures / "catalogue_nghia_tho.csv", province=PROVINCE)
    august = rows(golden, "2025-08", unit=A, by=None, kpis=["dossiers_per_service"])[(A, "dossiers_per_service")]
    assert (august.value, august.numerator, august.status) == (None, None, "no_data")
    assert august.denominator == 3                      # the catalogue is there; the dossiers are not
    september = rows(golden, "2025-09", unit=A, by=None, kpis=["dossiers_per_service"])[(A, "dossiers_per_service")]
    assert (september.numerator, september.denominator) == (2, 3)
    assert september.value == pytest.approx(2 / 3 * 365 / 30)
    province = rows(golden, "2025-08", kpis=["dossiers_per_service"])[(PROVINCE, "dossiers_per_service")]
    assert (province.value, province.status) == (None, "no_data")


def test_cli_json_prints_null_and_no_data(tmp_path, fixtures, capsys):
    db = tmp_path / "kpi.duckdb"
    con = store.connect(db)
    load_dossier_file(con, fixtures / "golden.csv", province=PROVINCE, today=TODAY)
    load_catalogue_file(con, fixtures / "catalogue_nghia_tho.csv", province=PROVINCE)
    con.close()
    assert kpi_cli.main(["--db", str(db), "--period", "2025-07", "--unit", PROVINCE, "--by", "commune",
                         "--format", "json", "--today", TODAY.isoformat()]) == 0
    records = {(r["unit_code"], r["kpi"]): r for r in json.loads(capsys.readouterr().out)}
    for key in ((PROVINCE, "overdue_open"), (A, "overdue_open"), (A, "dossiers_per_service")):
        assert (records[key]["value"], records[key]["numerator"], records[key]["status"]) == (None, None, "no_data")
    assert kpi_cli.main(["--db", str(db), "--period", "2025-07", "--unit", A, "--today", TODAY.isoformat()]) == 0
    table = capsys.readouterr().out
    line = next(x for x in table.splitlines() if "quá hạn" in x)
    assert "Chưa có dữ liệu" in line and "Đạt" not in line
    line = next(x for x in table.splitlines() if "mỗi dịch vụ" in x)
    assert "Chưa có dữ liệu" in line and "/3)" not in line   # no "(Chưa có dữ liệu/3)" fraction


def test_card_shows_no_data_not_zero(golden, fixtures):
    load_catalogue_file(golden, fixtures / "catalogue_nghia_tho.csv", province=PROVINCE)
    got = rows(golden, "2025-07", unit=A, by=None)
    for kpi in ("overdue_open", "dossiers_per_service"):
        html = card(got[(A, kpi)].__dict__)
        assert "Chưa có dữ liệu" in html and ">0<" not in html and "0,0" not in html and "Đạt<" not in html


def _pdf_text(data: bytes) -> str | None:
    try:
        from pypdf import PdfReader
    except ImportError:
        return None
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.parametrize("unit", [A, PROVINCE])
def test_reports_say_no_data_for_a_month_before_any_dossier(golden, fixtures, unit):
    from reports import pdf
    load_catalogue_file(golden, fixtures / "catalogue_nghia_tho.csv", province=PROVINCE)
    report = builder.build(golden, unit, parse("2025-03"), TODAY)
    for kpi in ("overdue_open", "dossiers_per_service"):
        line = report.kpi(kpi)
        assert line is not None and line.value is None and line.status == "no_data", kpi
        assert line.result_text == fmt.NO_DATA
    book = openpyxl.load_workbook(io.BytesIO(excel.to_xlsx(report)))
    sheet = [list(r) for r in book[excel.SHEETS[0]].iter_rows(values_only=True)]
    for kpi in ("overdue_open", "dossiers_per_service"):
        cells = next(r for r in sheet if r[1] == report.kpi(kpi).label)
        assert cells[4] == "Chưa có dữ liệu" and "Đạt" not in cells, kpi
    doc = Document(io.BytesIO(word.to_docx(report)))
    table_rows = [[c.text for c in row.cells] for t in doc.tables for row in t.rows]
    overdue = next(r for r in table_rows if report.kpi("overdue_open").label in r)
    assert "Chưa có dữ liệu" in overdue and "Đạt" not in overdue
    text = _pdf_text(pdf.to_pdf(report))
    if text is not None:
        assert "0,0 (0/" not in text


def test_store_starting_in_july_has_no_overdue_figure_for_june(con, tmp_path):
    """Like the sample store, whose dossiers start in July 2025: June is no data, not 0 "Đạt"."""
    path = tmp_path / "d.csv"
    path.write_text("Mã hồ sơ,Mã xã,Kênh nộp,Ngày tiếp nhận,Ngày hẹn trả\n"
                    "S1,16969,Trực tuyến,01/07/2025,03/07/2025\n", encoding="utf-8")
    load_dossier_file(con, path, province=PROVINCE, today=TODAY)
    june = rows(con, "2025-06", unit=A, by=None, kpis=["overdue_open"])[(A, "overdue_open")]
    assert (june.value, june.status) == (None, "no_data")
    july = rows(con, "2025-07", unit=A, by=None, kpis=["overdue_open"])[(A, "overdue_open")]
    assert (july.value, july.status) == (1, "missed")
