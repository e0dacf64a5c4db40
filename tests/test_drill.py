"""The drill-down's dossier lists are exactly the dossiers the engine counts: for every
dossier KPI, unit, period and filter of the golden fixture, the list of a numerator or a
denominator has as many rows as the engine's figure (and the right dossiers, by hand)."""

from __future__ import annotations

import pytest

from kpi import drill
from kpi.engine import breakdown, compute
from kpi.periods import parse
from loaders.dossiers import load_dossier_file

from .conftest import TODAY

A, B, PROVINCE = "16969", "17611", "40"
PERIODS = ["2025-09", "2025-Q3", "2025-10", "2025-Q4", "2025-09-01..2025-09-15", "2025-07"]
FILTERS = [{}, {"field": "Hộ tịch"}, {"procedure_code": "2.000908"}, {"channel": "online"}, {"channel": "post"},
           {"field": "Chứng thực", "channel": "direct"}]


@pytest.fixture
def loaded(con, fixtures):
    load_dossier_file(con, fixtures / "golden.csv", province=PROVINCE, today=TODAY)
    return con


def node(unit, period, filters=None, status=None):
    return drill.Node(unit, parse(period), TODAY, dict(filters or {}), status)


def ids(con, n, kpi, part="numerator"):
    return set(drill.dossiers(con, n, kpi, part, limit=None)["dossier_id"])


CASES = [(p, {}) for p in PERIODS] + [(p, f) for p in ("2025-Q3", "2025-10") for f in FILTERS[1:]]


@pytest.mark.parametrize(("period", "filters"), CASES, ids=str)
def test_lists_count_what_the_engine_counts(loaded, period, filters):
    for unit in (A, B, PROVINCE):
        engine = {r.kpi: r for r in compute(loaded, parse(period), unit, today=TODAY, filters=filters or None)}
        n = node(unit, period, filters)
        for kpi in drill.DRILL_KPIS:
            row = engine[kpi]
            numerator = drill.count(loaded, n, kpi, "numerator")
            assert numerator == (row.numerator or 0), (unit, kpi)
            assert len(ids(loaded, n, kpi)) == numerator
            if row.denominator is not None or "denominator" in drill.parts(kpi):
                denominator = drill.count(loaded, n, kpi, "denominator")
                assert denominator == (row.denominator or 0), (unit, kpi)
                gap = ids(loaded, n, kpi, "gap")
                assert len(gap) == denominator - numerator
                assert gap | ids(loaded, n, kpi) == ids(loaded, n, kpi, "denominator")


def test_the_right_dossiers_by_hand(loaded):
    september = node(A, "2025-09")
    assert ids(loaded, september, "received") == {"G01", "G02", "G03"}
    assert ids(loaded, september, "full_online_rate") == {"G01", "G02"}
    assert ids(loaded, september, "full_online_rate", "gap") == {"G03"}
    assert ids(loaded, september, "e_result_rate", "denominator") == {"G01", "G02"}  # finished in September
    assert ids(loaded, september, "on_time_rate", "gap") == {"G02"}                  # finished 15/09, due 12/09
    assert ids(loaded, september, "overdue_open") == {"G03"}
    october = node(PROVINCE, "2025-10")
    assert ids(loaded, october, "on_time_rate", "denominator") == {"G05", "G06"}     # G09 has no due date
    assert ids(loaded, october, "e_result_rate", "denominator") == {"G05", "G06", "G09"}
    assert ids(loaded, node(PROVINCE, "2025-Q4"), "overdue_open") == {"G03", "G07", "G10"}  # as of 15/11
    assert ids(loaded, node(PROVINCE, "2025-09", {"channel": "post"}), "received") == {"G05"}


def test_status_filter_and_paging(loaded):
    q4 = node(PROVINCE, "2025-Q4")
    assert drill.count(loaded, node(PROVINCE, "2025-Q4", status="Đang giải quyết")) == 2  # G07, G10
    assert drill.statuses(loaded, q4) == [("Đã trả kết quả", 3), ("Đang giải quyết", 2)]
    pages = [drill.dossiers(loaded, q4, offset=o, limit=2)["dossier_id"].to_list() for o in (0, 2, 4)]
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sum(pages, []) == ["G10", "G08", "G07", "G09", "G06"]  # newest received first
    frame = drill.dossiers(loaded, q4, limit=None)
    verdicts = dict(zip(frame["dossier_id"], frame["deadline"], strict=True))
    assert verdicts == {"G06": "Đúng hạn", "G07": "Đang xử lý, quá hạn", "G08": "Đúng hạn",
                        "G09": "Không có hạn", "G10": "Đang xử lý, quá hạn"}
    assert set(frame["unit_name"]) == {"Xã Nghĩa Thọ", "Xã Vân Tụ"}


def test_rows_turn_into_conditions():
    # The conditions come from the component declarations (store.components), no SQL parsed back.
    assert drill.component_rows("received") == ("TRUE", "received_date")
    assert drill.component_rows("fully_online_known") == ("fully_online IS NOT NULL", "received_date")
    assert drill.component_rows("received_online") == ("channel = 'online'", "received_date")
    assert drill.component_rows("e_result") == ("e_result", "finished_date")
    assert drill.component_rows("overdue_open")[1] is None
    assert set(drill.DRILL_KPIS) == {"received", "online_submission_rate", "full_online_rate", "digitisation_rate",
                                     "data_reuse_rate", "e_result_rate", "on_time_rate", "overdue_open",
                                     "paid_online_rate"}
    with pytest.raises(ValueError):
        drill.dossier_set(None, node(A, "2025-09"), "dossiers_per_service")


def test_children_tables_match_the_engine(loaded):
    period = parse("2025-Q3")
    for dim, key in (("field", "field"), ("procedure_code", "procedure_code")):
        frame = drill.kpi_frame(breakdown(loaded, period, PROVINCE, dim, today=TODAY), dim, period, drill.DRILL_KPIS)
        assert frame.height == 2
        for row in frame.iter_rows(named=True):
            engine = {r.kpi: r for r in compute(loaded, period, PROVINCE, today=TODAY, filters={key: row["key"]})}
            for kpi in drill.DRILL_KPIS:
                assert (row[kpi], row[f"{kpi}__num"], row[f"{kpi}__den"]) == pytest.approx(
                    (engine[kpi].value, engine[kpi].numerator, engine[kpi].denominator)), (row["key"], kpi)
    values = [r.__dict__ for r in compute(loaded, period, PROVINCE, by="commune", today=TODAY)]
    units = drill.kpi_frame_from_values(values, ["full_online_rate"], skip=PROVINCE)
    got = {r["key"]: (r["full_online_rate__num"], r["full_online_rate__den"]) for r in units.iter_rows(named=True)}
    assert got[A] == (2, 3) and got[B] == (0, 2)
    assert units.filter(units["full_online_rate"].is_null()).height == units.height - 2  # no data, not 0%


def test_choices_and_names(loaded):
    assert drill.choices(loaded, A, "field") == [("Chứng thực", "Chứng thực"), ("Hộ tịch", "Hộ tịch")]
    assert drill.choices(loaded, PROVINCE, "procedure_code", "Hộ tịch") == [("1.001193", "1.001193 Đăng ký khai sinh")]
    assert drill.procedure_info(loaded, "2.000908") == ("2.000908 Chứng thực bản sao từ bản chính", "Chứng thực")
    assert drill.procedure_info(loaded, "9.999") == ("9.999", None)
    asof = parse("2025-09").as_of(TODAY)
    assert drill.describe_part("overdue_open", "numerator", asof).endswith("quá hạn tại ngày 30/09/2025")
    assert drill.describe_part("full_online_rate", "gap", asof).endswith("nhưng không thuộc tử số")
