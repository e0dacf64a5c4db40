"""Attacker's second look at the issue-13 fixes, through the pages: a province's admin
(role admin, unit = the province) is scoped by accounts.visible_units on the admin page too:
their accounts, their units' targets, their audit entries, the store-wide caps read-only (see
tests/test_attack_review.py for the account-creation half, in store/accounts.create_user)."""

from __future__ import annotations

import pytest

from loaders import limits
from store import accounts
from store import db as store

from .conftest import app, login, run

PROVINCE = "40"
OTHER_COMMUNE = "21523"   # Xã Ba Tô, Quảng Ngãi


@pytest.fixture
def province_admin(golden_db):
    con = store.connect(golden_db)
    try:
        accounts.create_user(con, "qt40", "quantri-40", "admin", PROVINCE, "Quản trị Nghệ An")
        accounts.create_user(con, "canbo.bato", "canbo-1234", "officer", OTHER_COMMUNE, "Cán bộ Ba Tô")
        visible = accounts.visible_units(con, accounts.User("qt40", "", "admin", PROVINCE))
    finally:
        con.close()
    return run(app("admin", token=login(golden_db, "qt40", "quantri-40"))), visible


def _frame(at, first_column: str):
    return next(df.value for df in at.dataframe if df.value.columns[0] == first_column)


def test_province_admin_sees_only_their_provinces_accounts(province_admin):
    at, visible = province_admin
    users = _frame(at, "Tên đăng nhập")
    assert set(users["Tên đăng nhập"]) == {"qt40"}   # canbo.bato (Ba Tô) and the national admin are not theirs
    assert set(users["Đơn vị"]) == {"Tỉnh Nghệ An"}     # units by name, not code


def test_province_admin_edits_only_their_units_targets(province_admin, golden_db):
    at, visible = province_admin
    targets = _frame(at, "unit_code")
    assert targets["unit_code"].notna().all() and set(targets["unit_code"]) <= visible
    con = store.connect(golden_db)
    try:
        before = con.execute("SELECT count(*) FROM targets WHERE unit_code IS NULL OR unit_code NOT IN "
                             "(SELECT code FROM units WHERE province_code = '40')").fetchall()[0][0]
    finally:
        con.close()
    assert before > 0
    next(b for b in at.button if b.label == "Lưu chỉ tiêu").click()
    run(at)
    assert any(s.value.startswith("Đã lưu") for s in at.success)
    con = store.connect(golden_db)
    try:   # saving their targets left the national defaults and other provinces' targets alone
        after = con.execute("SELECT count(*) FROM targets WHERE unit_code IS NULL OR unit_code NOT IN "
                            "(SELECT code FROM units WHERE province_code = '40')").fetchall()[0][0]
    finally:
        con.close()
    assert after == before


def test_province_admin_cannot_change_global_caps_or_read_the_national_log(province_admin, golden_db):
    at, _visible = province_admin
    boxes = {n.label: n for n in [*at.number_input, *at.text_input]}
    assert limits.LABELS["max_rows"] not in boxes
    log = _frame(at, "Thời điểm")
    assert set(log["Tài khoản"]) <= {"qt40"}   # not the national admin's or Ba Tô's entries
    assert "Tạo tài khoản" not in set(log["Thao tác"]) or set(log["Tài khoản"]) == {"qt40"}


def test_save_targets_refuses_what_a_province_admin_may_not_set(golden_db):
    import polars as pl

    from kpi import targets

    con = store.connect(golden_db)
    try:
        visible = accounts.visible_units(con, accounts.User("qt40", "", "admin", PROVINCE))
        row = {"unit_code": None, "kpi": "full_online_rate", "value": 0.9, "op": ">=", "deadline": None,
               "from_date": None, "plan_slug": None, "note": None}
        for unit in (None, OTHER_COMMUNE):
            with pytest.raises(ValueError, match="Dòng 1"):
                targets.save_targets(con, pl.DataFrame([row | {"unit_code": unit}]), visible, "qt40")
        with pytest.raises(ValueError, match="không có trong danh mục KPI"):
            targets.save_targets(con, pl.DataFrame([row | {"unit_code": "16969", "kpi": "x"}]), visible, "qt40")
        saved = targets.save_targets(con, pl.DataFrame([row | {"unit_code": "16969"}]), visible, "qt40")
        assert saved == 1
        assert con.execute("SELECT value FROM targets WHERE unit_code = '16969' AND kpi = 'full_online_rate'"
                           ).fetchall() == [(0.9,)]
        assert con.execute("SELECT count(*) FROM audit_log WHERE action = 'edit_targets' AND username = 'qt40'"
                           ).fetchall() == [(1,)]
    finally:
        con.close()


def test_save_targets_reads_typed_dates_and_names_a_bad_one(golden_db):
    import datetime as dt

    import polars as pl

    from kpi import targets

    con = store.connect(golden_db)
    try:
        row = {"unit_code": "16969", "kpi": "e_result_rate", "value": 1.0, "op": ">=", "deadline": "31/12/2026",
               "from_date": "", "plan_slug": "", "note": ""}
        with pytest.raises(ValueError, match="Dòng 1, cột «Thời hạn»: «31/02/2026» không phải ngày"):
            targets.save_targets(con, pl.DataFrame([row | {"deadline": "31/02/2026"}]), {"16969"}, "qt")
        targets.save_targets(con, pl.DataFrame([row]), {"16969"}, "qt")
        assert con.execute("SELECT deadline, from_date, plan_slug, note FROM targets WHERE unit_code = '16969'"
                           ).fetchall() == [(dt.date(2026, 12, 31), None, None, None)]
    finally:
        con.close()
