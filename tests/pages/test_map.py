"""The map colours each commune by the engine's figure, greys out (never zeroes) those
without data, opens the drill-down for a chosen commune, and copes without boundaries."""

from __future__ import annotations

import json
from datetime import date

from kpi.definitions import STATUS_LABELS
from kpi.engine import compute
from kpi.periods import parse
from store import db as store

from .conftest import TODAY, app
from .conftest import run as run_page

A, B, PROVINCE = "16969", "17611", "40"


def figures(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def traces(figure: dict) -> dict[str, dict]:
    return {t["name"]: t for t in figure["data"]}


def run(**params):
    return run_page(app("map", **params))


def test_communes_coloured_by_engine_values(golden_db):
    at = run(tinh=PROVINCE, ky="2025-09")
    assert at.title[0].value == "Bản đồ — Tỉnh Nghệ An"
    con = store.connect(golden_db)
    rows = {(r.unit_code, r.kpi): r for r in compute(con, parse("2025-09"), PROVINCE, by="commune",
                                                      today=date.fromisoformat(TODAY))}
    communes = {c for (c,) in con.execute("SELECT code FROM units WHERE province_code = '40' AND level = 'commune'")
                .fetchall()}
    con.close()
    commune_map, national = figures(at)
    shown = traces(commune_map)
    valued = shown["Tỷ lệ hồ sơ xử lý hoàn toàn trực tuyến"]
    assert dict(zip(valued["locations"], valued["z"], strict=True)) == {
        A: rows[(A, "full_online_rate")].value, B: rows[(B, "full_online_rate")].value}
    assert valued["featureidkey"] == "properties.code" and commune_map["layout"]["geo"]["visible"] is False
    hover = {c[4]: c for c in valued["customdata"]}
    assert hover[A][1:4] == ["66,7%", "2/3", STATUS_LABELS[rows[(A, "full_online_rate")].status]]
    assert hover[B][1:3] == ["0,0%", "0/2"]  # a real 0% (0 of 2) is coloured as 0%
    grey = shown["Chưa có dữ liệu"]
    assert set(grey["locations"]) == communes - {A, B}  # no data is grey, never 0%
    assert "Chưa có dữ liệu" in grey["hovertemplate"]
    assert PROVINCE in traces(national)["Tỷ lệ hồ sơ xử lý hoàn toàn trực tuyến"]["locations"]
    assert len(traces(national)["Chưa có dữ liệu"]["locations"]) == 33
    table = at.dataframe[0].value.set_index("Mã")
    assert (table.loc[A, "Tỷ lệ"], table.loc[A, "Tử số"], table.loc[A, "Mẫu số"]) == ("66,7%", "2", "3")
    assert (table.loc[B, "Tỷ lệ"], table.loc[B, "Tử số"], table.loc[B, "Mẫu số"]) == ("0,0%", "0", "2")
    assert (table.drop([A, B])["Tỷ lệ"] == "Chưa có dữ liệu").all()
    assert list(table.index[:2]) == [B, A]  # worst first, no data last


def test_kpi_from_url_and_target_scale(golden_db):
    at = run(tinh=PROVINCE, ky="2025-10", to_mau="e_result_rate")
    valued = traces(figures(at)[0])["Tỷ lệ cấp kết quả điện tử"]
    assert dict(zip(valued["locations"], valued["z"], strict=True)) == {A: 1.0, B: 1.0}
    assert "Chỉ tiêu 100%" in valued["colorbar"]["ticktext"]


def test_choose_a_commune_opens_the_drilldown(golden_db):
    at = run(tinh=PROVINCE, ky="2025-09")
    pick = next(s for s in at.selectbox if s.label == "Xem chi tiết xã/phường")
    pick.set_value(A).run()
    assert not at.exception
    # The run hands the browser one history entry for the commune's drill-down (ui.links; a
    # st.switch_page with parameters left a second, made-up entry for Back) and stops.
    script = "".join(h.value for h in at.html if "pushState" in h.value)
    assert f'"chi-tiet?tinh={PROVINCE}&ky=2025-09&don_vi={A}"' in script


def test_province_without_boundaries(golden_db):
    at = run(tinh="01", ky="2025-09")
    assert any("Chưa có bản đồ ranh giới xã/phường của Thành phố Hà Nội" in i.value for i in at.info)
    assert len(figures(at)) == 1  # the national map is still there
    assert at.dataframe[0].value["Tỷ lệ"].eq("Chưa có dữ liệu").all()


def test_empty_period_is_grey(golden_db):
    at = run(tinh=PROVINCE, ky="2025-07")
    assert any("Chưa có dữ liệu" in i.value for i in at.info)
    commune_map = traces(figures(at)[0])
    assert list(commune_map) == ["Chưa có dữ liệu"]  # nothing on the colour scale, nothing as 0%


# --- Scopes (issue 13 item 9): a user sees on the map, its table and its export only the units
# they may view; the province total and the national map only where they may view the provinces.

def people(db_path) -> dict[str, str]:
    from store import accounts

    from .conftest import login

    con = store.connect(db_path)
    accounts.create_user(con, "canbo", "canbo-1234", "officer", A, "Cán bộ Nghĩa Thọ")
    accounts.create_user(con, "phantich", "phantich-1", "analyst", None, "Phân tích", grants=["21523"])
    accounts.create_user(con, "lanhdao", "lanhdao-123", "leader", PROVINCE, "Lãnh đạo Nghệ An")
    con.close()
    return {name: login(db_path, name, password) for name, password in
            (("canbo", "canbo-1234"), ("phantich", "phantich-1"), ("lanhdao", "lanhdao-123"))}


def exports(monkeypatch) -> list:
    """Every frame a page hands to an Excel button, as (file stem, frame)."""
    from ui import widgets

    seen, real = [], widgets.excel_button

    def spy(frame, file_stem, *args, **kwargs):
        seen.append((file_stem, frame))
        return real(frame, file_stem, *args, **kwargs)

    monkeypatch.setattr(widgets, "excel_button", spy)
    return seen


def scoped_run(token, **params):
    return run_page(app("map", token=token, **params))


def test_officer_sees_only_their_commune(golden_db, monkeypatch):
    tokens = people(golden_db)
    saved = exports(monkeypatch)
    at = scoped_run(tokens["canbo"], tinh=PROVINCE, don_vi=PROVINCE, ky="2025-09")
    commune_map = traces(figures(at)[0])
    assert commune_map["Tỷ lệ hồ sơ xử lý hoàn toàn trực tuyến"]["locations"] == [A]
    assert "Chưa có dữ liệu" not in commune_map  # no other commune, not even greyed out
    assert list(at.dataframe[0].value["Mã"]) == [A]
    assert not any("Toàn tỉnh" in m.value for m in at.markdown)
    assert len(figures(at)) == 1  # no national map: no province is in the officer's scope
    assert any("toàn quốc" in i.value.lower() for i in at.info)
    assert [list(frame["Mã"]) for _stem, frame in saved] == [[A]]
    unit_box = next(s for s in at.selectbox if s.label == "Xã/phường")
    assert unit_box.options == ["Xã Nghĩa Thọ"]


def test_analyst_granted_one_commune_sees_only_it(golden_db, monkeypatch):
    tokens = people(golden_db)
    saved = exports(monkeypatch)
    at = scoped_run(tokens["phantich"], tinh="51", ky="2025-09")
    assert at.title[0].value == "Bản đồ — Tỉnh Quảng Ngãi"
    assert {c for t in figures(at)[0]["data"] for c in t["locations"]} == {"21523"}
    assert list(at.dataframe[0].value["Mã"]) == ["21523"]
    assert not any("Toàn tỉnh" in m.value for m in at.markdown)
    assert len(figures(at)) == 1
    assert [list(frame["Mã"]) for _stem, frame in saved] == [["21523"]]
    # A URL naming a province outside the grant falls back to the granted one.
    at = scoped_run(tokens["phantich"], tinh=PROVINCE, ky="2025-09")
    assert at.title[0].value == "Bản đồ — Tỉnh Quảng Ngãi"
    assert list(at.dataframe[0].value["Mã"]) == ["21523"]


def test_leader_sees_their_province_and_only_it_nationally(golden_db, monkeypatch):
    tokens = people(golden_db)
    saved = exports(monkeypatch)
    at = scoped_run(tokens["lanhdao"], tinh=PROVINCE, ky="2025-09")
    con = store.connect(golden_db)
    communes = {c for (c,) in con.execute("SELECT code FROM units WHERE province_code = '40' AND level = 'commune'")
                .fetchall()}
    con.close()
    assert set(at.dataframe[0].value["Mã"]) == communes
    assert any("Toàn tỉnh" in m.value for m in at.markdown)
    commune_map, national = figures(at)
    assert {c for t in national["data"] for c in t.get("locations", [])} == {PROVINCE}
    assert [set(frame["Mã"]) for _stem, frame in saved] == [communes]


def test_admin_still_sees_the_whole_country(golden_db):
    at = run(tinh=PROVINCE, ky="2025-09")
    national = figures(at)[1]
    assert len({c for t in national["data"] for c in t.get("locations", [])}) == 34


def test_legend_names_the_grey(golden_db):
    """Issue 16 item 11: the legend itself says what grey means; the colour bar explains the
    rates, so the grey swatch is the legend's only item."""
    at = run(tinh=PROVINCE, ky="2025-09")
    for figure in figures(at):
        assert figure["layout"]["showlegend"] is True
        listed = [t["name"] for t in figure["data"] if t.get("showlegend")]
        assert listed == ["Chưa có dữ liệu"]
        grey = traces(figure)["Chưa có dữ liệu"]
        assert {c for _, c in grey["colorscale"]} == {"#d0d7de"}
