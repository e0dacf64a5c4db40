"""The report page previews the engine's figures and offers the Word, PDF and Excel files."""

from __future__ import annotations

from datetime import date

import pytest

from kpi import format as fmt
from kpi.engine import compute
from kpi.periods import parse
from store import db as store

from .conftest import TODAY, app


def preview(at) -> str:
    return "\n".join(m.value for m in at.markdown if 'class="report-paper"' in m.value)


def engine_rows(path, period: str, unit: str) -> dict:
    con = store.connect(path)
    try:
        return {r.kpi: r for r in compute(con, parse(period), unit, today=date.fromisoformat(TODAY))}
    finally:
        con.close()


def test_commune_quarter_preview_and_downloads(golden_db):
    at = app("reports", tinh="40", don_vi="16969", ky="2025-Q3")
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Báo cáo định kỳ — Xã Nghĩa Thọ"
    rows = engine_rows(golden_db, "2025-Q3", "16969")
    html = preview(at)
    full = rows["full_online_rate"]
    assert (full.numerator, full.denominator) == (2, 3)
    assert f"{fmt.percent(full.value)} ({full.numerator}/{full.denominator})" in html  # 66,7% (2/3)
    e_result = rows["e_result_rate"]
    assert f"{fmt.percent(e_result.value)} ({e_result.numerator}/{e_result.denominator})" in html
    for text in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                 "Nghĩa Thọ, ngày 15 tháng 11 năm 2025",
                 "Kết quả thực hiện chuyển đổi số của xã Nghĩa Thọ kỳ quý III/2025",
                 "Chưa có danh sách nhiệm vụ.", "data:image/png;base64,"):
        assert text in html, text
    buttons = at.get("download_button")
    labels = [b.proto.label for b in buttons]
    assert labels.count("Tải báo cáo Word (.docx)") == 2
    assert "Tải báo cáo PDF" in labels and "Tải báo cáo Excel (.xlsx)" in labels
    assert not at.info  # there is data: no empty-state notice


def test_province_preview_lists_communes_behind(golden_db):
    at = app("reports", tinh="40", ky="2025-10")
    at.run()
    assert not at.exception, at.exception
    rows = engine_rows(golden_db, "2025-10", "40")
    html = preview(at)
    assert fmt.percent(rows["full_online_rate"].value) + " (3/4)" in html
    assert "1/2 xã/phường có dữ liệu chưa đạt chỉ tiêu 80%" in html
    assert "Xã Vân Tụ" in html and "50,0% (1/2)" in html


def test_recommendations_text_goes_into_the_report(golden_db):
    at = app("reports", tinh="40", don_vi="16969", ky="2025-09")
    at.run()
    at.text_area(key="bc_kien_nghi_16969").input("Đề nghị Sở Khoa học và Công nghệ hỗ trợ kinh phí.").run()
    assert not at.exception, at.exception
    assert "Đề nghị Sở Khoa học và Công nghệ hỗ trợ kinh phí." in preview(at)


def test_empty_period(golden_db):
    at = app("reports", tinh="40", don_vi="16969", ky="2025-07")
    at.run()
    assert not at.exception, at.exception
    assert any("Chưa có dữ liệu" in i.value for i in at.info)
    html = preview(at)
    assert "Chưa có dữ liệu của Xã Nghĩa Thọ cho kỳ tháng 07/2025." in html
    assert "0,0%" not in html
    assert len(at.get("download_button")) == 6  # an empty report can still be sent upward


def test_overdue_tasks_from_the_store(golden_db, tmp_path):
    load_tasks_file = pytest.importorskip("loaders.tasks").load_tasks_file
    path = tmp_path / "nhiem_vu.csv"
    path.write_text("STT,Nhiệm vụ,Đơn vị chủ trì,Thời hạn,Trạng thái,Tiến độ (%)\n"
                    "1,Ban hành kế hoạch chi tiết,Phòng Văn hóa - Xã hội,Trước 30/9/2025,Đang thực hiện,50\n"
                    "2,Rà soát danh mục TTHC,Văn phòng,Tháng 8/2025,Hoàn thành,100\n", encoding="utf-8")
    con = store.connect(golden_db)
    load_tasks_file(con, path, province="40", unit="16969")
    con.close()
    at = app("reports", tinh="40", don_vi="16969", ky="2025-10")
    at.run()
    assert not at.exception, at.exception
    html = preview(at)
    # Late as of the month's end, 31/10/2025 (not today, 15/11/2025: 46 days).
    assert "Ban hành kế hoạch chi tiết" in html and "31 ngày" in html and "46 ngày" not in html
    assert "Rà soát danh mục TTHC" not in html  # done: not overdue
    assert "Chưa có danh sách nhiệm vụ." not in html
