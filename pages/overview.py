"""Tổng quan: the leaders' meeting view (KPI cards against targets, the communes behind on
the 80% target, monthly trends, deadlines and projections)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from kpi import format as fmt
from kpi import overview
from kpi.definitions import KPIS, STATUS_COLORS, STATUS_LABELS
from kpi.projection import project
from ui import data, state, widgets
from ui.text import html_text

CARD_KPIS = ["full_online_rate", "online_submission_rate", "e_result_rate", "on_time_rate",
             "digitisation_rate", "data_reuse_rate", "overdue_open", "received",
             "dossiers_per_service", "online_services", "archive_digitisation_rate", "e_document_rate"]
# Every dossier KPI has a card: one declared in kpi.definitions after these comes after them.
CARD_KPIS += [k for k, d in KPIS.items() if d.source == "dossier" and k not in CARD_KPIS]
RANK_KPI = "full_online_rate"
TREND_KPIS = ["full_online_rate", "online_submission_rate", "e_result_rate", "on_time_rate"]

presenting = st.query_params.get("trinh_chieu") == "1"
widgets.page_style(presenting)
sel = state.sidebar()
version = data.version()
today_iso = sel.today.isoformat()

head, toggle = st.columns([5, 1])
head.title(f"Tổng quan chuyển đổi số — {sel.unit_name}")
head.caption(f"{sel.period.vi()} · số liệu tính đến {fmt.day(sel.period.as_of(sel.today))}")
if toggle.toggle("Trình chiếu", value=presenting, help="Ẩn thanh bên, phóng to chữ để chiếu trong cuộc họp"):
    st.query_params["trinh_chieu"] = "1"
else:
    st.query_params.pop("trinh_chieu", None)

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
    target = own[RANK_KPI]["target"]
    worst = html_text(", ".join(f"{r['unit_name']} ({KPIS[RANK_KPI].format(r['value'])})" for r in lagging.behind[:5]))
    st.markdown(
        f'<div class="big-alert">{len(lagging.behind)}/{lagging.with_data} xã/phường chưa đạt chỉ tiêu '
        f'{KPIS[RANK_KPI].format_target(target)} hồ sơ xử lý hoàn toàn trực tuyến. Thấp nhất: {worst or "—"}.</div>',
        unsafe_allow_html=True,
    )

# --- KPI cards ----------------------------------------------------------------------------
shown = [k for k in CARD_KPIS if k in own and (own[k]["value"] is not None or KPIS[k].source == "dossier")]
per_row = 4
for start in range(0, len(shown), per_row):
    cols = st.columns(per_row)
    for col, kid in zip(cols, shown[start:start + per_row], strict=False):
        trend = series[kid].to_list() if kid in series.columns else None
        col.markdown(widgets.card(own[kid], trend), unsafe_allow_html=True)

# --- Ranking of communes -------------------------------------------------------------------
if sel.is_province and communes:
    st.subheader(f"Xếp hạng xã/phường: {KPIS[RANK_KPI].label.lower()}")
    # Plotly draws the first bar at the bottom: the weakest communes end up on top, next to the alert.
    ranked = sorted([r for r in communes if r["value"] is not None], key=lambda r: r["value"], reverse=True)
    missing = len(communes) - len(ranked)
    if ranked:
        fig = go.Figure(go.Bar(
            x=[r["value"] for r in ranked], y=[r["unit_name"] for r in ranked], orientation="h",
            marker_color=[STATUS_COLORS[r["status"]] for r in ranked],
            customdata=[[fmt.percent(r["value"]), fmt.number(r["numerator"]), fmt.number(r["denominator"]),
                         STATUS_LABELS[r["status"]]] for r in ranked],
            hovertemplate="<b>%{y}</b><br>%{customdata[0]} (%{customdata[1]}/%{customdata[2]})"
                          "<br>%{customdata[3]}<extra></extra>",
        ))
        target = own[RANK_KPI]["target"]
        if target is not None:
            fig.add_vline(x=target, line_dash="dash", line_color="#cf222e", line_width=2,
                          annotation_text=f"Chỉ tiêu {fmt.percent(target, 0)}", annotation_position="top")
        fig.update_layout(height=max(320, 18 * len(ranked) + 80), margin=dict(l=10, r=10, t=30, b=10),
                          xaxis=dict(tickformat=".0%", range=[0, 1.02]), yaxis=dict(automargin=True),
                          separators=",.", font=dict(size=14))
        st.plotly_chart(fig, width="stretch", config={"displayModeBar": False})
    if missing:
        st.caption(f"{missing} xã/phường chưa có dữ liệu trong kỳ (không tính là 0%).")
    table = pl.DataFrame([{
        "Mã": r["unit_code"], "Xã/phường": r["unit_name"], "Tỷ lệ": r["value"],
        "Hồ sơ toàn trình": r["numerator"], "Hồ sơ tiếp nhận": r["denominator"],
        "Đánh giá": STATUS_LABELS[r["status"]]} for r in communes],
        schema={"Mã": pl.String, "Xã/phường": pl.String, "Tỷ lệ": pl.Float64, "Hồ sơ toàn trình": pl.Int64,
                "Hồ sơ tiếp nhận": pl.Int64, "Đánh giá": pl.String})
    widgets.excel_button(table.sort("Tỷ lệ", nulls_last=True), f"xep_hang_{sel.unit}_{sel.period.label}",
                         "Tải bảng xếp hạng (Excel)", percent_columns={"Tỷ lệ"},
                         title=f"Xếp hạng {KPIS[RANK_KPI].label.lower()} — {sel.unit_name} — {sel.period.vi()}")

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
    fig.add_hline(y=target, line_dash="dash", line_color="#cf222e",
                  annotation_text=f"Chỉ tiêu toàn trình {fmt.percent(target, 0)}")
fig.update_layout(height=420, yaxis=dict(tickformat=".0%", range=[0, 1.05]), separators=",.",
                  xaxis=dict(tickformat="%m/%Y", dtick="M1"), legend=dict(orientation="h", y=-0.2),
                  margin=dict(l=10, r=10, t=30, b=10), font=dict(size=14))
st.plotly_chart(fig, width="stretch", config={"displayModeBar": False})

# --- Deadlines and projections ----------------------------------------------------------------
st.subheader("Thời hạn và dự báo")
deadline_rows = []
for kid, row in own.items():
    deadline = row.get("target_deadline")
    if deadline is None or row.get("target") is None:
        continue
    days = (deadline - sel.today).days
    values = series[kid].to_list() if kid in series.columns else []
    points = list(zip(series["month"].to_list(), values, strict=False)) if values else []
    proj = project(points, deadline, row["target"], KPIS[kid].higher_is_better) if points else None
    if days < 0:
        outlook = "Đã đạt" if row["status"] == "met" else "Đã quá hạn, chưa đạt"
    elif proj is None:
        outlook = "Chưa đủ số liệu để dự báo"
    else:
        outlook = (f"Theo đà hiện tại ({'+' if proj.slope_per_month >= 0 else '−'}"
                   f"{fmt.percent(abs(proj.slope_per_month))}/tháng) dự kiến {fmt.percent(proj.projected)}: "
                   + ("kịp đạt" if proj.reaches else "không kịp đạt"))
    deadline_rows.append({
        "Chỉ tiêu": KPIS[kid].label, "Mục tiêu": widgets.show(kid, row["target"]),
        "Thời hạn": fmt.day(deadline),
        "Còn lại": f"{days} ngày" if days >= 0 else f"quá {-days} ngày",
        "Hiện tại": widgets.show(kid, row["value"]), "Đánh giá": STATUS_LABELS[row["status"]], "Dự báo": outlook,
    })
if deadline_rows:
    st.dataframe(pl.DataFrame(deadline_rows), hide_index=True, width="stretch")
else:
    st.caption("Không có chỉ tiêu có thời hạn cho đơn vị này.")
