"""Accounts, roles and the write check in the load path itself."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from loaders import accounts
from loaders.batches import undo_batch
from loaders.dossiers import load_dossier_file

from .conftest import TODAY, db_state

NGHIA_THO, VAN_TU = "16969", "17611"


@pytest.fixture
def people(con):
    return {
        "admin": accounts.create_user(con, "admin", "quantri-123", "admin"),
        "officer": accounts.create_user(con, "canbo", "canbo-1234", "officer", NGHIA_THO, "Cán bộ Nghĩa Thọ"),
        "leader": accounts.create_user(con, "lanhdao", "lanhdao-123", "leader", "40"),
        "analyst": accounts.create_user(con, "phantich", "phantich-1", "analyst", None, grants=["25", VAN_TU]),
    }


def test_passwords_are_hashed_and_checked(con, people):
    stored = con.execute("SELECT password_hash FROM users WHERE username = 'canbo'").fetchall()[0][0]
    assert stored.startswith("$2") and "canbo-1234" not in stored
    assert accounts.authenticate(con, "canbo", "sai-mat-khau") is None
    token = accounts.authenticate(con, "canbo", "canbo-1234")
    assert accounts.session_user(con, token).unit_code == NGHIA_THO


def test_sessions_expire_and_logout(con, people):
    token = accounts.authenticate(con, "canbo", "canbo-1234")
    later = datetime.now() + timedelta(hours=accounts.SESSION_HOURS, minutes=1)
    assert accounts.session_user(con, token, now=later) is None
    accounts.logout(con, token)
    assert accounts.session_user(con, token) is None


def test_weak_password_and_unscoped_officer_are_refused(con):
    with pytest.raises(ValueError):
        accounts.create_user(con, "x", "short", "admin")
    with pytest.raises(ValueError):
        accounts.create_user(con, "y", "long-enough", "officer", None)


def test_view_scopes(con, people):
    assert accounts.can_view(con, people["leader"], NGHIA_THO)
    assert not accounts.can_view(con, people["leader"], "21523")
    assert accounts.can_view(con, people["officer"], NGHIA_THO)
    assert not accounts.can_view(con, people["officer"], VAN_TU)
    assert accounts.can_view(con, people["analyst"], VAN_TU) and accounts.can_view(con, people["analyst"], "25")
    assert not accounts.can_view(con, people["analyst"], NGHIA_THO)
    assert accounts.can_view(con, people["admin"], "21523")


def test_officer_cannot_load_for_another_commune(con, fixtures, people):
    before = db_state(con)
    # golden.csv has dossiers of Nghĩa Thọ and Vân Tụ: the whole load is refused and rolled back.
    with accounts.acting_as(people["officer"]), pytest.raises(accounts.AccessDenied) as denied:
        load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY)
    assert VAN_TU in str(denied.value) and "canbo" in str(denied.value)
    after = db_state(con)
    assert {k: v for k, v in after.items() if k != "batches"} == {k: v for k, v in before.items() if k != "batches"}
    assert after["dossiers"][0] == 0


def test_leader_cannot_write_and_officer_cannot_undo_others(con, fixtures, tmp_path, people):
    with accounts.acting_as(people["leader"]), pytest.raises(accounts.AccessDenied):
        load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY)
    own = tmp_path / "own.csv"
    own.write_text("Mã hồ sơ,Mã xã,Ngày tiếp nhận\nO1,16969,01/09/2025\n", encoding="utf-8")
    with accounts.acting_as(people["officer"]):
        mine = load_dossier_file(con, own, province="40", today=TODAY)
    assert mine.loaded == 1
    other = load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY)  # a system job
    with accounts.acting_as(people["officer"]), pytest.raises(accounts.AccessDenied):
        undo_batch(con, other.batch_id)
    with accounts.acting_as(people["officer"]):
        undo_batch(con, mine.batch_id)
    log = con.execute("SELECT username, action FROM audit_log WHERE action IN ('upload', 'undo')").fetchall()
    assert ("canbo", "upload") in log and ("canbo", "undo") in log
