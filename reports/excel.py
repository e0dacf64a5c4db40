"""The report as an Excel workbook (xlsxwriter), one sheet per section, ready to attach.

Every figure is a number an analyst can sum, sort and chart, shown by a number format:
rates as fractions in percent ("0.0%": 0,667 shows 66,7% where Windows is set to
Vietnamese; Excel takes the decimal mark from the reader's system), gaps of rates as
fractions shown "-13,3 điểm %", targets with their operator ("≥ 80%"), counts with a
format whose thousands dots are literals (1.234.567 on any system), dates as dates shown
dd/mm/yyyy. "Chưa có dữ liệu" stays text, never 0. The chart plots the sheet's own
labelled columns. Every text that comes from data is written formula-safe."""

from __future__ import annotations

import io
from datetime import date, datetime

import xlsxwriter

from kpi.definitions import KPIS, STATUS_COLORS
from kpi.export import safe_sheet_name, safe_text
from reports.builder import MOTTO, NO_TASK_LIST, TREND_KPI, Report

SHEETS = ("I. Chỉ tiêu", "II. Xã chưa đạt", "III. Nhiệm vụ quá hạn", "IV. Biểu đồ", "V. Kiến nghị")
# Thousands separated by literal dots, so 1.234.567 reads the Vietnamese way on any system.
COUNT_FORMAT = r'[>=1000000]#\.###\.###;[>=1000]#\.###;0'
RATE_FORMAT = "0.0%"
RATIO_FORMAT = "#,##0.0"
DAYS_FORMAT = COUNT_FORMAT
PROGRESS_FORMAT = "0%"
OPS = {"<=": "≤", "==": "="}


def value_format(kind: str) -> str:
    """The number format of a KPI value of this kind (rate | count | ratio)."""
    return {"rate": RATE_FORMAT, "ratio": RATIO_FORMAT}.get(kind, COUNT_FORMAT)


def target_format(kind: str, target: float, op: str | None) -> str:
    """A target shown with its operator, as the report words it: "≥ 80%", "≤ 0", "≥ 2,5"."""
    return f'"{OPS.get(op or ">=", "≥")} "{_target_body(kind, target)}'


def _target_body(kind: str, target: float) -> str:
    """As kpi.format.format_target: a whole target without decimals ("80%", not "80,0%")."""
    if kind == "rate":
        return "0%" if abs(target * 100 - round(target * 100)) < 1e-9 else "0.0%"
    if kind == "ratio" and abs(target - round(target)) >= 1e-9:
        return "#,##0.0"
    return "#,##0"


def gap_format(kind: str) -> str:
    """Value minus target, signed: a rate's in percentage points ("-13,3 điểm %", the
    number being the fraction -0,133), a count's or a ratio's as the value's unit."""
    if kind == "rate":
        return '+0.0" điểm "%;-0.0" điểm "%;0'
    if kind == "ratio":
        return "+#,##0.0;-#,##0.0;0"
    return "+#,##0;-#,##0;0"


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook):
        base = {"font_name": "Times New Roman", "font_size": 12, "valign": "vcenter"}

        def add(**kw):
            return book.add_format(base | kw)

        self.text = add(text_wrap=True)
        self.center = add(align="center", text_wrap=True)
        self.bold_center = add(bold=True, align="center", text_wrap=True)
        self.motto2 = add(bold=True, align="center", underline=True)
        self.italic_center = add(italic=True, align="center")
        self.title = add(bold=True, align="center", font_size=14)
        self.section = add(bold=True)
        self.note = add(italic=True, font_size=11, text_wrap=True, valign="top")
        self.subhead = add(italic=True, font_size=11)
        self.head = add(bold=True, align="center", text_wrap=True, border=1, bg_color="#DDEBF7")
        self.cell = add(border=1, text_wrap=True)
        self.cell_center = add(border=1, align="center", text_wrap=True)
        self.date = add(border=1, align="center", num_format="dd/mm/yyyy")
        self.count = add(border=1, align="right", num_format=COUNT_FORMAT)
        self.right = add(border=1, align="right", text_wrap=True)
        self._add = add
        self._numbers: dict[str, object] = {}
        self.status = {k: add(border=1, align="center", bold=True, font_color="white", bg_color=c)
                       for k, c in STATUS_COLORS.items()}
        self.paragraph = add(text_wrap=True, valign="top", border=1)

    def number(self, num_format: str, align: str = "right"):
        """A bordered cell format showing numbers with `num_format` (one format object each)."""
        key = f"{align}|{num_format}"
        if key not in self._numbers:
            self._numbers[key] = self._add(border=1, align=align, num_format=num_format)
        return self._numbers[key]


def _header(ws, f: _Formats, report: Report, width: int) -> int:
    """The administrative header (issuer, national motto, place and date) and the title;
    returns the next free row."""
    split = max(2, width // 3)
    left, right = (0, split - 1), (split, width - 1)

    def merged(row, cols, text, fmt):
        if cols[0] == cols[1]:
            ws.write_string(row, cols[0], text, fmt)
        else:
            ws.merge_range(row, cols[0], row, cols[1], text, fmt)

    merged(0, left, report.issuer[0], f.bold_center)
    merged(0, right, MOTTO[0], f.bold_center)
    merged(1, left, safe_text(report.issuer[1]), f.bold_center)
    merged(1, right, MOTTO[1], f.motto2)
    merged(2, left, report.number_line, f.center)
    merged(2, right, safe_text(report.place_date), f.italic_center)
    ws.merge_range(4, 0, 4, width - 1, report.title, f.title)
    ws.merge_range(5, 0, 5, width - 1, safe_text(report.subtitle), f.bold_center)
    ws.set_row(5, 32)
    return 7


def _table(ws, f: _Formats, row: int, headers: list[str], widths: list[float]) -> int:
    for col, (header, width) in enumerate(zip(headers, widths, strict=True)):
        ws.write_string(row, col, header, f.head)
        ws.set_column(col, col, width)
    ws.set_row(row, 32)
    return row + 1


def _date_or_text(ws, f: _Formats, row: int, col: int, value: date | None, text: str) -> None:
    if value is not None:
        ws.write_datetime(row, col, datetime(value.year, value.month, value.day), f.date)
    else:
        ws.write_string(row, col, safe_text(text or "—"), f.cell_center)


def _sheet_kpis(book, f: _Formats, report: Report) -> None:
    ws = book.add_worksheet(safe_sheet_name(SHEETS[0]))
    headers = ["STT", "Chỉ tiêu", "Mục tiêu", "Thời hạn", "Kết quả", "Tử số", "Mẫu số", "Chênh lệch", "Đánh giá"]
    row = _header(ws, f, report, len(headers))
    ws.merge_range(row, 0, row, len(headers) - 1, safe_text(report.opening), f.text)
    ws.set_row(row, 16 * (1 + len(report.opening) // 110))
    row += 2
    ws.write_string(row, 0, "I. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU", f.section)
    row += 1
    if not report.has_data:
        ws.write_string(row, 0, safe_text(report.no_data_text), f.section)
        row += 1
    first = row = _table(ws, f, row, headers, [6, 44, 12, 14, 16, 10, 10, 16, 18])
    for i, k in enumerate(report.kpis, start=1):
        ws.write_number(row, 0, i, f.cell_center)
        ws.write_string(row, 1, k.label, f.cell)
        if k.target is None:
            ws.write_string(row, 2, k.target_text, f.cell_center)
        else:
            ws.write_number(row, 2, k.target, f.number(target_format(k.kind, k.target, k.target_op), "center"))
        _date_or_text(ws, f, row, 3, k.deadline, k.deadline_text)
        if k.value is None:
            ws.write_string(row, 4, k.value_text, f.cell_center)  # "Chưa có dữ liệu", never 0
        else:
            ws.write_number(row, 4, k.value, f.number(value_format(k.kind)))
        for col, value in ((5, k.numerator), (6, k.denominator)):
            if value is None or k.value is None or k.denominator is None:
                ws.write_blank(row, col, None, f.cell)
            else:
                ws.write_number(row, col, value, f.count)
        if k.gap is None:
            ws.write_string(row, 7, k.gap_text, f.cell_center)
        else:
            ws.write_number(row, 7, k.gap, f.number(gap_format(k.kind)))
        ws.write_string(row, 8, k.status_label, f.status[k.status])
        row += 1
    ws.repeat_rows(first - 1)
    row += 1
    for note in report.notes:
        ws.merge_range(row, 0, row, len(headers) - 1, note, f.note)
        row += 1
    _print_setup(ws, landscape=True)


def _sheet_communes(book, f: _Formats, report: Report) -> None:
    ws = book.add_worksheet(safe_sheet_name(SHEETS[1]))
    ws.write_string(0, 0, "II. CÁC XÃ/PHƯỜNG CHƯA ĐẠT CHỈ TIÊU HỒ SƠ XỬ LÝ HOÀN TOÀN TRỰC TUYẾN", f.section)
    ws.write_string(1, 0, safe_text(report.heading), f.subhead)
    if report.communes is None:
        ws.write_string(3, 0, "Không áp dụng đối với báo cáo của cấp xã.", f.text)
        ws.set_column(0, 0, 60)
        return
    section = report.communes
    ws.write_string(3, 0, safe_text(section.summary), f.text)
    headers = ["STT", "Mã", "Xã/phường", "Tỷ lệ toàn trình", "Hồ sơ toàn trình", "Hồ sơ tiếp nhận",
               "Chỉ tiêu", "Chênh lệch"]
    row = _table(ws, f, 5, headers, [6, 9, 30, 14, 14, 14, 10, 16])
    for i, c in enumerate(section.behind, start=1):
        ws.write_number(row, 0, i, f.cell_center)
        ws.write_string(row, 1, safe_text(c.code), f.cell_center)
        ws.write_string(row, 2, safe_text(c.name), f.cell)
        ws.write_number(row, 3, c.value, f.number(RATE_FORMAT))
        ws.write_number(row, 4, c.numerator or 0, f.count)
        ws.write_number(row, 5, c.denominator or 0, f.count)
        ws.write_number(row, 6, c.target, f.number(target_format("rate", c.target, None), "center"))
        ws.write_number(row, 7, c.gap, f.number(gap_format("rate")))
        row += 1
    if not section.behind:
        ws.merge_range(row, 0, row, len(headers) - 1, "Không có xã/phường nào chưa đạt trong số có dữ liệu.",
                       f.cell_center)
    ws.repeat_rows(5)
    _print_setup(ws, landscape=False)


def _sheet_tasks(book, f: _Formats, report: Report) -> None:
    ws = book.add_worksheet(safe_sheet_name(SHEETS[2]))
    ws.write_string(0, 0, "III. NHIỆM VỤ QUÁ HẠN", f.section)
    ws.write_string(1, 0, safe_text(report.heading), f.subhead)
    if report.tasks is None:
        ws.write_string(3, 0, NO_TASK_LIST, f.text)
        ws.set_column(0, 0, 60)
        return
    headers = ["STT", "Nhiệm vụ", "Đơn vị chủ trì", "Thời hạn", "Số ngày quá hạn", "Trạng thái", "Tiến độ",
               "Ghi chú"]
    row = _table(ws, f, 3, headers, [6, 60, 26, 14, 12, 16, 10, 30])
    for i, t in enumerate(report.tasks, start=1):
        ws.write_number(row, 0, i, f.cell_center)
        ws.write_string(row, 1, safe_text(t.name), f.cell)
        ws.write_string(row, 2, safe_text(t.lead), f.cell)
        _date_or_text(ws, f, row, 3, t.deadline, t.deadline_text)
        if t.days_late is None:
            ws.write_blank(row, 4, None, f.cell)
        else:
            ws.write_number(row, 4, t.days_late, f.number(DAYS_FORMAT))
        ws.write_string(row, 5, safe_text(t.status), f.cell_center)
        if t.progress is None:
            ws.write_blank(row, 6, None, f.cell)
        else:
            ws.write_number(row, 6, t.progress / 100, f.number(PROGRESS_FORMAT))
        ws.write_string(row, 7, safe_text(t.note), f.cell)
        row += 1
    if not report.tasks:
        ws.merge_range(row, 0, row, len(headers) - 1, "Không có nhiệm vụ quá hạn.", f.cell_center)
    ws.repeat_rows(3)
    _print_setup(ws, landscape=True)


def _sheet_chart(book, f: _Formats, report: Report) -> None:
    name = safe_sheet_name(SHEETS[3])
    ws = book.add_worksheet(name)
    ws.write_string(0, 0, "IV. BIỂU ĐỒ: TỶ LỆ HỒ SƠ XỬ LÝ HOÀN TOÀN TRỰC TUYẾN THEO THÁNG", f.section)
    ws.write_string(1, 0, safe_text(report.heading), f.subhead)
    # F repeats B for the chart, blank where B says "Chưa có dữ liệu" (Excel would plot text as
    # 0; a blank is a gap in the line). Hidden, but labelled like every column.
    headers = ["Tháng", "Tỷ lệ toàn trình", "Hồ sơ toàn trình", "Hồ sơ tiếp nhận", "Chỉ tiêu",
               "Tỷ lệ toàn trình (vẽ biểu đồ)"]
    row = first = _table(ws, f, 3, headers, [12, 16, 16, 16, 12, 16])
    target = report.trend_target
    target_text = KPIS[TREND_KPI].format_target(target) if target is not None else "—"
    for p in report.trend:
        ws.write_string(row, 0, p.label, f.cell_center)
        if p.value is None:
            ws.write_string(row, 1, KPIS[TREND_KPI].format(p.value), f.cell_center)
            ws.write_blank(row, 5, None, f.cell)
        else:
            ws.write_number(row, 1, p.value, f.number(RATE_FORMAT))
            ws.write_number(row, 5, p.value, f.number(RATE_FORMAT))
        for col, value in ((2, p.numerator), (3, p.denominator)):
            if value is None or p.value is None:
                ws.write_blank(row, col, None, f.cell)
            else:
                ws.write_number(row, col, value, f.count)
        if target is None:
            ws.write_string(row, 4, target_text, f.cell_center)
        else:
            ws.write_number(row, 4, target, f.number(_target_body("rate", target), "center"))
        row += 1
    last = row - 1
    ws.set_column(5, 5, 16, None, {"hidden": True})
    if not any(p.value is not None for p in report.trend):
        ws.write_string(row + 1, 0, "Chưa có dữ liệu để vẽ biểu đồ.", f.text)
        return
    chart = book.add_chart({"type": "line"})
    chart.add_series({"name": "Tỷ lệ thực hiện", "categories": [name, first, 0, last, 0],
                      "values": [name, first, 5, last, 5], "line": {"color": "#0969DA", "width": 2.5},
                      "marker": {"type": "circle", "size": 6, "fill": {"color": "#0969DA"},
                                 "border": {"color": "#0969DA"}},
                      "data_labels": {"value": True, "position": "below", "num_format": RATE_FORMAT,
                                      "font": {"bold": True, "color": "#0969DA"}}})
    if target is not None:
        chart.add_series({"name": f"Chỉ tiêu {target_text}", "categories": [name, first, 0, last, 0],
                          "values": [name, first, 4, last, 4],
                          "line": {"color": "#CF222E", "width": 1.75, "dash_type": "dash"}, "marker": {"type": "none"}})
    chart.set_title({"name": f"Tỷ lệ hồ sơ xử lý hoàn toàn trực tuyến — {report.unit_name}",
                     "name_font": {"size": 12, "bold": True}})
    chart.set_y_axis({"min": 0, "max": 1, "major_unit": 0.2, "num_format": "0%",
                      "major_gridlines": {"visible": True, "line": {"color": "#D8DEE4"}}})
    chart.set_legend({"position": "bottom"})
    chart.show_blanks_as("gap")
    chart.show_hidden_data()
    chart.set_size({"width": 760, "height": 400})
    ws.insert_chart(3, 8, chart)
    _print_setup(ws, landscape=True)


def _sheet_recommendations(book, f: _Formats, report: Report) -> None:
    ws = book.add_worksheet(safe_sheet_name(SHEETS[4]))
    ws.write_string(0, 0, "V. ĐỀ XUẤT, KIẾN NGHỊ", f.section)
    ws.write_string(1, 0, safe_text(report.heading), f.subhead)
    ws.set_column(0, 0, 110)
    ws.write_string(3, 0, safe_text(report.recommendations), f.paragraph)
    ws.set_row(3, max(60, 16 * (1 + len(report.recommendations) // 100 + report.recommendations.count("\n"))))
    _print_setup(ws, landscape=False)


def _print_setup(ws, landscape: bool) -> None:
    ws.set_paper(9)  # A4
    if landscape:
        ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.6, right=0.4, top=0.6, bottom=0.6)


def to_xlsx(report: Report) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False})
    book.set_properties({"title": report.heading, "subject": "Báo cáo định kỳ chuyển đổi số"})
    f = _Formats(book)
    _sheet_kpis(book, f, report)
    _sheet_communes(book, f, report)
    _sheet_tasks(book, f, report)
    _sheet_chart(book, f, report)
    _sheet_recommendations(book, f, report)
    book.close()
    return buffer.getvalue()
