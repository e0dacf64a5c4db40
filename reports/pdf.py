"""The report as PDF (fpdf2), laid out like the Word file and in its font family: the
Word file asks for Times New Roman, which cannot be shipped, so the PDF embeds Liberation
Serif (reference/fonts, SIL OFL), metric-compatible with it and covering Vietnamese (the
PDF embeds the subset it uses). The trend chart is drawn as vector lines by
reports.charts.draw_trend, in DejaVu Sans like the chart picture in the Word file.

Tables break lines only at spaces: each column is made at least as wide as its widest word
(a figure such as "(184.996/280.495)" is one word; "≥ 80%", "-13,3 điểm %" and "76 ngày"
are held together with no-break spaces), taking the room from the table's text column. The
signature block is kept on one page with the report's last paragraph."""

from __future__ import annotations

from fpdf import FPDF, FontFace
from fpdf.enums import XPos, YPos

from kpi.definitions import STATUS_COLORS
from reports.builder import MOTTO, NO_TASK_LIST, Report
from reports.charts import FONT_BOLD, FONT_REGULAR, FONTS, draw_trend

FAMILY = "LiberationSerif"  # the Word file's Times New Roman, metric for metric
SERIF_REGULAR = FONTS / "LiberationSerif-Regular.ttf"
SERIF_BOLD = FONTS / "LiberationSerif-Bold.ttf"
SERIF_ITALIC = FONTS / "LiberationSerif-Italic.ttf"
SERIF_BOLD_ITALIC = FONTS / "LiberationSerif-BoldItalic.ttf"
CHART_FAMILY = "DejaVu"  # the chart's font, as in the Word file's chart picture
MM_PER_PT = 25.4 / 72
HEAD_FILL = (221, 235, 247)
QUIET = {"no_data", "no_target"}  # statuses written in regular weight
NBSP = "\u00a0"
TABLE_SIZE, MIN_TABLE_SIZE = 10.0, 7.5  # table text in pt, and the smallest it shrinks to for wide figures
PADDING = 1.2  # mm around a table cell's text


def _rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return tuple(int(color[i:i + 2], 16) for i in (0, 2, 4))


class _Pdf(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 9)
        self.set_text_color(87, 96, 106)
        self.cell(0, 5, f"{self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0, 0, 0)


class FpdfCanvas:
    """reports.charts.Canvas on an fpdf2 page (units: mm)."""

    def __init__(self, pdf: FPDF):
        self.pdf = pdf

    def pt(self, size: float) -> float:
        return size * MM_PER_PT

    def line(self, points, color, width, dash=False):
        self.pdf.set_draw_color(*color)
        self.pdf.set_line_width(self.pt(width))
        if dash:
            self.pdf.set_dash_pattern(dash=self.pt(5), gap=self.pt(3))
        self.pdf.polyline(points)
        if dash:
            self.pdf.set_dash_pattern()

    def dot(self, x, y, radius, color):
        self.pdf.set_fill_color(*color)
        self.pdf.set_draw_color(255, 255, 255)
        self.pdf.set_line_width(self.pt(0.6))
        self.pdf.circle(x, y, radius, style="DF")

    def text_width(self, text, size, bold=False):
        self.pdf.set_font(CHART_FAMILY, "B" if bold else "", size)
        return self.pdf.get_string_width(text)

    def text(self, x, y, text, size, color, anchor="la", bold=False):
        width = self.text_width(text, size, bold)
        h, v = anchor[0], anchor[1]
        x = {"l": x, "m": x - width / 2, "r": x - width}[h]
        size_mm = self.pt(size)
        # fpdf2 places text on its baseline; move from the anchor's top/middle to it.
        y = {"a": y + 0.76 * size_mm, "m": y + 0.36 * size_mm, "d": y}[v]
        self.pdf.set_text_color(*color)
        self.pdf.text(x, y, text)
        self.pdf.set_text_color(0, 0, 0)


def _glued(text: str) -> str:
    """Text that must not be broken across lines: its spaces become no-break spaces."""
    return text.replace(" ", NBSP)


def _heading(pdf: FPDF, text: str, keep: bool = True, dry_run: bool = False) -> float:
    """A section heading, kept with what follows it; returns its height (mm)."""
    if keep and not dry_run and pdf.get_y() > pdf.h - pdf.b_margin - 30:
        pdf.add_page()
    pdf.set_font(FAMILY, "B", 13)
    if dry_run:
        return 3 + pdf.multi_cell(0, 6.6, text, dry_run=True, output="HEIGHT") + 1
    pdf.ln(3)
    pdf.multi_cell(0, 6.6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    return 0.0


def _paragraph(pdf: FPDF, text: str, style: str = "", size: float = 13, indent: bool = True,
               dry_run: bool = False) -> float:
    """A justified paragraph; returns its height (mm). `dry_run`: only measure it."""
    pdf.set_font(FAMILY, style, size)
    height = pdf.multi_cell(0, size * 0.5, ("        " if indent else "") + text, align="J", new_x=XPos.LMARGIN,
                            new_y=YPos.NEXT, dry_run=dry_run, output="HEIGHT")
    if not dry_run:
        pdf.ln(size * 0.12)
    return height + size * 0.12


def fit_widths(pdf: FPDF, headers: list[str], rows: list[list[str]], widths: list[float],
               flexible: int) -> list[float] | None:
    """Column widths (mm) in which no word of any cell is wider than its column, so lines
    break only at spaces: each column gets at least its widest word (measured in bold, the
    widest face used) plus padding, and the `flexible` column (a text column) gives up the
    room, down to its own widest word. None when the words do not fit in the table's width
    at the current font size."""
    need = [0.0] * len(widths)
    pdf.set_font(FAMILY, "B", pdf.font_size_pt)
    for values in [headers, *rows]:
        for c, value in enumerate(values):
            for word in str(value).split(" "):  # only spaces break: no-break spaces stay inside words
                need[c] = max(need[c], pdf.get_string_width(word) + 2 * PADDING + 0.4)
    fitted = [max(w, n) for w, n in zip(widths, need, strict=True)]
    fitted[flexible] = sum(widths) - sum(w for c, w in enumerate(fitted) if c != flexible)
    return fitted if fitted[flexible] >= need[flexible] else None


def _table(pdf: FPDF, headers: list[str], rows: list[list[str]], widths: list[float], aligns: list[str],
           flexible: int = 1, status_col: int | None = None, statuses: list[str] | None = None) -> None:
    size = TABLE_SIZE
    while True:
        pdf.set_font(FAMILY, "", size)
        fitted = fit_widths(pdf, headers, rows, widths, flexible)
        if fitted is not None or size <= MIN_TABLE_SIZE:
            break
        size -= 0.5
    widths = fitted or widths  # at the smallest size, a word wider than its column still wraps
    pdf.set_font(FAMILY, "", size)
    pdf.set_draw_color(120, 120, 120)
    pdf.set_line_width(0.2)
    with pdf.table(col_widths=widths, text_align=aligns, line_height=size * 0.5, padding=PADDING, width=sum(widths),
                   align="LEFT",
                   headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_FILL), v_align="MIDDLE",
                   repeat_headings=1) as table:
        head = table.row()
        for h in headers:
            head.cell(h, align="C")
        for i, values in enumerate(rows):
            row = table.row()
            for c, value in enumerate(values):
                if status_col is not None and c == status_col and statuses:
                    status = statuses[i]
                    row.cell(value, align="C", style=FontFace(emphasis=None if status in QUIET else "BOLD",
                                                              color=_rgb(STATUS_COLORS[status])))
                else:
                    row.cell(value)


def _header(pdf: FPDF, report: Report) -> None:
    left_w, gap = 62, 4
    right_w = pdf.epw - left_w - gap
    top = pdf.get_y()
    x_left, x_right = pdf.l_margin, pdf.l_margin + left_w + gap
    pdf.set_xy(x_left, top)
    pdf.set_font(FAMILY, "B", 12.5)
    pdf.multi_cell(left_w, 5.6, f"{report.issuer[0]}\n{report.issuer[1]}", align="C",
                   new_x=XPos.LEFT, new_y=YPos.NEXT)
    y = pdf.get_y() + 1
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.3)
    pdf.line(x_left + left_w / 2 - 12, y, x_left + left_w / 2 + 12, y)
    pdf.set_xy(x_left, y + 2)
    pdf.set_font(FAMILY, "", 12.5)
    pdf.multi_cell(left_w, 5.6, report.number_line, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    left_bottom = pdf.get_y()
    pdf.set_xy(x_right, top)
    pdf.set_font(FAMILY, "B", 12)
    pdf.multi_cell(right_w, 5.6, MOTTO[0], align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "B", 13)
    pdf.multi_cell(right_w, 5.6, MOTTO[1], align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    y = pdf.get_y() + 0.6
    half = pdf.get_string_width(MOTTO[1]) / 2
    pdf.line(x_right + right_w / 2 - half, y, x_right + right_w / 2 + half, y)
    pdf.set_xy(x_right, y + 3)
    pdf.set_font(FAMILY, "I", 13)
    pdf.multi_cell(right_w, 5.6, report.place_date, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_xy(pdf.l_margin, max(left_bottom, pdf.get_y()) + 8)


# The signature block's rows: "Nơi nhận:" and three lines on the left; "TM. …", "CHỦ TỊCH" and
# "(Ký, ghi rõ họ tên, đóng dấu)" on the right; 6 mm above.
SIGNATURE_GAP, RECIPIENTS_H, RECIPIENT_H, SIGNER_H, SIGN_NOTE_H = 6, 5.6, 5, 6, 5.6
SIGNATURE_H = SIGNATURE_GAP + max(RECIPIENTS_H + 3 * RECIPIENT_H, 2 * SIGNER_H + SIGN_NOTE_H)


def _signature(pdf: FPDF, report: Report) -> None:
    pdf.ln(SIGNATURE_GAP)
    top = pdf.get_y()
    half = pdf.epw / 2
    pdf.set_font(FAMILY, "BI", 12)
    pdf.set_xy(pdf.l_margin, top)
    pdf.cell(half, RECIPIENTS_H, "Nơi nhận:", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 11)
    for line in ("- ……………………;", "- ……………………;", "- Lưu: VT."):
        pdf.cell(half, RECIPIENT_H, line, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_xy(pdf.l_margin + half, top)
    pdf.set_font(FAMILY, "B", 13)
    pdf.multi_cell(half, SIGNER_H, f"TM. {report.issuer[0]}\nCHỦ TỊCH", align="C", new_x=XPos.LEFT,
                   new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "I", 12)
    pdf.multi_cell(half, SIGN_NOTE_H, "(Ký, ghi rõ họ tên, đóng dấu)", align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_xy(pdf.l_margin, top + SIGNATURE_H - SIGNATURE_GAP)


def _closing(pdf: FPDF, report: Report) -> None:
    """Section V and the signature block. The block is never alone on a page: the last
    paragraph (and, when it is the only one, the heading) goes with it to a new page when
    the three do not fit below (measured with fpdf2's dry-run multi_cell)."""
    heading = "V. ĐỀ XUẤT, KIẾN NGHỊ"
    paragraphs = report.recommendations.splitlines() or [""]
    if len(paragraphs) > 1:
        _heading(pdf, heading)
        for line in paragraphs[:-1]:
            _paragraph(pdf, line)
    needed = _paragraph(pdf, paragraphs[-1], dry_run=True) + SIGNATURE_H
    if len(paragraphs) == 1:
        needed += _heading(pdf, heading, dry_run=True)
    if pdf.get_y() + needed > pdf.page_break_trigger and pdf.get_y() > pdf.t_margin + 1:
        pdf.add_page()
    if len(paragraphs) == 1:
        _heading(pdf, heading, keep=False)
    _paragraph(pdf, paragraphs[-1])
    _signature(pdf, report)


def to_pdf(report: Report) -> bytes:
    pdf = _Pdf(orientation="P", unit="mm", format="A4")
    pdf.set_margins(left=30, top=20, right=15)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font(FAMILY, "", str(SERIF_REGULAR))
    pdf.add_font(FAMILY, "B", str(SERIF_BOLD))
    pdf.add_font(FAMILY, "I", str(SERIF_ITALIC))
    pdf.add_font(FAMILY, "BI", str(SERIF_BOLD_ITALIC))
    pdf.add_font(CHART_FAMILY, "", str(FONT_REGULAR))
    pdf.add_font(CHART_FAMILY, "B", str(FONT_BOLD))
    pdf.set_title(report.heading)
    pdf.set_subject("Báo cáo định kỳ chuyển đổi số")
    pdf.set_creator("KPI chuyển đổi số")
    pdf.alias_nb_pages()
    pdf.add_page()

    _header(pdf, report)
    pdf.set_font(FAMILY, "B", 14)
    pdf.multi_cell(0, 7, report.title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "B", 14)
    pdf.multi_cell(0, 7, report.subtitle, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    y = pdf.get_y() + 1.5
    pdf.set_line_width(0.3)
    pdf.line(pdf.l_margin + pdf.epw / 2 - 20, y, pdf.l_margin + pdf.epw / 2 + 20, y)
    pdf.ln(6)
    _paragraph(pdf, report.opening)

    _heading(pdf, "I. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU")
    if not report.has_data:
        _paragraph(pdf, report.no_data_text, style="B")
        pdf.ln(1)
    # "Kết quả" may wrap between the value and its "(numerator/denominator)", never inside either.
    rows = [[str(i), k.label, _glued(k.target_text), k.deadline_text, k.result_text, _glued(k.gap_text),
             k.status_label] for i, k in enumerate(report.kpis, start=1)]
    _table(pdf, ["STT", "Chỉ tiêu", "Mục tiêu", "Thời hạn", "Kết quả", "Chênh lệch", "Đánh giá"], rows,
           [9.5, 46.5, 16, 19.5, 25, 21.5, 27], ["CENTER", "LEFT", "CENTER", "CENTER", "RIGHT", "RIGHT", "CENTER"],
           status_col=6, statuses=[k.status for k in report.kpis])
    pdf.ln(1)
    for note in report.notes:
        _paragraph(pdf, note, style="I", size=11, indent=False)

    _heading(pdf, "II. CÁC XÃ/PHƯỜNG CHƯA ĐẠT CHỈ TIÊU")
    if report.communes is None:
        _paragraph(pdf, "Không áp dụng đối với báo cáo của cấp xã.")
    else:
        _paragraph(pdf, report.communes.summary)
        if report.communes.behind:
            pdf.ln(1)
            rows = [[str(i), c.name, c.result_text, _glued(c.gap_text)]
                    for i, c in enumerate(report.communes.behind, 1)]
            _table(pdf, ["STT", "Xã/phường", "Tỷ lệ xử lý hoàn toàn trực tuyến", "Chênh lệch so với chỉ tiêu"],
                   rows, [9.5, 70.5, 50, 35], ["CENTER", "LEFT", "RIGHT", "RIGHT"])

    _heading(pdf, "III. NHIỆM VỤ QUÁ HẠN")
    if report.tasks is None:
        _paragraph(pdf, NO_TASK_LIST)
    elif not report.tasks:
        _paragraph(pdf, "Không có nhiệm vụ quá hạn.")
    else:
        rows = [[str(i), t.name, t.lead, t.deadline_text, _glued(t.late_text), t.status, t.progress_text]
                for i, t in enumerate(report.tasks, 1)]
        _table(pdf, ["STT", "Nhiệm vụ", "Chủ trì", "Thời hạn", "Quá hạn", "Trạng thái", "Tiến độ"], rows,
               [9.5, 55.5, 30, 20, 16, 19, 15], ["CENTER", "LEFT", "LEFT", "CENTER", "RIGHT", "CENTER", "RIGHT"])

    chart_h = 82
    if pdf.get_y() + chart_h + 16 > pdf.h - pdf.b_margin:
        pdf.add_page()
    _heading(pdf, "IV. BIỂU ĐỒ")
    top = pdf.get_y()
    draw_trend(FpdfCanvas(pdf), (pdf.l_margin, top, pdf.epw, chart_h), report.trend, report.trend_target,
               report.unit_name)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_xy(pdf.l_margin, top + chart_h + 1)
    pdf.set_font(FAMILY, "I", 11)
    pdf.multi_cell(0, 5.6, "Biểu đồ: Tỷ lệ hồ sơ xử lý hoàn toàn trực tuyến theo tháng so với chỉ tiêu", align="C",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    _closing(pdf, report)
    return bytes(pdf.output())
