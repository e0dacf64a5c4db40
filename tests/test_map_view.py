"""The map page's data (kpi/map_view.py), read without Streamlit or AppTest."""

from __future__ import annotations

import polars as pl
import pytest

from kpi import map_view as view
from kpi.definitions import KPIS, STATUS_LABELS

KPI = "full_online_rate"


def row(code, name, value, num=None, den=None, target=0.8, status="no_data", kpi=KPI):
    return {"unit_code": code, "unit_name": name, "kpi": kpi, "value": value, "numerator": num,
            "denominator": den, "target": target, "status": status}


ROWS = [
    row("40", "Tỉnh Nghệ An", 0.75, 75, 100, 0.8, "at_risk"),
    row("40", "Tỉnh Nghệ An", 0.1, 1, 10, None, "missed", kpi="other"),
    row("A", "Xã Bắc", 0.9, 9, 10, 0.8, "met"),
    row("B", "Xã Anh", None, 0, 0, None, "no_data"),
    row("C", "Xã Cầu", 0.5, 1_500, 3_000, 0.7, "at_risk"),
    row("D", "Xã Đông", 0.5, 5, 10, 0.7, "at_risk"),
]


def test_kpi_of_url():
    assert view.kpi_of("full_online_rate") == "full_online_rate"
    assert view.kpi_of(None) == view.DEFAULT_KPI and view.kpi_of("nope") == view.DEFAULT_KPI
    assert all(KPIS[k].kind == "rate" for k in view.RATE_KPIS) and view.DEFAULT_KPI in view.RATE_KPIS


def test_province_map_splits_communes_and_total():
    figures = view.province_map(ROWS, "40", KPI)
    assert [r["unit_code"] for r in figures.communes] == ["A", "B", "C", "D"]
    assert figures.total["value"] == 0.75 and figures.target == 0.8
    assert figures.with_data == 3
    assert figures.names == {"A": "Xã Bắc", "B": "Xã Anh", "C": "Xã Cầu", "D": "Xã Đông"}


def test_without_the_province_row_the_communes_most_common_target():
    figures = view.province_map(ROWS[2:], "40", KPI)
    assert figures.total is None and figures.target == 0.7  # two communes at 0.7, one at 0.8
    assert view.target_of([row("A", "a", None, target=None)]) is None


def test_missing_shapes():
    geo = {"features": [{"properties": {"code": "A"}}, {"properties": {"code": "Z"}}]}
    assert view.missing_shapes(ROWS[2:], geo) == 3


def test_colour_scale():
    assert view.color_floor([0.95, 0.99], 0.8) == pytest.approx(0.6)
    assert view.color_floor([0.3, 0.9], 0.8) == 0.3
    assert view.color_floor([0.95], None) == 0.8
    assert view.colorscale(None) == [[0, "#cf222e"], [0.5, "#f2cc60"], [1, "#1a7f37"]]
    scale = view.colorscale(0.8, 0.6)
    assert scale[0] == [0, "#b42318"] and scale[-1] == [1, "#1a7f37"]
    assert [c for _, c in scale] == ["#b42318", "#f0883e", "#f7d774", "#9bd99b", "#1a7f37"]
    assert abs(scale[3][0] - 0.5) < 1e-9  # the target halfway between 0.6 and 1
    assert view.color_ticks(0.6, 0.8) == [0.6, 0.7, 0.9, 1.0, 0.8]
    assert view.color_ticks(0.0, None) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]


def test_hover_data():
    hover = view.hover_data(ROWS[2:4], KPI)
    assert hover[0] == ["Xã Bắc", KPIS[KPI].format(0.9), "9/10", STATUS_LABELS["met"], "A"]
    assert hover[1][2] == "—" and hover[1][1] == KPIS[KPI].format(None)


def test_table_lowest_first_no_data_last():
    figures = view.province_map(ROWS, "40", KPI)
    table = view.table(figures.communes)
    assert table.schema == pl.Schema(view.TABLE_SCHEMA)
    assert table["Mã"].to_list() == ["C", "D", "A", "B"]
    assert table.row(3) == ("B", "Xã Anh", None, None, 0, STATUS_LABELS["no_data"])
    text = view.table_text(table, KPI)
    assert text["Tử số"].to_list() == ["1.500", "5", "9", ""]
    assert text["Tỷ lệ"].to_list() == [KPIS[KPI].format(v) for v in (0.5, 0.5, 0.9, None)]
    assert view.table([]).schema == pl.Schema(view.TABLE_SCHEMA)
