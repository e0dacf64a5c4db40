"""The meeting view shows exactly the engine's figures, and says so when there is no data."""

from __future__ import annotations

from datetime import date

from kpi import format as fmt
from kpi.engine import compute
from kpi.periods import parse
from store import db as store

from .conftest import ROOT, TODAY, app


def cards(at) -> str:
    return "\n".join(m.value for m in at.markdown if 'class="kpi-card"' in m.value or 'class="big-alert"' in m.value)


def test_overview_cards_match_engine(golden_db):
    at = app(ky="2025-10", tinh="40")
    at.run()
    assert not at.exception
    assert at.title[0].value == "Tổng quan chuyển đổi số — Tỉnh Nghệ An"
    con = store.connect(golden_db)
    rows = {r.kpi: r for r in compute(con, parse("2025-10"), "40", today=date.fromisoformat(TODAY))}
    con.close()
    html = cards(at)
    full = rows["full_online_rate"]
    assert (full.numerator, full.denominator) == (3, 4)
    assert fmt.percent(full.value) in html and "3 / 4" in html
    assert fmt.percent(rows["e_result_rate"].value) in html
    assert "1/2 xã/phường chưa đạt chỉ tiêu 80%" in html  # Vân Tụ at 50%
    assert "Xã Vân Tụ (50,0%)" in html


def test_overview_commune_from_url(golden_db):
    at = app(ky="2025-09", tinh="40", don_vi="16969")
    at.run()
    assert not at.exception
    assert "Xã Nghĩa Thọ" in at.title[0].value
    assert "66,7%" in cards(at) and "2 / 3" in cards(at)
    assert at.query_params["don_vi"] == ["16969"] or at.query_params["don_vi"] == "16969"


def test_overview_empty_state(golden_db):
    at = app(ky="2025-07", tinh="40", don_vi="16969")
    at.run()
    assert not at.exception
    assert any("Chưa có dữ liệu" in i.value for i in at.info)
    assert not cards(at)


def test_selection_survives_a_page_switch(golden_db):
    at = app(ky="2025-09", tinh="40", don_vi="17611")
    at.run()
    at.query_params.clear()  # what a click on a sidebar link does to the URL
    at.switch_page(str(ROOT / "pages" / "overview.py")).run()
    assert not at.exception
    assert "Xã Vân Tụ" in at.title[0].value and "Tháng 09/2025" in at.caption[0].value


def test_an_upload_shows_on_the_next_run_without_a_restart(golden_db, tmp_path):
    """The pages cache their queries per data version: a load made meanwhile (here on
    another connection of the same process, as the upload page or a SQL pull does) shows on
    the next run, not after a restart."""
    from loaders.dossiers import load_dossier_file

    at = app(ky="2025-10", tinh="40")
    at.run()
    assert "3 / 4" in cards(at)
    extra = tmp_path / "thang10.csv"
    extra.write_text(
        (ROOT / "tests" / "fixtures" / "golden.csv").read_text(encoding="utf-8").splitlines()[0] + "\n"
        "G99,16969,1.001193,Đăng ký khai sinh,Hộ tịch,Trực tuyến,06/10/2025,10/10/2025,08/10/2025,"
        "Đã trả kết quả,Có,Có,Có,Có\n", encoding="utf-8")
    con = store.connect(golden_db)
    load_dossier_file(con, extra, province="40")
    full = next(r for r in compute(con, parse("2025-10"), "40", today=date.fromisoformat(TODAY))
                if r.kpi == "full_online_rate")
    con.close()
    assert (full.numerator, full.denominator) == (4, 5)
    at.run()
    assert not at.exception
    assert "4 / 5" in cards(at) and "3 / 4" not in cards(at)
