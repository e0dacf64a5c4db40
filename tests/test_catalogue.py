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
A province's catalogue figures are its own catalogue's alone, else its communes' rows pooled, each
(commune, procedure) row once (docs/domain.md "Catalogue figures of a province").
"""

from __future__ import annotations

import pytest

from kpi.engine import compute
from kpi.periods import parse
from kpi.sources import catalogue_basis, catalogue_counts, service_split
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


def test_province_pools_its_communes_rows(con, fixtures):
    # catalogue_province.csv lists Nghĩa Thọ (1.001193 toàn trình, 2.000908 một phần, both usable anywhere)
    # and Vân Tụ (1.001193 một phần not usable anywhere, 1.004227 toàn trình exempt); the last row's unit
    # is unknown. The province has no catalogue of its own: its communes' rows pooled, each (commune,
    # procedure) row once -> 2 + 2 services, toàn trình 1 + 1, một phần 1 + 1; not exempt 2 + 1;
    # usable anywhere (2 + 1) / (2 + 2). No portal or business column: no data, not 0.
    result = load_catalogue_file(con, fixtures / "catalogue_province.csv", province=PROVINCE)
    assert (result.loaded, len(result.rejected)) == (4, 1)
    assert catalogue_counts(con, PROVINCE) == {
        "services": 4, "services_full": 2, "services_partial": 2, "services_full_on_portal": None,
        "services_counted": 3, "services_listed": 4, "services_location_free": 3, "business_services": None,
        "business_services_online": None}
    got = kpis(con, "2025-10", PROVINCE, by="commune")
    assert got[(NT, "online_services")][:2] == (2, None)
    assert got[(VT, "online_services")][:2] == (2, None)
    assert got[(VT, "location_free_rate")][:2] == (1, 2)
    assert got[(PROVINCE, "online_services")][:2] == (4, None)      # 2 + 2 rows, as its communes add up
    assert got[(PROVINCE, "location_free_rate")][:2] == (3, 4)      # pooled, not a mean of 1 and 1/2
    assert got[(PROVINCE, "full_online_services_on_portal")][2] is None
    assert got[(PROVINCE, "business_online_rate")][2] is None
    assert catalogue_basis(con, PROVINCE) == "tổng danh mục của 2 xã/phường"


# tests/fixtures/catalogue_pooled.csv, by hand (level, portal, usable anywhere, business, exempt):
#   Nghĩa Thọ 1.001193 toàn trình, Không, Có, Không, Không
#             2.000908 một phần,   Có,    Có, Không, Không
#             1.004227 toàn trình, Có,    Không, Có, Không
#   Vân Tụ    1.001193 một phần,   Có,    Không, Không, Không
#             1.004227 toàn trình, Không, Có, Có, Có (exempt)
#             1.003001 level "Không" (not online), Không, Không, Có, Không
# Nghĩa Thọ: 3 services (2 toàn trình + 1 một phần), on the portal and toàn trình 1 (1.004227), not
#   exempt 3, anywhere 2/3, business online 1/1.
# Vân Tụ: 2 services (1 + 1), on the portal and toàn trình 0 (1.001193 is published but một phần,
#   1.004227 toàn trình but not published), not exempt 1, anywhere 1/2, business online 1/2.
# Province 40 (no own catalogue): 5 services (3 + 2), on the portal 1 (not 2: the toàn trình level of
#   Nghĩa Thọ's 1.001193 and the portal flag of Vân Tụ's do not make one service), anywhere 3/5,
#   business 2/3, not exempt 3 + 1 = 4.
POOLED = {"online_services": (5, None), "full_online_services_on_portal": (1, None),
          "location_free_rate": (3, 5), "business_online_rate": (2, 3)}


def test_province_catalogue_figures_pool_rows_golden(con, fixtures):
    load_catalogue_file(con, fixtures / "catalogue_pooled.csv", province=PROVINCE)
    got = kpis(con, "2025-10", PROVINCE, by="commune")
    for kpi, expected in POOLED.items():
        assert got[(PROVINCE, kpi)][:2] == expected, kpi
    assert got[(NT, "full_online_services_on_portal")][:2] == (1, None)
    assert got[(VT, "full_online_services_on_portal")][:2] == (0, None)
    for kpi in ("online_services", "full_online_services_on_portal"):   # the communes add up to the province
        assert got[(NT, kpi)][0] + got[(VT, kpi)][0] == got[(PROVINCE, kpi)][0]
    split = service_split(con, PROVINCE)
    assert (split["full"], split["partial"], split["total"]) == (3, 2, 5)
    assert catalogue_counts(con, PROVINCE)["services_counted"] == 4
    rows = compute(con, parse("2025-10"), PROVINCE, by="commune", today=TODAY, kpis=KPIS)
    assert {r.basis for r in rows if r.unit_code == PROVINCE} == {"tổng danh mục của 2 xã/phường"}
    assert {r.basis for r in rows if r.unit_code == NT} == {None}
    from ui.widgets import card
    shown = card(next(r for r in rows if r.unit_code == PROVINCE and r.kpi == "online_services").__dict__)
    assert "Theo tổng danh mục của 2 xã/phường" in shown


def test_province_dossiers_per_service_counts_communes_with_a_catalogue(con, fixtures, tmp_path):
    # September 2025 (30 days), golden.csv: online dossiers Nghĩa Thọ G01 G02 = 2, Vân Tụ G04 = 1; plus
    # one online dossier of 17479 (no catalogue) in September and one in August.
    # Province: (2 + 1) / (3 + 1) x 365 / 30: 17479's dossier is in neither side. Communes: Nghĩa Thọ
    # 2 / 3, Vân Tụ 1 / 1; 17479 has no catalogue: no data. August: only 17479 has dossiers: no data.
    load_dossier_file(con, fixtures / "golden.csv", province=PROVINCE, today=TODAY)
    other = tmp_path / "other.csv"
    other.write_text("Mã hồ sơ,Mã xã,Kênh nộp,Ngày tiếp nhận\nX1,17479,Trực tuyến,10/09/2025\n"
                     "X2,17479,Trực tuyến,10/08/2025\n", encoding="utf-8")
    load_dossier_file(con, other, province=PROVINCE, today=TODAY)
    load_catalogue_file(con, fixtures / "catalogue_pooled.csv", province=PROVINCE)
    got = kpis(con, "2025-09", PROVINCE, by="commune")
    assert got[(PROVINCE, "dossiers_per_service")][:2] == (3, 4)
    assert got[(PROVINCE, "dossiers_per_service")][2] == pytest.approx(3 / 4 * 365 / 30)
    assert got[(NT, "dossiers_per_service")][:2] == (2, 3)
    assert got[(VT, "dossiers_per_service")][:2] == (1, 1)
    assert got[("17479", "dossiers_per_service")][2] is None
    august = kpis(con, "2025-08", PROVINCE, by="commune")
    assert august[(PROVINCE, "dossiers_per_service")] == (None, 4, None)


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
    assert catalogue_basis(con, PROVINCE) == "danh mục của tỉnh"
    assert catalogue_basis(con, NT) == "danh mục của đơn vị"


def test_province_own_catalogue_covers_all_its_dossiers(con, fixtures, tmp_path):
    # The province's own list (4 services, none exempt) wins alone; its dossiers_per_service numerator
    # is then every online dossier of the province: September G01 G02 G04 = 3 -> 3 / 4 x 365 / 30.
    load_dossier_file(con, fixtures / "golden.csv", province=PROVINCE, today=TODAY)
    load_catalogue_file(con, fixtures / "catalogue_pooled.csv", province=PROVINCE)
    own = tmp_path / "tinh.csv"
    own.write_text("Mã TTHC,Tên TTHC,Mức độ\n1.1,A,Toàn trình\n1.2,B,Toàn trình\n1.3,C,Một phần\n1.4,D,Một phần\n",
                   encoding="utf-8")
    load_file(con, own, province=PROVINCE, unit=PROVINCE)
    got = kpis(con, "2025-09", PROVINCE, by="commune")
    assert got[(PROVINCE, "dossiers_per_service")][:2] == (3, 4)
    assert got[(PROVINCE, "online_services")][:2] == (4, None)
    assert got[(PROVINCE, "full_online_services_on_portal")][2] is None   # its own list has no portal column
    assert got[(NT, "dossiers_per_service")][:2] == (2, 3)


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
