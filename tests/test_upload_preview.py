"""The upload page's dossier preview (loaders.preview) reads and validates a file once, with
the mapping chosen first: the hand-made one, else the saved preset, else by name."""

from __future__ import annotations

import pytest

from loaders import dossiers, history
from loaders.files import LoadError
from loaders.preview import preview_dossier_file

from .conftest import TODAY

PROVINCE = "40"
SWAP = {"Ngày hẹn trả": "finished_at", "Ngày có kết quả": "due_at"}


@pytest.fixture
def validations(monkeypatch):
    """How many times a file was validated (dossiers.prepare ran)."""
    calls: list[int] = []
    prepare = dossiers.prepare

    def counted(*args, **kwargs):
        calls.append(1)
        return prepare(*args, **kwargs)

    monkeypatch.setattr(dossiers, "prepare", counted)
    return calls


def headers(fixtures) -> list[str]:
    return (fixtures / "golden.csv").read_text(encoding="utf-8").splitlines()[0].split(",")


def test_without_preset_validated_once_by_name(con, fixtures, validations):
    preview = preview_dossier_file(con, fixtures / "golden.csv", PROVINCE, today=TODAY)
    assert len(validations) == 1
    assert not preview.preset
    assert preview.fields == dossiers.match_headers(preview.table.headers)
    expected = dossiers.check_dossier_file(con, fixtures / "golden.csv", PROVINCE, today=TODAY)[2]
    assert preview.frame.equals(expected)


def test_with_preset_validated_once_with_it(con, fixtures, validations):
    auto = dossiers.match_headers(headers(fixtures))
    preset = {h: f for f, h in auto.items()} | SWAP
    history.save_preset(con, headers(fixtures), preset, "golden.csv", None)
    preview = preview_dossier_file(con, fixtures / "golden.csv", PROVINCE, today=TODAY)
    assert len(validations) == 1
    assert preview.preset
    assert preview.fields == dossiers.match_headers(preview.table.headers, preset)
    assert preview.fields["due_at"] == "Ngày có kết quả"
    validations.clear()
    expected = dossiers.check_dossier_file(con, fixtures / "golden.csv", PROVINCE, mapping=preset, today=TODAY)[2]
    assert preview.frame.equals(expected)


def test_manual_mapping_wins_and_is_validated_once(con, fixtures, validations):
    history.save_preset(con, headers(fixtures), SWAP, "golden.csv", None)
    manual = {h: f for f, h in dossiers.match_headers(headers(fixtures)).items()}
    preview = preview_dossier_file(con, fixtures / "golden.csv", PROVINCE, manual=manual, today=TODAY)
    assert len(validations) == 1
    assert not preview.preset
    assert preview.fields["due_at"] == "Ngày hẹn trả"


def test_refused_file_is_not_validated(con, tmp_path, validations):
    path = tmp_path / "thieu_cot.csv"
    path.write_text("Mã hồ sơ,Mã xã,Ghi chú\nX1,16969,a\n", encoding="utf-8")
    with pytest.raises(LoadError, match="thiếu cột bắt buộc"):
        preview_dossier_file(con, path, PROVINCE, today=TODAY)
    assert validations == []


# --- Row numbers and repeats (issue 16 item 9) --------------------------------------------------
# One convention: a row is named by its spreadsheet row number, as at the left of Excel (the
# header row is row 1 when it is the file's first line; title and empty lines count).


def test_preview_counts_are_what_the_load_writes(con, fixtures):
    """messy.csv: 7 rows; HS-002 twice (rows 3 and 4: row 4 kept); rows 6-8 rejected (the
    row with STT 4 and no id is line 6 of the file, under the header and the repeat)."""
    from loaders.dossiers import load_dossier_file

    preview = preview_dossier_file(con, fixtures / "messy.csv", PROVINCE, today=TODAY)
    assert preview.duplicates.rows() == [(3, "HS-002", 4)]
    assert (preview.frame.height, preview.to_load, preview.rejected) == (7, 3, 3)
    assert preview.rejected_rows()["Dòng"].to_list() == [6, 7, 8]
    head = preview.head()
    assert head.columns[:3] == ["Dòng", "STT", "MÃ HỒ SƠ"]
    assert head.filter(head["Dòng"] == 6)["STT"].to_list() == ["4"]
    result = load_dossier_file(con, fixtures / "messy.csv", PROVINCE, today=TODAY)
    assert (result.loaded, result.duplicates) == (preview.to_load, preview.duplicates.height)
    assert [r["row"] for r in result.rejected] == [6, 7, 8]


def test_xlsx_rows_are_numbered_as_in_excel(con, tmp_path):
    """A sheet whose header is on row 3 (two empty rows above) and with an empty row 5: the
    bad row on Excel row 6 is called row 6 (it was row 4 when the reader dropped the empty
    rows at the top)."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A3"], sheet["B3"], sheet["C3"] = "Mã hồ sơ", "Mã xã", "Ngày tiếp nhận"
    sheet["A4"], sheet["B4"], sheet["C4"] = "X1", "16969", "01/09/2025"
    sheet["A6"], sheet["B6"], sheet["C6"] = "X2", "16969", "31/02/2025"
    path = tmp_path / "le.xlsx"
    book.save(path)
    preview = preview_dossier_file(con, path, PROVINCE, today=TODAY)
    assert preview.table.header_row == 3
    assert preview.head()["Dòng"].to_list() == [4, 5, 6]
    assert preview.rejected_rows().filter(preview.rejected_rows()["Lý do"].str.contains("31/02/2025"))[
        "Dòng"].to_list() == [6]


def test_csv_title_lines_count(con, tmp_path):
    path = tmp_path / "tieu_de.csv"
    path.write_text("BÁO CÁO HỒ SƠ THÁNG 9\n\nMã hồ sơ,Mã xã,Ngày tiếp nhận\nX1,16969,01/09/2025\n"
                    "X1,16969,02/09/2025\nX2,16969,31/02/2025\n", encoding="utf-8")
    preview = preview_dossier_file(con, path, PROVINCE, today=TODAY)
    assert preview.table.header_row == 3
    assert preview.duplicates.rows() == [(4, "X1", 5)]
    assert preview.rejected_rows()["Dòng"].to_list() == [6]


def test_rejected_rows_file_uploaded_again_keeps_its_own_row_column(con, fixtures, tmp_path):
    """The rejected-rows workbook (its first column is "Dòng", the rows' numbers in the first
    file), fixed and uploaded again: the preview's own row numbers get a name of their own."""
    from kpi.export import to_xlsx
    from loaders.dossiers import load_dossier_file

    result = load_dossier_file(con, fixtures / "messy.csv", PROVINCE, today=TODAY)
    path = tmp_path / "tu_choi.xlsx"
    path.write_bytes(to_xlsx({"Dữ liệu": history.rejected_frame(con, result.batch_id)}))
    head = preview_dossier_file(con, path, PROVINCE, today=TODAY).head()
    assert head.columns[:2] == ["Dòng trong tệp này", "Dòng"]
    assert head.select("Dòng trong tệp này", "Dòng").rows() == [(2, "6"), (3, "7"), (4, "8")]
