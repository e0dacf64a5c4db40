"""The drill-down shows the engine's figures at every level, keeps its position in the
URL, lists exactly the dossiers behind a figure, and says so when there is nothing."""

from __future__ import annotations

from datetime import date

from kpi.engine import compute
from kpi.periods import parse
from store import db as store
from ui.text import md

from .conftest import TODAY, app

A, B, PROVINCE = "16969", "17611", "40"


def engine(db, period, unit, **filters):
    con = store.connect(db)
    try:
        return {r.kpi: r for r in compute(con, parse(period), unit, today=date.fromisoformat(TODAY),
                                          filters=filters or None)}
    finally:
        con.close()


def cards(at) -> str:
    return "\n".join(m.value for m in at.markdown if 'class="kpi-card"' in m.value)


def text(at) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)


def param(at, name):
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def run(**params):
    at = app("drilldown", **params)
    at.run()
    assert not at.exception, at.exception
    return at


def test_province_level_matches_engine(golden_db):
    at = run(tinh=PROVINCE, ky="2025-09")
    assert at.title[0].value == "Phân tích chi tiết — Tỉnh Nghệ An"
    rows = engine(golden_db, "2025-09", PROVINCE)
    html = cards(at)
    for kpi in ("online_submission_rate", "full_online_rate", "e_result_rate", "on_time_rate"):
        r = rows[kpi]
        assert f"{r.numerator} / {r.denominator}" in html, kpi
    assert "40,0%" in html and "2 / 5" in html  # full online: pooled 2/5, not the mean of 2/3 and 0/2
    children = at.dataframe[0].value.set_index("Mã")
    assert list(children.index) == [A, B]  # the other communes have no dossiers: not listed as 0%
    assert children.loc[A, "Toàn trình"] == "66,7% (2/3)"
    assert children.loc[B, "Toàn trình"] == "0,0% (0/2)"
    assert children.loc[A, "Kết quả điện tử"] == "50,0% (1/2)"
    assert children.loc[A, "Tiếp nhận"] == "3" and children.loc[A, "Quá hạn chưa giải quyết"] == "1"
    dossiers = at.dataframe[1].value
    assert sorted(dossiers["Mã hồ sơ"]) == ["G01", "G02", "G03", "G04", "G05"]
    assert "Đang liệt kê **5 hồ sơ**" in text(at)


def test_field_level_by_procedure(golden_db):
    at = run(tinh=PROVINCE, don_vi=A, ky="2025-Q4", linh_vuc="Hộ tịch")
    rows = engine(golden_db, "2025-Q4", A, field="Hộ tịch")
    children = at.dataframe[0].value.set_index("Mã")
    r = rows["full_online_rate"]
    assert (r.numerator, r.denominator) == (2, 2)
    assert children.loc["1.001193", "Toàn trình"] == "100,0% (2/2)"
    assert children.loc["1.001193", "Thủ tục"] == "Đăng ký khai sinh"


def test_url_opens_a_procedure_with_a_kpi_numerator(golden_db):
    at = run(tinh=PROVINCE, don_vi=A, ky="2025-Q4", linh_vuc="Hộ tịch", tthc="1.001193",
             chi_tieu="e_result_rate", tap="gap")
    assert at.title[0].value == "Phân tích chi tiết — Xã Nghĩa Thọ"
    page = text(at)
    assert f"**Thủ tục: {md('1.001193 Đăng ký khai sinh')}**" in page  # names are escaped Markdown
    assert [b.label for b in at.button if b.key.startswith("crumb_")] == ["Tỉnh Nghệ An", "Xã Nghĩa Thọ",
                                                                          "Lĩnh vực: Hộ tịch"]
    rows = engine(golden_db, "2025-Q4", A, field="Hộ tịch", procedure_code="1.001193")
    r = rows["e_result_rate"]
    assert (r.numerator, r.denominator) == (1, 1)  # G06 finished in Q4 with an e-result; G10 still open
    assert f"{r.numerator} / {r.denominator}" in cards(at)
    assert "Đang liệt kê **0 hồ sơ**" in page  # every finished one had an e-result: nothing missing
    assert any("Không có hồ sơ nào khớp" in i.value for i in at.info)
    # The numerator of the same KPI: exactly the engine's count, and which dossier it is.
    at = run(tinh=PROVINCE, don_vi=A, ky="2025-Q4", linh_vuc="Hộ tịch", tthc="1.001193",
             chi_tieu="e_result_rate", tap="numerator")
    assert len(at.dataframe) == 1  # the last level: no children table, only the dossier list
    listed = at.dataframe[0].value
    assert len(listed) == r.numerator and list(listed["Mã hồ sơ"]) == ["G06"]
    first = listed.iloc[0]
    assert (first["Tiếp nhận"], first["Hạn trả"], first["KQ điện tử"]) == ("01/10/2025", "06/10/2025", "Có")


def test_kpi_sets_at_province_level_equal_engine(golden_db):
    # Every KPI and part is checked against the engine in tests/test_drill.py; here, that the
    # page lists them: the list's total and rows are the engine's numerator/denominator.
    rows = engine(golden_db, "2025-09", PROVINCE)
    for kpi, part in (("full_online_rate", "numerator"), ("full_online_rate", "gap"),
                      ("e_result_rate", "denominator"), ("on_time_rate", "gap"), ("overdue_open", "numerator")):
        at = run(tinh=PROVINCE, ky="2025-09", chi_tieu=kpi, tap=part)
        r = rows[kpi]
        expected = {"numerator": r.numerator, "denominator": r.denominator,
                    "gap": (r.denominator or 0) - (r.numerator or 0)}[part]
        assert f"Đang liệt kê **{expected} hồ sơ**" in text(at), (kpi, part)
        assert len(at.dataframe[-1].value) == expected, (kpi, part)
    assert "= 40,0% = tử số / mẫu số = 2 / 5" in text(run(tinh=PROVINCE, ky="2025-09", chi_tieu="full_online_rate"))


def test_channel_and_status_filters(golden_db):
    at = run(tinh=PROVINCE, ky="2025-09", kenh="post")
    assert engine(golden_db, "2025-09", PROVINCE, channel="post")["received"].value == 1
    assert list(at.dataframe[-1].value["Mã hồ sơ"]) == ["G05"]
    assert list(at.dataframe[-1].value["Kênh nộp"]) == ["BCCI"]
    at = run(tinh=PROVINCE, ky="2025-Q4", trang_thai="Đang giải quyết")
    assert sorted(at.dataframe[-1].value["Mã hồ sơ"]) == ["G07", "G10"]


def test_going_down_and_back_up(golden_db):
    at = run(tinh=PROVINCE, ky="2025-09")
    go = next(s for s in at.selectbox if s.label == "Xem chi tiết xã/phường")
    go.set_value(A).run()
    assert not at.exception
    assert at.title[0].value == "Phân tích chi tiết — Xã Nghĩa Thọ"
    assert param(at, "don_vi") == A
    go = next(s for s in at.selectbox if s.label == "Xem chi tiết lĩnh vực")
    go.set_value("Chứng thực").run()
    assert param(at, "linh_vuc") == "Chứng thực"
    assert list(at.dataframe[0].value["Mã"]) == ["2.000908"]
    back = next(b for b in at.button if b.label == "Tỉnh Nghệ An")
    back.click().run()
    assert not at.exception
    assert at.title[0].value == "Phân tích chi tiết — Tỉnh Nghệ An"
    assert param(at, "don_vi") == PROVINCE and param(at, "linh_vuc") is None


def test_empty_state(golden_db):
    at = run(tinh=PROVINCE, don_vi=A, ky="2025-07")
    assert any("Chưa có hồ sơ" in i.value for i in at.info)
    assert not cards(at) and not at.dataframe
