"""Small presentation pieces: KPI cards with sparklines, status badges, the empty state and
Excel download buttons for any table or workbook (the presentation mode is ui/present.py)."""

from __future__ import annotations

import re

import polars as pl
import streamlit as st

from kpi import format as fmt
from kpi import overview
from kpi.definitions import KPIS, STATUS_COLORS, STATUS_LABELS
from kpi.export import to_xlsx
from ui.text import html_text, md


def show(kpi: str, value: float | None) -> str:
    """A KPI value's text: the definition's one format (KpiDef.format)."""
    return KPIS[kpi].format(value)


def sparkline(values: list[float | None], color: str, width: int = 140, height: int = 32) -> str:
    # From the first month with a value: months before the data began are not a flat start.
    start = next((i for i, v in enumerate(values) if v is not None), len(values))
    values = values[start:]
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(points) < 2:
        return ""
    lo = min(v for _, v in points)
    hi = max(v for _, v in points)
    span = (hi - lo) or 1.0
    n = max(1, len(values) - 1)
    coords = " ".join(f"{i * width / n:.1f},{height - 3 - (v - lo) / span * (height - 6):.1f}" for i, v in points)
    return (f'<svg viewBox="0 0 {width} {height}" preserveAspectRatio="none" role="img" '
            f'aria-label="Xu hướng"><polyline fill="none" stroke="{color}" stroke-width="2.5" vector-effect="non-scaling-stroke" '
            f'points="{coords}"/></svg>')


def card(row: dict, trend: list[float | None] | None = None, note: str | None = None, days: int | None = None,
         change=None) -> str:
    """HTML of one KPI card: label, value, numerator/denominator (an annualised KPI says
    "quy ra năm"; `days`: the period's length), target and gap in words fit for the KPI's
    direction (kpi.overview.target_line), the change against the previous period (a
    kpi.overview.Change), status badge and trend line side by side (never on top of each other)."""
    kpi, status = row["kpi"], row["status"]
    color = STATUS_COLORS[status]
    value = show(kpi, row["value"])
    target = overview.target_line(row)
    fraction = overview.fraction_line(row, days)
    spark = sparkline(trend or [], color)
    moved = ""
    if change is not None:
        tone = {True: "better", False: "worse", None: "same"}[change.better]
        moved = f'<div class="kpi-change kpi-change-{tone}">{html_text(change.text)}</div>'
    return f"""
<div class="kpi-card" style="border-top: 6px solid {color}">
  <div class="kpi-label">{html_text(KPIS[kpi].label)}</div>
  <div class="kpi-value{' kpi-nodata' if row['value'] is None else ''}" style="color:{color}">{html_text(value)}</div>
  <div class="kpi-fraction">{html_text(fraction)}</div>
  {f'<div class="kpi-fraction">Theo {html_text(row["basis"])}</div>' if row.get("basis") else ''}
  {moved}
  <div class="kpi-target">{html_text(target)}</div>
  <div class="kpi-foot"><span class="kpi-status" style="background:{color}">{html_text(STATUS_LABELS[status])}</span>
    <span class="kpi-spark">{spark}</span></div>
  {f'<div class="kpi-note">{html_text(note)}</div>' if note else ''}
</div>"""


CSS = """
<style>
.kpi-card {background: #ffffff; border-radius: 10px; padding: 14px 16px 10px; margin-bottom: 14px;
  box-shadow: 0 1px 4px rgba(0,0,0,.12); min-height: 210px; position: relative; overflow: hidden;}
.kpi-label {font-size: 1.0rem; font-weight: 600; color: #1f2328; min-height: 2.6em; line-height: 1.3em;}
.kpi-value {font-size: 2.6rem; font-weight: 800; line-height: 1.15; margin-top: 4px; white-space: nowrap;}
.kpi-value.kpi-nodata {font-size: 1.6rem; white-space: normal; padding: .45rem 0;}  /* "Chưa có dữ liệu" */
.kpi-fraction {font-size: .9rem; color: #57606a; min-height: 1.2em;}
.kpi-target {font-size: .95rem; color: #1f2328; margin-top: 4px; min-height: 2.5em;}
.kpi-foot {display: flex; flex-wrap: wrap; align-items: center; gap: 6px 10px; margin-top: 6px;}
.kpi-status {flex: 0 1 auto; color: white; border-radius: 12px; padding: 1px 10px; font-size: .85rem;
  font-weight: 600;}
.kpi-spark {flex: 1 1 80px; min-width: 80px; max-width: 160px; height: 32px; margin-left: auto;}
.kpi-spark svg {display: block; width: 100%; height: 100%;}
.kpi-change {font-size: .9rem; font-weight: 600; margin-top: 2px;}
.kpi-change-better {color: #1a7f37;} .kpi-change-worse {color: #cf222e;} .kpi-change-same {color: #57606a;}
.kpi-note {font-size: .8rem; color: #9a6700; margin-top: 4px;}
.big-alert {font-size: 1.35rem; font-weight: 600; padding: 10px 16px; border-radius: 8px; background: #fff8c5;
  border-left: 6px solid #d29922; margin: 6px 0 14px;}
.big-alert-ok {background: #dafbe1; border-left-color: #1a7f37;}
@media (max-width: 640px) {  /* a phone: one card a row, no reserved heights, smaller headings */
  h1 {font-size: 1.7rem !important;}
  .big-alert {font-size: 1.05rem;}
  .kpi-card {min-height: 0; padding: 10px 14px 8px; margin-bottom: 8px;}
  .kpi-label, .kpi-target, .kpi-fraction {min-height: 0;}
  .kpi-value {font-size: 2.1rem;}
}
</style>
"""

def page_style() -> None:
    """The cards' and alerts' style (the presentation's kiosk style is ui.present.CSS, applied
    by app.py on every page)."""
    st.markdown(CSS, unsafe_allow_html=True)


def empty_state(message: str, hint: str | None = None) -> None:
    """An info box; `message` and `hint` are plain text (escaped here: they often carry unit,
    procedure or field names and URL parameters)."""
    st.info(f"**{md(message)}**" + (f"\n\n{md(hint)}" if hint else ""), icon="ℹ️")


def table(frame: pl.DataFrame, labels: dict[str, str] | None = None, *, percent: tuple[str, ...] = (),
          digits: dict[str, int] | None = None, widths: dict[str, str | int] | None = None,
          height: int | str = "auto", key: str | None = None) -> pl.DataFrame:
    """Show `frame` as every page table: Vietnamese headers (`labels`, see
    kpi.format.display_frame), numbers, dates and yes/no formatted the Vietnamese way, empty
    cells empty, number columns right-aligned and texts given room (`widths`: a column's
    "small"/"medium"/"large" or pixels, by its shown label) so that nothing is cut at 1366 px.
    Returns the frame as shown (for its Excel button)."""
    shown = fmt.display_frame(frame, labels, percent=percent, digits=digits)
    numeric = {(labels or {}).get(c, c) for c in frame.columns if frame[c].dtype.is_numeric()}
    widths = widths or {}
    config = {label: st.column_config.TextColumn(label, width=widths.get(label),
                                                 alignment="right" if label in numeric else None)
              for label in shown.columns}
    st.dataframe(shown, hide_index=True, width="stretch", height=height, column_config=config,
                 placeholder="", key=key)
    return shown


def plain_table(frame: pl.DataFrame, labels: dict[str, str] | None = None) -> None:
    """A short table whose long texts wrap instead of being cut (rejected rows and their
    reasons), formatted as `table` (kpi.format.display_frame). st.table renders Markdown in
    its header and cells: `frame`'s texts are shown literally (a file's cells and column names
    are data, not Markdown)."""
    shown = fmt.display_frame(frame, labels)
    st.table(pl.DataFrame({md(c): [md(v) for v in shown[c].to_list()] for c in shown.columns}))


# Streamlit 1.67 draws the uploader's button ("Upload") and its limits line ("200MB per file •
# CSV, XLSX") in English, with no option or config to translate them. The texts are swapped
# by CSS on the dropzone's test ids (stable across releases; a browser test looks at them):
# the English text gets font size 0 and the Vietnamese one is drawn by ::after with the
# original's colour. The same limits are said in the widget's help too, should a release
# change the markup.
_UPLOADER_CSS = """<style>
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p {font-size: 0;}
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {
  content: "Chọn tệp"; font-size: .875rem;}
[data-testid="stFileUploaderDropzoneInstructions"] span {font-size: 0;}
[data-testid="stFileUploaderDropzoneInstructions"] span::after {content: "%s"; font-size: .875rem;}
[data-testid="stFileUploaderDropzone"] > input + div:not(:has(button)) * {font-size: 0;}
[data-testid="stFileUploaderDropzone"] > input + div:not(:has(button)) > *::after {
  content: "Thả tệp vào đây"; font-size: 1rem;}
</style>"""


def file_uploader(label: str, types: list[str], *, accept_multiple_files: bool = False, key: str | None = None):
    """st.file_uploader with its own texts in Vietnamese ("Chọn tệp"; "Tối đa 200 MB mỗi tệp
    • CSV, XLSX"; "Thả tệp vào đây" over the box while a file is dragged onto it, which
    Streamlit draws with no test id: the element after the hidden input that holds no
    button): the size is the server's `server.maxUploadSize`, the types `types`."""
    size = f"{fmt.number(st.get_option('server.maxUploadSize'))} MB"
    limits = f"Tối đa {size} mỗi tệp • {', '.join(t.upper() for t in types)}"
    st.html(_UPLOADER_CSS % re.sub(r'["\\<>]', "", limits))
    return st.file_uploader(label, type=types, accept_multiple_files=accept_multiple_files, key=key,
                            help=f"{limits}. Kéo thả tệp vào ô hoặc bấm «Chọn tệp».")


def excel_button(frame: pl.DataFrame, file_stem: str, label: str = "Tải Excel", percent_columns=None,
                 title: str | None = None, key: str | None = None) -> None:
    """A button that downloads `frame` as an Excel workbook, written only when clicked (a
    workbook built on every rerun of every viewer was a tenth of the server's time)."""
    excel_button_deferred(lambda: frame, file_stem, label, percent_columns, title, key)


def set_scope(province: str, unit: str | None = None) -> None:
    """Point the sidebar and the URL at a province (and commune). Call it from a widget
    callback, before the sidebar is drawn: the sidebar's widgets keep their own state, so
    changing only the URL would be undone by them (keys as in ui.state.sidebar)."""
    unit = unit or province
    st.session_state["sb_province"] = province
    st.session_state[f"sb_unit_{province}"] = unit
    st.query_params.update({"tinh": province, "don_vi": unit})


def excel_button_deferred(make_frame, file_stem: str, label: str = "Tải Excel", percent_columns=None,
                          title: str | None = None, key: str | None = None) -> None:
    """Like excel_button, but the workbook is built only when the user clicks (for long
    lists that should not be written out on every rerun). `make_frame()` must not call
    Streamlit."""
    stem = re.sub(r"[^0-9A-Za-z_-]+", "_", file_stem).strip("_") or "bang"
    st.download_button(
        label, data=lambda: to_xlsx({"Dữ liệu": make_frame()}, percent_columns=set(percent_columns or ()),
                                    title=title),
        file_name=f"{stem}.xlsx", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=key or f"xlsx_{stem}", icon=":material/download:", on_click="ignore",
    )


def workbook_button(make_bytes, file_stem: str, label: str, key: str) -> None:
    """A download of a whole workbook built only on click (`make_bytes()` returns the .xlsx
    bytes, e.g. kpi.overview.workbook; it must not call Streamlit)."""
    stem = re.sub(r"[^0-9A-Za-z_-]+", "_", file_stem).strip("_") or "bang"
    st.download_button(label, data=make_bytes, file_name=f"{stem}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key=key, icon=":material/download:", on_click="ignore")
