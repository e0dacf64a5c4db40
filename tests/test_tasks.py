"""Plan task lists: deadlines as the plans write them, loading, where each task stands.

tests/fixtures/tasks_van_tu.csv (header variants, unit in the title: UBND XÃ VÂN TỤ). Today 15/11/2025:
  I  THỂ CHẾ                      section line: not a task; task 1 inherits its pillar
  1  Trước 30/9/2025, Hoàn thành   done
  2  Tháng 11/2025 (30/11), 60     due soon (15 days)
  3  Quý III/2025 (30/9), 40,5     overdue
  4  Thường xuyên, 50              ongoing; led by two units
  5  Năm 2026 (31/12/2026), 0      neither
  6  no deadline, no status, 100   done (by its progress), deadline unknown
  7  no task text                  rejected
  8  progress 150                  rejected
  9  "Sớm nhất có thể"             loaded, deadline unknown, warned
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from kpi.tasks import NO_LEAD, Deadline, annotate, parse_deadline, pillar_label, summary, tasks_of
from loaders.batches import undo_batch
from loaders.files import LoadError
from loaders.sources import detect_kind, load_file
from loaders.tasks import load_tasks_file

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2025, 11, 15)
VT = "17611"


@pytest.mark.parametrize(("text", "due", "kind"), [
    ("Trước 30/9/2025", date(2025, 9, 30), "date"),
    ("Trước ngày 25/9/2025", date(2025, 9, 25), "date"),
    ("Tháng 8/2025", date(2025, 8, 31), "date"),
    ("tháng 2 năm 2026", date(2026, 2, 28), "date"),
    ("31/12/2025", date(2025, 12, 31), "date"),
    ("2025-12-31", date(2025, 12, 31), "date"),
    ("Quý IV/2025", date(2025, 12, 31), "date"),
    ("Quý 2/2026", date(2026, 6, 30), "date"),
    ("6 tháng đầu năm 2026", date(2026, 6, 30), "date"),
    ("Năm 2026", date(2026, 12, 31), "date"),
    ("2025 - 2030", date(2030, 12, 31), "date"),
    ("Quý III/2025; hoàn thành trước 31/12/2025", date(2025, 12, 31), "date"),
    ("Thường xuyên", None, "ongoing"),
    ("Hằng năm", None, "ongoing"),
    ("", None, "unknown"),
    (None, None, "unknown"),
    ("Sớm nhất có thể", None, "unknown"),
    ("31/02/2025", None, "unknown"),
])
def test_parse_deadline(text, due, kind):
    assert parse_deadline(text) == Deadline(due, kind)


def test_pillar_labels():
    assert pillar_label("THỂ CHẾ") == "Thể chế"
    assert pillar_label("an toan thong tin") == "An toàn thông tin"
    assert pillar_label("Khác") == "Khác"
    assert pillar_label(" ") is None


@pytest.fixture
def loaded(con, fixtures):
    result = load_tasks_file(con, fixtures / "tasks_van_tu.csv", province="40")
    assert (result.kind, result.rows_read, result.loaded) == ("tasks", 9, 7)
    assert [(r["row"], r["column"]) for r in result.rejected] == [(10, "Nội dung nhiệm vụ"), (11, "Tiến độ")]
    assert "ngoài khoảng 0–100%" in result.rejected[1]["reason"]
    assert result.warnings and "«Sớm nhất có thể»" in result.warnings[0]
    return con


def test_task_status(loaded):
    tasks = annotate(tasks_of(loaded, VT), TODAY)
    by_no = {r["task_no"]: r for r in tasks.iter_rows(named=True)}
    assert by_no["1"]["pillar"] == "Thể chế" and by_no["1"]["done"] and not by_no["1"]["overdue"]
    assert by_no["2"]["pillar"] == "Thể chế" and by_no["2"]["due_soon"] and by_no["2"]["days_left"] == 15
    assert by_no["3"]["overdue"] and by_no["3"]["progress"] == 40.5 and by_no["3"]["pillar"] == "Dữ liệu"
    assert by_no["4"]["deadline_kind"] == "ongoing" and not by_no["4"]["overdue"]
    assert by_no["5"]["due_date"] == date(2026, 12, 31) and not by_no["5"]["due_soon"]
    assert by_no["6"]["done"] and by_no["6"]["deadline_kind"] == "unknown"
    assert by_no["9"]["deadline_kind"] == "unknown" and not by_no["9"]["done"]
    assert [t for t in by_no if by_no[t]["overdue"]] == ["3"]
    # The deadline day itself is not late.
    assert not annotate(tasks_of(loaded, VT), date(2025, 11, 30)).filter(task_no="2")["overdue"][0]


def test_summaries(loaded):
    tasks = annotate(tasks_of(loaded, VT), TODAY)
    pillars = {r["pillar"]: r for r in summary(tasks, "pillar").iter_rows(named=True)}
    assert {k: (v["tasks"], v["done"], v["overdue"], v["due_soon"]) for k, v in pillars.items()} == {
        "Thể chế": (2, 1, 0, 1), "Dữ liệu": (1, 0, 1, 0), "Nhân lực": (1, 0, 0, 0),
        "An toàn thông tin": (1, 0, 0, 0), "Tài chính": (1, 1, 0, 0), "Hạ tầng": (1, 0, 0, 0)}
    assert pillars["Thể chế"]["progress"] == pytest.approx((100 + 60) / 2)
    assert (pillars["Hạ tầng"]["no_deadline"], pillars["Nhân lực"]["ongoing"]) == (1, 1)
    leads = {r["lead_unit"]: r for r in summary(tasks, "lead_unit").iter_rows(named=True)}
    assert leads["Văn phòng HĐND và UBND xã"]["tasks"] == 3              # tasks 1, 2, 4
    assert leads["Phòng Văn hóa - Xã hội"]["tasks"] == 1                 # co-leads task 4
    assert leads[NO_LEAD]["tasks"] == 1
    assert leads["Văn phòng HĐND và UBND xã"]["progress"] == pytest.approx((100 + 60 + 50) / 3)


def test_latest_list_replaces_and_undo_restores(loaded, tmp_path):
    path = tmp_path / "new.csv"
    path.write_text("STT,Nhiệm vụ,Đơn vị chủ trì,Thời hạn\n1,Một nhiệm vụ mới,Công an xã,31/12/2025\n",
                    encoding="utf-8")
    update = load_file(loaded, path, kind="tasks", unit="Xã Vân Tụ", province="40")
    assert (update.loaded, update.replaced) == (1, 7)
    assert tasks_of(loaded, VT)["task"].to_list() == ["Một nhiệm vụ mới"]
    undo_batch(loaded, update.batch_id)
    assert tasks_of(loaded, VT).height == 7


def test_unknown_unit_asks_for_one(con, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("STT,Nhiệm vụ,Đơn vị chủ trì,Thời hạn\n1,A,B,31/12/2025\n", encoding="utf-8")
    assert detect_kind(path) == "tasks"
    with pytest.raises(LoadError, match="--unit"):
        load_tasks_file(con, path)
    assert con.execute("SELECT count(*) FROM batches").fetchall() == [(0,)]


def test_the_five_plans_load_to_their_units(con):
    plans = json.loads((ROOT / "reference" / "plans" / "plans.json").read_text(encoding="utf-8"))
    expected = {}
    for plan in plans:
        if not plan.get("tasks_file"):
            continue
        path = ROOT / plan["tasks_file"]
        assert detect_kind(path) == "tasks"
        result = load_file(con, path)
        rows = len(path.read_text(encoding="utf-8-sig").strip().splitlines()) - 1
        assert (result.rejected, result.warnings) == ([], []), plan["slug"]
        expected[plan["unit_code"]] = (plan["slug"], result.loaded)
        assert result.loaded <= rows
    got = dict(((u, (s, n)) for u, s, n in con.execute(
        "SELECT unit_code, plan_slug, count(*) FROM plan_tasks GROUP BY ALL").fetchall()))
    assert got == expected
    assert set(got) == {"21523", "25", "25363", "40", "16969"}


def test_cli_attaches_a_list_to_a_unit(tmp_path, fixtures):
    db = str(tmp_path / "k.duckdb")
    run = subprocess.run([sys.executable, "-m", "loaders", "--kind", "tasks", "--unit", "16969", "--db", db,
                          "--format", "json", str(fixtures / "tasks_van_tu.csv")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    summary_ = json.loads(run.stdout)
    assert (summary_["kind"], summary_["loaded"]) == ("tasks", 7)
