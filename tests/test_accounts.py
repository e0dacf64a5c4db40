"""Accounts, roles and the write check in the load path itself."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from loaders.batches import undo_batch
from loaders.dossiers import load_dossier_file
from store import accounts

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


# --- Brute force (issue 13 item 10) -------------------------------------------------------------

class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def tick(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(datetime(2025, 11, 15, 9, 0, 0))
    monkeypatch.setattr(accounts, "clock", clock)
    return clock


def fail(con, clock, username, times, client="10.0.0.1"):
    """`times` wrong passwords, each after the delay the previous one set."""
    for _ in range(times):
        assert accounts.authenticate(con, username, "sai-mat-khau", client=client) is None
        clock.tick(seconds=61)


def test_account_is_locked_after_five_failures_and_the_lock_grows(con, people, clock):
    fail(con, clock, "canbo", 4)
    assert accounts.authenticate(con, "canbo", "sai-mat-khau", client="10.0.0.1") is None  # the 5th: locked now
    with pytest.raises(accounts.LoginThrottled) as locked:
        accounts.authenticate(con, "canbo", "canbo-1234", client="10.0.0.2")  # right password, other client
    until = clock.now + timedelta(minutes=15)
    assert "Tạm khóa" in str(locked.value) and f"{until:%H:%M} ngày {until:%d/%m/%Y}" in str(locked.value)
    clock.tick(minutes=16)
    assert accounts.authenticate(con, "canbo", "canbo-1234", client="10.0.0.2")
    # After a success the count starts again, but the next lock is longer (30 minutes).
    fail(con, clock, "canbo", 5)
    with pytest.raises(accounts.LoginThrottled):
        accounts.authenticate(con, "canbo", "canbo-1234")
    clock.tick(minutes=20)
    with pytest.raises(accounts.LoginThrottled):
        accounts.authenticate(con, "canbo", "canbo-1234")
    clock.tick(minutes=11)
    assert accounts.authenticate(con, "canbo", "canbo-1234")
    actions = [a for (a,) in con.execute("SELECT action FROM audit_log WHERE username = 'canbo'").fetchall()]
    assert actions.count("login_locked") == 2 and "login_refused" in actions and actions.count("login_failed") == 10


def test_increasing_delay_between_attempts(con, people, clock):
    assert accounts.authenticate(con, "canbo", "sai-1", client="c") is None
    assert accounts.authenticate(con, "canbo", "sai-2", client="c") is None  # the first retry is immediate
    with pytest.raises(accounts.LoginThrottled) as wait:
        accounts.authenticate(con, "canbo", "canbo-1234", client="c")
    assert "giây" in str(wait.value)
    clock.tick(seconds=2)
    assert accounts.authenticate(con, "canbo", "sai-3", client="c") is None
    clock.tick(seconds=2)
    with pytest.raises(accounts.LoginThrottled):  # the delay doubled (4 s)
        accounts.authenticate(con, "canbo", "canbo-1234", client="c")
    clock.tick(seconds=3)
    assert accounts.authenticate(con, "canbo", "canbo-1234", client="c")


def test_client_is_locked_across_accounts(con, people, clock):
    for i in range(accounts.CLIENT_LIMIT):  # different (mostly unknown) names from one address
        assert accounts.authenticate(con, f"khach{i}", "sai-mat-khau", client="203.0.113.9") is None
        clock.tick(seconds=61)
    with pytest.raises(accounts.LoginThrottled):
        accounts.authenticate(con, "lanhdao", "lanhdao-123", client="203.0.113.9")
    assert accounts.authenticate(con, "lanhdao", "lanhdao-123", client="198.51.100.7")
    rows = con.execute("SELECT count(*) FROM login_throttle WHERE kind = 'client' AND locked_until IS NOT NULL"
                       ).fetchall()
    assert rows == [(1,)]


def test_unknown_and_known_names_are_locked_alike(con, people, clock):
    for name in ("canbo", "khong-co-ai"):
        fail(con, clock, name, accounts.ACCOUNT_LIMIT, client=name)
        with pytest.raises(accounts.LoginThrottled) as locked:
            accounts.authenticate(con, name, "bat-ky", client=name + "-2")
        assert str(locked.value).startswith("Tạm khóa đăng nhập")


# --- Enumeration (item 11) ----------------------------------------------------------------------

def test_long_password_is_wrong_not_an_error(con, people, clock):
    long = "mật-khẩu-rất-dài-" * 8
    assert len(long.encode()) > 72
    assert accounts.authenticate(con, "canbo", long) is None
    clock.tick(seconds=61)
    assert accounts.authenticate(con, "khong-co-ai", long) is None
    with pytest.raises(ValueError, match="72 byte"):
        accounts.create_user(con, "dai.qua", long, "admin")


def test_unknown_users_cost_one_bcrypt_check_like_known_ones(con, people, clock, monkeypatch):
    calls = []
    real = accounts.bcrypt.checkpw

    def spy(password, hashed):
        calls.append(hashed[:7])
        return real(password, hashed)

    monkeypatch.setattr(accounts.bcrypt, "checkpw", spy)
    for name in ("canbo", "khong-co-ai", "canbo", "khong-co-ai"):
        clock.tick(minutes=5)
        assert accounts.authenticate(con, name, "sai-mat-khau" if len(calls) < 2 else "x" * 100) is None
    stored = con.execute("SELECT password_hash FROM users WHERE username = 'canbo'").fetchall()[0][0]
    assert calls == [stored.encode()[:7]] * 4  # same cost factor, one check each, long or not


# --- Account validation (item 12) ---------------------------------------------------------------

@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (("", "hop-le-123", "admin"), {}, "Tên đăng nhập"),
    (("ab", "hop-le-123", "admin"), {}, "Tên đăng nhập"),
    (("Có Dấu", "hop-le-123", "admin"), {}, "Tên đăng nhập"),
    (("trang", "        ", "admin"), {}, "Mật khẩu"),
    (("trang", "a b c d e f g", "admin"), {}, "Mật khẩu"),
    (("mot", "hop-le-123", "officer", "99999"), {}, "99999"),
    (("hai", "hop-le-123", "officer", "40"), {}, "xã/phường"),
    (("bay", "hop-le-123", "leader", "00000"), {}, "00000"),
    (("bon", "hop-le-123", "analyst"), {"grants": ["21523", "12345"]}, "12345"),
    (("nam", "hop-le-123", "admin", "xx"), {}, "xx"),
])
def test_invalid_accounts_are_refused(con, args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        accounts.create_user(con, *args, **kwargs)
    assert con.execute("SELECT count(*) FROM users").fetchall() == [(0,)]


def test_duplicate_username_is_refused_in_vietnamese(con, people):
    with pytest.raises(ValueError, match="đã có"):
        accounts.create_user(con, "canbo", "khac-hoan-toan", "officer", NGHIA_THO)


def test_valid_accounts_are_created(con):
    accounts.create_user(con, "lanhdao.xa", "lanhdao-xa-1", "leader", NGHIA_THO)
    accounts.create_user(con, "phan_tich-2", "phan tich 2025", "analyst", None, grants=["40", "21523"])
    assert con.execute("SELECT count(*) FROM users").fetchall() == [(2,)]


def test_an_oidc_login_finds_its_account_by_email_address(con):
    from store.accounts import account_by_email

    accounts.create_user(con, "lanhdao", "matkhau-lanhdao", "leader", "40", "Lãnh đạo", email="LanhDao@NgheAn.gov.vn")
    accounts.create_user(con, "hai", "matkhau-hai-1", "leader", "40", "Hai", email="chung@nghean.gov.vn")
    accounts.create_user(con, "baba", "matkhau-ba-12", "leader", "40", "Ba", email="chung@nghean.gov.vn")
    assert account_by_email(con, " lanhdao@nghean.gov.vn ").username == "lanhdao"
    assert account_by_email(con, "chung@nghean.gov.vn") is None         # two accounts: ambiguous, no access
    assert account_by_email(con, "") is None and account_by_email(con, "khac@nghean.gov.vn") is None
    con.execute("UPDATE users SET active = false WHERE username = 'lanhdao'")
    assert account_by_email(con, "lanhdao@nghean.gov.vn") is None
