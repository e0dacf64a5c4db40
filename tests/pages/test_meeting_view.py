"""The meeting view in AppTest: presentation in one click from the toggle or straight from a
link, the sidebar following the URL (what Back does), the cards' wording and flags, the
Excel downloads, and a click on the ranking opening the commune's drill-down."""

from __future__ import annotations

from loaders.catalogue import load_catalogue_file
from store import db as store

from .conftest import ROOT, app, run
from .test_tasks_page import tasks_db  # noqa: F401  (fixture)

KIOSK = 'data-testid="stSidebar"'


def dashboard(**params):
    """The whole app.py (its navigation opens the overview, the default page). The conftest's
    app(page) runs a page's file alone, without app.py, where the presentation controls live."""
    return app(None, **params)


def act(widget):
    """Run the app after a widget interaction; fail on a page exception."""
    at = widget.run()
    assert not at.exception, at.exception
    return at


def kiosk_css(at) -> bool:
    return any(KIOSK in h.value and "display: none" in h.value for h in at.html)


def cards(at) -> str:
    return "\n".join(m.value for m in at.markdown if 'class="kpi-card"' in m.value)


def param(at, name):
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) and value else value


def test_presentation_turns_on_and_off_in_one_click(golden_db):
    at = run(dashboard(ky="2025-10", tinh="40"))
    assert at.title[0].value.startswith("Tổng quan")
    assert not kiosk_css(at) and param(at, "trinh_chieu") is None
    act(at.toggle(key="present_on").set_value(True))
    # The same run that handled the click is already in presentation: URL and style agree.
    assert param(at, "trinh_chieu") == "1"
    assert kiosk_css(at) and at.toggle(key="present_on").value is True
    act(at.toggle(key="present_on").set_value(False))
    assert param(at, "trinh_chieu") is None
    assert not kiosk_css(at) and at.toggle(key="present_on").value is False


def test_a_link_opens_straight_into_presentation(golden_db):
    at = run(dashboard(ky="2025-10", tinh="40", trinh_chieu="1", lam_moi="120", xoay="don_vi"))
    assert kiosk_css(at) and at.toggle(key="present_on").value is True
    assert at.selectbox(key="present_refresh").value == 120
    assert at.selectbox(key="present_rotate").value == "don_vi"
    act(at.selectbox(key="present_refresh").set_value(30))
    assert param(at, "lam_moi") == "30" and param(at, "trinh_chieu") == "1"


def test_sidebar_follows_the_url(golden_db):
    """Back in the browser reruns the page with the older URL: the sidebar's widgets, which keep
    their own state, used to write their value back over it (the view Back showed was not the
    one the URL named)."""
    at = run(app("overview", ky="2025-10", tinh="40"))
    assert "Tỉnh Nghệ An" in at.title[0].value
    at.query_params["don_vi"] = "16969"
    at.query_params["ky"] = "2025-09"
    run(at)
    assert "Xã Nghĩa Thọ" in at.title[0].value and "Tháng 09/2025" in at.caption[0].value
    assert at.selectbox(key="sb_unit_40").value == "16969" and at.selectbox(key="sb_month").value == 9
    # A choice in the sidebar still goes to the URL.
    act(at.selectbox(key="sb_unit_40").set_value("17611"))
    assert param(at, "don_vi") == "17611" and "Xã Vân Tụ" in at.title[0].value


def test_overdue_card_wording_and_change(golden_db):
    at = run(app("overview", ky="2025-10", tinh="40"))
    html = cards(at)
    overdue = next(c for c in html.split('<div class="kpi-card"') if "Hồ sơ đang giải quyết quá hạn" in c)
    assert "vượt" not in overdue
    assert "so với kỳ trước" in html  # September has data: each card with a value says how it moved


def test_dong_phu_plan_mismatch_flag(golden_db, tmp_path):
    path = tmp_path / "dong_phu.csv"
    path.write_text("Mã TTHC,Tên TTHC,Mức độ\n1.1,A,Toàn trình\n1.2,B,Một phần\n", encoding="utf-8")
    con = store.connect(golden_db)
    load_catalogue_file(con, path, unit="25363")
    con.close()
    at = run(app("overview", ky="2025-10", tinh="75", don_vi="25363"))
    assert "126 + 261 = 387 ≠ 386" in cards(at)


def test_every_table_has_an_excel_download(golden_db):
    at = run(app("overview", ky="2025-10", tinh="40"))
    labels = [b.label for b in at.get("download_button")]
    assert "Tải bảng xếp hạng (Excel)" in labels
    assert "Tải bảng thời hạn (Excel)" in labels
    assert "Tải toàn bộ trang (Excel, mỗi phần một trang tính)" in labels


def test_a_click_on_the_ranking_opens_the_communes_drilldown(golden_db):
    at = run(app("overview", ky="2025-10", tinh="40"))
    # What on_rank_click leaves for the next run when the bar of Xã Nghĩa Thọ is clicked.
    at.session_state["_overview_drill"] = "16969"
    run(at)
    # The run hands the browser one history entry for the drill-down (ui.links) and stops.
    script = "".join(h.value for h in at.html if "pushState" in h.value)
    assert '"chi-tiet?ky=2025-10&tinh=40&don_vi=16969"' in script
    assert not at.title


def test_drill_step_writes_the_url_once(golden_db):
    """A breadcrumb click changes several parameters: one write (one history entry), all at once."""
    at = run(app("drilldown", ky="2025-09", tinh="40", don_vi="16969", linh_vuc="Hộ tịch", tthc="1.001193"))
    crumbs = [b for b in at.button if b.key and b.key.startswith("crumb_")]
    unit_crumb = next(b for b in crumbs if "Nghĩa Thọ" in b.label)
    act(unit_crumb.click())
    assert param(at, "linh_vuc") is None and param(at, "tthc") is None and param(at, "don_vi") == "16969"
    assert (ROOT / "pages" / "drilldown.py").exists()


def test_tasks_undated_table_has_its_excel_download(tasks_db):  # noqa: F811  (the imported fixture)
    at = run(app("tasks", tinh="40", don_vi="16969"))
    assert list(at.dataframe[0].value["Nhiệm vụ"]) == ["Kiểm tra an toàn thông tin"]  # the undated table
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Tải nhiệm vụ chưa rõ thời hạn (Excel)" in labels
