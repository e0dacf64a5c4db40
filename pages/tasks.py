"""Nhiệm vụ và thời hạn: the plan tasks of the chosen unit (a province: also its communes'
lists), what is overdue or due soon, a Gantt timeline, progress per lead unit and pillar,
and the plans' next reporting deadlines. Task states come from kpi/tasks.py (due dates,
done, overdue, due soon) and kpi/deadlines.py (state, bars, reporting rules)."""

from __future__ import annotations

import html
from datetime import date, timedelta

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from kpi import deadlines
from kpi import format as fmt
from kpi import tasks_view as view
from kpi.deadlines import STATE_COLORS, STATE_LABELS, STATES
from kpi.tasks import NO_LEAD, SOON_DAYS, summary
from kpi.tasks_view import pillar_order, short, short_unit
from store.db import plans
from ui import data, state, widgets
from ui.text import html_text, md

CSS = """
<style>
.tk-boxes {display: flex; gap: 14px; margin: 4px 0 14px; flex-wrap: wrap;}
.tk-box {flex: 1 1 0; min-width: 170px; background: #fff; border-radius: 10px; padding: 10px 16px;
  box-shadow: 0 1px 4px rgba(0,0,0,.12); border-top: 6px solid var(--c);}
.tk-box .tk-n {font-size: 2.6rem; font-weight: 800; line-height: 1.1; color: var(--c);}
.tk-box .tk-l {font-size: 1.0rem; font-weight: 600; color: #1f2328;}
.tk-box .tk-s {font-size: .85rem; color: #57606a;}
table.tk-table {border-collapse: collapse; width: 100%; font-size: 1.02rem; margin: 4px 0 8px;}
table.tk-table th {background: #f0f3f6; text-align: left; padding: 6px 8px; border-bottom: 2px solid #d0d7de;
  white-space: nowrap;}
table.tk-table td {padding: 6px 8px; border-bottom: 1px solid #d8dee4; vertical-align: top;}
</style>
"""
GROUPS = {"pillar": "Trụ cột", "lead_unit": "Đơn vị chủ trì", "unit_name": "Xã/phường"}
NOWRAP = "white-space:nowrap"
CHART = {"displayModeBar": False}


@st.cache_data(show_spinner=False, max_entries=128)
def load(data_version: tuple, unit: str, with_members: bool, today_iso: str) -> pl.DataFrame:
    """The unit's current task list with due dates and states (kpi.tasks_view.load)."""
    return view.load(data.cursor(), unit, with_members, date.fromisoformat(today_iso))


@st.cache_data(show_spinner=False, max_entries=128)
def load_members(data_version: tuple, unit: str, today_iso: str) -> pl.DataFrame:
    """A province's communes' task lists (kpi.tasks_view.members_of)."""
    return view.members_of(data.cursor(), unit, date.fromisoformat(today_iso))


# --- Small helpers ----------------------------------------------------------------------------

def e(text) -> str:
    return html.escape("" if text is None else str(text))


def box(number: str, label: str, color: str, sub: str = "") -> str:
    return (f'<div class="tk-box" style="--c:{color}"><div class="tk-n">{html_text(number)}</div>'
            f'<div class="tk-l">{html_text(label)}</div><div class="tk-s">{html_text(sub)}</div></div>')


def html_table(headers: list[str], rows: list[list[tuple[str, str]]]) -> str:
    """A large-print table for meetings; rows of (cell text, css style) pairs."""
    head = "".join(f"<th>{html_text(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f'<td style="{style}">{html_text(text)}</td>' for text, style in row) + "</tr>"
                   for row in rows)
    return f'<table class="tk-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


# --- Charts -----------------------------------------------------------------------------------

def gantt(bars: pl.DataFrame, group: str, multi: bool, today: date) -> go.Figure:
    """Bars (kpi.deadlines.timeline) under bold group header rows, one y position per row."""
    ticks, labels, rows, bands = [], [], [], []
    for g, part in view.gantt_groups(bars, group):
        first = len(ticks)
        ticks.append(first)
        labels.append(f"<b>{e(short(g, 60))}</b> ({part.height})")
        for r in part.iter_rows(named=True):
            prefix = f"{short(short_unit(r['unit_name']), 14)} · " if multi and group != "unit_name" else ""
            rows.append((len(ticks), r))
            ticks.append(len(ticks))
            labels.append(e(f"{prefix}{r['task_no'] or ''}. {short(r['task'], 58)}"))
        bands.append((first, len(ticks) - 1))
    fig = go.Figure()
    for key, label, color in STATES:
        chosen = [(p, r) for p, r in rows if r["state"] == key]
        if not chosen:
            continue
        # The legend's swatch apart, so that it is a plain colour whatever the first bar is.
        fig.add_trace(go.Bar(x=[None], y=[None], name=label, marker_color=color, legendgroup=key))
        fig.add_trace(go.Bar(
            y=[p for p, _ in chosen], base=[r["start"].isoformat() for _, r in chosen],
            x=[(r["end"] - r["start"]).days * 86_400_000 for _, r in chosen], orientation="h", width=0.7,
            name=label, legendgroup=key, showlegend=False,
            marker=dict(color=color, pattern=dict(shape=["/" if r["ongoing"] else "" for _, r in chosen],
                                                  fgcolor="rgba(255,255,255,.8)", size=9, fillmode="overlay")),
            text=["Thường xuyên →" if r["ongoing"] else fmt.day(r["end"]) for _, r in chosen],
            textposition="outside", cliponaxis=False, textfont=dict(size=13, color="#1f2328"),
            # Plotly renders its hover text as HTML (<a href> included): the file's texts escaped
            customdata=[[e(r["task"]), e(r["lead_unit"] or NO_LEAD), e(r["deadline"] or ""),
                         "thường xuyên, vẽ đến hết năm" if r["ongoing"] else fmt.day(r["end"]), label,
                         fmt.percent(r["progress"] / 100, 0) if r["progress"] is not None else "—",
                         e(r["status"] or "—"), e(r["unit_name"])] for _, r in chosen],
            hovertemplate="<b>%{customdata[0]}</b><br>Đơn vị: %{customdata[7]}<br>Chủ trì: %{customdata[1]}"
                          "<br>Thời hạn: %{customdata[2]} (%{customdata[3]})<br>Tình trạng: %{customdata[4]}"
                          " · tiến độ %{customdata[5]} · %{customdata[6]}<extra></extra>",
        ))
    if any(r["ongoing"] for _, r in rows):
        fig.add_trace(go.Bar(x=[None], y=[None], name=f"Kẻ sọc: thường xuyên (vẽ đến 31/12/{today.year})",
                             marker=dict(color="#6e7781", pattern=dict(shape="/", fgcolor="#ffffff", size=6,
                                                                       fillmode="overlay"))))
    for i, (first, last) in enumerate(bands):
        fig.add_hrect(y0=first - 0.5, y1=last + 0.5, fillcolor="#f6f8fa" if i % 2 == 0 else "#ffffff",
                      line_width=0, layer="below")
    lo = min(r["start"] for _, r in rows)
    hi = max(max(r["end"] for _, r in rows), today)
    span = (hi - lo).days
    fig.add_vline(x=today.isoformat(), line_color="#cf222e", line_width=2, line_dash="dash")
    fig.add_annotation(x=today.isoformat(), y=1, yref="paper", yanchor="bottom", yshift=24, showarrow=False,
                       text=f"<b>Hôm nay {fmt.day(today)}</b>", font=dict(color="#cf222e", size=13),
                       bgcolor="rgba(255,255,255,.9)")
    # The chart is tall: the date axis on top as well (an invisible point on a matching axis).
    fig.add_trace(go.Scatter(x=[lo.isoformat()], y=[0], xaxis="x2", mode="markers", marker=dict(opacity=0),
                             showlegend=False, hoverinfo="skip"))
    axis = dict(type="date", tickformat="%d/%m/%Y", dtick="M2" if span > 400 else "M1",
                range=[(lo - timedelta(days=10)).isoformat(), (hi + timedelta(days=max(75, span // 6))).isoformat()],
                tick0=date(lo.year, lo.month, 1).isoformat(), gridcolor="#e5e7eb", showgrid=True,
                tickfont=dict(size=13, color="#1f2328"), fixedrange=True)
    fig.update_layout(
        barmode="overlay", height=26 * len(ticks) + 140, separators=",.", font=dict(size=13),
        xaxis=axis, xaxis2=axis | dict(overlaying="x", side="top", matches="x", showgrid=False),
        yaxis=dict(tickvals=ticks, ticktext=labels, autorange="reversed", showgrid=False, automargin=True,
                   fixedrange=True, tickfont=dict(size=13, color="#1f2328")),
        legend=dict(orientation="h", yref="container", y=1, yanchor="top", x=0, font=dict(size=14),
                    title=dict(text="Tình trạng:", side="left", font=dict(size=14))),
        margin=dict(l=10, r=20, t=120, b=40), plot_bgcolor="#ffffff",
    )
    return fig


def progress_chart(table: pl.DataFrame, key: str, order: list[str] | None = None) -> go.Figure:
    """Mean progress per group (kpi.tasks.summary), with done/overdue counts on the bars."""
    if order:
        rows = sorted(table.to_dicts(), key=lambda r: order.index(r[key]))
    else:
        rows = table.sort(["progress", key], nulls_last=True).to_dicts()
    color = ["#cf222e" if r["overdue"] else "#1a7f37" if r["done"] == r["tasks"] else "#0969da" for r in rows]
    text = [f"{fmt.percent((r['progress'] or 0) / 100, 0)} · {r['done']}/{r['tasks']} xong"
            + (f" · {r['overdue']} quá hạn" if r["overdue"] else "") for r in rows]
    fig = go.Figure(go.Bar(
        x=[(r["progress"] or 0) / 100 for r in rows], y=list(range(len(rows))), orientation="h", width=0.65,
        marker_color=color, text=text, textposition="outside", cliponaxis=False, textfont=dict(color="#1f2328"),
        customdata=[[e(r[key]), r["tasks"], r["done"], r["overdue"], r["due_soon"]] for r in rows],  # HTML in hover
        hovertemplate="<b>%{customdata[0]}</b><br>Tiến độ bình quân %{x:.0%}<br>%{customdata[2]}/%{customdata[1]}"
                      " hoàn thành · %{customdata[3]} quá hạn · %{customdata[4]} sắp đến hạn<extra></extra>"))
    fig.update_layout(
        height=34 * len(rows) + 70, separators=",.", font=dict(size=13), margin=dict(l=10, r=10, t=10, b=30),
        xaxis=dict(range=[0, 1.55], tickvals=[0, 0.25, 0.5, 0.75, 1], tickformat=".0%", fixedrange=True),
        yaxis=dict(tickvals=list(range(len(rows))), ticktext=[e(short(r[key], 46)) for r in rows],
                   autorange="reversed", automargin=True, fixedrange=True, tickfont=dict(color="#1f2328")),
    )
    return fig


# --- Sections ---------------------------------------------------------------------------------

def reporting_section(units: dict[str, str], multi: bool, today: date, stem: str, scope_name: str) -> None:
    """The next due date of each reporting rule of the plans of `units` (code -> name)."""
    rows, has_plan = view.reporting(units, plans(), today)
    st.subheader("Thời hạn báo cáo theo kế hoạch")
    if not rows:
        known = multi or has_plan
        st.caption("Kế hoạch không quy định thời hạn báo cáo." if known else
                   f"Chưa có thông tin kế hoạch của {scope_name} nên chưa có thời hạn báo cáo.")
        return
    style = {"passed": "color:#57606a", "no_day": "color:#9a6700", "unknown_rule": "color:#57606a"}
    table_rows = []
    for code, r in rows:
        urgent = r.days_left is not None and 0 <= r.days_left <= 7
        flag = NOWRAP + ";" + ("color:#cf222e;font-weight:700" if urgent else style.get(r.state, "font-weight:600"))
        table_rows.append(([(units[code], NOWRAP)] if multi else []) + [
            (r.what, ""), (r.rule_label, NOWRAP), (fmt.day(r.due) if r.due else "—", flag), (r.days_text, flag)])
    headers = (["Đơn vị"] if multi else []) + ["Báo cáo", "Quy định", "Hạn tiếp theo", "Còn lại"]
    st.markdown(html_table(headers, table_rows), unsafe_allow_html=True)
    widgets.excel_button(view.reporting_excel(units, rows, multi), f"thoi_han_bao_cao_{stem}",
                         "Tải thời hạn báo cáo (Excel)", title=f"Thời hạn báo cáo — {scope_name}",
                         key="tk_xlsx_reporting")


def attention_section(tasks: pl.DataFrame, multi: bool, today: date, stem: str, scope_name: str) -> None:
    """Big numbers, then the overdue and due-soon tasks, soonest (most overdue) first."""
    n = view.counts(tasks)
    st.markdown('<div class="tk-boxes">' + "".join([
        box(fmt.number(n.overdue), "Nhiệm vụ quá hạn", STATE_COLORS["overdue"], "chưa hoàn thành, đã qua hạn"),
        box(fmt.number(n.due_soon), f"Sắp đến hạn ({SOON_DAYS} ngày)", STATE_COLORS["due_soon"],
            f"hạn đến {fmt.day(today + timedelta(days=SOON_DAYS))}"),
        box(f"{fmt.number(n.done)}/{fmt.number(n.total)}", "Đã hoàn thành", STATE_COLORS["done"],
            f"tiến độ bình quân {fmt.percent(n.progress / 100 if n.progress is not None else None, 0)}"),
        box(fmt.number(n.in_progress + n.not_started), "Đang làm / chưa bắt đầu",
            STATE_COLORS["in_progress"],
            f"{n.in_progress} đang thực hiện · {n.not_started} chưa bắt đầu"),
        box(fmt.number(n.ongoing), "Nhiệm vụ thường xuyên", "#6e7781",
            f"{n.undated} nhiệm vụ chưa rõ thời hạn" if n.undated else "không có hạn cụ thể"),
    ]) + "</div>", unsafe_allow_html=True)

    st.subheader("Nhiệm vụ quá hạn và sắp đến hạn")
    attention = view.attention(tasks)
    if attention.height == 0:
        st.success(f"Không có nhiệm vụ quá hạn hay đến hạn trong {SOON_DAYS} ngày tới.")
        return
    rows = [([(r["unit_name"], NOWRAP)] if multi else []) + [
        (r["task_no"] or "", NOWRAP), (r["task"], ""), (r["lead_unit"] or NO_LEAD, ""), (r["deadline"], NOWRAP),
        (fmt.day(r["due_date"]), NOWRAP), (r["left"], f"{NOWRAP};font-weight:700;color:{STATE_COLORS[r['state']]}"),
        (fmt.percent(r["progress"] / 100, 0) if r["progress"] is not None else "—", NOWRAP),
    ] for r in attention.iter_rows(named=True)]
    headers = (["Đơn vị"] if multi else []) + ["STT", "Nhiệm vụ", "Đơn vị chủ trì", "Thời hạn", "Hạn", "Tình trạng",
                                               "Tiến độ"]
    st.markdown(html_table(headers, rows), unsafe_allow_html=True)
    widgets.excel_button(
        view.attention_excel(attention, multi), f"nhiem_vu_qua_han_{stem}", "Tải danh sách cần chú ý (Excel)",
        title=f"Nhiệm vụ quá hạn và sắp đến hạn — {scope_name} — ngày {fmt.day(today)}", key="tk_xlsx_attention")


def timeline_section(tasks: pl.DataFrame, multi: bool, today: date, stem: str) -> None:
    bars = view.bars(tasks, plans(), today)
    st.subheader("Tiến độ theo thời gian")
    if bars.height:
        options = ["pillar", "lead_unit"] + (["unit_name"] if multi else [])
        group = st.radio("Nhóm theo", options, format_func=GROUPS.get, horizontal=True, key=f"tk_group_{stem}")
        st.caption(f"Mỗi thanh bắt đầu từ ngày ban hành kế hoạch (kế hoạch không ghi ngày: "
                   f"{fmt.day(deadlines.DEFAULT_START)}) và kết thúc ở thời hạn của nhiệm vụ. Thanh kẻ sọc "
                   f"«Thường xuyên →» là nhiệm vụ không có hạn cụ thể, vẽ đến hết 31/12/{today.year}. "
                   "Đường đỏ: hôm nay.")
        st.plotly_chart(gantt(bars, group, multi, today), width="stretch", config=CHART)
    undated = view.undated(tasks, multi)
    if undated.height:
        st.markdown(f"**Nhiệm vụ chưa rõ thời hạn ({undated.height})** — không vẽ trên biểu đồ "
                    "(có trong tệp Excel danh sách nhiệm vụ bên dưới)")
        st.dataframe(undated, hide_index=True, width="stretch")
        widgets.excel_button(undated, f"{stem}_chua_ro_thoi_han", "Tải nhiệm vụ chưa rõ thời hạn (Excel)",
                             title="Nhiệm vụ chưa rõ thời hạn", key="tk_xlsx_undated")


def progress_section(tasks: pl.DataFrame, multi: bool, today: date, stem: str, scope_name: str) -> None:
    st.subheader("Tiến độ theo trụ cột và đơn vị chủ trì")
    st.caption("Thanh: tiến độ bình quân (%) do đơn vị báo cáo (nhiệm vụ hoàn thành không ghi tiến độ tính 100%). "
               "Đỏ: có nhiệm vụ quá hạn · xanh lá: đã hoàn thành hết · xanh dương: đang thực hiện.")
    per_pillar = summary(tasks, by="pillar")
    per_lead = view.by_lead(tasks, multi)
    left, right = st.columns([2, 3])
    with left:
        st.markdown("**Theo trụ cột**")
        st.plotly_chart(progress_chart(per_pillar, "pillar", pillar_order(per_pillar["pillar"].to_list())),
                        width="stretch", config=CHART)
        widgets.excel_button(view.summary_frame(per_pillar, "pillar", "Trụ cột"), f"{stem}_theo_tru_cot",
                             "Tải theo trụ cột (Excel)", percent_columns={"Tiến độ bình quân"},
                             title=f"Tiến độ nhiệm vụ theo trụ cột — {scope_name} — ngày {fmt.day(today)}",
                             key="tk_xlsx_pillar")
    with right:
        st.markdown("**Theo đơn vị chủ trì**")
        st.plotly_chart(progress_chart(per_lead, "lead_unit"), width="stretch", config=CHART)
        widgets.excel_button(view.summary_frame(per_lead, "lead_unit", "Đơn vị chủ trì"), f"{stem}_theo_don_vi",
                             "Tải theo đơn vị chủ trì (Excel)", percent_columns={"Tiến độ bình quân"},
                             title=f"Tiến độ nhiệm vụ theo đơn vị chủ trì — {scope_name} — ngày {fmt.day(today)}",
                             key="tk_xlsx_lead")


def table_section(tasks: pl.DataFrame, multi: bool, today: date, stem: str, scope_name: str) -> None:
    """Every task, filtered by pillar, lead unit and state, with its Excel file."""
    st.subheader("Danh sách nhiệm vụ")
    pillars, leads = view.filter_options(tasks)
    f1, f2, f3 = st.columns([2, 3, 2])
    pick_pillar = f1.multiselect("Trụ cột", pillars, key=f"tk_f_pillar_{stem}", placeholder="Tất cả")
    pick_lead = f2.multiselect("Đơn vị chủ trì", leads, key=f"tk_f_lead_{stem}", placeholder="Tất cả")
    pick_state = f3.multiselect("Tình trạng", [k for k, _, _ in STATES], format_func=STATE_LABELS.get,
                                key=f"tk_f_state_{stem}", placeholder="Tất cả")
    shown = view.filtered(tasks, pick_pillar, pick_lead, pick_state)
    table = view.table_view(shown, multi)
    st.caption(f"{fmt.number(table.height)}/{fmt.number(tasks.height)} nhiệm vụ")
    st.dataframe(table, hide_index=True, width="stretch", height=min(35 * table.height + 40, 640), column_config={
        "STT": st.column_config.TextColumn(width=45),
        "Nhiệm vụ": st.column_config.TextColumn(width="large"),
        "Trụ cột": st.column_config.TextColumn(width=130),
        "Hạn": st.column_config.TextColumn(width=95),
        "Còn lại": st.column_config.TextColumn(width=110),
        "Tình trạng": st.column_config.TextColumn(width=150),
        "Tiến độ": st.column_config.NumberColumn(format="%.0f%%", width=70),
    })
    widgets.excel_button(view.table_excel(shown, multi), f"nhiem_vu_{stem}", "Tải danh sách nhiệm vụ (Excel)",
                         title=f"Nhiệm vụ — {scope_name} — tình trạng ngày {fmt.day(today)}", key="tk_xlsx_all")


# --- Page -------------------------------------------------------------------------------------

widgets.page_style()
st.markdown(CSS, unsafe_allow_html=True)
sel = state.sidebar()
version = data.version()
today = sel.today

st.title(f"Nhiệm vụ và thời hạn — {md(sel.unit_name)}")
st.caption(f"Tình trạng tính đến hôm nay {fmt.day(today)} (không phụ thuộc kỳ báo cáo chọn ở thanh bên) · "
           f"«sắp đến hạn» = hạn trong {SOON_DAYS} ngày tới")

own = load(version, sel.unit, False, today.isoformat())
members = pl.DataFrame()
if sel.is_province:
    members = load_members(version, sel.unit, today.isoformat())

scope = "own"
if members.height:
    labels = view.scope_labels(own, members)
    scope = st.radio("Xem nhiệm vụ của", list(labels), format_func=labels.get, horizontal=True,
                     index=0 if own.height else 1, key=f"tk_scope_{sel.unit}")
multi = scope == "members"
tasks = members if multi else own
scope_name = f"các xã/phường của {sel.unit_name}" if multi else sel.unit_name
stem = f"{sel.unit}_xa" if multi else sel.unit
units = dict(zip(tasks["unit_code"], tasks["unit_name"], strict=True)) if multi else {sel.unit: sel.unit_name}

if tasks.height == 0:
    widgets.empty_state(f"Chưa có danh sách nhiệm vụ của {sel.unit_name} — tải lên ở trang «Tải dữ liệu lên».",
                        "Tệp danh sách nhiệm vụ gồm các cột: STT, Nhiệm vụ, Trụ cột, Đơn vị chủ trì, Đơn vị phối hợp, "
                        "Thời hạn, Trạng thái, Tiến độ (%), Ghi chú.")
    reporting_section(units, multi, today, stem, scope_name)
    st.stop()

attention_section(tasks, multi, today, stem, scope_name)
reporting_section(units, multi, today, stem, scope_name)
timeline_section(tasks, multi, today, stem)
progress_section(tasks, multi, today, stem, scope_name)
table_section(tasks, multi, today, stem, scope_name)
