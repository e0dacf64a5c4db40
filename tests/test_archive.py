"""Archive and document statistics: archive_digitisation_rate (cumulative, at the end of the
period) and e_document_rate (summed over the months of the period).

tests/fixtures/archive_nghe_an.csv (two header rows), per row:
  1 Nghĩa Thọ 09/2025        archive 200/1000, documents 140/150
  2 Nghĩa Thọ Tháng 10/2025  archive 350/1.000 (thousands dot), documents 160/160
  3 Vân Tụ 10/2025           archive 100/500, documents 60/80
  4 Vân Tụ 11/2025           documents only 90/90
  5 Vân Tụ 12/2025           rejected: 600 digitised of 500
  6 month 13/2025            rejected
  7 Vân Tụ 2025-10           rejected: repeats row 3
  8 Vân Tụ 12/2025           rejected: total without the digitised figure
"""

from __future__ import annotations

import pytest

from kpi.engine import compute
from kpi.periods import parse
from loaders.archive import load_archive_file
from loaders.batches import undo_batch
from loaders.files import LoadError
from loaders.sources import detect_kind, load_file

from .conftest import TODAY

NT, VT, PROVINCE = "16969", "17611", "40"
KPIS = ["archive_digitisation_rate", "e_document_rate"]


def kpis(con, period, unit="40", by="commune"):
    return {(r.unit_code, r.kpi): (r.numerator, r.denominator)
            for r in compute(con, parse(period), unit, by=by, today=TODAY, kpis=KPIS)}


@pytest.fixture
def loaded(con, fixtures):
    result = load_archive_file(con, fixtures / "archive_nghe_an.csv", province=PROVINCE)
    assert (result.kind, result.rows_read, result.loaded) == ("archive", 8, 4)
    assert [r["row"] for r in result.rejected] == [8, 9, 10, 11]
    assert "600 lớn hơn tổng số 500" in result.rejected[0]["reason"]
    assert "«13/2025» không hợp lệ" in result.rejected[1]["reason"]
    assert "trùng với dòng 6" in result.rejected[2]["reason"]
    assert "thiếu số thành phần" in result.rejected[3]["reason"]
    return con


@pytest.mark.parametrize(("period", "expected"), [
    # September: only Nghĩa Thọ has figures; Vân Tụ has none by 30/09 (no data, not 0).
    ("2025-09", {NT: ((200, 1000), (140, 150)), VT: ((None, None), (None, None)),
                 PROVINCE: ((200, 1000), (140, 150))}),
    ("2025-10", {NT: ((350, 1000), (160, 160)), VT: ((100, 500), (60, 80)), PROVINCE: ((450, 1500), (220, 240))}),
    # Q4: archive = the latest month by 31/12 (October for both); documents Oct + Nov.
    ("2025-Q4", {NT: ((350, 1000), (160, 160)), VT: ((100, 500), (60 + 90, 80 + 90)),
                 PROVINCE: ((450, 1500), (310, 330))}),
    ("2025", {NT: ((350, 1000), (140 + 160, 150 + 160)), VT: ((100, 500), (150, 170)),
              PROVINCE: ((450, 1500), (450, 480))}),
])
def test_rates_by_period(loaded, period, expected):
    got = kpis(loaded, period)
    for unit, (archive, documents) in expected.items():
        assert got[(unit, "archive_digitisation_rate")] == archive, unit
        assert got[(unit, "e_document_rate")] == documents, unit


def test_reupload_of_a_month_replaces_and_undo_restores(loaded, tmp_path):
    # Nghĩa Thọ's October again: 500 of 1000 digitised now.
    path = tmp_path / "nt_10.csv"
    path.write_text("Tháng báo cáo: Tháng 10/2025\nUBND xã Nghĩa Thọ\n"
                    "Tổng số tài liệu lưu trữ giá trị cao,Số tài liệu lưu trữ đã số hóa,Tổng số văn bản,"
                    "Văn bản điện tử\n1000,500,160,160\n", encoding="utf-8")
    assert detect_kind(path) == "archive"
    update = load_file(loaded, path, province=PROVINCE)
    assert (update.kind, update.loaded, update.replaced) == ("archive", 1, 1)
    got = kpis(loaded, "2025-10")
    assert got[(NT, "archive_digitisation_rate")] == (500, 1000)
    assert got[(PROVINCE, "archive_digitisation_rate")] == (600, 1500)
    assert got[(PROVINCE, "e_document_rate")] == (220, 240)          # replaced, not added
    undo_batch(loaded, update.batch_id)
    assert kpis(loaded, "2025-10")[(NT, "archive_digitisation_rate")] == (350, 1000)


def test_month_and_unit_given_at_upload(con, tmp_path):
    path = tmp_path / "docs.csv"
    path.write_text("Tổng số văn bản,Văn bản xử lý trên môi trường điện tử\n40,30\n", encoding="utf-8")
    with pytest.raises(LoadError, match="tháng"):
        load_archive_file(con, path, unit=NT)
    with pytest.raises(LoadError, match="tháng"):
        load_archive_file(con, path, unit=NT, period="2025-Q4")
    with pytest.raises(LoadError, match="đơn vị"):
        load_archive_file(con, path, period="2025-11")
    load_archive_file(con, path, unit=NT, period="2025-11")
    got = kpis(con, "2025-11", NT, by=None)
    assert got[(NT, "e_document_rate")] == (30, 40)
    assert got[(NT, "archive_digitisation_rate")] == (None, None)


def test_file_without_figure_pairs_is_rejected(con, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("Đơn vị,Tháng,Tổng số văn bản\nXã Nghĩa Thọ,10/2025,5\n", encoding="utf-8")
    with pytest.raises(LoadError):
        load_archive_file(con, path, province=PROVINCE)
    assert con.execute("SELECT count(*) FROM batches").fetchall() == [(0,)]


def test_half_a_pair_rejects_the_file(con, tmp_path):
    path = tmp_path / "half.csv"
    path.write_text("Đơn vị,Tháng,Tài liệu lưu trữ giá trị cao,Ghi chú\nXã Nghĩa Thọ,10/2025,100,\n", encoding="utf-8")
    with pytest.raises(LoadError, match="thiếu cột đi cùng: «Tài liệu lưu trữ giá trị cao – Đã số hóa»"):
        load_archive_file(con, path, province=PROVINCE)


def test_header_variants(con, tmp_path):
    # The sample generator's headers: "(tổng)", "Đã số hóa (lũy kế)", "Văn bản phát sinh".
    path = tmp_path / "variants.csv"
    path.write_text("Mã đơn vị,Tên đơn vị,Tháng,Tài liệu lưu trữ giá trị cao (tổng),Đã số hóa (lũy kế),"
                    "Văn bản phát sinh,Văn bản xử lý điện tử\n16969,Xã Nghĩa Thọ,10/2025,912,35,671,608\n",
                    encoding="utf-8")
    assert load_archive_file(con, path).loaded == 1
    assert con.execute("SELECT archive_total, archive_digitised, documents_total, documents_electronic "
                       "FROM archive_stats").fetchall() == [(912, 35, 671, 608)]
