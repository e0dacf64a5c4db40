"""Golden KPI values computed by hand from tests/fixtures/golden.csv (see the comments).

A = 16969 Xã Nghĩa Thọ, B = 17611 Xã Vân Tụ, both in Nghệ An (40). Today = 15/11/2025.
"""

from __future__ import annotations

import pytest

from kpi.engine import compute
from kpi.periods import parse
from loaders.batches import undo_batch
from loaders.dossiers import load_dossier_file

from .conftest import TODAY

A, B, PROVINCE = "16969", "17611", "40"


def kpis(con, period, unit, by=None):
    return {(r.unit_code, r.kpi): (r.numerator, r.denominator, r.value)
            for r in compute(con, parse(period), unit, by=by, today=TODAY)}


@pytest.fixture
def loaded(con, fixtures):
    result = load_dossier_file(con, fixtures / "golden.csv", province=PROVINCE, today=TODAY)
    assert (result.rows_read, result.loaded, result.duplicates, result.rejected) == (11, 10, 1, [])
    return con


# September 2025. A received G01 G02 G03, finished G01 (on time) G02 (late, no e-result).
# B received G04 G05, finished G04 (on time). Open and overdue on 30/09: G03 only.
SEPTEMBER = {
    A: {"received": (3, None), "online_submission_rate": (2, 3), "full_online_rate": (2, 3),
        "digitisation_rate": (2, 3), "data_reuse_rate": (1, 3), "e_result_rate": (1, 2),
        "on_time_rate": (1, 2), "overdue_open": (1, None)},
    B: {"received": (2, None), "online_submission_rate": (1, 2), "full_online_rate": (0, 2),
        "digitisation_rate": (1, 2), "data_reuse_rate": (0, 2), "e_result_rate": (1, 1),
        "on_time_rate": (1, 1), "overdue_open": (0, None)},
    PROVINCE: {"received": (5, None), "online_submission_rate": (3, 5), "full_online_rate": (2, 5),
               "digitisation_rate": (3, 5), "data_reuse_rate": (1, 5), "e_result_rate": (2, 3),
               "on_time_rate": (2, 3), "overdue_open": (1, None)},
}
# October 2025. A received G06 G07, finished G06. B received G08 G09, finished G05 (on time) and
# G09 (no due date: not in the on-time denominator). Overdue on 31/10: G03, G07 (due 30/10).
OCTOBER = {
    A: {"received": (2, None), "full_online_rate": (2, 2), "e_result_rate": (1, 1), "on_time_rate": (1, 1),
        "overdue_open": (2, None)},
    B: {"received": (2, None), "online_submission_rate": (1, 2), "full_online_rate": (1, 2),
        "e_result_rate": (2, 2), "on_time_rate": (1, 1), "overdue_open": (0, None)},
    PROVINCE: {"received": (4, None), "online_submission_rate": (3, 4), "full_online_rate": (3, 4),
               "digitisation_rate": (3, 4), "data_reuse_rate": (3, 4), "e_result_rate": (3, 3),
               "on_time_rate": (2, 2), "overdue_open": (2, None)},
}


@pytest.mark.parametrize(("period", "expected"), [("2025-09", SEPTEMBER), ("2025-Q3", SEPTEMBER), ("2025-10", OCTOBER)])
def test_month_and_quarter_by_commune(loaded, period, expected):
    got = kpis(loaded, period, PROVINCE, by="commune")
    for unit, values in expected.items():
        for kpi, (num, den) in values.items():
            numerator, denominator, value = got[(unit, kpi)]
            assert (numerator, denominator) == (num, den), (unit, kpi)
            assert value == pytest.approx(num / den if den else num)


def test_province_rate_is_pooled_not_mean(loaded):
    got = kpis(loaded, "2025-09", PROVINCE, by="commune")
    assert got[(PROVINCE, "full_online_rate")][2] == pytest.approx(2 / 5)  # the mean of 2/3 and 0/2 would be 1/3


def test_quarter_to_date_uses_today_for_overdue(loaded):
    # Q4 as of 15/11: received G06-G10; finished G05 G06 G09 G08; overdue G03, G07, G10 (due 05/11).
    got = kpis(loaded, "2025-Q4", PROVINCE)
    assert got[(PROVINCE, "received")][:2] == (5, None)
    assert got[(PROVINCE, "full_online_rate")][:2] == (4, 5)
    assert got[(PROVINCE, "e_result_rate")][:2] == (4, 4)
    assert got[(PROVINCE, "on_time_rate")][:2] == (3, 3)
    assert got[(PROVINCE, "overdue_open")][:2] == (3, None)


def test_date_range_reads_the_rows(loaded):
    # 01-15/09: received G01-G04; finished G01, G02 (on 15/09, so not open on 15/09).
    got = kpis(loaded, "2025-09-01..2025-09-15", PROVINCE)
    assert got[(PROVINCE, "received")][:2] == (4, None)
    assert got[(PROVINCE, "online_submission_rate")][:2] == (3, 4)
    assert got[(PROVINCE, "full_online_rate")][:2] == (2, 4)
    assert got[(PROVINCE, "e_result_rate")][:2] == (1, 2)
    assert got[(PROVINCE, "on_time_rate")][:2] == (1, 2)
    assert got[(PROVINCE, "overdue_open")][:2] == (0, None)


def test_no_data_is_not_zero(loaded):
    got = kpis(loaded, "2025-07", PROVINCE, by="commune")
    assert got[(A, "full_online_rate")][2] is None
    assert got[(PROVINCE, "e_result_rate")][2] is None
    other = next(code for code, _ in got if code not in (A, B, PROVINCE))
    assert got[(other, "received")][2] is None
    rows = compute(loaded, parse("2025-07"), A, today=TODAY)
    assert {r.status for r in rows if r.kpi == "full_online_rate"} == {"no_data"}


def test_reexport_replaces_and_undo_restores(loaded, fixtures):
    before = kpis(loaded, "2025-10", PROVINCE, by="commune")
    update = load_dossier_file(loaded, fixtures / "golden_update.csv", province=PROVINCE, today=TODAY)
    assert (update.loaded, update.replaced, update.rejected) == (2, 2, [])
    got = kpis(loaded, "2025-10", PROVINCE, by="commune")
    # A finished G06 and G03 (25/10, late, no e-result) in October; G07 finished 05/11.
    assert got[(A, "e_result_rate")][:2] == (1, 2)
    assert got[(A, "on_time_rate")][:2] == (1, 2)
    assert got[(A, "overdue_open")][:2] == (1, None)      # G07 only; G03 finished 25/10
    assert got[(PROVINCE, "received")][:2] == (4, None)   # replaced, not double-counted
    september = kpis(loaded, "2025-09", PROVINCE)
    assert september[(PROVINCE, "overdue_open")][:2] == (1, None)  # G03 was still open on 30/09
    undo_batch(loaded, update.batch_id)
    assert kpis(loaded, "2025-10", PROVINCE, by="commune") == before


def test_undo_restores_exactly_the_first_load(con, fixtures):
    load_dossier_file(con, fixtures / "golden.csv", province=PROVINCE, today=TODAY)
    before = kpis(con, "2025", PROVINCE, by="commune")
    rows_before = sorted(con.execute("SELECT * EXCLUDE (batch_id) FROM dossiers").fetchall())
    update = load_dossier_file(con, fixtures / "golden_update.csv", province=PROVINCE, today=TODAY)
    assert kpis(con, "2025", PROVINCE, by="commune") != before
    undo_batch(con, update.batch_id)
    assert kpis(con, "2025", PROVINCE, by="commune") == before
    assert sorted(con.execute("SELECT * EXCLUDE (batch_id) FROM dossiers").fetchall()) == rows_before
    assert con.execute("SELECT count(*) FROM dossier_history").fetchall()[0][0] == 0
