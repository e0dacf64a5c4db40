"""The meeting view's card texts, deadlines and whole-view workbook (kpi/overview.py), and the
presentation settings read from the URL (ui/present.py): golden values worked out by hand."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import polars as pl

from kpi import overview
from ui import present

NBSP = "\u00a0"


def row(kpi, value, target=None, op=">=", deadline=None, numerator=None, denominator=None, status="no_target"):
    return {"kpi": kpi, "value": value, "target": target, "target_op": op, "target_deadline": deadline,
            "numerator": numerator, "denominator": denominator, "status": status}


# --- change against the previous period ---------------------------------------------------------

def test_change_of_a_rate_in_points():
    # 3/4 = 75% now, 2/3 = 66,67% before: +8,33 points, good for a higher-is-better rate.
    moved = overview.change("full_online_rate", 0.75, 2 / 3)
    assert moved.text == f"▲{NBSP}8,3{NBSP}điểm{NBSP}% so với kỳ trước"
    assert moved.better is True
    down = overview.change("full_online_rate", 0.5, 0.75)
    assert down.text == f"▼{NBSP}25,0{NBSP}điểm{NBSP}% so với kỳ trước" and down.better is False


def test_change_of_a_count_that_should_be_low():
    # 61 overdue dossiers after 53: 8 more, which is worse.
    moved = overview.change("overdue_open", 61, 53)
    assert moved.text == f"▲{NBSP}8 so với kỳ trước" and moved.better is False
    assert overview.change("overdue_open", 50, 53).better is True


def test_no_change_without_data_and_unchanged_at_the_shown_precision():
    assert overview.change("full_online_rate", None, 0.5) is None
    assert overview.change("full_online_rate", 0.5, None) is None
    same = overview.change("full_online_rate", 0.8004, 0.8)  # 0,04 points: shows as 0,0
    assert same.text == "Không đổi so với kỳ trước" and same.better is None
    assert overview.change("received", 12, 12).text == "Không đổi so với kỳ trước"


# --- target wording -----------------------------------------------------------------------------

def test_target_line_of_a_rate():
    line = overview.target_line(row("full_online_rate", 0.6667, 0.8, deadline=date(2025, 12, 31)))
    assert line == f"Chỉ tiêu ≥ 80% đến 31/12/2025 · thiếu 13,3{NBSP}điểm{NBSP}%"
    assert overview.target_line(row("full_online_rate", 0.831, 0.8)).endswith(f"vượt 3,1{NBSP}điểm{NBSP}%")


def test_overdue_is_never_praised_as_exceeding():
    # The defect: "Chỉ tiêu ≤ 0 · vượt 158" read as if 158 were an achievement.
    line = overview.target_line(row("overdue_open", 158, 0, op="<="))
    assert line == "Chỉ tiêu ≤ 0 · còn 158 hồ sơ quá hạn"
    assert "vượt" not in line
    assert overview.target_line(row("overdue_open", 158, 100, op="<=")) == "Chỉ tiêu ≤ 100 · cao hơn mức cho phép 58"
    assert overview.target_line(row("overdue_open", 40, 100, op="<=")) == "Chỉ tiêu ≤ 100 · thấp hơn mức cho phép 60"
    assert overview.target_line(row("overdue_open", 0, 0, op="<=")) == "Chỉ tiêu ≤ 0"
    assert overview.target_line(row("overdue_open", 5)) == ""


def test_annualised_fraction_says_so():
    # 11.942 online dossiers / 430 services in a 92-day quarter: 27,77 a service, × 365/92 = 110,2.
    r = row("dossiers_per_service", 11942 / 430 * 365 / 92, numerator=11942, denominator=430)
    assert overview.fraction_line(r, 92) == "11.942 / 430 × 365/92 ngày (quy ra năm)"
    assert overview.fraction_line(r) == "11.942 / 430 (quy ra năm)"
    assert overview.fraction_line(row("full_online_rate", 0.75, numerator=3, denominator=4), 31) == "3 / 4"
    assert overview.fraction_line(row("received", 4, numerator=4)) == ""
    # No data is never shown as 0: no "0 / 0" under "Chưa có dữ liệu".
    assert overview.fraction_line(row("paid_online_rate", None, numerator=0, denominator=0)) == ""


def test_plan_mismatch_flag():
    split = {"plan_total": 386, "plan_full": 126, "plan_partial": 261, "plan_mismatch": True}
    assert overview.plan_note(split) == (
        "Kế hoạch ghi 386 dịch vụ (126 toàn trình + 261 một phần), nhưng 126 + 261 = 387 ≠ 386: "
        "chỉ tiêu lấy theo tổng 386 in trong kế hoạch.")
    assert overview.plan_note(split | {"plan_mismatch": False}) is None
    assert overview.plan_note(None) is None


# --- deadlines ------------------------------------------------------------------------------------

def test_deadlines_before_and_after():
    months = [date(2025, m, 1) for m in (6, 7, 8, 9)]
    own = {
        # 60%, 65%, 70%, 75%: +5 points a month; from 09/2025 to 12/2025 is 3 months → 90%.
        "full_online_rate": row("full_online_rate", 0.75, 0.8, deadline=date(2025, 12, 31), status="on_track"),
        "e_result_rate": row("e_result_rate", 0.5, 1.0, deadline=date(2025, 6, 30), status="missed"),
        "received": row("received", 4),
    }
    items = overview.deadlines(own, months, {"full_online_rate": [0.6, 0.65, 0.7, 0.75]}, date(2025, 11, 15))
    assert [(d.kpi, d.days_left) for d in items] == [("full_online_rate", 46), ("e_result_rate", -138)]
    assert items[0].outlook == "Theo đà hiện tại (+5,0%/tháng) dự kiến 90,0%: kịp đạt"
    assert items[1].outlook == "Đã quá hạn, chưa đạt"
    table = overview.deadlines_table(items)
    assert table.row(0) == ("Tỷ lệ hồ sơ xử lý hoàn toàn trực tuyến", "80%", "31/12/2025", "46 ngày", "75,0%",
                            "Đúng tiến độ", "Theo đà hiện tại (+5,0%/tháng) dự kiến 90,0%: kịp đạt")
    assert table.row(1)[3] == "quá 138 ngày"
    frame = overview.deadlines_frame(items)
    assert frame["Còn lại (ngày)"].to_list() == [46, -138]
    assert frame["Thời hạn"].to_list() == [date(2025, 12, 31), date(2025, 6, 30)]


# --- the whole view as one workbook ---------------------------------------------------------------

def test_workbook_one_sheet_per_section_numbers_as_numbers():
    own = {"full_online_rate": row("full_online_rate", 0.75, 0.8, deadline=date(2025, 12, 31), numerator=3,
                                   denominator=4, status="on_track"),
           "received": row("received", 4, numerator=4),
           "overdue_open": row("overdue_open", None)}
    before = {"full_online_rate": {"value": 0.5}, "received": {"value": 6}}
    cards = overview.cards_frame(own, ["full_online_rate", "received", "overdue_open"], before)
    communes = [{"unit_code": "16969", "unit_name": "Xã Nghĩa Thọ", "value": 2 / 3, "numerator": 2, "denominator": 3,
                 "status": "at_risk"},
                {"unit_code": "17611", "unit_name": "Xã Vân Tụ", "value": 0.5, "numerator": 1, "denominator": 2,
                 "status": "at_risk"},
                {"unit_code": "17000", "unit_name": "Xã Không Số", "value": None, "numerator": None,
                 "denominator": None, "status": "no_data"}]
    months = [date(2025, 8, 1), date(2025, 9, 1)]
    data = overview.workbook("Tổng quan — Tỉnh Nghệ An — Tháng 09/2025", {
        "Chỉ tiêu": cards, "Xếp hạng xã-phường": overview.ranking_frame(communes),
        "Xu hướng theo tháng": overview.trend_frame(months, {"full_online_rate": [None, 0.75]}, ["full_online_rate"]),
        "Thời hạn và dự báo": None})
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Chỉ tiêu", "Xếp hạng xã-phường", "Xu hướng theo tháng"]
    sheet = book["Chỉ tiêu"]
    assert sheet["A1"].value == "Tổng quan — Tỉnh Nghệ An — Tháng 09/2025"
    headers = [c.value for c in sheet[3]]
    first = dict(zip(headers, [c for c in sheet[4]], strict=True))
    assert first["Tỷ lệ"].value == 0.75 and first["Tỷ lệ"].number_format == "0.0%"
    assert first["Thay đổi (điểm %)"].value == 0.25
    assert (first["Tử số"].value, first["Mẫu số"].value) == (3, 4)
    second = dict(zip(headers, [c.value for c in sheet[5]], strict=True))
    assert (second["Giá trị"], second["Thay đổi"], second["Tỷ lệ"]) == (4, -2, None)
    third = dict(zip(headers, [c.value for c in sheet[6]], strict=True))
    assert third["Giá trị"] is None and third["Đánh giá"] == "Không có chỉ tiêu"  # no data stays empty, not 0
    ranking = book["Xếp hạng xã-phường"]
    assert [ranking.cell(r, 2).value for r in (4, 5, 6)] == ["Xã Vân Tụ", "Xã Nghĩa Thọ", "Xã Không Số"]
    assert ranking.cell(4, 3).value == 0.5 and ranking.cell(6, 3).value is None
    trend = book["Xu hướng theo tháng"]
    assert trend.cell(3, 2).value == "Tỷ lệ hồ sơ xử lý hoàn toàn trực tuyến"
    assert trend.cell(4, 2).value is None and trend.cell(5, 2).value == 0.75


def test_cards_frame_types():
    frame = overview.cards_frame({"received": row("received", 4, numerator=4)}, ["received"])
    assert frame.schema["Giá trị"] == pl.Float64 and frame["Thay đổi"].to_list() == [None]


# --- presentation settings from the URL -------------------------------------------------------------

def test_presentation_settings_from_the_url():
    assert present.parse({}) == present.Settings(False, 60, "")
    assert present.parse({"trinh_chieu": "1", "lam_moi": "120", "xoay": "don_vi"}) == present.Settings(
        True, 120, "don_vi")
    assert present.parse({"trinh_chieu": "1", "lam_moi": "0"}).refresh == 0
    assert present.parse({"lam_moi": "3"}).refresh == 10          # at least 10 s
    assert present.parse({"lam_moi": "99999"}).refresh == 3600    # at most an hour
    assert present.parse({"lam_moi": "abc", "xoay": "<b>"}) == present.Settings(False, 60, "")


def test_rotation_order_wraps():
    assert present.next_in(["40", "16969", "17611"], "40") == "16969"
    assert present.next_in(["40", "16969", "17611"], "17611") == "40"
    assert present.next_in(["40", "16969"], "99999") == "40"
    assert present.next_in([], "40") is None
    assert present.refresh_label(0) == "Không tự làm mới"
    assert present.refresh_label(30) == "Mỗi 30 giây" and present.refresh_label(120) == "Mỗi 2 phút"
