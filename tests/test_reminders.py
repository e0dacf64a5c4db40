"""Every deadline's occurrences on fixed dates around each rule, and the reminders a user's
units get from them, computed by hand (kpi/deadlines.py, reports/reminders.py)."""

from __future__ import annotations

from datetime import date

import pytest

from kpi.deadlines import deadlines_of, occurrences, plan_deadlines
from loaders.dossiers import load_dossier_file
from loaders.tasks import load_tasks_file
from reports import reminders
from reports.reminders import for_units, for_user, missing_communes
from store import accounts
from store.db import plans


def rule(kind: str, day: int | None = None, on: str | None = None) -> dict:
    return {"what": f"Báo cáo {kind}", "rule": kind, "day": day, "date": on}


MONTHLY_20 = rule("monthly_before_day", 20)
QUARTERLY_10 = rule("quarterly", 10)
YEARLY_2011 = rule("yearly_before", on="2025-11-20")


@pytest.mark.parametrize(("given", "start", "end", "dates"), [
    # "Before the 20th of each month": the 20th itself, across a year end.
    (MONTHLY_20, date(2026, 11, 19), date(2026, 11, 21), [date(2026, 11, 20)]),
    (MONTHLY_20, date(2026, 11, 21), date(2026, 12, 19), []),
    (MONTHLY_20, date(2026, 12, 1), date(2027, 1, 31), [date(2026, 12, 20), date(2027, 1, 20)]),
    # A 20th on a Sunday (20/9/2026) stays the 20th: the plans give calendar days.
    (MONTHLY_20, date(2026, 9, 17), date(2026, 9, 23), [date(2026, 9, 20)]),
    # The 10th of the quarter's last month: March, June, September, December only.
    (QUARTERLY_10, date(2026, 1, 1), date(2026, 12, 31),
     [date(2026, 3, 10), date(2026, 6, 10), date(2026, 9, 10), date(2026, 12, 10)]),
    (QUARTERLY_10, date(2026, 4, 10), date(2026, 5, 31), []),
    (QUARTERLY_10, date(2026, 6, 10), date(2026, 6, 10), [date(2026, 6, 10)]),
    # A fixed day each year: 20/11.
    (YEARLY_2011, date(2026, 11, 13), date(2026, 11, 20), [date(2026, 11, 20)]),
    (YEARLY_2011, date(2026, 11, 21), date(2027, 11, 19), []),
    # A once-off date only inside the window; weekly on Fridays.
    (rule("once", on="2025-09-25"), date(2025, 9, 1), date(2025, 9, 30), [date(2025, 9, 25)]),
    (rule("once", on="2025-09-25"), date(2025, 10, 1), date(2026, 9, 30), []),
    (rule("weekly", 5), date(2026, 11, 24), date(2026, 12, 7), [date(2026, 11, 27), date(2026, 12, 4)]),
    # Day 31 in a short month: its last day.
    (rule("monthly_before_day", 31), date(2027, 2, 1), date(2027, 2, 28), [date(2027, 2, 28)]),
])
def test_occurrences(given, start, end, dates):
    assert occurrences(given, start, end) == dates


@pytest.mark.parametrize("kind", ["monthly_before_day", "quarterly", "yearly_before", "weekly", "thuong_xuyen"])
def test_no_day_or_ongoing_has_no_occurrence(kind):
    assert occurrences(rule(kind), date(2025, 1, 1), date(2027, 12, 31)) == []


def test_plans_deadlines_come_from_plans_json():
    by_slug = {p["slug"]: p for p in plans()}
    phu_tho = plan_deadlines(by_slug["phu_tho"], date(2026, 12, 14), date(2026, 12, 21))
    assert [(o.unit_code, o.due, o.rule_label) for o in phu_tho] == [
        ("25", date(2026, 12, 20), "Hằng tháng, trước ngày 20")]
    dong_phu = plan_deadlines(by_slug["dong_phu"], date(2026, 11, 1), date(2026, 12, 31))
    assert [o.due for o in dong_phu] == [date(2026, 11, 20), date(2026, 11, 25), date(2026, 12, 10),
                                         date(2026, 12, 15)]
    assert {o.key for o in dong_phu} == {"report:dong_phu:1", "report:dong_phu:2", "report:dong_phu:3",
                                         "report:dong_phu:4"}
    # Nghĩa Thọ's weekly and monthly reports and Ba Tô's have no day in their plans: none.
    assert plan_deadlines(by_slug["nghia_tho"], date(2026, 1, 1), date(2026, 12, 31)) == []
    assert plan_deadlines(by_slug["ba_to"], date(2026, 1, 1), date(2026, 12, 31)) == []


TASKS = """TT;Nội dung nhiệm vụ;Nhóm nhiệm vụ;Cơ quan chủ trì;Cơ quan phối hợp;Thời gian hoàn thành;Tình trạng;Tiến độ;Ghi chú
1;Số hóa sổ hộ tịch;Dữ liệu;Công chức tư pháp - hộ tịch;;18/12/2025;Đang thực hiện;40;
2;Tập huấn kỹ năng số;Nhân lực;Văn phòng UBND xã;;Thường xuyên;Đang thực hiện;50;
3;Ban hành quy chế;Thể chế;Văn phòng UBND xã;;30/11/2025;Chưa thực hiện;0;
4;Lắp wifi công cộng;Hạ tầng;Phòng Kinh tế;;17/12/2025;Hoàn thành;100;
5;Nâng cấp mạng;Hạ tầng;Phòng Kinh tế;;Quý I/2026;Đang thực hiện;20;
"""
TODAY = date(2025, 12, 15)  # a Monday


@pytest.fixture
def store_with_tasks(con, fixtures, tmp_path):
    load_dossier_file(con, fixtures / "golden.csv", province="40")
    path = tmp_path / "nhiem_vu_van_tu.csv"
    path.write_text(TASKS, encoding="utf-8")
    load_tasks_file(con, path, province="40", unit="17611")
    return con


def test_task_deadlines_with_lead_unit_and_progress(store_with_tasks):
    con = store_with_tasks
    found = deadlines_of([], reminders.current_tasks(con, None), None, date(2025, 12, 8), date(2025, 12, 22), TODAY)
    # The 40% task due in 3 days; not the done one (17/12), the ongoing one or Quý I/2026.
    assert [(o.kind, o.unit_code, o.due, o.lead, o.progress) for o in found] == [
        ("task", "17611", date(2025, 12, 18), "Công chức tư pháp - hộ tịch", 40.0)]


def test_reminders_of_a_commune(store_with_tasks):
    con = store_with_tasks
    found = for_units(con, {"17611"}, TODAY)
    assert [(r.kind, r.due, r.days_left) for r in found] == [
        ("task", date(2025, 11, 30), -15),            # overdue since 30/11 (most late first)
        ("missing_upload", date(2025, 12, 5), -10),   # November's data, expected by the 5th
        ("task", date(2025, 12, 18), 3),              # due in 3 days, at 40%
    ]
    late, missing, soon = found
    assert missing.text == ("Chưa tải dữ liệu — Xã Vân Tụ: Tháng 11/2025: Xã Vân Tụ chưa tải dữ liệu (hạn ngày 5 "
                            "hằng tháng); quá hạn 10 ngày (hạn 05/12/2025).")
    assert soon.text == ("Nhiệm vụ — Xã Vân Tụ: Số hóa sổ hộ tịch; còn 3 ngày (hạn 18/12/2025); "
                         "Chủ trì: Công chức tư pháp - hộ tịch; tiến độ 40% (Đang thực hiện).")
    assert late.overdue and late.when_text == "quá hạn 15 ngày (hạn 30/11/2025)"
    # Before the 5th nothing is missing yet; with a 3-day window the 18/12 task is not due yet on 14/12.
    assert [r.kind for r in for_units(con, {"17611"}, date(2025, 12, 4), window=3)] == ["task"]
    # The admin moves the day to the 16th: on the 15th nothing is missing yet.
    reminders.set_upload_day(con, 16)
    assert [r.kind for r in for_units(con, {"17611"}, TODAY)] == ["task", "task"]
    with pytest.raises(ValueError, match="từ ngày 1 đến ngày 28"):
        reminders.set_upload_day(con, 31)


def test_missing_uploads_count_only_expected_communes(store_with_tasks):
    con = store_with_tasks
    # November 2025: Nghĩa Thọ has a dossier, Vân Tụ none; no other commune of Nghệ An ever had data.
    assert missing_communes(con, None, date(2025, 11, 1))["code"].to_list() == ["17611"]
    assert missing_communes(con, None, date(2025, 10, 1)).is_empty()
    # An officer account makes a commune expected even before its first upload.
    accounts.create_user(con, "canbo.x", "matkhau-canbo", "officer", "16975", "Cán bộ")
    assert sorted(missing_communes(con, None, date(2025, 11, 1))["code"].to_list()) == ["16975", "17611"]
    assert missing_communes(con, {"16969", "17611"}, date(2025, 11, 1))["code"].to_list() == ["17611"]


def test_a_province_leader_sees_the_province_line_and_the_communes_named(store_with_tasks):
    con = store_with_tasks
    accounts.create_user(con, "lanhdao", "matkhau-lanhdao", "leader", "40", "Lãnh đạo")
    leader = accounts.User("lanhdao", "Lãnh đạo", "leader", "40")
    found = for_user(con, leader, TODAY)
    missing = [r for r in found if r.kind == "missing_upload"]
    assert [(r.unit_code, r.missing, r.names_text) for r in missing] == [
        ("40", "Tháng 11/2025: 1 xã/phường chưa tải dữ liệu", "Xã Vân Tụ")]
    assert {r.unit_code for r in found if r.kind == "task"} == {"17611"}
    # An officer of Nghĩa Thọ sees nothing of Vân Tụ.
    officer = accounts.User("canbo", "Cán bộ", "officer", "16969")
    assert for_user(con, officer, TODAY) == []
    assert reminders.summary(found) == "2 việc quá hạn, 1 việc sắp đến hạn"


def test_a_monthly_report_names_what_is_missing(con, fixtures):
    """Phú Thọ reports before the 20th of each month on the month before: its communes that
    have data in some month but none in November are counted."""
    load_dossier_file(con, fixtures / "golden.csv", province="40")
    communes = [c for (c,) in con.execute("SELECT code FROM units WHERE province_code = '25' AND level = 'commune' "
                                          "ORDER BY code LIMIT 12").fetchall()]
    for code in communes:  # 12 communes with an officer each: expected, without any data
        accounts.create_user(con, f"cb{code}", "matkhau-canbo", "officer", code)
    found = [r for r in for_units(con, None, date(2025, 12, 17)) if r.kind == "report"]
    (phu_tho,) = [r for r in found if r.unit_code == "25"]
    assert (phu_tho.due, phu_tho.days_left) == (date(2025, 12, 20), 3)
    assert phu_tho.missing == "Tháng 11/2025: 12 xã/phường chưa tải dữ liệu"
    assert "Tháng 11/2025: 12 xã/phường chưa tải dữ liệu" in phu_tho.text
    # The 20/12/2026 deadline falls on a Sunday: still the 20th, 3 days before is Thursday 17/12.
    sunday = [r for r in for_units(con, {"25"}, date(2026, 12, 17)) if r.kind == "report"]
    assert [(r.due, r.days_left, r.due.strftime("%a")) for r in sunday] == [(date(2026, 12, 20), 3, "Sun")]
