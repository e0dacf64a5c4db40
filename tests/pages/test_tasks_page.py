"""The tasks page shows kpi/tasks.py's overdue and due-soon counts, the plans' next
reporting deadlines (kpi/deadlines.py), and an empty state without a task list."""

from __future__ import annotations

import re
from datetime import date

import polars as pl
import pytest

from kpi import deadlines
from kpi import format as fmt
from kpi.tasks import annotate, tasks_of
from loaders.tasks import load_tasks_file
from store import db as store
from store.db import plans

from .conftest import ROOT, TODAY, app

TASKS_CSV = """STT,Nhiệm vụ,Trụ cột,Đơn vị chủ trì,Đơn vị phối hợp,Thời hạn,Trạng thái,Tiến độ (%),Ghi chú
1,Rà soát quy trình nội bộ,Thể chế,Phòng Văn hóa - Xã hội,,31/10/2025,Đang thực hiện,40,
2,Triển khai ký số cho cán bộ,Nền tảng,Văn phòng HĐND&UBND xã,,Trước 30/11/2025,Đang thực hiện,60,
3,Lập kế hoạch tập huấn kỹ năng số,Nhân lực,Phòng Văn hóa - Xã hội,,Tháng 12/2025,Chưa thực hiện,0,
4,Công bố danh mục thủ tục,Thể chế,Trung tâm Phục vụ hành chính công xã,,30/9/2025,Hoàn thành,100,
5,Tuyên truyền chuyển đổi số,Nhân lực,Phòng Văn hóa - Xã hội,,Thường xuyên,Đang thực hiện,50,
6,Kiểm tra an toàn thông tin,An toàn thông tin,Công an xã,,,Đang thực hiện,30,
7,Làm sạch dữ liệu dân cư,Dữ liệu,Công an xã; Phòng Kinh tế,,Quý III/2025,Đang thực hiện,70,
8,Số hóa hồ sơ lưu trữ,Dữ liệu,Văn phòng HĐND&UBND xã,,10/12/2025,,,
"""


@pytest.fixture
def tasks_db(golden_db, tmp_path):
    """The golden store plus a small task list for Nghĩa Thọ and the sample list of Nghệ An's
    Sở Nội vụ, both through the tasks loader."""
    path = tmp_path / "nhiem_vu_nghia_tho.csv"
    path.write_text(TASKS_CSV, encoding="utf-8")
    con = store.connect(golden_db)
    try:
        assert load_tasks_file(con, path, "40", unit="16969").loaded == 8
        load_tasks_file(con, ROOT / "sample_data" / "plans" / "nghe_an_snv_tasks.csv")
    finally:
        con.close()
    return golden_db


def expected(path, unit: str, with_members: bool = False) -> pl.DataFrame:
    con = store.connect(path)
    try:
        frame = tasks_of(con, unit, with_members)
    finally:
        con.close()
    return annotate(frame, date.fromisoformat(TODAY))


def boxes(at) -> dict[str, str]:
    """Big numbers by label."""
    html = next(m.value for m in at.markdown if 'class="tk-boxes"' in m.value)
    return dict((label, n) for n, label in re.findall(r'class="tk-n">([^<]*)</div><div class="tk-l">([^<]*)<', html))


def tables(at) -> str:
    return "\n".join(m.value for m in at.markdown if 'class="tk-table"' in m.value)


def test_commune_counts_match_kpi_tasks(tasks_db):
    at = app("tasks", tinh="40", don_vi="16969")
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Nhiệm vụ và thời hạn — Xã Nghĩa Thọ"
    truth = expected(tasks_db, "16969")
    overdue, soon = int(truth["overdue"].sum()), int(truth["due_soon"].sum())
    assert (overdue, soon) == (2, 2)  # tasks 1 and 7; tasks 2 and 8
    shown = boxes(at)
    assert shown["Nhiệm vụ quá hạn"] == fmt.number(overdue)
    assert shown["Sắp đến hạn (30 ngày)"] == fmt.number(soon)
    assert shown["Đã hoàn thành"] == f"{int(truth['done'].sum())}/{truth.height}" == "1/8"
    html = tables(at)
    for name in truth.filter(pl.col("overdue") | pl.col("due_soon"))["task"]:
        assert name in html
    assert "Công bố danh mục thủ tục" not in html  # done, not in the attention table
    assert "quá 15 ngày" in html and "còn 15 ngày" in html and "còn 25 ngày" in html
    # Nghĩa Thọ's plan asks for weekly and monthly reports without giving a day.
    assert html.count(">kế hoạch không ghi ngày</td>") == 2
    assert len(at.get("plotly_chart")) == 3  # timeline, per pillar, per lead unit
    assert not at.info  # no empty state


def test_filters_and_undated_tasks(tasks_db):
    at = app("tasks", tinh="40", don_vi="16969")
    at.run()
    full = at.dataframe[-1].value
    assert len(full) == 8
    undated = at.dataframe[0].value
    assert list(undated["Nhiệm vụ"]) == ["Kiểm tra an toàn thông tin"]
    at.multiselect(key="tk_f_state_16969").set_value(["overdue"]).run()
    assert not at.exception, at.exception
    assert sorted(at.dataframe[-1].value["STT"]) == ["1", "7"]
    at.multiselect(key="tk_f_state_16969").set_value([]).run()
    at.multiselect(key="tk_f_lead_16969").set_value(["Phòng Kinh tế"]).run()
    assert list(at.dataframe[-1].value["STT"]) == ["7"]  # "Công an xã; Phòng Kinh tế" leads task 7
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Tải danh sách nhiệm vụ (Excel)" in labels and "Tải danh sách cần chú ý (Excel)" in labels


def test_province_own_plan_and_communes(tasks_db):
    at = app("tasks", tinh="40")
    at.run()
    assert not at.exception, at.exception
    own = expected(tasks_db, "40")
    assert own.height == 9
    shown = boxes(at)
    assert shown["Nhiệm vụ quá hạn"] == fmt.number(int(own["overdue"].sum()))
    assert shown["Đã hoàn thành"] == f"{int(own['done'].sum())}/{own.height}"
    assert "Kế hoạch không quy định thời hạn báo cáo." in [c.value for c in at.caption]
    at.radio(key="tk_scope_40").set_value("members").run()
    assert not at.exception, at.exception
    members = expected(tasks_db, "40", with_members=True).filter(pl.col("unit_code") != "40")
    shown = boxes(at)
    assert shown["Nhiệm vụ quá hạn"] == fmt.number(int(members["overdue"].sum())) == "2"
    assert shown["Sắp đến hạn (30 ngày)"] == fmt.number(int(members["due_soon"].sum())) == "2"
    assert "Xã Nghĩa Thọ" in tables(at)
    assert "Đơn vị" in at.dataframe[-1].value.columns


def test_reporting_deadlines_and_empty_state(golden_db):
    at = app("tasks", tinh="75", don_vi="25363")
    at.run()
    assert not at.exception, at.exception
    assert any("Chưa có danh sách nhiệm vụ của Phường Đồng Phú — tải lên ở trang «Tải dữ liệu lên»" in i.value
               for i in at.info)
    html = tables(at)
    plan = next(p for p in plans() if p["slug"] == "dong_phu")
    rows = deadlines.reporting_deadlines(plan, date.fromisoformat(TODAY))
    assert len(rows) == 5
    for r in rows:
        assert f"{fmt.day(r.due)}</td>" in html and r.days_text in html
    # By hand, today 15/11/2025: year-end before 20/11 -> 20/11/2025 (5 days); quarterly before
    # the 10th of the quarter's last month -> 10/12/2025; unit plans before 25/9/2025 -> passed.
    assert "20/11/2025" in html and "còn 5 ngày" in html
    assert "10/12/2025" in html and "còn 25 ngày" in html
    assert "25/09/2025" in html and "đã qua 51 ngày" in html
    assert not at.get("plotly_chart")


def test_empty_state_without_plan(golden_db):
    at = app("tasks", tinh="40", don_vi="16969")
    at.run()
    assert not at.exception, at.exception
    assert any("Chưa có danh sách nhiệm vụ của Xã Nghĩa Thọ — tải lên ở trang «Tải dữ liệu lên»" in i.value
               for i in at.info)
    assert ">kế hoạch không ghi ngày</td>" in tables(at)  # the plan's reporting rules still show
    assert not at.get("plotly_chart") and not at.dataframe
