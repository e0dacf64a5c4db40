"""Periodic reports: the built content equals the engine's figures, and the Excel, Word and
PDF files carry them (re-opened with openpyxl, python-docx and, where installed, pypdf)."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import openpyxl
import pytest
from docx import Document
from PIL import Image

from kpi import format as fmt
from kpi.engine import compute
from kpi.periods import parse
from loaders.dossiers import load_dossier_file
from reports import builder, charts, excel, pdf, word
from reports.builder import OverdueTask

from .conftest import TODAY


@pytest.fixture
def golden(con, fixtures):
    load_dossier_file(con, fixtures / "golden.csv", province="40")
    return con


def docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


def sheet_rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


@pytest.mark.parametrize(("unit", "period"), [("16969", "2025-Q3"), ("40", "2025-10"), ("40", "2025"),
                                              ("17611", "2025-09")])
def test_report_figures_equal_engine(golden, unit, period):
    report = builder.build(golden, unit, parse(period), TODAY)
    rows = {r.kpi: r for r in compute(golden, parse(period), unit, today=TODAY)}
    assert report.kpis, "section I is never empty"
    for line in report.kpis:
        row = rows[line.kpi]
        assert (line.value, line.numerator, line.denominator) == (row.value, row.numerator, row.denominator)
        assert (line.target, line.target_op, line.deadline, line.status) == (
            row.target, row.target_op, row.target_deadline, row.status)
    # Every dossier KPI is reported, with or without data.
    assert {k for k, r in rows.items() if r.value is not None} <= {k.kpi for k in report.kpis}
    assert report.has_data


def test_commune_report_texts(golden):
    report = builder.build(golden, "16969", parse("2025-Q3"), TODAY)
    full = report.kpi("full_online_rate")
    assert (full.numerator, full.denominator) == (2, 3)
    assert full.result_text == "66,7% (2/3)"
    assert full.target_text == "≥ 80%" and full.deadline_text == "31/12/2025"
    assert full.gap_text == "-13,3 điểm %"
    assert full.status_label == "Có nguy cơ"
    assert report.heading == "BÁO CÁO Kết quả thực hiện chuyển đổi số của xã Nghĩa Thọ kỳ quý III/2025"
    assert report.place_date == "Nghĩa Thọ, ngày 15 tháng 11 năm 2025"
    assert report.issuer == ("ỦY BAN NHÂN DÂN", "XÃ NGHĨA THỌ")
    assert report.file_stem == "bao_cao_CDS_16969_2025-Q3"
    assert report.communes is None and report.tasks is None
    # Trend: months without data before the first with data are dropped; September's point
    # is the engine's September figure.
    assert [p.label for p in report.trend] == ["09/2025"]
    september = {r.kpi: r for r in compute(golden, parse("2025-09"), "16969", today=TODAY)}["full_online_rate"]
    assert report.trend[-1].value == september.value
    year = builder.build(golden, "40", parse("2025"), TODAY)
    assert [p.label for p in year.trend] == ["09/2025", "10/2025", "11/2025"]  # not past today (15/11/2025)
    october = {r.kpi: r for r in compute(golden, parse("2025-10"), "40", today=TODAY)}["full_online_rate"]
    assert year.trend[1].value == october.value
    assert report.trend_target == 0.8


def test_province_lists_communes_behind_worst_first(golden):
    report = builder.build(golden, "40", parse("2025-10"), TODAY)
    rows = compute(golden, parse("2025-10"), "40", by="commune", today=TODAY, kpis=["full_online_rate"])
    members = [r for r in rows if r.unit_code != "40"]
    expected = sorted((r for r in members if r.value is not None and r.value < r.target), key=lambda r: r.value)
    assert [(c.code, c.value, c.numerator, c.denominator) for c in report.communes.behind] == [
        (r.unit_code, r.value, r.numerator, r.denominator) for r in expected]
    assert [c.name for c in report.communes.behind] == ["Xã Vân Tụ"]
    assert report.communes.with_data == 2
    assert report.communes.without_data == len(members) - 2
    assert report.communes.summary.startswith("1/2 xã/phường có dữ liệu chưa đạt chỉ tiêu 80%")
    assert "(không tính là 0%)" in report.communes.summary
    november = builder.build(golden, "40", parse("2025-11"), TODAY).communes
    assert november.behind == [] and november.summary.startswith("Cả 1 xã/phường có dữ liệu đều đạt chỉ tiêu 80%")


def test_vietnamese_dates_and_period_phrases():
    assert builder.long_date(date(2026, 11, 24)) == "ngày 24 tháng 11 năm 2026"
    assert builder.long_date(date(2026, 1, 5)) == "ngày 05 tháng 01 năm 2026"
    assert builder.long_date(date(2026, 3, 9)) == "ngày 09 tháng 3 năm 2026"
    assert builder.period_phrase(parse("2025-09")) == "tháng 09/2025"
    assert builder.period_phrase(parse("2025-Q4")) == "quý IV/2025"
    assert builder.period_phrase(parse("2025")) == "năm 2025"
    assert builder.period_phrase(parse("2025-07-01..2025-09-30")) == "từ ngày 01/07/2025 đến ngày 30/09/2025"


def test_files_carry_the_figures(golden):
    report = builder.build(golden, "16969", parse("2025-Q3"), TODAY)
    full = report.kpi("full_online_rate")

    book = openpyxl.load_workbook(io.BytesIO(excel.to_xlsx(report)))
    assert book.sheetnames == list(excel.SHEETS)
    rows = sheet_rows(book[excel.SHEETS[0]])
    flat = [c for r in rows for c in r if c is not None]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in flat and "Độc lập - Tự do - Hạnh phúc" in flat
    assert report.place_date in flat
    line = next(r for r in rows if r[1] == full.label)
    assert line[3].date() == date(2025, 12, 31)
    # Every figure is a number with a number format (2/3 = 0,667; target 0,8; gap -0,133),
    # the deadline a date shown dd/mm/yyyy.
    assert line[2] == 0.8 and line[4] == pytest.approx(2 / 3) and line[5:7] == [2, 3]
    assert line[7] == pytest.approx(2 / 3 - 0.8) and line[8] == "Có nguy cơ"
    ws = book[excel.SHEETS[0]]
    row_no = next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=2).value == full.label)
    formats = [ws.cell(row=row_no, column=c).number_format for c in range(3, 9)]
    assert formats == ['"≥ "0%', "dd/mm/yyyy", "0.0%", excel.COUNT_FORMAT, excel.COUNT_FORMAT,
                       '+0.0" điểm "%;-0.0" điểm "%;0']
    assert all(isinstance(ws.cell(row=row_no, column=c).value, float | int) for c in (3, 5, 6, 7, 8))
    received = next(r for r in range(1, ws.max_row + 1)
                    if ws.cell(row=r, column=2).value == report.kpi("received").label)
    assert ws.cell(row=received, column=5).value == 3  # counts stay numbers
    assert ws.cell(row=received, column=5).number_format == excel.COUNT_FORMAT
    assert sheet_rows(book[excel.SHEETS[2]])[3][0] == builder.NO_TASK_LIST
    with zipfile.ZipFile(io.BytesIO(excel.to_xlsx(report))) as z:
        assert any(name.startswith("xl/charts/chart") for name in z.namelist())

    docx = word.to_docx(report)
    text = docx_text(docx)
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "Nghĩa Thọ, ngày 15 tháng 11 năm 2025", "BÁO CÁO",
                     "Kết quả thực hiện chuyển đổi số của xã Nghĩa Thọ kỳ quý III/2025",
                     "I. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU", "66,7%", "(2/3)", "-13,3 điểm %", "31/12/2025",
                     "II. CÁC XÃ/PHƯỜNG CHƯA ĐẠT CHỈ TIÊU", "III. NHIỆM VỤ QUÁ HẠN", builder.NO_TASK_LIST,
                     "IV. BIỂU ĐỒ", "V. ĐỀ XUẤT, KIẾN NGHỊ", builder.DEFAULT_RECOMMENDATIONS, "TM. ỦY BAN NHÂN DÂN"):
        assert expected in text, expected
    assert len(Document(io.BytesIO(docx)).inline_shapes) == 1  # the trend chart

    data = pdf.to_pdf(report)
    assert data.startswith(b"%PDF")
    assert 10_000 < len(data) < 2_000_000
    assert b"LiberationSerif" in data  # the Word file's Times New Roman, metric for metric, embedded
    assert b"DejaVu" in data  # the chart's font, as in the Word file's chart picture
    try:
        from pypdf import PdfReader
    except ImportError:
        return
    pdf_text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "66,7% (2/3)" in pdf_text and "Nghĩa Thọ, ngày 15 tháng 11 năm 2025" in pdf_text


def test_province_files_list_communes(golden):
    report = builder.build(golden, "40", parse("2025-10"), TODAY)
    text = docx_text(word.to_docx(report))
    assert "Xã Vân Tụ" in text and "50,0% (1/2)" in text and "-30,0 điểm %" in text
    book = openpyxl.load_workbook(io.BytesIO(excel.to_xlsx(report)))
    rows = sheet_rows(book[excel.SHEETS[1]])
    vt = next(r for r in rows if r[2] == "Xã Vân Tụ")
    assert vt[1] == "17611" and vt[3] == 0.5 and vt[4:7] == [1, 2, 0.8] and vt[7] == pytest.approx(-0.3)
    ws = book[excel.SHEETS[1]]
    vt_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=3).value == "Xã Vân Tụ")
    assert [ws.cell(row=vt_row, column=c).number_format for c in (4, 7, 8)] == [
        "0.0%", '"≥ "0%', '+0.0" điểm "%;-0.0" điểm "%;0']
    # The chart sheet: numbers, and every column the chart reads has a header.
    trend = sheet_rows(book[excel.SHEETS[3]])
    assert trend[3] == ["Tháng", "Tỷ lệ toàn trình", "Hồ sơ toàn trình", "Hồ sơ tiếp nhận", "Chỉ tiêu",
                        "Tỷ lệ toàn trình (vẽ biểu đồ)"]
    assert trend[4] == ["09/2025", 0.4, 2, 5, 0.8, 0.4]
    assert trend[5][:2] == ["10/2025", 0.75]
    ws = book[excel.SHEETS[3]]
    assert [ws.cell(row=5, column=c).number_format for c in (2, 5, 6)] == ["0.0%", "0%", "0.0%"]
    assert max(len(r) for r in trend) == 6  # no column beyond the labelled ones
    assert pdf.to_pdf(report).startswith(b"%PDF")


def test_empty_period_says_no_data_not_zero(golden):
    report = builder.build(golden, "16969", parse("2025-07"), TODAY)
    assert not report.has_data
    full = report.kpi("full_online_rate")
    assert full.value is None and full.result_text == fmt.NO_DATA == "Chưa có dữ liệu"
    assert full.status == "no_data" and full.gap_text == "—"
    text = docx_text(word.to_docx(report))
    assert "Chưa có dữ liệu của Xã Nghĩa Thọ cho kỳ tháng 07/2025." in text
    assert "0,0%" not in text
    book = openpyxl.load_workbook(io.BytesIO(excel.to_xlsx(report)))
    rows = sheet_rows(book[excel.SHEETS[0]])
    assert next(r for r in rows if r[1] == full.label)[4] == "Chưa có dữ liệu"  # text, not 0
    assert sheet_rows(book[excel.SHEETS[3]])[4] == ["07/2025", "Chưa có dữ liệu", None, None, 0.8, None]
    assert [(p.label, p.value) for p in report.trend] == [("07/2025", None)]
    assert pdf.to_pdf(report).startswith(b"%PDF")


def test_unit_without_any_dossier(golden):
    report = builder.build(golden, "17479", parse("2025-09"), TODAY)  # a commune of Nghệ An with no rows
    assert not report.has_data
    assert all(k.value is None for k in report.kpis)
    assert "0,0%" not in docx_text(word.to_docx(report))


def test_overdue_tasks_section(golden):
    tasks = [
        OverdueTask("Ban hành kế hoạch chi tiết", "Phòng Văn hóa - Xã hội", date(2025, 9, 25), "Trước 25/9/2025",
                    "Đang thực hiện", 60),
        OverdueTask("Tích hợp camera vào IOC", "Trung tâm Phục vụ hành chính công xã", date(2025, 8, 31),
                    "Tháng 8/2025", "Chưa thực hiện", 0),
    ]
    report = builder.build(golden, "16969", parse("2025-Q3"), TODAY, tasks=tasks)
    assert [t.name for t in report.tasks] == ["Tích hợp camera vào IOC", "Ban hành kế hoạch chi tiết"]
    # Late as of the quarter's end, 30/09/2025 (not today, 15/11/2025): 30 and 5 days.
    assert [t.days_late for t in report.tasks] == [30, 5]
    assert tasks[0].days_late is None  # the caller's objects are not changed
    text = docx_text(word.to_docx(report))
    assert "Tích hợp camera vào IOC" in text and "30 ngày" in text and builder.NO_TASK_LIST not in text
    book = openpyxl.load_workbook(io.BytesIO(excel.to_xlsx(report)))
    rows = sheet_rows(book[excel.SHEETS[2]])
    assert rows[4][1] == "Tích hợp camera vào IOC" and rows[4][4] == 30 and rows[4][6] == 0
    assert rows[5][6] == 0.6 and book[excel.SHEETS[2]].cell(row=6, column=7).number_format == "0%"
    empty = builder.build(golden, "16969", parse("2025-Q3"), TODAY, tasks=[])
    assert "Không có nhiệm vụ quá hạn." in docx_text(word.to_docx(empty))


def test_recommendations_are_editable_and_formula_safe(golden):
    report = builder.build(golden, "16969", parse("2025-Q3"), TODAY,
                           recommendations="=HYPERLINK(\"http://x\")\nĐề nghị Sở hỗ trợ kinh phí.")
    rows = sheet_rows(openpyxl.load_workbook(io.BytesIO(excel.to_xlsx(report)))[excel.SHEETS[4]])
    assert rows[3][0].startswith("'=HYPERLINK")
    assert "Đề nghị Sở hỗ trợ kinh phí." in docx_text(word.to_docx(report))


def test_trend_png(golden):
    report = builder.build(golden, "40", parse("2025-10"), TODAY)
    png = charts.trend_png(report.trend, report.trend_target, report.unit_name)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (round(480 * 200 / 72), round(250 * 200 / 72))
    empty = charts.trend_png([], 0.8, "Xã Nghĩa Thọ")
    assert Image.open(io.BytesIO(empty)).format == "PNG"


def test_fonts_ship_with_licence():
    for path in (charts.FONT_REGULAR, charts.FONT_BOLD, charts.FONT_ITALIC):
        assert path.exists() and path.stat().st_size > 100_000
    licence = (charts.FONTS / "LICENSE-DejaVu.txt").read_text(encoding="utf-8")
    assert "Bitstream Vera Fonts Copyright" in licence and "Arev Fonts Copyright" in licence


def test_tasks_from_records_accepts_dicts_and_objects():
    from types import SimpleNamespace

    records = [{"task": "Rà soát TTHC", "lead_unit": "Văn phòng", "deadline": date(2025, 9, 30),
                "deadline_raw": "Trước 30/9/2025", "status": "Đang thực hiện", "progress": 50},
               SimpleNamespace(name="Lắp camera", lead="Công an xã", deadline=date(2025, 8, 31), status="Chưa thực hiện",
                               progress=None, note="")]
    tasks = builder.tasks_from_records(records)
    assert tasks[0] == OverdueTask("Rà soát TTHC", "Văn phòng", date(2025, 9, 30), "Trước 30/9/2025",
                                   "Đang thực hiện", 50.0, "")
    assert tasks[1].deadline_text == "31/08/2025" and tasks[1].progress is None


TASKS_CSV = """STT,Nhiệm vụ,Trụ cột,Đơn vị chủ trì,Đơn vị phối hợp,Thời hạn,Trạng thái,Tiến độ (%),Ghi chú
1,Ban hành kế hoạch chi tiết,Thể chế,Phòng Văn hóa - Xã hội,,Trước 30/9/2025,Đang thực hiện,50,
2,Rà soát danh mục TTHC,Thể chế,Trung tâm Phục vụ hành chính công xã,,Tháng 8/2025,Hoàn thành,100,
3,Tuyên truyền chuyển đổi số,Nhân lực,Phòng Văn hóa - Xã hội,,Thường xuyên,Đang thực hiện,70,
4,Số hóa kết quả TTHC,Dữ liệu,Trung tâm Phục vụ hành chính công xã,,31/12/2025,Đang thực hiện,40,
"""


def test_overdue_tasks_from_the_task_store(golden, tmp_path):
    pytest.importorskip("kpi.tasks")
    load_tasks_file = pytest.importorskip("loaders.tasks").load_tasks_file
    assert builder.overdue_tasks(golden, "16969", TODAY) is None  # no task list yet
    path = tmp_path / "nhiem_vu_nghia_tho.csv"
    path.write_text(TASKS_CSV, encoding="utf-8")
    load_tasks_file(golden, path, province="40", unit="16969")
    tasks = builder.overdue_tasks(golden, "16969", TODAY)
    assert [(t.name, t.lead, t.deadline, t.deadline_text) for t in tasks] == [
        ("Ban hành kế hoạch chi tiết", "Phòng Văn hóa - Xã hội", date(2025, 9, 30), "Trước 30/9/2025")]
    report = builder.build(golden, "16969", parse("2025-11"), TODAY, tasks=tasks)  # as of today, 15/11/2025
    assert report.tasks[0].days_late == 46 and report.tasks[0].progress_text == "50%"
    assert "46 ngày" in docx_text(word.to_docx(report))
    # Due "Trước 30/9/2025": on the quarter's last day it was not late yet.
    assert builder.build(golden, "16969", parse("2025-Q3"), TODAY, tasks=tasks).tasks == []
    # A province's report lists its communes' overdue tasks, naming the commune.
    province = builder.overdue_tasks(golden, "40", TODAY)
    assert [t.lead for t in province] == ["Phòng Văn hóa - Xã hội (Xã Nghĩa Thọ)"]
    assert builder.overdue_tasks(golden, "17611", TODAY) is None


def test_tasks_are_judged_as_of_the_period_end(golden, tmp_path):
    """A March 2025 report made on 07/12/2026 listed the task due 31/12/2025 as "341 ngày"
    overdue (counted to the day it was made): as of 31/03/2025 it was not due yet."""
    pytest.importorskip("kpi.tasks")
    from kpi.tasks import annotate, tasks_of
    load_tasks_file = pytest.importorskip("loaders.tasks").load_tasks_file
    path = tmp_path / "nhiem_vu_nghia_tho.csv"
    path.write_text(TASKS_CSV, encoding="utf-8")
    load_tasks_file(golden, path, province="40", unit="16969")
    made = date(2026, 12, 7)
    tasks = builder.overdue_tasks(golden, "16969", made)
    assert [(t.name, t.deadline) for t in tasks] == [("Ban hành kế hoạch chi tiết", date(2025, 9, 30)),
                                                     ("Số hóa kết quả TTHC", date(2025, 12, 31))]

    march = builder.build(golden, "16969", parse("2025-03"), made, tasks=tasks)
    assert march.as_of == date(2025, 3, 31)
    assert march.tasks == []  # neither was late on 31/03/2025
    assert "341 ngày" not in docx_text(word.to_docx(march))
    assert "Không có nhiệm vụ quá hạn." in docx_text(word.to_docx(march))
    digitise = annotate(tasks_of(golden, "16969"), march.as_of).filter(task="Số hóa kết quả TTHC").row(0, named=True)
    # 31/03/2025 -> 31/12/2025: 30 + 31 + 30 + 31 + 31 + 30 + 31 + 30 + 31 = 275 days left.
    assert (digitise["overdue"], digitise["due_soon"], digitise["days_left"]) == (False, False, 275)

    # The year 2025, as of 31/12/2025: the September task 92 days late (Oct 31 + Nov 30 + Dec 31),
    # the December one due that very day, not late.
    year = builder.build(golden, "16969", parse("2025"), made, tasks=tasks)
    assert [(t.name, t.days_late, t.late_text) for t in year.tasks] == [("Ban hành kế hoạch chi tiết", 92, "92 ngày")]
    # A period not over yet is judged as of today.
    assert builder.build(golden, "16969", parse("2026-12"), made, tasks=tasks).tasks[1].days_late == 341
