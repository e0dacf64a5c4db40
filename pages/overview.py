"""Tổng quan: the leaders' meeting view (KPI cards against targets, the communes behind on
the 80% target, monthly trends, deadlines and projections)."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from kpi import format as fmt
from kpi import overview
from kpi.definitions import KPIS, STATUS_COLORS, STATUS_LABELS
from service import addresses
from ui import data, links, state, widgets
from ui.text import html_text

CARD_KPIS = ["full_online_rate", "online_submission_rate", "e_result_rate", "on_time_rate",
             "digitisation_rate", "data_reuse_rate", "overdue_open", "received",
             "dossiers_per_service", "online_services", "archive_digitisation_rate", "e_document_rate"]
# Every dossier KPI has a card: one declared in kpi.definitions after these comes after them.
CARD_KPIS += [k for k, d in KPIS.items() if d.source == "dossier" and k not in CARD_KPIS]
RANK_KPI = "full_online_rate"
TREND_KPIS = ["full_online_rate", "online_submission_rate", "e_result_rate", "on_time_rate"]
RANK_CHART = "overview_ranking"

widgets.page_style()
sel = state.sidebar()
version = data.version()
today_iso = sel.today.isoformat()

# A click on a commune's bar in the ranking (callback below) opens its drill-down as one
# browser-history entry (ui.links), so Back returns here as it was.
if (drill_to := st.session_state.pop("_overview_drill", None)) is not None:
    links.go_to(addresses.DRILLDOWN, st.query_params.to_dict() | {"don_vi": drill_to})


def on_rank_click() -> None:
    points = st.session_state.get(RANK_CHART, {}).get("selection", {}).get("points", [])
    code = next((p["customdata"][4] for p in points
                 if isinstance(p.get("customdata"), list) and len(p["customdata"]) >= 5), None)
    if code:
        st.session_state["_overview_drill"] = str(code)


st.title(f"Tổng quan chuyển đổi số — {sel.unit_name}")
st.caption(f"{sel.period.vi()} · số liệu tính đến {fmt.day(sel.period.as_of(sel.today))}")

# Only units the user may see (the one scope rule): ranking, alert and export alike.
rows = sel.only_visible(data.kpis(version, sel.period.label, sel.unit, "commune" if sel.is_province else None,
                                  today_iso))
own = {r["kpi"]: r for r in rows if r["unit_code"] == sel.unit}
if not overview.has_data(own):
    widgets.empty_state(
        f"Chưa có dữ liệu của {sel.unit_name} cho {sel.period.vi().lower()}.",
        "Chọn kỳ khác ở thanh bên, hoặc tải dữ liệu lên ở trang «Tải dữ liệu lên».",
    )
    st.stop()

# Trend: the 12 months up to the period's end.
first, last = overview.trend_window(sel.period.end)
series = data.monthly(version, sel.unit, first.isoformat(), last.isoformat(), today_iso)

# --- Who is behind on the 80% target -----------------------------------------------------
communes = [r for r in rows if r["unit_code"] != sel.unit and r["kpi"] == RANK_KPI]
lagging = (overview.behind_target(rows, sel.unit, RANK_KPI, own.get(RANK_KPI, {}).get("target"))
           if sel.is_province else None)
if lagging is not None:
    text, all_met = overview.behind_headline(lagging, KPIS[RANK_KPI].format_target(own[RANK_KPI]["target"]),
                                             "hồ sơ xử lý hoàn toàn trực tuyến", KPIS[RANK_KPI].format)
    st.markdown(f'<div class="big-alert{" big-alert-ok" if all_met else ""}">{html_text(text)}</div>',
                unsafe_allow_html=True)

# --- KPI cards ----------------------------------------------------------------------------
shown = [k for k in CARD_KPIS if k in own and (own[k]["value"] is not None or KPIS[k].source == "dossier")]
# The previous period of the same kind (month before, quarter before…): the change on each card.
before = {r["kpi"]: r for r in data.kpis(version, sel.period.previous().label, sel.unit, None, today_iso)}
notes = {"online_services": overview.plan_note(data.service_split(version, sel.unit))}
per_row = 4
for start in range(0, len(shown), per_row):
    cols = st.columns(per_row)
    for col, kid in zip(cols, shown[start:start + per_row], strict=False):
        trend = series[kid].to_list() if kid in series.columns else None
        moved = overview.change(kid, own[kid]["value"], before.get(kid, {}).get("value"))
        col.markdown(widgets.card(own[kid], trend, note=notes.get(kid), days=sel.period.days, change=moved),
                     unsafe_allow_html=True)

# --- Ranking of communes -------------------------------------------------------------------
if sel.is_province and communes:
    st.subheader(f"Xếp hạng xã/phường: {KPIS[RANK_KPI].label.lower()}")
    # Plotly draws the first bar at the bottom: the weakest communes end up on top, next to the alert.
    ranked = sorted([r for r in communes if r["value"] is not None], key=lambda r: r["value"], reverse=True)
    missing = len(communes) - len(ranked)
    if ranked:
        st.caption("Bấm vào thanh của một xã/phường để xem phân tích chi tiết của xã/phường đó.")
        fig = go.Figure(go.Bar(
            x=[r["value"] for r in ranked], y=[r["unit_name"] for r in ranked], orientation="h",
            marker_color=[STATUS_COLORS[r["status"]] for r in ranked],
            # Each bar carries its value (readable on a phone, where there is no hover).
            text=[fmt.percent(r["value"]) for r in ranked], textposition="outside", cliponaxis=False,
            textfont=dict(size=12),
            customdata=[[fmt.percent(r["value"]), fmt.number(r["numerator"]), fmt.number(r["denominator"]),
                         STATUS_LABELS[r["status"]], r["unit_code"]] for r in ranked],
            hovertemplate="<b>%{y}</b><br>%{customdata[0]} (%{customdata[1]}/%{customdata[2]})"
                          "<br>%{customdata[3]}<extra></extra>",
        ))
        target = own[RANK_KPI]["target"]
        if target is not None:
            fig.add_vline(x=target, line_dash="dash", line_color="#cf222e", line_width=2,
                          annotation_text=f"Chỉ tiêu {fmt.percent(target, 0)}", annotation_position="top",
                          annotation_font_color="#cf222e", annotation_bgcolor="rgba(255,255,255,.85)")
        fig.update_layout(height=max(320, 20 * len(ranked) + 80), margin=dict(l=10, r=10, t=30, b=10),
                          xaxis=dict(tickformat=".0%", range=[0, 1.14], fixedrange=True),
                          yaxis=dict(automargin=True, fixedrange=True), bargap=0.25,
                          separators=",.", font=dict(size=14), clickmode="event+select", dragmode=False)
        st.plotly_chart(fig, width="stretch", key=RANK_CHART, on_select=on_rank_click, selection_mode="points",
                        config={"displayModeBar": False})
    if missing:
        st.caption(f"{missing} xã/phường chưa có dữ liệu trong kỳ (không tính là 0%).")
    table = overview.ranking_frame(communes)
    widgets.excel_button(table, f"xep_hang_{sel.unit}_{sel.period.label}",
                         "Tải bảng xếp hạng (Excel)", percent_columns={"Tỷ lệ"},
                         title=f"Xếp hạng {KPIS[RANK_KPI].label.lower()} — {sel.unit_name} — {sel.period.vi()}")
else:
    table = None

# --- Monthly trends with the target line ------------------------------------------------------
st.subheader("Xu hướng theo tháng")
fig = go.Figure()
palette = ["#0969da", "#8250df", "#1a7f37", "#bf8700"]
for kid, color in zip(TREND_KPIS, palette, strict=True):
    if kid in series.columns:
        fig.add_trace(go.Scatter(
            x=series["month"].to_list(), y=series[kid].to_list(), name=KPIS[kid].label, mode="lines+markers",
            line=dict(color=color, width=3), connectgaps=False,
            hovertemplate="%{x|%m/%Y}: %{y:.1%}<extra>" + KPIS[kid].label + "</extra>"))
target = own.get("full_online_rate", {}).get("target")
if target is not None:
    # The label sits in the right margin, beside the line's end, never on a line or a point.
    fig.add_hline(y=target, line_dash="dash", line_color="#cf222e")
    fig.add_annotation(xref="paper", x=1, xanchor="left", xshift=6, y=target, yanchor="middle", showarrow=False,
                       text=f"Chỉ tiêu<br>{fmt.percent(target, 0)}", font=dict(color="#cf222e", size=13),
                       align="left")
fig.update_layout(height=420, yaxis=dict(tickformat=".0%", range=[0, 1.05]), separators=",.",
                  xaxis=dict(tickformat="%m/%Y", dtick="M1"), legend=dict(orientation="h", y=-0.2),
                  margin=dict(l=10, r=80 if target is not None else 10, t=30, b=10), font=dict(size=14))
st.plotly_chart(fig, width="stretch", config={"displayModeBar": False})

# --- Deadlines and projections ----------------------------------------------------------------
st.subheader("Thời hạn và dự báo")
months = series["month"].to_list()
series_lists = {k: series[k].to_list() for k in series.columns if k != "month"}
due = overview.deadlines(own, months, series_lists, sel.today)
stem = f"{sel.unit}_{sel.period.label}"
if due:
    st.dataframe(overview.deadlines_table(due), hide_index=True, width="stretch",
                 column_config={"Chỉ tiêu": st.column_config.TextColumn(width="medium"),
                                "Dự báo": st.column_config.TextColumn(width="large")})
    widgets.excel_button(overview.deadlines_frame(due), f"thoi_han_{stem}", "Tải bảng thời hạn (Excel)",
                         percent_columns=set(overview.RATE_HEADERS),
                         title=f"Thời hạn và dự báo — {sel.unit_name} — {sel.period.vi()}", key="xlsx_deadlines")
else:
    st.caption("Không có chỉ tiêu có thời hạn cho đơn vị này.")

# --- The whole view in one workbook ---------------------------------------------------------------
st.divider()
view_title = f"Tổng quan chuyển đổi số — {sel.unit_name} — {sel.period.vi()}"
widgets.workbook_button(
    lambda: overview.workbook(view_title, {
        "Chỉ tiêu": overview.cards_frame(own, shown, before),
        "Xếp hạng xã-phường": table,
        "Xu hướng theo tháng": overview.trend_frame(months, series_lists, TREND_KPIS),
        "Thời hạn và dự báo": overview.deadlines_frame(due) if due else None}),
    f"tong_quan_{stem}", "Tải toàn bộ trang (Excel, mỗi phần một trang tính)", key="xlsx_overview_all")
