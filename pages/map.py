"""Bản đồ: the chosen province's communes coloured by a rate KPI (URL `to_mau`) against its
target, and the 34 provinces. Tile-free (plotly geo, no basemap) so it works without
internet. Clicking a commune (or the selectbox under the map) opens its drill-down;
clicking a province switches to it."""

from __future__ import annotations

import json
from urllib.parse import quote

import plotly.graph_objects as go
import streamlit as st

from kpi import format as fmt
from kpi import map_view as view
from kpi.definitions import KPIS, STATUS_LABELS
from kpi.map_view import (
    NO_DATA_COLOR,
    NO_DATA_LABEL,
    RATE_KPIS,
    color_floor,
    color_ticks,
    colorscale,
    hover_data,
    target_of,
)
from service import addresses
from ui import data, links, state, widgets
from ui.text import md

FEATURE_KEY = "properties.code"
# plotly.js fetches a world topojson from its CDN for every geo map, even with the base map
# hidden; offline that fetch fails and nothing is drawn. An empty topology, inlined as a
# data: URL (the file name plotly appends lands in the #fragment), stands in for it.
_EMPTY_TOPOLOGY = {"type": "Topology", "arcs": [], "objects": {
    name: {"type": "GeometryCollection", "geometries": []}
    for name in ("land", "ocean", "lakes", "rivers", "coastlines", "countries", "subunits")}}
PLOT_CONFIG = {"displayModeBar": False, "scrollZoom": False,
               "topojsonURL": "data:application/json," + quote(json.dumps(_EMPTY_TOPOLOGY)) + "#"}

widgets.page_style()
sel = state.sidebar()
version = data.version()
today_iso = sel.today.isoformat()

# A click on a commune (or the pick under the map) opens its drill-down as one browser-history
# entry (ui.links), and Back returns to this map as it was.
if (drill_to := st.session_state.pop("_map_open_drilldown", None)) is not None:
    links.go_to(addresses.DRILLDOWN, {k: v for k, v in st.query_params.to_dict().items() if k != "to_mau"}
                | {"tinh": sel.province, "don_vi": drill_to, "ky": sel.period.label})


def choropleth(geo: dict, rows: list[dict], kpi: str, target: float | None, height: int,
               highlight: str | None = None) -> go.Figure:
    """Units with a value on the colour scale; units without data in grey (never as 0%)."""
    label = KPIS[kpi].label
    fig = go.Figure()
    shapes = {f["properties"]["code"]: f for f in geo["features"]}
    known = set(shapes)

    def only(codes: list[str]) -> dict:
        """The features of these units alone, so each shape is sent to the browser once."""
        return {"type": "FeatureCollection", "features": [shapes[c] for c in codes]}

    rows = [r for r in rows if r["unit_code"] in known]
    empty = [r for r in rows if r["value"] is None]
    with_value = [r for r in rows if r["value"] is not None]
    line = dict(color="white", width=0.7)
    if empty:
        fig.add_trace(go.Choropleth(
            geojson=only([r["unit_code"] for r in empty]), featureidkey=FEATURE_KEY,
            locations=[r["unit_code"] for r in empty],
            z=[0] * len(empty), colorscale=[[0, NO_DATA_COLOR], [1, NO_DATA_COLOR]], showscale=False,
            marker_line=line, customdata=hover_data(empty, kpi), name=NO_DATA_LABEL,
            showlegend=True,  # the legend's one item: grey is "Chưa có dữ liệu"
            hovertemplate="<b>%{customdata[0]}</b><br>Chưa có dữ liệu trong kỳ<extra></extra>",
        ))
    if with_value:
        zmin = color_floor([r["value"] for r in with_value], target)
        ticks = color_ticks(zmin, target)
        fig.add_trace(go.Choropleth(
            geojson=only([r["unit_code"] for r in with_value]), featureidkey=FEATURE_KEY,
            locations=[r["unit_code"] for r in with_value],
            z=[r["value"] for r in with_value], zmin=zmin, zmax=1, colorscale=colorscale(target, zmin),
            marker_line=line, customdata=hover_data(with_value, kpi), name=label, showlegend=False,
            hovertemplate=(f"<b>%{{customdata[0]}}</b><br>{label}: %{{customdata[1]}}"
                           "<br>Tử số/mẫu số: %{customdata[2]}<br>Đánh giá: %{customdata[3]}<extra></extra>"),
            colorbar=dict(title=dict(text="Tỷ lệ", side="top"), tickvals=ticks,
                          ticktext=[(f"Chỉ tiêu {fmt.percent(t, 0)}" if target is not None and t == target
                                     else fmt.percent(t, 0)) for t in ticks],
                          thickness=14, len=0.75),
        ))
    if highlight and highlight in known:
        fig.add_trace(go.Choropleth(
            geojson=only([highlight]), featureidkey=FEATURE_KEY, locations=[highlight], z=[0],
            colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], showscale=False,
            marker_line=dict(color="#1f2328", width=3), hoverinfo="skip", name="Đang chọn", showlegend=False,
        ))
    fig.update_geos(fitbounds="locations", visible=False, projection_type="mercator")
    fig.update_layout(height=height, margin=dict(l=0, r=0, t=0, b=0), separators=",.", showlegend=bool(empty),
                      legend=view.legend(),
                      font=dict(size=14), hoverlabel=dict(font_size=14), clickmode="event+select")
    return fig


def clicked_code(key: str) -> str | None:
    """The unit code of the shape clicked in the chart with this key, if any."""
    points = st.session_state.get(key, {}).get("selection", {}).get("points", [])
    for point in points:
        custom = point.get("customdata")
        if isinstance(custom, list) and len(custom) >= 5:
            return str(custom[4])
        if point.get("location"):
            return str(point["location"])
    return None


def open_commune(code: str | None) -> None:
    if code and code != sel.province:
        st.session_state["_map_open_drilldown"] = code


def on_commune_click() -> None:
    open_commune(clicked_code("map_communes"))


def on_commune_pick() -> None:
    open_commune(st.session_state.get("map_pick"))


def on_province_click() -> None:
    code = clicked_code("map_provinces")
    if code and code != sel.province:
        widgets.set_scope(code)


# --- The KPI and the figures ------------------------------------------------------------------
requested = st.query_params.get("to_mau")
head, pick = st.columns([3, 1])
kpi = pick.selectbox("Chỉ tiêu tô màu", RATE_KPIS,
                     index=RATE_KPIS.index(view.kpi_of(requested)),
                     format_func=lambda k: KPIS[k].label, key="map_kpi")
st.query_params["to_mau"] = kpi
label = KPIS[kpi].label
head.title(f"Bản đồ — {sel.province_name}")
head.caption(f"{label} · {sel.period.vi()} · số liệu tính đến {fmt.day(sel.period.as_of(sel.today))}. "
             "Bấm vào một xã/phường trên bản đồ để xem chi tiết.")

# Only the units the user may see (the one scope rule): the communes of the map, its table and
# its export, and the province total only for those who may see the province.
rows = sel.only_visible(data.kpis(version, sel.period.label, sel.province, "commune", today_iso))
figures = view.province_map(rows, sel.province, kpi)
commune_rows, own, target = figures.communes, figures.total, figures.target

geo = data.boundaries(sel.province)
left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader(f"Các xã/phường của {md(sel.province_name)}")
    if own is not None and own["value"] is not None:
        st.markdown(f"**Toàn tỉnh:** {widgets.show(kpi, own['value'])} "
                    f"({fmt.number(own['numerator'])}/{fmt.number(own['denominator'])}) · "
                    f"{STATUS_LABELS[own['status']]} · {figures.with_data}/{len(commune_rows)} xã/phường có dữ liệu")
    if geo is None:
        widgets.empty_state(
            f"Chưa có bản đồ ranh giới xã/phường của {sel.province_name}.",
            "Bản đồ xã/phường hiện có cho Phú Thọ, Nghệ An, Quảng Ngãi và Đồng Nai. "
            "Số liệu từng xã/phường vẫn có ở bảng bên dưới; bản đồ toàn quốc ở bên phải."
            + ("" if figures.with_data else f" Kỳ {sel.period.vi().lower()} chưa có dữ liệu «{label.lower()}» của tỉnh này."),
        )
    else:
        if not figures.with_data:
            widgets.empty_state(f"Chưa có dữ liệu «{label.lower()}» của {sel.province_name} cho "
                                f"{sel.period.vi().lower()}.",
                                "Các xã/phường tô màu xám (chưa có dữ liệu, không phải 0%). Chọn kỳ khác ở thanh bên.")
        fig = choropleth(geo, commune_rows, kpi, target, 640, None if sel.is_province else sel.unit)
        st.plotly_chart(fig, width="stretch", key="map_communes", on_select=on_commune_click,
                        selection_mode="points", config=PLOT_CONFIG)
        missing_shape = view.missing_shapes(commune_rows, geo)
        st.caption("Màu xám: chưa có dữ liệu trong kỳ (không tính là 0%)."
                   + (f" Màu đỏ → vàng: dưới chỉ tiêu {fmt.percent(target, 0)}; xanh: đạt chỉ tiêu."
                      if target is not None else "")
                   + (f" {missing_shape} xã/phường không có ranh giới trên bản đồ." if missing_shape > 0 else ""))
    names = figures.names
    st.selectbox("Xem chi tiết xã/phường", sorted(names, key=names.get), index=None, key="map_pick",
                 format_func=names.get, placeholder="Chọn xã/phường để mở trang phân tích chi tiết…",
                 on_change=on_commune_pick)

with right:
    any_province = sel.visible is None or any(sel.sees(code) for code, _name, _n in data.provinces(version))
    national = sel.only_visible(data.province_kpis(version, sel.period.label, today_iso, kpi)) if any_province else []
    if sel.visible is None:
        st.subheader("Toàn quốc (34 tỉnh/thành phố)")
    else:
        st.subheader("Các tỉnh/thành phố được xem")
    if not national:
        widgets.empty_state("Bản đồ toàn quốc chỉ hiện các tỉnh/thành phố mà tài khoản được xem toàn tỉnh.",
                            "Tài khoản này chỉ được xem số liệu của các xã/phường ở bản đồ bên trái.")
    else:
        provinces_geo = data.boundaries(None)
        st.plotly_chart(choropleth(provinces_geo, national, kpi, target_of(national), 640, sel.province),
                        width="stretch", key="map_provinces", on_select=on_province_click, selection_mode="points",
                        config=PLOT_CONFIG)
        have = sum(r["value"] is not None for r in national)
        st.caption(f"{have}/{len(national)} tỉnh/thành phố có dữ liệu. Bấm vào một tỉnh để chuyển sang tỉnh đó.")

# --- The table under the map ------------------------------------------------------------------
st.subheader(f"Bảng số liệu: {label.lower()}")
table = view.table(commune_rows)
shown = view.table_text(table, kpi)
st.dataframe(shown, hide_index=True, width="stretch", height=min(36 * (shown.height + 1) + 2, 600),
             column_config={"Tỷ lệ": st.column_config.TextColumn(label, help=KPIS[kpi].formula),
                            "Tử số": st.column_config.TextColumn("Tử số"),
                            "Mẫu số": st.column_config.TextColumn("Mẫu số")})
widgets.excel_button(table, f"ban_do_{kpi}_{sel.province}_{sel.period.label}", "Tải bảng (Excel)",
                     percent_columns={"Tỷ lệ"}, title=f"{label} — {sel.province_name} — {sel.period.vi()}",
                     key="map_xlsx")
