"""Phân tích chi tiết: province → commune → field → procedure → dossiers.

The position lives in the URL (tinh, don_vi, ky from the sidebar; linh_vuc, tthc, kenh,
theo, chi_tieu, tap, trang_thai, trang here) so a view can be shared. Every figure shows
its numerator and denominator, and the dossier list can show exactly the dossiers of a
KPI's numerator or denominator.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from kpi import drill
from kpi import drill_view as view
from kpi import format as fmt
from kpi.definitions import KPIS
from kpi.drill_view import BY, BY_LABELS, FLAG_HELP, MAIN_KPIS, PAGE_SIZE, SHORT, WIDTHS
from ui import data, state, widgets
from ui.text import md

EXPORT_LIMIT = 100_000

widgets.page_style()
sel = state.sidebar()
version = data.version()
today_iso = sel.today.isoformat()


def param(name: str, allowed=None) -> str | None:
    value = st.query_params.get(name) or None
    return value if allowed is None or value in allowed else None


field = param("linh_vuc")
procedure = param("tthc")
channel = param("kenh", drill.CHANNEL_LABELS)
status = param("trang_thai")
list_kpi = param("chi_tieu", drill.DRILL_KPIS) or "received"
part = param("tap", drill.parts(list_kpi)) or "numerator"
page_no = max(1, int(p)) if (p := param("trang")) and p.isdigit() else 1
filters = tuple(sorted({k: v for k, v in (("field", field), ("procedure_code", procedure),
                                           ("channel", channel)) if v}.items()))
procedure_label = data.procedure_info(version, procedure)[0] if procedure else None


def go(**changes) -> None:
    """Change URL parameters (None removes one) in one write, so each drill step is one
    browser-history entry and Back returns to the view before it; any change goes back to the
    first page of the dossier list."""
    state.navigate(**({"trang": None} | changes))


def go_down(dim: str, key: str | None) -> None:
    if key is None:
        return
    if dim == "unit_code":
        go(don_vi=key, theo=None)
    elif dim == "field":
        go(linh_vuc=key, tthc=None, theo=None)
    else:
        go(tthc=key, linh_vuc=data.procedure_info(version, key)[1] or field, theo=None)


def to_unit(code: str) -> None:
    go(tinh=sel.province, don_vi=code, linh_vuc=None, tthc=None, theo=None)


def picked(key: str):
    """Callback helper: the value a keyed widget was just set to."""
    return st.session_state.get(key)


def on_procedure() -> None:
    chosen = picked(f"f_proc_{procedure}")
    if chosen:
        go_down("procedure_code", chosen)
    else:
        go(tthc=None)


# --- Heading and breadcrumbs ------------------------------------------------------------------
st.title(f"Phân tích chi tiết — {md(sel.unit_name)}")
st.caption(f"{sel.period.vi()} · số liệu tính đến {fmt.day(sel.period.as_of(sel.today))} · "
           "đường dẫn của trang giữ nguyên vị trí và bộ lọc, có thể gửi cho người khác.")

# Our label and the name from the data or the URL; only the name is escaped for Markdown.
crumbs = view.crumbs(sel.province_name, sel.unit_name, sel.is_province, field, procedure_label)
CRUMB_ACTIONS = {"province": lambda: to_unit(sel.province), "unit": lambda: to_unit(sel.unit),
                 "field": lambda: go(tthc=None, theo=None)}
with st.container(horizontal=True, vertical_alignment="center", gap="small"):
    st.markdown(":material/account_tree: **Vị trí:**")
    for i, crumb in enumerate(crumbs):
        if i:
            st.markdown("›")
        if i == len(crumbs) - 1:
            st.markdown(f"**{crumb.prefix}{md(crumb.name)}**")
        else:
            st.button(f"{crumb.prefix}{md(crumb.name)}", key=f"crumb_{i}", type="tertiary",
                      on_click=CRUMB_ACTIONS.get(crumb.target), help="Quay lại cấp này")

# --- Filters (engine filters: field, procedure, channel) -------------------------------------------
fields = data.drill_choices(version, sel.unit, "field")
procedures = data.drill_choices(version, sel.unit, "procedure_code", field)
field_options = view.field_options(fields, field)
procedure_names = view.procedure_names(procedures, procedure, procedure_label)
procedure_options = [None] + list(procedure_names)
c1, c2, c3 = st.columns([2, 3, 1.3])
c1.selectbox("Lĩnh vực", field_options, index=field_options.index(field), key=f"f_field_{field}",
             format_func=lambda v: "Tất cả lĩnh vực" if v is None else v,
             on_change=lambda: go(linh_vuc=picked(f"f_field_{field}"), tthc=None))
c2.selectbox("Thủ tục hành chính", procedure_options, index=procedure_options.index(procedure),
             key=f"f_proc_{procedure}", format_func=lambda v: "Tất cả thủ tục" if v is None else procedure_names[v],
             on_change=on_procedure)
channels = [None, *drill.CHANNEL_LABELS]
c3.selectbox("Kênh nộp", channels, index=channels.index(channel), key=f"f_channel_{channel}",
             format_func=lambda v: "Tất cả kênh" if v is None else drill.CHANNEL_LABELS[v],
             on_change=lambda: go(kenh=picked(f"f_channel_{channel}")))

# --- The selection's own figures --------------------------------------------------------------------
own = {r["kpi"]: r for r in data.kpis(version, sel.period.label, sel.unit, None, today_iso, filters)}
if view.no_dossiers(own):
    what = view.crumbs_text(crumbs)  # plain text: empty_state escapes it
    widgets.empty_state(
        f"Chưa có hồ sơ của {what} cho {sel.period.vi().lower()}"
        + (f" (kênh {drill.CHANNEL_LABELS[channel].lower()})" if channel else "") + ".",
        "Chọn kỳ khác ở thanh bên, bỏ bớt bộ lọc, hoặc quay lại cấp trên theo đường dẫn «Vị trí».",
    )
    st.stop()

# Four cards a row: seven in one row broke their values over two lines at 1366 px.
for start in range(0, len(MAIN_KPIS), 4):
    for col, kid in zip(st.columns(4), MAIN_KPIS[start:start + 4], strict=False):
        col.markdown(widgets.card(own[kid], days=sel.period.days), unsafe_allow_html=True)

# --- Children of this position -----------------------------------------------------------------------
dims = view.dimensions(sel.is_province, field, procedure)


def children(dim: str) -> tuple[pl.DataFrame, int]:
    """KPI rows of the children along `dim` that count at least one dossier (with names), and
    how many were left out for having none in the period."""
    names = None
    if dim == "unit_code":
        values = sel.only_visible(data.kpis(version, sel.period.label, sel.unit, "commune", today_iso, filters))
        frame = drill.kpi_frame_from_values(values, MAIN_KPIS, skip=sel.province)
        own_counts = data.breakdown(version, sel.period.label, sel.unit, "unit_code", today_iso, filters)
        own_counts = own_counts.filter((pl.col("unit_code") == sel.province) & sel.sees(sel.province))
        if own_counts.height:  # dossiers of the province's own departments
            frame = pl.concat([frame, drill.kpi_frame(own_counts, "unit_code", sel.period, MAIN_KPIS)])
        names = dict(data.communes(version, sel.province)) | {sel.province: f"{sel.province_name} (cấp tỉnh)"}
    else:
        counts = data.breakdown(version, sel.period.label, sel.unit, dim, today_iso, filters)
        frame = drill.kpi_frame(counts, dim, sel.period, MAIN_KPIS)
        if dim == "procedure_code":
            names = view.procedure_short_names({code: data.procedure_info(version, code)[0]
                                                for code in frame["key"].drop_nulls().to_list()})
    return view.named_children(frame, dim, names)


if dims:
    dim = view.pick_dimension(dims, param("theo", BY))
    head, choose, sorter = st.columns([2, 2, 2], vertical_alignment="bottom")
    head.subheader(f"Theo {BY_LABELS[dim].lower()}")
    if len(dims) > 1:
        inverse = {v: k for k, v in BY.items()}
        choose.radio("Phân tích theo", dims, index=dims.index(dim), horizontal=True, key=f"by_{dim}",
                     format_func=BY_LABELS.get, on_change=lambda: go(theo=inverse[picked(f"by_{dim}")]))
    frame, without = children(dim)
    sort_by = sorter.selectbox("Sắp xếp theo", view.SORT_OPTIONS, key="dd_sort", format_func=view.sort_label)
    frame = view.sort_children(frame, sort_by)
    label = BY_LABELS[dim]
    shown = view.children_table(frame, dim)
    keys = frame["key"].to_list()
    table_key = f"dd_children_{dim}_{sel.unit}_{field}_{procedure}_{channel}_{sort_by}"

    def on_row() -> None:
        rows = st.session_state[table_key]["selection"]["rows"]
        if rows:
            go_down(dim, keys[rows[0]])

    from_reports = view.from_reports(own["received"]["numerator"], frame)
    if dim != "unit_code" and from_reports > 0:
        st.info(f"{fmt.number(from_reports)} hồ sơ tiếp nhận lấy từ báo cáo tổng hợp (biểu 06a/07a) không chia "
                f"được theo {BY_LABELS[dim].lower()}; bảng dưới chỉ tính từ danh sách hồ sơ chi tiết.",
                icon=":material/summarize:")
    if frame.is_empty():
        st.caption(f"Không có hồ sơ chi tiết để chia theo {label.lower()} trong kỳ.")
    else:
        st.caption("Bấm vào một dòng để xem chi tiết. Mỗi tỷ lệ ghi kèm (tử số/mẫu số)."
                   + (f" {without} {label.lower()} không có hồ sơ trong kỳ (không hiển thị)." if without else ""))
        st.dataframe(shown, hide_index=True, width="stretch", key=table_key, on_select=on_row,
                     selection_mode="single-row", height=min(35 * (shown.height + 1) + 3, 560),
                     column_config={SHORT[k]: st.column_config.TextColumn(SHORT[k], help=KPIS[k].formula)
                                    for k in MAIN_KPIS})
        navigable = [k for k in keys if k is not None]
        names = dict(zip(frame["key"].to_list(), frame["name"].to_list(), strict=True))
        go_key = f"dd_go_{table_key}"
        d1, d2 = st.columns([3, 2], vertical_alignment="bottom")
        d1.selectbox(f"Xem chi tiết {label.lower()}", navigable, index=None, key=go_key, format_func=names.get,
                     placeholder=f"Chọn {label.lower()} để đi xuống một cấp…",
                     on_change=lambda: go_down(dim, picked(go_key)))
        export = view.children_export(frame, dim)
        with d2:
            widgets.excel_button(export, f"chi_tiet_{sel.unit}_{dim}_{sel.period.label}", "Tải bảng (Excel)",
                                 percent_columns=view.percent_columns(),
                                 title=f"{sel.unit_name} — theo {label.lower()} — {sel.period.vi()}",
                                 key=f"xlsx_children_{dim}")

# --- The dossiers behind the figures ------------------------------------------------------------------
st.subheader("Danh sách hồ sơ")
statuses = data.dossier_statuses(version, sel.period.label, sel.unit, today_iso, filters)
status_options = view.status_options(statuses, status)
status_counts = dict(statuses)
l1, l2, l3 = st.columns([3, 3, 2])
l1.selectbox("Chỉ hồ sơ thuộc chỉ tiêu", drill.DRILL_KPIS, index=drill.DRILL_KPIS.index(list_kpi),
             key=f"l_kpi_{list_kpi}", format_func=lambda k: KPIS[k].label,
             on_change=lambda: go(chi_tieu=picked(f"l_kpi_{list_kpi}"), tap=None))
part_options = drill.parts(list_kpi)
l2.selectbox("Phần", part_options, index=part_options.index(part), key=f"l_part_{list_kpi}_{part}",
             format_func=lambda p: drill.PART_LABELS[p] if KPIS[list_kpi].denominator else "Các hồ sơ được đếm",
             on_change=lambda: go(tap=picked(f"l_part_{list_kpi}_{part}")))
l3.selectbox("Trạng thái hồ sơ", status_options, index=status_options.index(status), key=f"l_status_{status}",
             format_func=lambda s: view.status_label(s, status_counts),
             on_change=lambda: go(trang_thai=picked(f"l_status_{status}")))

asof = sel.period.as_of(sel.today)
defn, row = KPIS[list_kpi], own[list_kpi]
total = data.dossier_count(version, sel.period.label, sel.unit, today_iso, filters, status, list_kpi, part)
if defn.denominator:
    explain = (f"**{defn.label}** = {widgets.show(list_kpi, row['value'])} = tử số / mẫu số = "
               f"{fmt.number(row['numerator'] or 0)} / {fmt.number(row['denominator'] or 0)}. "
               f"Tử số: {drill.describe(defn.numerator, asof)}. Mẫu số: {drill.describe(defn.denominator, asof)}.")
else:
    explain = f"**{defn.label}** = {fmt.number(row['numerator'] or 0)}: {drill.describe(defn.numerator, asof)}."
st.markdown(explain)
# Counts the engine took from aggregate reports (TT 01/2020 templates) have no dossier rows.
figure = view.part_figure(row, part)
with_rows = total if not status else data.dossier_count(version, sel.period.label, sel.unit, today_iso, filters,
                                                        None, list_kpi, part)
if figure > with_rows:
    st.info(f"{drill.PART_LABELS[part] if defn.denominator else 'Số liệu'} của «{defn.label}» là "
            f"{fmt.number(figure)} hồ sơ: {fmt.number(with_rows)} hồ sơ có trong danh sách chi tiết, "
            f"{fmt.number(figure - with_rows)} hồ sơ lấy từ báo cáo tổng hợp (biểu 06a/07a theo Thông tư "
            "01/2020/TT-VPCP), không có chi tiết từng hồ sơ.", icon=":material/summarize:")
paged = view.paging(total, page_no)
pages, page_no, first = paged.pages, paged.page_no, paged.first
st.markdown(
    f"Đang liệt kê **{fmt.number(total)} hồ sơ**: {drill.describe_part(list_kpi, part, asof)}"
    + (f", trạng thái «{md(status)}»" if status else "") + "."
    + (f" Hiển thị {fmt.number(first + 1)}–{fmt.number(min(first + PAGE_SIZE, total))}." if total else ""))

if total == 0:
    widgets.empty_state("Không có hồ sơ nào khớp lựa chọn này.", "Đổi chỉ tiêu, phần hoặc trạng thái ở trên.")
    st.stop()


page_frame = data.dossier_page(version, sel.period.label, sel.unit, today_iso, filters, status, list_kpi, part,
                               first, PAGE_SIZE)
shown = view.on_screen(page_frame, sel.is_province)
st.dataframe(shown, hide_index=True, width="stretch", height=min(35 * (shown.height + 1) + 3, 600),
             column_config={c: st.column_config.TextColumn(c, width=WIDTHS[c], help=FLAG_HELP.get(c))
                            for c in shown.columns})
stem = f"ho_so_{sel.unit}_{list_kpi}_{part}_{sel.period.label}"
title = f"Hồ sơ — {sel.unit_name} — {defn.label} ({drill.PART_LABELS[part].lower()}) — {sel.period.vi()}"
with st.container(horizontal=True, vertical_alignment="bottom", gap="medium"):
    if pages > 1:
        st.number_input(f"Trang (trên {fmt.number(pages)})", min_value=1, max_value=pages, value=page_no, step=1,
                        key=f"l_page_{page_no}", on_change=lambda: go(trang=str(picked(f"l_page_{page_no}"))),
                        width=180)
    widgets.excel_button(view.for_excel(page_frame), f"{stem}_trang_{page_no}",
                         f"Tải trang này (Excel, {fmt.number(page_frame.height)} hồ sơ)", title=title,
                         key="xlsx_dossier_page")
    if total > PAGE_SIZE:
        cur = data.cursor()
        node = drill.Node(sel.unit, sel.period, sel.today, dict(filters), status)

        def everything() -> pl.DataFrame:
            return view.for_excel(drill.dossiers(cur, node, list_kpi, part, limit=EXPORT_LIMIT))

        widgets.excel_button_deferred(
            everything, stem, f"Tải toàn bộ (Excel, {fmt.number(min(total, EXPORT_LIMIT))} hồ sơ)",
            title=title + (f" — {fmt.number(EXPORT_LIMIT)} hồ sơ đầu tiên" if total > EXPORT_LIMIT else ""),
            key="xlsx_dossier_all")
