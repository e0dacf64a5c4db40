"""One format per KPI definition (kpi.format.format_value / KpiDef.format), used by the cards,
the drill-down and map tables, the CLI table and the reports."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

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


def test_display_frame_formats_every_cell_the_vietnamese_way():
    """Issue 16 item 5: one function turns a table into what a page shows."""
    from datetime import date, datetime

    import polars as pl

    frame = pl.DataFrame({"loaded": [46230, None], "rate": [0.3, 0.825], "ratio": [337.94, None],
                          "at": [datetime(2025, 12, 7, 14, 5), None], "day": [date(2025, 12, 31), None],
                          "ok": [True, False], "names": [["a", "b"], None], "text": ["x", None]})
    shown = fmt.display_frame(frame, {"loaded": "Dòng nạp", "text": None}, percent=("rate",))
    assert shown.columns == ["Dòng nạp", "rate", "ratio", "at", "day", "ok", "names"]
    assert shown.rows() == [("46.230", "30%", "337,9", "07/12/2025 14:05", "31/12/2025", "Có", "a, b"),
                            ("", "82,5%", "", "", "", "Không", "")]
    assert all(dtype == pl.String for dtype in shown.dtypes)


def test_parse_number_reads_what_display_writes():
    assert fmt.parse_number("1.234,5") == 1234.5
    assert fmt.parse_number("80%") == 0.8
    assert fmt.parse_number("0,8", percent=True) == 0.8
    assert fmt.parse_number("80", percent=True) == 0.8   # a bare rate above 1 is a percent
    assert fmt.parse_number("12", percent=False) == 12
    assert fmt.parse_number("  ") is None and fmt.parse_number(None) is None
    import pytest

    with pytest.raises(ValueError, match="không phải là số"):
        fmt.parse_number("0.8.1")
    for kpi, value in (("full_online_rate", 0.3), ("received", 1234), ("dossiers_per_service", 12.5)):
        defn = KPIS[kpi]
        assert fmt.parse_number(defn.format_target(value), percent=defn.kind == "rate") == value


def test_exact_text_round_trips():
    for value, percent, text in ((0.8, True, "80%"), (0.825, True, "82,5%"), (1 / 3, True, "33,333333%"),
                                 (1234, False, "1.234"), (12.5, False, "12,5"), (0.0, True, "0%")):
        assert fmt.exact_text(value, percent=percent) == text
        if value != 1 / 3:
            assert fmt.parse_number(text, percent=percent) == value


def test_number_and_percent_equal_babels_own_formatting():
    # number/percent format finite numbers without Babel's pattern machinery (the CLI formats
    # ~4,000 values a province); the text must stay exactly Babel's: vi marks, half-even
    # rounding of the float's repr (2,5 -> 2; 0,125 -> 0,12), negatives, big numbers.
    import random

    from babel.numbers import format_decimal, format_percent

    from kpi.format import number, percent

    rng = random.Random(2026)
    values = [0, 1, -1, 0.5, 1.5, 2.5, -2.5, 0.05, 0.125, 0.0005, 0.99995, 1234567, -1234567.891, 1e15, 10**20,
              *(k / 1000 for k in range(-2000, 2001)), *(rng.uniform(-1e7, 1e7) for _ in range(3000)),
              *(rng.random() for _ in range(3000)), *(rng.randint(-10**9, 10**9) for _ in range(1000))]
    for value in values:
        for digits in (0, 1, 2):
            pattern = "#,##0" + ("." + "0" * digits if digits else "")
            assert number(value, digits) == format_decimal(value, format=pattern, locale="vi_VN"), (value, digits)
            assert percent(value, digits) == format_percent(value, format=pattern + "%", locale="vi_VN"), (value, digits)
    assert (number(1234567.25, 1), percent(0.6666), number(None)) == ("1.234.567,2", "66,7%", "Chưa có dữ liệu")


@given(text=st.text(alphabet=st.sampled_from(list("ab cđ,;—ỗ")), max_size=60), width=st.integers(2, 40))
def test_shorten_cuts_at_a_word_and_keeps_the_limit(text, width):
    shown = fmt.shorten(text, width)
    if len(text) <= width:
        assert shown == text
    else:
        assert shown.endswith("…") and len(shown) <= width
        kept = shown[:-1]
        assert text.startswith(kept)
        # The cut falls between words: what was kept ends a word of the original.
        assert kept == "" or text[len(kept)] in " ,;—" or text[: width - 1].find(" ") == -1
