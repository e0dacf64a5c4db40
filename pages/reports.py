"""Báo cáo định kỳ: the report a unit sends upward for the chosen period, previewed on
screen and downloadable as Word, PDF and Excel (the content comes from reports.builder,
the same for all three files)."""

from __future__ import annotations

import base64
from datetime import date

import streamlit as st

from kpi import format as fmt
from kpi.definitions import STATUS_COLORS
from kpi.periods import parse
from reports import builder, charts, excel, pdf, word
from reports.builder import DEFAULT_RECOMMENDATIONS, MOTTO, NO_TASK_LIST, OverdueTask, Report
from ui import data, state, widgets
from ui.text import html_text, md

QUIET = {"no_data", "no_target"}  # statuses shown in regular weight
MIME = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

CSS = """
<style>
.report-paper {background: #fff; max-width: 980px; margin: 8px auto 18px; padding: 34px 46px;
  box-shadow: 0 1px 6px rgba(0,0,0,.18); font-family: "Times New Roman", Times, serif; color: #111;
  font-size: 1.05rem; line-height: 1.45;}
.report-paper .rp-head {display: grid; grid-template-columns: 38% 62%; text-align: center; margin-bottom: 18px;}
.report-paper .rp-head b {display: block;}
.report-paper .rp-motto2 {text-decoration: underline;}
.report-paper .rp-date {font-style: italic; margin-top: 6px;}
.report-paper h3 {text-align: center; font-size: 1.25rem; margin: 8px 0 0; font-family: inherit; padding: 0;}
.report-paper .rp-sub {text-align: center; font-weight: 700; margin-bottom: 14px;}
.report-paper h4 {font-size: 1.05rem; margin: 16px 0 6px; font-family: inherit; padding: 0;}
.report-paper p {text-align: justify; margin: 4px 0;}
.report-paper p.rp-indent {text-indent: 2em;}
.report-paper table {border-collapse: collapse; width: 100%; font-size: .95rem; margin: 6px 0;}
.report-paper th {background: #DDEBF7; border: 1px solid #777; padding: 4px 6px; text-align: center;}
.report-paper td {border: 1px solid #777; padding: 4px 6px; vertical-align: middle;}
.report-paper td.num {text-align: right; white-space: nowrap;}
.report-paper td.mid {text-align: center;}
.report-paper td.nw {white-space: nowrap;}
.report-paper .rp-number {white-space: pre;}
.report-paper .rp-rule {width: 30%; margin: 2px auto 4px; border-top: 1px solid #111;}
.report-paper .rp-note {font-style: italic; font-size: .9rem;}
.report-paper .rp-nodata {font-weight: 700; color: #9a6700;}
</style>
"""


@st.cache_data(show_spinner=False, max_entries=64)
def build_report(data_version: tuple, unit: str, period_label: str, today_iso: str, recommendations: str,
                 tasks: tuple | None) -> Report:
    return builder.build(data.cursor(), unit, parse(period_label), date.fromisoformat(today_iso),
                         tasks=list(tasks) if tasks is not None else None, recommendations=recommendations)


@st.cache_data(show_spinner=False, max_entries=64)
def trend_png(data_version: tuple, unit: str, period_label: str, today_iso: str, recommendations: str,
              tasks: tuple | None) -> bytes:
    report = build_report(data_version, unit, period_label, today_iso, recommendations, tasks)
    return charts.trend_png(report.trend, report.trend_target, report.unit_name)


@st.cache_data(show_spinner=False, max_entries=64)
def report_file(ext: str, data_version: tuple, unit: str, period_label: str, today_iso: str, recommendations: str,
                tasks: tuple | None) -> bytes:
    """One of the report's files, written when it is downloaded (not on every view: under a
    room of viewers, writing Word, PDF and Excel after each upload was a tenth of the server's
    time, bench/viewers.py)."""
    key = (data_version, unit, period_label, today_iso, recommendations, tasks)
    report = build_report(*key)
    if ext == "docx":
        return word.to_docx(report, trend_png(*key))
    return pdf.to_pdf(report) if ext == "pdf" else excel.to_xlsx(report)


@st.cache_data(show_spinner=False, max_entries=64)
def overdue_tasks(data_version: tuple, unit: str, today_iso: str) -> tuple[OverdueTask, ...] | None:
    """The unit's overdue plan tasks; None while no task list is loaded for it."""
    tasks = builder.overdue_tasks(data.cursor(), unit, date.fromisoformat(today_iso))
    return tuple(tasks) if tasks is not None else None


def _e(text) -> str:
    return html_text(text)


def _table(headers: list[str], rows: list[list[str]], classes: list[str],
           colors: dict[int, list[tuple[str, int]]] | None = None) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cells = []
        for c, value in enumerate(row):
            style = ""
            if colors and c in colors:
                color, weight = colors[c][i]
                style = f' style="color:{color}; font-weight:{weight}"'
            cells.append(f'<td class="{classes[c]}"{style}>{_e(value)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def preview_html(report: Report, png: bytes) -> str:
    """The report as it reads in the Word and PDF files."""
    parts = [
        '<div class="report-paper">',
        '<div class="rp-head"><div>'
        f"<b>{_e(report.issuer[0])}</b><b>{_e(report.issuer[1])}</b><div class='rp-rule'></div>"
        f"<div class='rp-number'>{_e(report.number_line)}</div></div>"
        f"<div><b>{_e(MOTTO[0])}</b><b class='rp-motto2'>{_e(MOTTO[1])}</b>"
        f"<div class='rp-date'>{_e(report.place_date)}</div></div></div>",
        f"<h3>{_e(report.title)}</h3><div class='rp-sub'>{_e(report.subtitle)}</div>",
        f"<p class='rp-indent'>{_e(report.opening)}</p>",
        "<h4>I. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU</h4>",
    ]
    if not report.has_data:
        parts.append(f"<p class='rp-nodata'>{_e(report.no_data_text)}</p>")
    rows = [[str(i), k.label, k.target_text, k.deadline_text, k.result_text, k.gap_text, k.status_label]
            for i, k in enumerate(report.kpis, start=1)]
    parts.append(_table(["STT", "Chỉ tiêu", "Mục tiêu", "Thời hạn", "Kết quả", "Chênh lệch", "Đánh giá"], rows,
                        ["mid", "", "mid nw", "mid nw", "num", "num", "mid nw"],
                        {6: [(STATUS_COLORS[k.status], 400 if k.status in QUIET else 700) for k in report.kpis]}))
    parts += [f"<div class='rp-note'>{_e(n)}</div>" for n in report.notes]
    parts.append("<h4>II. CÁC XÃ/PHƯỜNG CHƯA ĐẠT CHỈ TIÊU</h4>")
    if report.communes is None:
        parts.append("<p class='rp-indent'>Không áp dụng đối với báo cáo của cấp xã.</p>")
    else:
        parts.append(f"<p class='rp-indent'>{_e(report.communes.summary)}</p>")
        if report.communes.behind:
            rows = [[str(i), c.name, c.result_text, c.gap_text] for i, c in enumerate(report.communes.behind, 1)]
            parts.append(_table(["STT", "Xã/phường", "Tỷ lệ xử lý hoàn toàn trực tuyến", "Chênh lệch so với chỉ tiêu"],
                                rows, ["mid", "", "num", "num"]))
    parts.append("<h4>III. NHIỆM VỤ QUÁ HẠN</h4>")
    if report.tasks is None:
        parts.append(f"<p class='rp-indent'>{_e(NO_TASK_LIST)}</p>")
    elif not report.tasks:
        parts.append("<p class='rp-indent'>Không có nhiệm vụ quá hạn.</p>")
    else:
        rows = [[str(i), t.name, t.lead, t.deadline_text, t.late_text, t.status, t.progress_text]
                for i, t in enumerate(report.tasks, 1)]
        parts.append(_table(["STT", "Nhiệm vụ", "Chủ trì", "Thời hạn", "Quá hạn", "Trạng thái", "Tiến độ"], rows,
                            ["mid", "", "", "mid", "num", "mid", "num"]))
    parts.append("<h4>IV. BIỂU ĐỒ</h4>")
    parts.append(f"<img src='data:image/png;base64,{base64.b64encode(png).decode()}' style='width:100%' "
                 "alt='Biểu đồ tỷ lệ hồ sơ xử lý hoàn toàn trực tuyến theo tháng'/>")
    parts.append("<div class='rp-note' style='text-align:center'>Biểu đồ: Tỷ lệ hồ sơ xử lý hoàn toàn trực tuyến "
                 "theo tháng so với chỉ tiêu</div>")
    parts.append("<h4>V. ĐỀ XUẤT, KIẾN NGHỊ</h4>")
    parts += [f"<p class='rp-indent'>{_e(line)}</p>" for line in report.recommendations.splitlines()]
    parts.append("</div>")
    return "".join(parts)


def downloads(key: tuple, report: Report, where: str) -> None:
    cols = st.columns(3)
    labels = {"docx": "Tải báo cáo Word (.docx)", "pdf": "Tải báo cáo PDF", "xlsx": "Tải báo cáo Excel (.xlsx)"}
    for col, ext in zip(cols, ("docx", "pdf", "xlsx"), strict=True):
        col.download_button(labels[ext], data=lambda ext=ext: report_file(ext, *key),
                            file_name=f"{report.file_stem}.{ext}", mime=MIME[ext], on_click="ignore",
                            key=f"dl_{ext}_{where}", icon=":material/download:", width="stretch",
                            type="primary" if ext == "docx" else "secondary")


widgets.page_style()
st.markdown(CSS, unsafe_allow_html=True)
sel = state.sidebar()
version = data.version()
today_iso = sel.today.isoformat()

st.title(f"Báo cáo định kỳ — {md(sel.unit_name)}")
st.caption(f"{sel.period.vi()} · số liệu tính đến {fmt.day(sel.period.as_of(sel.today))} · "
           "Chọn đơn vị và kỳ báo cáo (tháng, quý, năm) ở thanh bên.")

rec_key = f"bc_kien_nghi_{sel.unit}"
if rec_key not in st.session_state:
    st.session_state[rec_key] = DEFAULT_RECOMMENDATIONS
recommendations = st.session_state[rec_key]
tasks = overdue_tasks(version, sel.unit, today_iso)
with st.spinner("Đang lập báo cáo…"):
    key = (version, sel.unit, sel.period.label, today_iso, recommendations, tasks)
    report = build_report(*key)

if not report.has_data:
    widgets.empty_state(report.no_data_text,
                        "Báo cáo vẫn tải được (ghi «Chưa có dữ liệu», không ghi 0%). Chọn kỳ khác ở thanh bên, "
                        "hoặc tải dữ liệu lên ở trang «Tải dữ liệu lên».")
downloads(key, report, "top")

st.markdown(preview_html(report, trend_png(*key)), unsafe_allow_html=True)
st.text_area("Soạn mục V. Đề xuất, kiến nghị (đưa vào cả ba file; sửa tiếp được trong file Word)",
             key=rec_key, height=140)
if recommendations == DEFAULT_RECOMMENDATIONS:
    st.caption("Mục V đang là đoạn giữ chỗ: hãy thay bằng đề xuất, kiến nghị của đơn vị trước khi ký ban hành.")
downloads(key, report, "bottom")
