"""paid_online_rate, declared once in kpi.definitions, shows on the pages by itself: an overview
card, a drill-down column and list choice, the map's KPI picker (figures in tests/test_paid_online.py)."""

from __future__ import annotations

import pytest

from loaders.dossiers import load_dossier_file
from store import db as store

from .conftest import FIXTURES, app

PROVINCE, A = "40", "16969"
LABEL = "Tỷ lệ hồ sơ thanh toán trực tuyến"


@pytest.fixture
def paid_db(golden_db):
    con = store.connect(golden_db)
    load_dossier_file(con, FIXTURES / "golden_paid.csv", province=PROVINCE)
    con.close()
    return golden_db


def run(page, **params):
    at = app(page, **params)
    at.run()
    assert not at.exception, at.exception
    return at


def test_overview_card(paid_db):
    at = run(None, ky="2025-09", tinh=PROVINCE)
    html = "\n".join(m.value for m in at.markdown if 'class="kpi-card"' in m.value)
    assert LABEL in html and "2 / 6" in html


def test_drilldown_column_and_list(paid_db):
    at = run("drilldown", ky="2025-09", tinh=PROVINCE)
    children = at.dataframe[0].value.set_index("Mã")
    assert children.loc[A, "Thanh toán trực tuyến"] == "50,0% (2/4)"
    listed = next(s for s in at.selectbox if s.label == "Chỉ hồ sơ thuộc chỉ tiêu")
    assert LABEL in listed.options


def test_map_picker(paid_db):
    at = run("map", ky="2025-09", tinh=PROVINCE)
    pick = next(s for s in at.selectbox if s.label == "Chỉ tiêu tô màu")
    assert LABEL in pick.options
    pick.set_value("paid_online_rate").run()
    assert not at.exception
    table = at.dataframe[0].value.set_index("Mã")
    assert (table.loc[A, "Tỷ lệ"], table.loc[A, "Tử số"], table.loc[A, "Mẫu số"]) == ("50,0%", "2", "4")
