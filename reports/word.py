"""The report as a Word document (python-docx), laid out like an administrative report
under Nghị định 30/2020/NĐ-CP: A4, Times New Roman, issuer and national motto side by
side, place and date, title, sections I–V, recipients and signature block. The trend
chart is a PNG (reports.charts); section V is a paragraph the unit edits before signing."""

from __future__ import annotations

import io
import re

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from kpi.definitions import STATUS_COLORS
from reports.builder import MOTTO, NO_TASK_LIST, Report
from reports.charts import trend_png

FONT = "Times New Roman"
TEXT_WIDTH_CM = 16.5  # A4 21 cm minus margins 3 cm (left) and 1.5 cm (right)
# Characters XML 1.0 cannot hold (python-docx refuses them): a control character in an uploaded
# task name or a pasted recommendation becomes a space instead of breaking the report.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _run(paragraph, text: str, size: float = 13, bold: bool = False, italic: bool = False,
         underline: bool = False, color: str | None = None):
    run = paragraph.add_run(_NOT_XML.sub(" ", text))
    run.font.name = FONT
    run.font.size = Pt(size)
    run.bold, run.italic, run.underline = bold, italic, underline
    if color:
        run.font.color.rgb = RGBColor.from_string(color.lstrip("#").upper())
    return run


def _para(container, text: str = "", size: float = 13, bold: bool = False, italic: bool = False,
          align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent: bool = False, before: float = 0, after: float = 6,
          underline: bool = False):
    p = container.add_paragraph()
    p.alignment = align
    fmt = p.paragraph_format
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    if indent:
        fmt.first_line_indent = Cm(1)
    if text:
        _run(p, text, size, bold, italic, underline)
    return p


def _cell_text(cell, text: str, size: float = 10, bold: bool = False, italic: bool = False,
               align=WD_ALIGN_PARAGRAPH.LEFT, color: str | None = None):
    p = cell.paragraphs[0]
    p.alignment = align
    p.paragraph_format.space_after = Pt(0)
    _run(p, text, size, bold, italic, color=color)


def _shade(cell, color: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), color.lstrip("#").upper())
    tc_pr.append(shd)


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    tr_pr.append(flag)


def _widths(table, widths_cm: list[float]) -> None:
    """Fixed column widths: on the grid (LibreOffice reads these) and on every cell (Word)."""
    table.autofit = False
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)


def _grid(doc, headers: list[str], rows: list[list[str]], widths_cm: list[float],
          aligns: list, status_col: int | None = None, statuses: list[str] | None = None):
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        _cell_text(cell, header, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        _shade(cell, "#DDEBF7")
    _repeat_header(table.rows[0])
    for i, values in enumerate(rows):
        cells = table.add_row().cells
        for c, (cell, value) in enumerate(zip(cells, values, strict=True)):
            if status_col is not None and c == status_col and statuses:
                _cell_text(cell, value, bold=statuses[i] not in ("no_data", "no_target"),
                           align=WD_ALIGN_PARAGRAPH.CENTER, color=STATUS_COLORS[statuses[i]])
            else:
                _cell_text(cell, value, align=aligns[c])
    _widths(table, widths_cm)
    return table


def _no_borders(table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def _header(doc, report: Report) -> None:
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    left, right = table.rows[0].cells
    center = WD_ALIGN_PARAGRAPH.CENTER
    _cell_text(left, report.issuer[0], 12.5, bold=True, align=center)
    p = left.add_paragraph()
    p.alignment = center
    _run(p, report.issuer[1], 12.5, bold=True)
    p = left.add_paragraph()
    p.alignment = center
    _run(p, "―――――", 8)
    p = left.add_paragraph()
    p.alignment = center
    _run(p, report.number_line, 13)
    _cell_text(right, MOTTO[0], 12, bold=True, align=center)
    p = right.add_paragraph()
    p.alignment = center
    _run(p, MOTTO[1], 13.5, bold=True, underline=True)
    p = right.add_paragraph()
    p.alignment = center
    p.paragraph_format.space_before = Pt(8)
    _run(p, report.place_date, 13.5, italic=True)
    _widths(table, [6.0, 10.5])


def _signature(doc, report: Report) -> None:
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    left, right = table.rows[0].cells
    _cell_text(left, "Nơi nhận:", 12, bold=True, italic=True)
    for line in ("- ……………………;", "- ……………………;", "- Lưu: VT."):
        p = left.add_paragraph()
        p.paragraph_format.space_after = Pt(0)
        _run(p, line, 11)
    center = WD_ALIGN_PARAGRAPH.CENTER
    _cell_text(right, f"TM. {report.issuer[0]}", 13, bold=True, align=center)
    p = right.add_paragraph()
    p.alignment = center
    _run(p, "CHỦ TỊCH", 13, bold=True)
    p = right.add_paragraph()
    p.alignment = center
    _run(p, "(Ký, ghi rõ họ tên, đóng dấu)", 12, italic=True)
    _widths(table, [8.0, 8.5])


def _page_number_footer(section) -> None:
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run()
    run.font.name, run.font.size = FONT, Pt(11)
    for tag, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if tag:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), tag)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)


def _heading(doc, text: str) -> None:
    _para(doc, text, bold=True, before=12).paragraph_format.keep_with_next = True


def to_docx(report: Report, chart_png: bytes | None = None) -> bytes:
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(13)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    doc.core_properties.title = report.heading
    doc.core_properties.subject = "Báo cáo định kỳ chuyển đổi số"
    _page_number_footer(section)

    _header(doc, report)
    center = WD_ALIGN_PARAGRAPH.CENTER
    _para(doc, report.title, 14, bold=True, align=center, before=18, after=0)
    _para(doc, report.subtitle, 14, bold=True, align=center, after=2)
    _para(doc, "―――――――", 8, align=center, after=12)
    _para(doc, report.opening, indent=True)

    _heading(doc, "I. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU")
    if not report.has_data:
        _para(doc, report.no_data_text, bold=True, indent=True)
    left, mid, right = WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT
    rows = [[str(i), k.label, k.target_text, k.deadline_text,
             k.value_text + (f"\n({k.fraction_text})" if k.fraction_text else ""), k.gap_text, k.status_label]
            for i, k in enumerate(report.kpis, start=1)]
    _grid(doc, ["STT", "Chỉ tiêu", "Mục tiêu", "Thời hạn", "Kết quả", "Chênh lệch", "Đánh giá"], rows,
          [1.1, 4.1, 1.6, 2.2, 2.8, 2.4, 2.3], [mid, left, mid, mid, right, right, mid],
          status_col=6, statuses=[k.status for k in report.kpis])
    for note in report.notes:
        _para(doc, note, 11, italic=True, before=3, after=0)

    _heading(doc, "II. CÁC XÃ/PHƯỜNG CHƯA ĐẠT CHỈ TIÊU")
    if report.communes is None:
        _para(doc, "Không áp dụng đối với báo cáo của cấp xã.", indent=True)
    else:
        _para(doc, report.communes.summary, indent=True)
        if report.communes.behind:
            rows = [[str(i), c.name, c.result_text, c.gap_text] for i, c in enumerate(report.communes.behind, 1)]
            _grid(doc, ["STT", "Xã/phường", "Tỷ lệ xử lý hoàn toàn trực tuyến", "Chênh lệch so với chỉ tiêu"],
                  rows, [1.1, 6.4, 5.0, 4.0], [mid, left, right, right])

    _heading(doc, "III. NHIỆM VỤ QUÁ HẠN")
    if report.tasks is None:
        _para(doc, NO_TASK_LIST, indent=True)
    elif not report.tasks:
        _para(doc, "Không có nhiệm vụ quá hạn.", indent=True)
    else:
        rows = [[str(i), t.name, t.lead, t.deadline_text or "", t.late_text, t.status, t.progress_text]
                for i, t in enumerate(report.tasks, 1)]
        _grid(doc, ["STT", "Nhiệm vụ", "Chủ trì", "Thời hạn", "Quá hạn", "Trạng thái", "Tiến độ"], rows,
              [1.1, 5.3, 3.0, 2.1, 1.7, 1.8, 1.5], [mid, left, left, mid, right, mid, right])

    _heading(doc, "IV. BIỂU ĐỒ")
    png = chart_png or trend_png(report.trend, report.trend_target, report.unit_name)
    doc.add_picture(io.BytesIO(png), width=Cm(TEXT_WIDTH_CM))
    doc.paragraphs[-1].alignment = center
    _para(doc, "Biểu đồ: Tỷ lệ hồ sơ xử lý hoàn toàn trực tuyến theo tháng so với chỉ tiêu", 11, italic=True,
          align=center)

    _heading(doc, "V. ĐỀ XUẤT, KIẾN NGHỊ")
    for line in report.recommendations.splitlines() or [""]:
        _para(doc, line, indent=True)
    _para(doc, "", after=6)
    _signature(doc, report)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
