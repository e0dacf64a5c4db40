"""One format per KPI definition (kpi.format.format_value / KpiDef.format), used by the cards,
the drill-down and map tables, the CLI table and the reports."""

from __future__ import annotations

from kpi import format as fmt
from kpi.definitions import KPIS
from kpi.output import show_value
from reports.builder import KpiLine


def test_values_by_kind():
    assert KPIS["full_online_rate"].format(2 / 3) == "66,7%"
    assert KPIS["full_online_rate"].format(0.0) == "0,0%"          # a real zero stays
    assert KPIS["received"].format(1234567) == "1.234.567"
    assert KPIS["overdue_open"].format(0) == "0"
    assert KPIS["dossiers_per_service"].format(216.27) == "216,3"
    for kid in KPIS:
        assert KPIS[kid].format(None) == "Chưa có dữ liệu"           # no data is never 0
    assert fmt.format_value(KPIS["received"], 12) == KPIS["received"].format(12)


def test_targets_drop_needless_decimals():
    assert KPIS["full_online_rate"].format_target(0.8) == "80%"
    assert KPIS["full_online_rate"].format_target(0.825) == "82,5%"
    assert KPIS["dossiers_per_service"].format_target(100) == "100"
    assert KPIS["dossiers_per_service"].format_target(12.5) == "12,5"
    assert KPIS["overdue_open"].format_target(0) == "0"


def test_gaps():
    rate = KPIS["full_online_rate"]
    assert rate.format_gap(2 / 3 - 0.8) == "-13,3 điểm %"
    assert rate.format_gap(0.05) == "+5,0 điểm %"
    assert rate.format_gap(-0.05, signed=False) == "5,0 điểm %"
    assert rate.format_gap(0.0) == "0"
    assert KPIS["received"].format_gap(5) == "+5"
    assert KPIS["dossiers_per_service"].format_gap(-12.54) == "-12,5"


def test_every_door_uses_the_definition():
    from ui.widgets import card, show

    for kid in KPIS:
        for value in (None, 0, 0.5, 1234.5):
            assert show(kid, value) == show_value(kid, value) == KPIS[kid].format(value)
    line = KpiLine("dossiers_per_service", "x", "ratio", 216.27, 10, 3, 100.0, ">=", None, None, "met")
    assert (line.value_text, line.target_text, line.gap_text) == ("216,3", "≥ 100", "+116,3")
    html = card({"kpi": "dossiers_per_service", "status": "met", "value": 216.27, "numerator": 10,
                 "denominator": 3, "target": 100.0, "target_op": ">="})
    assert "216,3" in html and "Chỉ tiêu ≥ 100 " in html + " " and "vượt 116,3" in html
    assert "100,0" not in html
