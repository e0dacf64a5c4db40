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
from kpi import format as fmt
from kpi.definitions import KPIS
from ui import data, state, widgets
from ui.text import md

# The table's columns: every KPI declared with a short header (kpi.definitions), in its order.
MAIN_KPIS = [k for k, d in KPIS.items() if d.short]
SHORT = {k: KPIS[k].short for k in MAIN_KPIS}
PAGE_SIZE = 500
EXPORT_LIMIT = 100_000
BY = {"xa": "unit_code", "linh_vuc": "field", "tthc": "procedure_code"}
BY_LABELS = {"unit_code": "Xã/phường", "field": "Lĩnh vực", "procedure_code": "Thủ tục"}
NO_FIELD = "(Không ghi lĩnh vực)"

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
    """Change URL parameters (None removes one); any change goes back to the first page."""
    for key, value in changes.items():
        if value is None:
            st.query_params.pop(key, None)
        else:
            st.query_params[key] = value
    if "trang" not in changes:
        st.query_params.pop("trang", None)


def go_down(dim: str, key: str | None) -> None:
    if key is None:
        return
    if dim == "unit_code":
        widgets.set_scope(sel.province, key)
        go(theo=None)
    elif dim == "field":
        go(linh_vuc=key, tthc=None, theo=None)
    else:
        go(tthc=key, linh_vuc=data.procedure_info(version, key)[1] or field, theo=None)


def to_unit(code: str) -> None:
    widgets.set_scope(sel.province, code)
    go(linh_vuc=None, tthc=None, theo=None)


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

# (our label, the name from the data or the URL, action); only the name is escaped for Markdown
crumbs = [("", sel.province_name, lambda: to_unit(sel.province))]
if not sel.is_province:
    crumbs.append(("", sel.unit_name, lambda: to_unit(sel.unit)))
if field:
    crumbs.append(("Lĩnh vực: ", field, lambda: go(tthc=None, theo=None)))
if procedure:
    crumbs.append(("Thủ tục: ", procedure_label, None))
with st.container(horizontal=True, vertical_alignment="center", gap="small"):
    st.markdown(":material/account_tree: **Vị trí:**")
    for i, (prefix, name, action) in enumerate(crumbs):
        if i:
            st.markdown("›")
        if i == len(crumbs) - 1:
            st.markdown(f"**{prefix}{md(name)}**")
        else:
            st.button(f"{prefix}{md(name)}", key=f"crumb_{i}", type="tertiary", on_click=action,
                      help="Quay lại cấp này")

# --- Filters (engine filters: field, procedure, channel) -------------------------------------------
fields = data.drill_choices(version, sel.unit, "field")
procedures = data.drill_choices(version, sel.unit, "procedure_code", field)
field_options = [None] + [v for v, _ in fields] + ([field] if field and field not in dict(fields) else [])
procedure_names = dict(procedures) | ({procedure: procedure_label} if procedure else {})
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
if not own["received"]["value"] and not own["overdue_open"]["value"] and all(
        own[k]["value"] is None for k in MAIN_KPIS if KPIS[k].kind == "rate"):
    what = " › ".join(prefix + name for prefix, name, _ in crumbs)  # plain text: empty_state escapes it
    widgets.empty_state(
        f"Chưa có hồ sơ của {what} cho {sel.period.vi().lower()}"
        + (f" (kênh {drill.CHANNEL_LABELS[channel].lower()})" if channel else "") + ".",
        "Chọn kỳ khác ở thanh bên, bỏ bớt bộ lọc, hoặc quay lại cấp trên theo đường dẫn «Vị trí».",
    )
    st.stop()

cols = st.columns(len(MAIN_KPIS))
for col, kid in zip(cols, MAIN_KPIS, strict=True):
    col.markdown(widgets.card(own[kid]), unsafe_allow_html=True)

# --- Children of this position -----------------------------------------------------------------------
dims = ((["unit_code"] if sel.is_province else []) + ([] if field or procedure else ["field"])
        + ([] if procedure else ["procedure_code"]))


def children(dim: str) -> tuple[pl.DataFrame, int]:
    """KPI rows of the children along `dim` that count at least one dossier (with names), and
    how many were left out for having none in the period."""
    if dim == "unit_code":
        values = sel.only_visible(data.kpis(version, sel.period.label, sel.unit, "commune", today_iso, filters))
        frame = drill.kpi_frame_from_values(values, MAIN_KPIS, skip=sel.province)
        own_counts = data.breakdown(version, sel.period.label, sel.unit, "unit_code", today_iso, filters)
        own_counts = own_counts.filter((pl.col("unit_code") == sel.province) & sel.sees(sel.province))
        if own_counts.height:  # dossiers of the province's own departments
            frame = pl.concat([frame, drill.kpi_frame(own_counts, "unit_code", sel.period, MAIN_KPIS)])
        names = dict(data.communes(version, sel.province)) | {sel.province: f"{sel.province_name} (cấp tỉnh)"}
        named = pl.col("key").replace_strict(names, default=pl.col("key"))
    else:
        counts = data.breakdown(version, sel.period.label, sel.unit, dim, today_iso, filters)
        frame = drill.kpi_frame(counts, dim, sel.period, MAIN_KPIS)
        if dim == "field":
            named = pl.col("key").fill_null(NO_FIELD)
        else:
            names = {code: data.procedure_info(version, code)[0].removeprefix(code).strip() or code
                     for code in frame["key"].drop_nulls().to_list()}
            named = pl.col("key").replace_strict(names, default="(Không ghi mã thủ tục)")
    kept = frame.filter(pl.sum_horizontal(pl.col("^.*__(num|den)$").fill_null(0)) > 0)
    return kept.with_columns(named.alias("name")), frame.height - kept.height


def cell(frame: pl.DataFrame, kid: str) -> pl.Series:
    """'66,7% (2/3)' for a rate, '1.234' for a count: the value and where it comes from.
    Formatted in Python over the table's few rows: a Python function inside a polars
    expression (map_elements) deadlocked the server when several sessions drew this table at
    once (polars' workers waiting for the GIL that another session's thread held while
    waiting for those workers)."""
    defn = KPIS[kid]
    rows = frame.select(kid, f"{kid}__num", f"{kid}__den").rows()
    if defn.denominator is None or defn.kind != "rate":
        texts = [defn.format(v) for v, _num, _den in rows]
    else:
        texts = [defn.format(v) if v is None else f"{defn.format(v)} ({fmt.number(num)}/{fmt.number(den)})"
                 for v, num, den in rows]
    return pl.Series(SHORT[kid], texts, dtype=pl.String)


if dims:
    by_param = param("theo", BY)
    dim = BY[by_param] if by_param and BY[by_param] in dims else dims[0]
    head, choose, sorter = st.columns([2, 2, 2], vertical_alignment="bottom")
    head.subheader(f"Theo {BY_LABELS[dim].lower()}")
    if len(dims) > 1:
        inverse = {v: k for k, v in BY.items()}
        choose.radio("Phân tích theo", dims, index=dims.index(dim), horizontal=True, key=f"by_{dim}",
                     format_func=BY_LABELS.get, on_change=lambda: go(theo=inverse[picked(f"by_{dim}")]))
    frame, without = children(dim)
    sort_options = ["received", "full_online_rate", "online_submission_rate", "e_result_rate", "on_time_rate",
                    "overdue_open", "name"]
    sort_by = sorter.selectbox("Sắp xếp theo", sort_options, key="dd_sort",
                           format_func=lambda k: "Tên" if k == "name" else
                           f"{SHORT[k]} ({'thấp → cao' if KPIS[k].kind == 'rate' else 'nhiều → ít'})")
    descending = sort_by in ("received", "overdue_open")
    order = [sort_by] if sort_by == "name" else [sort_by, "name"]
    frame = frame.sort(order, descending=[descending, False][:len(order)], nulls_last=True)
    label = BY_LABELS[dim]
    shown = frame.select(
        pl.col("key").fill_null("").alias("Mã"), pl.col("name").alias(label),
        *[cell(frame, k) for k in MAIN_KPIS])
    if dim == "field":
        shown = shown.drop("Mã")
    keys = frame["key"].to_list()
    table_key = f"dd_children_{dim}_{sel.unit}_{field}_{procedure}_{channel}_{sort_by}"

    def on_row() -> None:
        rows = st.session_state[table_key]["selection"]["rows"]
        if rows:
            go_down(dim, keys[rows[0]])

    from_reports = (own["received"]["numerator"] or 0) - int(frame["received__num"].fill_null(0).sum())
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
        export = frame.select(
            pl.col("key").alias("Mã"), pl.col("name").alias(label),
            *[c for k in MAIN_KPIS for c in (
                [pl.col(k).alias(SHORT[k]), pl.col(f"{k}__num").cast(pl.Int64).alias(f"{SHORT[k]}: tử số"),
                 pl.col(f"{k}__den").cast(pl.Int64).alias(f"{SHORT[k]}: mẫu số")] if KPIS[k].kind == "rate"
                else [pl.col(k).cast(pl.Int64).alias(SHORT[k])])])
        with d2:
            widgets.excel_button(export, f"chi_tiet_{sel.unit}_{dim}_{sel.period.label}", "Tải bảng (Excel)",
                                 percent_columns={SHORT[k] for k in MAIN_KPIS if KPIS[k].kind == "rate"},
                                 title=f"{sel.unit_name} — theo {label.lower()} — {sel.period.vi()}",
                                 key=f"xlsx_children_{dim}")

# --- The dossiers behind the figures ------------------------------------------------------------------
st.subheader("Danh sách hồ sơ")
statuses = data.dossier_statuses(version, sel.period.label, sel.unit, today_iso, filters)
status_options = [None] + [s for s, _ in statuses] + ([status] if status and status not in dict(statuses) else [])
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
             format_func=lambda s: "Tất cả trạng thái" if s is None else f"{s} ({fmt.number(status_counts.get(s, 0))})",
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
figure = {"numerator": row["numerator"], "denominator": row["denominator"],
          "gap": (row["denominator"] or 0) - (row["numerator"] or 0)}[part] or 0
with_rows = total if not status else data.dossier_count(version, sel.period.label, sel.unit, today_iso, filters,
                                                        None, list_kpi, part)
if figure > with_rows:
    st.info(f"{drill.PART_LABELS[part] if defn.denominator else 'Số liệu'} của «{defn.label}» là "
            f"{fmt.number(figure)} hồ sơ: {fmt.number(with_rows)} hồ sơ có trong danh sách chi tiết, "
            f"{fmt.number(figure - with_rows)} hồ sơ lấy từ báo cáo tổng hợp (biểu 06a/07a theo Thông tư "
            "01/2020/TT-VPCP), không có chi tiết từng hồ sơ.", icon=":material/summarize:")
pages = max(1, -(-total // PAGE_SIZE))
page_no = min(page_no, pages)
first = (page_no - 1) * PAGE_SIZE
st.markdown(
    f"Đang liệt kê **{fmt.number(total)} hồ sơ**: {drill.describe_part(list_kpi, part, asof)}"
    + (f", trạng thái «{md(status)}»" if status else "") + "."
    + (f" Hiển thị {fmt.number(first + 1)}–{fmt.number(min(first + PAGE_SIZE, total))}." if total else ""))

if total == 0:
    widgets.empty_state("Không có hồ sơ nào khớp lựa chọn này.", "Đổi chỉ tiêu, phần hoặc trạng thái ở trên.")
    st.stop()


FLAGS = {"fully_online": "Toàn trình", "digitised": "Số hóa", "e_result": "KQ điện tử",
         "data_reused": "Tái sử dụng", "paid_online": "Thanh toán trực tuyến"}
SCREEN_FLAGS = ["fully_online", "digitised", "e_result", "data_reused"]  # the KPIs' flags; Excel has all
FLAG_HELP = {"Tái sử dụng": "Tái sử dụng dữ liệu đã số hóa", "KQ điện tử": "Kết quả điện tử"}
# Screen widths (px) so the list fits 1920 px without scrolling sideways; Excel has every column.
WIDTHS = {"Mã hồ sơ": 185, "Đơn vị": 125, "Thủ tục": 250, "Kênh nộp": 80, "Tiếp nhận": 84, "Hạn trả": 84,
          "Có kết quả": 84, "Trạng thái": 112, "Thời hạn": 130, "Toàn trình": 76, "Số hóa": 62,
          "KQ điện tử": 78, "Tái sử dụng": 84}


def on_screen(frame: pl.DataFrame) -> pl.DataFrame:
    """The dossier list as shown: dd/mm/yyyy dates, Có/Không flags, procedure code and name
    in one column; the unit only at province level."""
    def flag(col: str) -> pl.Expr:
        c = pl.col(col)
        return pl.when(c).then(pl.lit("Có")).when(c.not_()).then(pl.lit("Không")).otherwise(pl.lit(""))

    return frame.select(
        pl.col("dossier_id").alias("Mã hồ sơ"),
        *([pl.col("unit_name").alias("Đơn vị")] if sel.is_province else []),
        pl.concat_str([pl.col("procedure_code"), pl.col("procedure_name")], separator=" ", ignore_nulls=True)
        .alias("Thủ tục"),
        pl.col("channel").replace_strict(drill.CHANNEL_LABELS, default=None).alias("Kênh nộp"),
        pl.col("received_at").dt.strftime("%d/%m/%Y").alias("Tiếp nhận"),
        pl.col("due_date").dt.strftime("%d/%m/%Y").alias("Hạn trả"),
        pl.col("finished_at").dt.strftime("%d/%m/%Y").alias("Có kết quả"),
        pl.col("status").alias("Trạng thái"), pl.col("deadline").alias("Thời hạn"),
        *[flag(c).alias(FLAGS[c]) for c in SCREEN_FLAGS],
    ).with_columns(pl.col(pl.String).fill_null(""))


def for_excel(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column, typed (dates with their time, Có/Không from the booleans)."""
    return frame.select(
        pl.col("dossier_id").alias("Mã hồ sơ"), pl.col("unit_code").alias("Mã đơn vị"),
        pl.col("unit_name").alias("Đơn vị"), pl.col("field").alias("Lĩnh vực"),
        pl.col("procedure_code").alias("Mã TTHC"), pl.col("procedure_name").alias("Tên TTHC"),
        pl.col("channel").replace_strict(drill.CHANNEL_LABELS, default=None).alias("Kênh nộp"),
        pl.col("received_at").alias("Ngày tiếp nhận"), pl.col("due_date").alias("Ngày hẹn trả"),
        pl.col("finished_at").alias("Ngày có kết quả"), pl.col("status").alias("Trạng thái"),
        pl.col("deadline").alias("Thời hạn"),
        *[pl.col(c).alias(FLAG_HELP.get(label, label)) for c, label in FLAGS.items()],
    )


page_frame = data.dossier_page(version, sel.period.label, sel.unit, today_iso, filters, status, list_kpi, part,
                               first, PAGE_SIZE)
shown = on_screen(page_frame)
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
    widgets.excel_button(for_excel(page_frame), f"{stem}_trang_{page_no}",
                         f"Tải trang này (Excel, {fmt.number(page_frame.height)} hồ sơ)", title=title,
                         key="xlsx_dossier_page")
    if total > PAGE_SIZE:
        cur = data.cursor()
        node = drill.Node(sel.unit, sel.period, sel.today, dict(filters), status)

        def everything() -> pl.DataFrame:
            return for_excel(drill.dossiers(cur, node, list_kpi, part, limit=EXPORT_LIMIT))

        widgets.excel_button_deferred(
            everything, stem, f"Tải toàn bộ (Excel, {fmt.number(min(total, EXPORT_LIMIT))} hồ sơ)",
            title=title + (f" — {fmt.number(EXPORT_LIMIT)} hồ sơ đầu tiên" if total > EXPORT_LIMIT else ""),
            key="xlsx_dossier_all")
