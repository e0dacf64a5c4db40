"""The drill-down page's data (kpi.drill_view), as plain functions: no Streamlit, no AppTest."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from kpi import drill
from kpi import drill_view as view
from kpi.engine import breakdown
from kpi.periods import parse
from loaders.dossiers import load_dossier_file

from .conftest import TODAY


def kpi_rows(**per_key) -> pl.DataFrame:
    """A kpi_frame with one row per key: {key: {kpi: (value, num, den)}}, other KPIs empty."""
    rows = []
    for key, kpis in per_key.items():
        row = {"key": None if key == "none" else key}
        for kid in view.MAIN_KPIS:
            value, num, den = kpis.get(kid, (None, None, None))
            row |= {kid: value, f"{kid}__num": num, f"{kid}__den": den}
        rows.append(row)
    return pl.DataFrame(rows, schema=drill._schema(view.MAIN_KPIS))


def test_crumbs_of_each_level():
    at_province = view.crumbs("Tỉnh Nghệ An", "Tỉnh Nghệ An", True, None, None)
    assert at_province == [view.Crumb("", "Tỉnh Nghệ An", "province")]
    deep = view.crumbs("Tỉnh Nghệ An", "Xã A", False, "Hộ tịch", "2.000908 Cấp bản sao")
    assert [(c.prefix, c.name, c.target) for c in deep] == [
        ("", "Tỉnh Nghệ An", "province"), ("", "Xã A", "unit"), ("Lĩnh vực: ", "Hộ tịch", "field"),
        ("Thủ tục: ", "2.000908 Cấp bản sao", None)]
    assert view.crumbs_text(deep) == "Tỉnh Nghệ An › Xã A › Lĩnh vực: Hộ tịch › Thủ tục: 2.000908 Cấp bản sao"


def test_dimensions_and_the_one_picked():
    assert view.dimensions(True, None, None) == ["unit_code", "field", "procedure_code"]
    assert view.dimensions(False, "Hộ tịch", None) == ["procedure_code"]
    assert view.dimensions(True, None, "2.000908") == ["unit_code"]
    assert view.dimensions(False, None, "2.000908") == []
    dims = ["unit_code", "field", "procedure_code"]
    assert view.pick_dimension(dims, None) == "unit_code"
    assert view.pick_dimension(dims, "tthc") == "procedure_code"
    assert view.pick_dimension(["procedure_code"], "xa") == "procedure_code"


def test_choices_keep_the_current_value_from_the_url():
    fields = [("Chứng thực", "Chứng thực"), ("Hộ tịch", "Hộ tịch")]
    assert view.field_options(fields, None) == [None, "Chứng thực", "Hộ tịch"]
    assert view.field_options(fields, "Hộ tịch") == [None, "Chứng thực", "Hộ tịch"]
    assert view.field_options(fields, "Đất đai") == [None, "Chứng thực", "Hộ tịch", "Đất đai"]
    procedures = [("1.1", "1.1 Một")]
    assert view.procedure_names(procedures, None, None) == {"1.1": "1.1 Một"}
    assert view.procedure_names(procedures, "9.9", "9.9") == {"1.1": "1.1 Một", "9.9": "9.9"}
    statuses = [("Đã trả", 5), ("Đang xử lý", 2)]
    assert view.status_options(statuses, "Hủy") == [None, "Đã trả", "Đang xử lý", "Hủy"]
    assert view.status_label(None, dict(statuses)) == "Tất cả trạng thái"
    assert view.status_label("Đã trả", dict(statuses)) == "Đã trả (5)"
    assert view.status_label("Hủy", dict(statuses)) == "Hủy (0)"


def test_no_dossiers():
    empty = {k: {"value": None} for k in view.MAIN_KPIS} | {"received": {"value": 0}, "overdue_open": {"value": 0}}
    assert view.no_dossiers(empty)
    assert not view.no_dossiers(empty | {"overdue_open": {"value": 3}})
    assert not view.no_dossiers(empty | {"on_time_rate": {"value": 0.0}})


def test_children_kept_named_and_counted():
    frame = kpi_rows(a={"received": (3.0, 3.0, None)}, b={}, none={"received": (1.0, 1.0, None)})
    units, without = view.named_children(frame, "unit_code", {"a": "Xã A"})
    assert units.select("key", "name").rows() == [("a", "Xã A"), (None, None)]
    assert without == 1
    fields, _ = view.named_children(frame, "field")
    assert fields["name"].to_list() == ["a", view.NO_FIELD]
    procs, _ = view.named_children(frame, "procedure_code",
                                   view.procedure_short_names({"a": "a Cấp bản sao", "x": "x"}))
    assert procs["name"].to_list() == ["Cấp bản sao", view.NO_PROCEDURE]
    assert view.procedure_short_names({"x": "x"}) == {"x": "x"}


def test_sort_counts_most_first_rates_lowest_first_no_value_last():
    frame = kpi_rows(a={"received": (1.0, 1.0, None), "on_time_rate": (0.9, 9.0, 10.0)},
                     b={"received": (5.0, 5.0, None)},
                     c={"received": (5.0, 5.0, None), "on_time_rate": (0.5, 1.0, 2.0)})
    frame, _ = view.named_children(frame, "procedure_code", {"a": "Z", "b": "B", "c": "A"})
    assert view.sort_children(frame, "received")["key"].to_list() == ["c", "b", "a"]
    assert view.sort_children(frame, "on_time_rate")["key"].to_list() == ["c", "a", "b"]
    assert view.sort_children(frame, "name")["key"].to_list() == ["c", "b", "a"]
    assert view.sort_label("name") == "Tên"
    assert view.sort_label("received") == "Tiếp nhận (nhiều → ít)"
    assert view.sort_label("on_time_rate") == "Đúng hạn (thấp → cao)"


def test_table_cells_and_export():
    frame = kpi_rows(a={"received": (1234.0, 1234.0, None), "full_online_rate": (2 / 3, 2.0, 3.0)})
    frame, _ = view.named_children(frame, "field")
    shown = view.children_table(frame, "field")
    assert shown.columns == ["Lĩnh vực", *view.SHORT.values()]
    row = shown.row(0, named=True)
    assert row["Tiếp nhận"] == "1.234"
    assert row["Toàn trình"] == "66,7% (2/3)"
    assert row["Đúng hạn"] == "Chưa có dữ liệu"
    assert view.children_table(frame, "unit_code").columns[:2] == ["Mã", "Xã/phường"]
    export = view.children_export(frame, "field")
    assert export["Toàn trình: tử số"].to_list() == [2]
    assert export["Toàn trình: mẫu số"].dtype == pl.Int64
    assert export["Tiếp nhận"].to_list() == [1234]
    assert "Tiếp nhận: tử số" not in export.columns
    assert view.percent_columns() == {"Nộp trực tuyến", "Toàn trình", "Kết quả điện tử", "Đúng hạn",
                                      "Thanh toán trực tuyến"}
    assert view.from_reports(1240, frame) == 6
    assert view.from_reports(None, frame) == -1234


def test_part_figure_and_paging():
    row = {"numerator": 2, "denominator": 5}
    assert [view.part_figure(row, p) for p in drill.PARTS] == [2, 5, 3]
    assert view.part_figure({"numerator": None, "denominator": None}, "numerator") == 0
    assert view.paging(0, 1) == view.Paging(1, 1, 0)
    assert view.paging(1001, 3) == view.Paging(3, 3, 1000)
    assert view.paging(1000, 7) == view.Paging(2, 2, 500)


def test_dossier_list_columns():
    frame = pl.DataFrame({
        "dossier_id": ["H1"], "unit_code": ["16969"], "unit_name": ["Xã A"], "field": [None],
        "procedure_code": ["1.1"], "procedure_name": [None], "channel": ["post"],
        "received_at": [datetime(2025, 9, 2, 8, 30)], "due_date": [date(2025, 9, 9)], "finished_at": [None],
        "status": ["Đang xử lý"], "deadline": ["Đang xử lý, trong hạn"], "fully_online": [True],
        "digitised": [False], "e_result": [None], "data_reused": [None], "paid_online": [None],
    }, schema_overrides={"finished_at": pl.Datetime, "e_result": pl.Boolean, "data_reused": pl.Boolean,
                         "paid_online": pl.Boolean, "field": pl.String, "procedure_name": pl.String})
    commune = view.on_screen(frame, is_province=False)
    assert "Đơn vị" not in commune.columns
    assert set(commune.columns) <= set(view.WIDTHS)
    assert commune.row(0, named=True) == {
        "Mã hồ sơ": "H1", "Thủ tục": "1.1", "Kênh nộp": "BCCI", "Tiếp nhận": "02/09/2025", "Hạn trả": "09/09/2025",
        "Có kết quả": "", "Trạng thái": "Đang xử lý", "Thời hạn": "Đang xử lý, trong hạn", "Toàn trình": "Có",
        "Số hóa": "Không", "KQ điện tử": "", "Tái sử dụng": ""}
    assert view.on_screen(frame, is_province=True).columns[1] == "Đơn vị"
    excel = view.for_excel(frame)
    assert excel.columns[-5:] == ["Toàn trình", "Số hóa", "Kết quả điện tử", "Tái sử dụng dữ liệu đã số hóa",
                                  "Thanh toán trực tuyến"]
    assert excel["Ngày tiếp nhận"].to_list() == [datetime(2025, 9, 2, 8, 30)]
    assert excel["Kênh nộp"].to_list() == ["BCCI"]


def test_children_from_the_engine_keep_every_dossier(con, fixtures):
    """Over the golden fixture: the fields' table (kept rows) adds up to the unit's dossiers."""
    load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY)
    period = parse("2025-Q3")
    counts = breakdown(con, period, "16969", "field", today=TODAY)
    frame, without = view.named_children(drill.kpi_frame(counts, "field", period, view.MAIN_KPIS), "field")
    assert without == 0 or frame.height + without == counts.height
    assert frame["received__num"].sum() == drill.count(con, drill.Node("16969", period, TODAY))
    assert view.children_table(frame, "field").height == frame.height
