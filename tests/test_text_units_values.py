from __future__ import annotations

import polars as pl
import pytest

from kpi.text import fold, strip_diacritics
from loaders.units import UnitResolver
from loaders.values import parse_channel, parse_datetime, parse_yes_no


def test_fold_ignores_case_diacritics_space_punctuation():
    assert fold("Mã hồ sơ") == fold("MA HO SO") == fold("mã_hồ_sơ") == fold(" Mã  Hồ-Sơ ") == "mahoso"
    assert strip_diacritics("Đồng Phú") == "Dong Phu"
    assert fold("Kênh nộp") != fold("Kênh thực hiện")


@pytest.mark.parametrize("written", ["Xã Nghĩa Thọ", "XÃ NGHĨA THỌ", "UBND xã Nghĩa Thọ", "Nghĩa Thọ", "nghia tho",
                                     "  nghĩa   thọ ", "16969"])
def test_nghia_tho_in_every_written_form(con, written):
    assert UnitResolver(con, "40").resolve_name(written).code == "16969"


def test_ba_to_is_never_guessed(con):
    resolver = UnitResolver(con, "51")
    assert resolver.resolve_name("Ba Tô").code == "21523"
    assert resolver.resolve_name("Xã Ba Tơ").code == "21484"
    ambiguous = resolver.resolve_name("ba to")
    assert ambiguous.code is None
    assert "không rõ ràng" in ambiguous.reason and "21523" in ambiguous.reason and "21484" in ambiguous.reason


def test_dong_phu_plan_name_resolves_to_the_ward(con):
    assert UnitResolver(con, "75").resolve_name("xã Đồng Phú").code == "25363"


def test_unit_outside_the_province_is_unknown(con):
    result = UnitResolver(con, "40").resolve_name("Ba Tô")
    assert result.code is None and "không tìm thấy" in result.reason
    assert UnitResolver(con, "40").resolve_code("21523").code is None


def test_code_that_lost_its_leading_zero(con):
    assert UnitResolver(con, "01").resolve_code("4").code == "00004"
    assert UnitResolver(con, "01").resolve_code("4.0").code == "00004"


def test_a_short_code_that_fits_a_province_and_a_commune_is_not_guessed(con):
    # "25" is Phú Thọ, or Hà Nội's commune 00025 whose zeros a spreadsheet dropped.
    result = UnitResolver(con).resolve_code("25")
    assert result.code is None
    assert "không rõ ràng" in result.reason and "(00025)" in result.reason and "(25)" in result.reason
    assert UnitResolver(con, "25").resolve_code("25").code == "25"        # a province given: only one fits
    assert UnitResolver(con, "01").resolve_code("25").code == "00025"
    assert UnitResolver(con).resolve_code("00025").code == "00025"       # written whole: no doubt


def test_dates_in_every_form_and_impossible_dates():
    cells = ["01/09/2025 08:05:03", "1/9/2025", "2025-09-01", "2025-09-01T08:00:00+07:00",
             "2025-09-01T01:00:00Z", "31/02/2025", "01/09/2025 07:30", "garbage"]
    parsed = pl.DataFrame({"s": cells}).select(parse_datetime(pl.col("s"))).to_series().to_list()
    assert [p.isoformat() if p else None for p in parsed] == [
        "2025-09-01T08:05:03", "2025-09-01T00:00:00", "2025-09-01T00:00:00", "2025-09-01T08:00:00",
        "2025-09-01T08:00:00", None, "2025-09-01T07:30:00", None,
    ]


def test_yes_no_variants():
    cells = ["Có", "Không", "Đã", "Chưa", "x", "X", None, "", "1", "0", "true", "FALSE", "yes", "no",
             "Chưa số hóa", "không có"]
    got = pl.DataFrame({"s": cells}).select(parse_yes_no(pl.col("s"))).to_series().to_list()
    assert got == [True, False, True, False, True, True, False, False, True, False, True, False, True, False,
                   False, False]


def test_unrecognised_yes_no_is_null():
    assert pl.DataFrame({"s": ["maybe"]}).select(parse_yes_no(pl.col("s"))).item() is None


def test_channel_text_and_codes():
    cells = ["Trực tuyến", "TRUC TUYEN", "Trực tiếp", "Bưu chính công ích", "BCCI", "1", "2", "3", None, "fax"]
    got = pl.DataFrame({"s": cells}).select(parse_channel(pl.col("s"))).to_series().to_list()
    assert got == ["online", "online", "direct", "post", "post", "direct", "online", "post", None, "invalid"]
