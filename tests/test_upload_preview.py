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
