"""The pages' data, read through plain core functions (no Streamlit, no AppTest)."""

from __future__ import annotations

from datetime import date

from kpi import units
from loaders.batches import undo_batch
from loaders.dossiers import load_dossier_file
from store import accounts

TODAY = date(2025, 11, 15)


def _load(con, fixtures):
    return load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY)


def test_empty_store(con):
    assert units.data_version(con) == (0, 0)
    assert units.data_months(con) == (None, None)
    provinces = units.provinces(con)
    assert len(provinces) == 34
    assert all(n == 0 for _code, _name, n in provinces)
    assert [code for code, _name, _n in provinces] == sorted(code for code, _name, _n in provinces)


def test_provinces_with_data_first_and_data_months(con, fixtures):
    _load(con, fixtures)
    provinces = units.provinces(con)
    assert provinces[0] == ("40", "Tỉnh Nghệ An", 10)
    assert units.data_months(con) == (date(2025, 9, 1), date(2025, 11, 1))


def test_version_changes_with_upload_and_undo(con, fixtures):
    result = _load(con, fixtures)
    assert units.data_version(con) == (result.batch_id, 0)
    undo_batch(con, result.batch_id)
    assert units.data_version(con) == (result.batch_id, 1)


def test_communes_names_and_provinces_of(con):
    communes = units.communes(con, "40")
    assert ("16969", "Xã Nghĩa Thọ") in communes
    assert all(code != "40" for code, _name in communes)
    names = [n for _c, n in communes]
    assert len(names) > 100
    assert units.unit_name(con, "16969") == "Xã Nghĩa Thọ"
    assert units.unit_name(con, "40") == "Tỉnh Nghệ An"
    assert units.unit_name(con, "no-such-unit") == "no-such-unit"
    assert units.provinces_of(con, ("16969", "01")) == frozenset({"40", "01"})
    assert units.provinces_of(con, ()) == frozenset()


def test_has_accounts(con):
    assert accounts.has_accounts(con) is False
    accounts.create_user(con, "admin", "matkhau-quantri", "admin", None, "Quản trị viên")
    assert accounts.has_accounts(con) is True


def _row(unit, kpi, value, target=None, name=None):
    return {"unit_code": unit, "kpi": kpi, "value": value, "target": target, "unit_name": name or unit}


def test_overview_has_data_ignores_overdue_alone():
    from kpi import overview

    assert not overview.has_data({"received": _row("40", "received", None),
                                  "overdue_open": _row("40", "overdue_open", 3)})
    assert overview.has_data({"received": _row("40", "received", 0)})   # a real zero is data


def test_overview_trend_window_crosses_years():
    from kpi import overview

    assert overview.trend_window(date(2025, 9, 30)) == (date(2024, 10, 1), date(2025, 9, 1))
    assert overview.trend_window(date(2025, 12, 31)) == (date(2025, 1, 1), date(2025, 12, 1))
    assert overview.trend_window(date(2025, 3, 15), months=3) == (date(2025, 1, 1), date(2025, 3, 1))


def test_overview_behind_target_worst_first_without_no_data():
    from kpi import overview

    rows = [_row("40", "full_online_rate", 0.6, 0.8), _row("A", "full_online_rate", 0.5),
            _row("B", "full_online_rate", 0.0), _row("C", "full_online_rate", None),
            _row("D", "full_online_rate", 0.8), _row("A", "received", 2)]
    result = overview.behind_target(rows, "40", "full_online_rate", 0.8)
    assert [r["unit_code"] for r in result.behind] == ["B", "A"]   # D meets 80% exactly; C has no data
    assert result.with_data == 3
    assert overview.behind_target(rows, "40", "full_online_rate", None) is None
    assert overview.behind_target(rows[:1] + rows[3:4], "40", "full_online_rate", 0.8) is None


def test_overview_headline_says_all_met_instead_of_zero_behind():
    """Fixed defect: with every commune at the target the banner read «0/1 xã/phường chưa đạt
    chỉ tiêu … Thấp nhất: —.»"""
    from kpi import overview

    def pct(v):
        return f"{v * 100:.1f}%".replace(".", ",")

    rows = [_row("40", "full_online_rate", 0.9, 0.8), _row("A", "full_online_rate", 0.85, None, "Xã A"),
            _row("B", "full_online_rate", 0.95, None, "Xã B")]
    met = overview.behind_target(rows, "40", "full_online_rate", 0.8)
    assert overview.behind_headline(met, "≥ 80%", "hồ sơ xử lý hoàn toàn trực tuyến", pct) == (
        "Cả 2 xã/phường có số liệu đều đạt chỉ tiêu ≥ 80% hồ sơ xử lý hoàn toàn trực tuyến.", True)
    alone = overview.behind_target(rows[:2], "40", "full_online_rate", 0.8)
    assert overview.behind_headline(alone, "80%", "hồ sơ xử lý hoàn toàn trực tuyến", pct) == (
        "Xã/phường duy nhất có số liệu đã đạt chỉ tiêu 80% hồ sơ xử lý hoàn toàn trực tuyến.", True)
    rows += [_row(code, "full_online_rate", v, None, f"Xã {code}")
             for code, v in zip("CDEFGH", (0.1, 0.2, 0.3, 0.4, 0.5, 0.6), strict=True)]
    text, ok = overview.behind_headline(overview.behind_target(rows, "40", "full_online_rate", 0.8), "≥ 80%",
                                        "hồ sơ xử lý hoàn toàn trực tuyến", pct)
    assert not ok and text == ("6/8 xã/phường chưa đạt chỉ tiêu ≥ 80% hồ sơ xử lý hoàn toàn trực tuyến. Thấp nhất: "
                               "Xã C (10,0%), Xã D (20,0%), Xã E (30,0%), Xã F (40,0%), Xã G (50,0%) và 1 xã/phường khác.")
