"""Service catalogues: the counts behind online_services, full_online_services_on_portal,
dossiers_per_service, location_free_rate and business_online_rate.

tests/fixtures/catalogue_nghia_tho.csv (unit named in the title: UBND xã Nghĩa Thọ):
  row "I LĨNH VỰC HỘ TỊCH" is a section line (skipped)
  1 1.001193 toàn trình, portal Có,  anywhere Có,  not business, not exempt
  2 2.000908 một phần,   portal Không, anywhere Có, not business, not exempt
  3 1.004227 toàn trình, portal Có,  anywhere Có,  business,     not exempt
  4 1.001612 một phần,   portal Có,  anywhere Không, business,   exempt
  5 1.003001 toàn trình, portal empty (no), anywhere x (yes), not business, exempt
  6 2.001000 level "Không": not online, business
  7 level "Mức 9": rejected;  8 repeats 1.001193 (counted once);  9 "N/A" in a yes/no column: rejected
Online services 1-5 = 5 (toàn trình 1, 3, 5 = 3; một phần 2, 4 = 2); toàn trình on the portal: 1, 3 = 2;
not exempt: 1, 2, 3 = 3; usable anywhere 1, 2, 3, 5 = 4 of 5; business 3, 4, 6 = 3, online 3, 4 = 2.
A province's service counts are its own catalogue's, else its communes' distinct procedures; its rates
are pooled over the communes.
"""

from __future__ import annotations

import pytest

from kpi.engine import compute
from kpi.periods import parse
from kpi.sources import catalogue_counts, service_split
from loaders.batches import undo_batch
from loaders.catalogue import load_catalogue_file
from loaders.dossiers import load_dossier_file
from loaders.files import LoadError
from loaders.sources import detect_kind, load_file

from .conftest import TODAY

NT, VT, PROVINCE = "16969", "17611", "40"
KPIS = ["online_services", "full_online_services_on_portal", "dossiers_per_service", "location_free_rate",
        "business_online_rate"]
NGHIA_THO = {"online_services": (5, None), "full_online_services_on_portal": (2, None),
             "location_free_rate": (4, 5), "business_online_rate": (2, 3)}


def kpis(con, period, unit, by=None):
    return {(r.unit_code, r.kpi): (r.numerator, r.denominator, r.value)
            for r in compute(con, parse(period), unit, by=by, today=TODAY, kpis=KPIS)}


def test_counts_and_rejections(con, fixtures):
    result = load_catalogue_file(con, fixtures / "catalogue_nghia_tho.csv", province=PROVINCE)
    assert (result.kind, result.rows_read, result.loaded, result.duplicates) == ("catalogue", 9, 6, 1)
    assert [(r["row"], r["column"]) for r in result.rejected] == [
        (11, "Mức độ DVCTT"), (13, "TTHC liên quan đến doanh nghiệp")]
    assert "«Mức 9» không nhận ra" in result.rejected[0]["reason"]
    assert "«N/A» không phải Có/Không" in result.rejected[1]["reason"]
    assert catalogue_counts(con, NT) == {
        "services": 5, "services_full": 3, "services_partial": 2, "services_full_on_portal": 2,
        "services_counted": 3, "services_listed": 5, "services_location_free": 4, "business_services": 3,
        "business_services_online": 2}
    got = kpis(con, "2025-09", NT)
    for kpi, (num, den) in NGHIA_THO.items():
        assert got[(NT, kpi)][:2] == (num, den), kpi


def test_dossiers_per_service_is_annualised(con, fixtures):
    # golden.csv: Nghĩa Thọ received 2 online dossiers in September 2025 (30 days); 3 services are
    # not exempt -> 2 / 3 x 365 / 30.
    load_dossier_file(con, fixtures / "golden.csv", province=PROVINCE, today=TODAY)
    load_catalogue_file(con, fixtures / "catalogue_nghia_tho.csv", province=PROVINCE)
    numerator, denominator, value = kpis(con, "2025-09", NT)[(NT, "dossiers_per_service")]
    assert (numerator, denominator) == (2, 3)
    assert value == pytest.approx(2 / 3 * 365 / 30)


def test_province_counts_distinct_procedures_of_its_communes(con, fixtures):
    # catalogue_province.csv lists Nghĩa Thọ (1.001193 toàn trình, 2.000908 một phần, both usable anywhere)
    # and Vân Tụ (1.001193 một phần not usable anywhere, 1.004227 toàn trình exempt); the last row's unit
    # is unknown. Service counts for the province: 3 distinct procedures, 1.001193 at its best level
    # (toàn trình) -> 2 toàn trình + 1 một phần; exempt only where every catalogue says so -> 2 counted.
    # The location-free rate stays pooled: (2 + 1) / (2 + 2). No portal or business column: no data, not 0.
    result = load_catalogue_file(con, fixtures / "catalogue_province.csv", province=PROVINCE)
    assert (result.loaded, len(result.rejected)) == (4, 1)
    assert catalogue_counts(con, PROVINCE) == {
        "services": 3, "services_full": 2, "services_partial": 1, "services_full_on_portal": None,
        "services_counted": 2, "services_listed": 4, "services_location_free": 3, "business_services": None,
        "business_services_online": None}
    got = kpis(con, "2025-10", PROVINCE, by="commune")
    assert got[(NT, "online_services")][:2] == (2, None)
    assert got[(VT, "online_services")][:2] == (2, None)
    assert got[(VT, "location_free_rate")][:2] == (1, 2)
    assert got[(PROVINCE, "online_services")][:2] == (3, None)      # not 2 + 2
    assert got[(PROVINCE, "location_free_rate")][:2] == (3, 4)      # pooled, not a mean of 1 and 1/2
    assert got[(PROVINCE, "full_online_services_on_portal")][2] is None
    assert got[(PROVINCE, "business_online_rate")][2] is None


def test_province_own_catalogue_wins(con, fixtures, tmp_path):
    load_catalogue_file(con, fixtures / "catalogue_province.csv", province=PROVINCE)
    own = tmp_path / "tinh.csv"
    own.write_text("Mã TTHC,Tên TTHC,Mức độ\n1.1,A,Toàn trình\n1.2,B,Toàn trình\n1.3,C,Một phần\n1.4,D,Một phần\n",
                   encoding="utf-8")
    assert detect_kind(own) == "catalogue"
    with pytest.raises(LoadError, match="--unit"):
        load_file(con, own, province=PROVINCE)
    load_file(con, own, province=PROVINCE, unit=PROVINCE)
    got = kpis(con, "2025-10", PROVINCE, by="commune")
    assert got[(PROVINCE, "online_services")][:2] == (4, None)
    assert got[(NT, "online_services")][:2] == (2, None)
    assert got[(PROVINCE, "location_free_rate")][2] is None          # its own catalogue has no such column
    assert service_split(con, PROVINCE)["full"] == 2


def test_latest_catalogue_replaces_and_undo_restores(con, fixtures):
    first = load_catalogue_file(con, fixtures / "catalogue_nghia_tho.csv", province=PROVINCE)
    again = load_catalogue_file(con, fixtures / "catalogue_nghia_tho.csv", province=PROVINCE)
    assert again.replaced == 6
    assert catalogue_counts(con, NT)["services"] == 5                     # not 10
    wide = load_catalogue_file(con, fixtures / "catalogue_province.csv", province=PROVINCE)
    assert catalogue_counts(con, NT)["services"] == 2
    undo_batch(con, wide.batch_id)
    assert catalogue_counts(con, NT)["services"] == 5
    assert catalogue_counts(con, VT) == {}
    undo_batch(con, again.batch_id)
    undo_batch(con, first.batch_id)
    assert catalogue_counts(con, NT) == {}
    assert kpis(con, "2025-10", NT)[(NT, "online_services")][2] is None


def test_missing_level_column_rejects_the_file(con, tmp_path):
    path = tmp_path / "no_level.csv"
    path.write_text("Mã TTHC,Tên TTHC,Liên quan doanh nghiệp\n1.1,A,Có\n", encoding="utf-8")
    with pytest.raises(LoadError, match="Mức độ"):
        load_catalogue_file(con, path, unit=NT)
    assert con.execute("SELECT count(*) FROM batches").fetchall() == [(0,)]


def test_level_marked_in_two_columns_and_provided_online_column(con, tmp_path):
    # "Mức độ" spans "Toàn trình" / "Một phần" marked with x. Row 3 is business-related but the
    # "Cung cấp trực tuyến" column says no: it counts in the business denominator only.
    path = tmp_path / "marks.csv"
    path.write_text("Mã TTHC,Tên TTHC,Mức độ,,Cung cấp trực tuyến,Liên quan doanh nghiệp\n"
                    ",,Toàn trình,Một phần,,\n"
                    "1.1,A,x,,Có,Có\n1.2,B,,x,Có,Không\n1.3,C,x,,Không,Có\n", encoding="utf-8")
    result = load_catalogue_file(con, path, unit=NT)
    assert (result.loaded, result.rejected) == (3, [])
    counts = catalogue_counts(con, NT)
    assert (counts["services"], counts["services_full"], counts["services_partial"]) == (2, 1, 1)
    assert (counts["business_services"], counts["business_services_online"]) == (2, 1)


def test_dong_phu_split_against_the_plan(con, tmp_path):
    # The plan prints 386 services "126 toàn trình + 261 một phần" (= 387): shown as printed, flagged.
    path = tmp_path / "dong_phu.csv"
    path.write_text("Mã TTHC,Tên TTHC,Mức độ\n1.1,A,Toàn trình\n1.2,B,Một phần\n", encoding="utf-8")
    load_catalogue_file(con, path, unit="25363")
    split = service_split(con, "25363")
    assert (split["full"], split["partial"], split["total"]) == (1, 1, 2)
    assert (split["plan_total"], split["plan_full"], split["plan_partial"], split["plan_mismatch"]) == (
        386, 126, 261, True)


def test_detects_catalogue_not_dossiers(fixtures):
    assert detect_kind(fixtures / "catalogue_nghia_tho.csv") == "catalogue"
    assert detect_kind(fixtures / "catalogue_province.csv") == "catalogue"
    assert detect_kind(fixtures / "messy.csv") == "dossiers"


def test_first_row_without_numbers_is_data_not_a_header(con, tmp_path):
    path = tmp_path / "no_codes.csv"
    path.write_text("Tên thủ tục,Mức độ\nĐăng ký khai sinh,Toàn trình\nChứng thực,Một phần\n", encoding="utf-8")
    assert load_catalogue_file(con, path, unit=NT).loaded == 2
