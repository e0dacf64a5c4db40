"""One scope rule (accounts.visible_units / can_view) for every page, export and the CLI."""

from __future__ import annotations

import json

import pytest

from kpi.__main__ import main as kpi_main
from loaders.dossiers import load_dossier_file
from store import accounts
from store import db as store

from .conftest import FIXTURES, TODAY

NGHIA_THO, VAN_TU, TRI_LE, BA_TO = "16969", "17611", "16756", "21523"


@pytest.fixture
def people(con):
    return {
        "admin": accounts.create_user(con, "admin", "quantri-123", "admin"),
        "officer": accounts.create_user(con, "canbo", "canbo-1234", "officer", NGHIA_THO),
        "leader": accounts.create_user(con, "lanhdao", "lanhdao-123", "leader", "40"),
        "analyst": accounts.create_user(con, "phantich", "phantich-1", "analyst", None, grants=[BA_TO]),
    }


def nghe_an(con) -> set[str]:
    return {c for (c,) in con.execute("SELECT code FROM units WHERE province_code = '40'").fetchall()}


def test_visible_units(con, people):
    assert accounts.visible_units(con, people["admin"]) is None
    assert accounts.visible_units(con, None) is None  # a system job
    assert accounts.visible_units(con, people["officer"]) == {NGHIA_THO}
    assert accounts.visible_units(con, people["analyst"]) == {BA_TO}
    leader = accounts.visible_units(con, people["leader"])
    assert leader == nghe_an(con) and len(leader) == 131 and "40" in leader


def test_can_view_is_built_on_visible_units(con, people):
    assert not accounts.can_view(con, people["officer"], "40")
    assert not accounts.can_view(con, people["officer"], TRI_LE)
    assert accounts.can_view(con, people["officer"], NGHIA_THO)
    assert not accounts.can_view(con, people["analyst"], "51")  # the province of the one granted commune
    assert accounts.can_view(con, people["analyst"], BA_TO)
    assert accounts.can_view(con, people["leader"], "40") and accounts.can_view(con, people["leader"], TRI_LE)
    assert not accounts.can_view(con, people["leader"], "51")
    assert accounts.can_view(con, people["admin"], "51")


def test_province_is_recognised_by_level_not_length(con):
    # A province whose code is not two characters, and a two-character code that is a commune.
    con.execute("INSERT INTO units VALUES ('P001', 'Thử', 'Tỉnh Thử', 'province', 'P001'), "
                "('C0001', 'Một', 'Xã Một', 'commune', 'P001'), ('77', 'Bảy', 'Xã Bảy', 'commune', 'P001')")
    wide = accounts.create_user(con, "phantich2", "phantich-2", "analyst", None, grants=["P001"])
    narrow = accounts.create_user(con, "phantich3", "phantich-3", "analyst", None, grants=["77"])
    assert accounts.visible_units(con, wide) == {"P001", "C0001", "77"}
    assert accounts.visible_units(con, narrow) == {"77"}
    assert not accounts.can_view(con, narrow, "C0001")


def test_filter_rows(con, people):
    rows = [{"unit_code": "40"}, {"unit_code": NGHIA_THO}, {"unit_code": TRI_LE}]
    assert accounts.only_visible(con, people["officer"], rows) == [{"unit_code": NGHIA_THO}]
    assert accounts.only_visible(con, people["admin"], rows) == rows


@pytest.fixture
def store_file(tmp_path):
    path = tmp_path / "kpi.duckdb"
    con = store.connect(path)
    load_dossier_file(con, FIXTURES / "golden.csv", province="40", today=TODAY)
    users = {
        "officer": accounts.create_user(con, "canbo", "canbo-1234", "officer", NGHIA_THO),
        "leader": accounts.create_user(con, "lanhdao", "lanhdao-123", "leader", "40"),
    }
    con.close()
    return path, users


def test_cli_as_acting_user(store_file, capsys):
    path, users = store_file
    base = ["--db", str(path), "--period", "2025-09", "--today", TODAY.isoformat(), "--format", "json"]
    with accounts.acting_as(users["officer"]):
        assert kpi_main([*base, "--unit", "40", "--by", "commune"]) == 2
        err = capsys.readouterr().err
        assert "canbo" in err and "Tỉnh Nghệ An" in err and "không được xem" in err
        assert kpi_main([*base, "--unit", NGHIA_THO]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert {r["unit_code"] for r in rows} == {NGHIA_THO}
    with accounts.acting_as(users["leader"]):
        assert kpi_main([*base, "--unit", "40", "--by", "commune"]) == 0
        assert {r["unit_code"] for r in json.loads(capsys.readouterr().out)} >= {"40", NGHIA_THO, VAN_TU}
