"""The tasks page's data (kpi/tasks_view.py), read without Streamlit or AppTest.

A commune's list of 8 tasks, today 15/11/2025:
  1  31/10/2025, Đang thực hiện 40        overdue (15 days)
  2  Trước 30/11/2025, 60                 due soon (15 days)
  3  Tháng 12/2025, Chưa thực hiện 0      not started
  4  30/9/2025, Hoàn thành 100            done
  5  Thường xuyên, 50                     ongoing, in progress
  6  no deadline, 30                      unknown deadline, in progress
  7  Quý III/2025, 70, two lead units     overdue (46 days)
  8  10/12/2025, no status, no progress   due soon (25 days), not started
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from kpi import tasks_view as view
from kpi.deadlines import ReportDeadline
from kpi.tasks import NO_LEAD
from loaders.tasks import load_tasks_file

TODAY = date(2025, 11, 15)
UNIT = "16969"
CSV = """STT,Nhiệm vụ,Trụ cột,Đơn vị chủ trì,Đơn vị phối hợp,Thời hạn,Trạng thái,Tiến độ (%),Ghi chú
1,Rà soát quy trình nội bộ,Thể chế,Phòng Văn hóa - Xã hội,,31/10/2025,Đang thực hiện,40,
2,Triển khai ký số cho cán bộ,Nền tảng,Văn phòng HĐND&UBND xã,,Trước 30/11/2025,Đang thực hiện,60,
3,Lập kế hoạch tập huấn kỹ năng số,Nhân lực,Phòng Văn hóa - Xã hội,,Tháng 12/2025,Chưa thực hiện,0,
4,Công bố danh mục thủ tục,Thể chế,Trung tâm Phục vụ hành chính công xã,,30/9/2025,Hoàn thành,100,
5,Tuyên truyền chuyển đổi số,Nhân lực,Phòng Văn hóa - Xã hội,,Thường xuyên,Đang thực hiện,50,
6,Kiểm tra an toàn thông tin,,Công an xã,,,Đang thực hiện,30,
7,Làm sạch dữ liệu dân cư,Dữ liệu,Công an xã; Phòng Kinh tế,,Quý III/2025,Đang thực hiện,70,
8,Số hóa hồ sơ lưu trữ,Dữ liệu,Văn phòng HĐND&UBND xã,,10/12/2025,,,
"""


@pytest.fixture
def tasks(con, tmp_path) -> pl.DataFrame:
    path = tmp_path / "nhiem_vu.csv"
    path.write_text(CSV, encoding="utf-8")
    assert load_tasks_file(con, path, "40", unit=UNIT).loaded == 8
    return view.load(con, UNIT, False, TODAY)


def test_load_names_unclassified_pillar_and_states(tasks):
    assert tasks.height == 8
    assert tasks.filter(pl.col("task_no") == "6")["pillar"].to_list() == [view.NO_PILLAR]
    assert tasks.sort("source_row")["state"].to_list() == [
        "overdue", "due_soon", "not_started", "done", "in_progress", "in_progress", "overdue", "due_soon"]


def test_load_of_unit_without_tasks(con):
    assert view.load(con, UNIT, False, TODAY).height == 0
    assert view.members_of(con, "40", TODAY).height == 0


def test_members_leave_the_province_out(con, tasks):
    members = view.members_of(con, "40", TODAY)
    assert members["unit_code"].unique().to_list() == [UNIT]
    labels = view.scope_labels(view.load(con, "40", False, TODAY), members)
    assert labels == {"own": "Kế hoạch của tỉnh (0 nhiệm vụ)",
                      "members": "Các xã/phường có danh sách (1 đơn vị, 8 nhiệm vụ, 2 quá hạn)"}


def test_counts(tasks):
    n = view.counts(tasks)
    assert (n.total, n.overdue, n.due_soon, n.done, n.in_progress, n.not_started, n.ongoing, n.undated) == (
        8, 2, 2, 1, 2, 1, 1, 1)
    # task 8 has no progress and is not done: left out of the mean
    assert n.progress == pytest.approx((40 + 60 + 0 + 100 + 50 + 30 + 70) / 7)


def test_attention_most_overdue_first(tasks):
    att = view.attention(tasks)
    assert att["task_no"].to_list() == ["7", "1", "2", "8"]
    assert att["left"].to_list() == ["quá 46 ngày", "quá 15 ngày", "còn 15 ngày", "còn 25 ngày"]
    excel = view.attention_excel(att, multi=True)
    assert excel.columns[0] == "Đơn vị" and "Tình trạng" in excel.columns
    assert excel["Tình trạng"].to_list()[:1] == ["Quá hạn"]
    assert "Đơn vị" not in view.attention_excel(att, multi=False).columns


def test_days_text():
    frame = pl.DataFrame({"done": [True, False, False, False, False], "days_left": [-3, None, -2, 0, 4]})
    assert frame.select(view.days_text())["literal"].to_list() == ["", "", "quá 2 ngày", "hôm nay", "còn 4 ngày"]


def test_short_names():
    assert view.short("  a   b  ", 10) == "a b"
    assert view.short("abcdefghij", 5) == "abcd…"
    assert view.short_unit("Xã Nghĩa Thọ") == "Nghĩa Thọ" and view.short_unit("Phường Vinh") == "Vinh"


def test_lead_units_split_and_pillar_order(tasks):
    leads = view.lead_units(tasks)
    assert leads.height == 9
    assert set(leads.filter(pl.col("task_no") == "7")["lead_unit"]) == {"Công an xã", "Phòng Kinh tế"}
    assert view.lead_units(pl.DataFrame({"lead_unit": [None, " ; A"]}))["lead_unit"].to_list() == [
        NO_LEAD, NO_LEAD, "A"]
    assert view.pillar_order([view.NO_PILLAR, "Khác", "Dữ liệu", "Thể chế"]) == [
        "Thể chế", "Dữ liệu", "Khác", view.NO_PILLAR]


def test_progress_per_lead_and_summary_frame(tasks):
    per_lead = view.by_lead(tasks, multi=False)
    assert per_lead.filter(pl.col("lead_unit") == "Công an xã")["tasks"].to_list() == [2]
    across = view.by_lead(tasks, multi=True)
    assert sorted(across["lead_unit"])[0].startswith(f"{view.short_unit(tasks['unit_name'][0])} · ")
    frame = view.summary_frame(per_lead, "lead_unit", "Đơn vị chủ trì")
    assert frame.columns == ["Đơn vị chủ trì", "Số nhiệm vụ", "Hoàn thành", "Quá hạn", "Sắp đến hạn",
                             "Thường xuyên", "Chưa rõ thời hạn", "Tiến độ bình quân"]
    assert frame["Số nhiệm vụ"].sum() == 9


def test_filters_and_table(tasks):
    pillars, leads = view.filter_options(tasks)
    assert pillars == ["Thể chế", "Dữ liệu", "Nền tảng", "Nhân lực", view.NO_PILLAR]
    assert "Phòng Kinh tế" in leads and leads == sorted(leads)
    assert view.filtered(tasks, [], [], []).height == 8
    assert view.filtered(tasks, ["Dữ liệu"], [], [])["task_no"].to_list() == ["7", "8"]
    assert view.filtered(tasks, [], ["Phòng Kinh tế"], [])["task_no"].to_list() == ["7"]
    assert view.filtered(tasks, [], [], ["overdue"])["task_no"].to_list() == ["1", "7"]
    shown = view.filtered(tasks, [], [], ["done", "due_soon"])
    table = view.table_view(shown, multi=False)
    assert table["STT"].to_list() == ["2", "4", "8"]
    assert table["Còn lại"].to_list() == ["còn 15 ngày", "", "còn 25 ngày"]
    assert table["Hạn"].to_list() == ["30/11/2025", "30/09/2025", "10/12/2025"]
    excel = view.table_excel(shown, multi=True)
    assert excel["Số ngày còn lại"].to_list() == [15, None, 25]
    assert excel.columns[:2] == ["Đơn vị", "STT"]


def test_undated_and_gantt_groups(tasks):
    undated = view.undated(tasks, multi=False)
    assert undated["STT"].to_list() == ["6"] and undated["Tình trạng"].to_list() == ["Đang thực hiện"]
    bars = view.bars(tasks, [], TODAY)
    assert bars.height == 7  # the undated task is not drawn
    groups = view.gantt_groups(bars, "pillar")
    assert [g for g, _ in groups] == ["Thể chế", "Dữ liệu", "Nền tảng", "Nhân lực"]
    assert groups[1][1]["task_no"].to_list() == ["7", "8"]  # by end date
    by_lead = dict(view.gantt_groups(bars, "lead_unit"))
    assert by_lead["Phòng Văn hóa - Xã hội"].height == 3 and "Phòng Kinh tế" in by_lead


def test_reporting():
    plan = {"unit_code": UNIT, "slug": "x", "reporting": [
        {"what": "Báo cáo tháng", "rule": "monthly_before_day", "day": 20}]}
    rows, has_plan = view.reporting({UNIT: "Xã A", "99999": "Xã B"}, [plan, {"slug": "y"}], TODAY)
    assert has_plan and [c for c, _ in rows] == [UNIT]
    assert isinstance(rows[0][1], ReportDeadline) and rows[0][1].due == date(2025, 11, 20)
    excel = view.reporting_excel({UNIT: "Xã A"}, rows, multi=True)
    assert excel.to_dicts() == [{"Đơn vị": "Xã A", "Báo cáo": "Báo cáo tháng", "Quy định": rows[0][1].rule_label,
                                 "Hạn tiếp theo": date(2025, 11, 20), "Số ngày còn lại": 5,
                                 "Ghi chú": "còn 5 ngày"}]
    assert view.reporting({"99999": "Xã B"}, [plan], TODAY) == ([], False)
