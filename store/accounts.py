"""Local accounts, roles and sessions (no external identity provider needed).

Roles: `admin` (everything, manages accounts and targets), `leader` (views their province
or commune), `officer` (views their commune, uploads and undoes only for it), `analyst`
(views the units granted to them). Passwords are hashed with bcrypt; sessions are random
tokens that expire. Every write (upload, undo, account and target change) goes to
`audit_log` with who and when.

The write check lives here and is called from the write paths themselves (batches), with
the acting user taken from a context variable the pages set: a crafted request that
reaches the loader still meets the check.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import bcrypt
import duckdb

ROLES = {"admin": "Quản trị", "leader": "Lãnh đạo", "officer": "Cán bộ một cửa", "analyst": "Chuyên viên phân tích"}
# The roles that may write (upload, undo, save a column mapping) at all; which units: can_write.
WRITER_ROLES = ("admin", "officer")
SESSION_HOURS = 8  # $KPI_SESSION_HOURS overrides (session_hours)
# What each audit_log action is called on the admin page.
ACTIONS = {"login": "Đăng nhập", "login_failed": "Đăng nhập sai", "login_locked": "Tạm khóa đăng nhập",
           "login_refused": "Từ chối đăng nhập (đang khóa)", "create_user": "Tạo tài khoản",
           "upload": "Tải dữ liệu lên", "undo": "Hoàn tác lần tải", "save_preset": "Lưu mẫu ánh xạ cột",
           "edit_targets": "Sửa chỉ tiêu", "set_limit": "Đổi giới hạn tệp tải lên",
           "api": "Gọi API", "issue_token": "Cấp mã truy cập API", "revoke_token": "Thu hồi mã truy cập API",
           "schedule": "Đặt lịch kéo dữ liệu", "logout": "Đăng xuất"}

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username VARCHAR PRIMARY KEY, full_name VARCHAR, password_hash VARCHAR NOT NULL, role VARCHAR NOT NULL,
    unit_code VARCHAR, grants VARCHAR[], active BOOLEAN NOT NULL DEFAULT TRUE, created_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS sessions (token VARCHAR PRIMARY KEY, username VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL, expires_at TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS audit_log (logged_at TIMESTAMP NOT NULL, username VARCHAR, action VARCHAR NOT NULL,
    detail VARCHAR);
CREATE TABLE IF NOT EXISTS login_throttle (kind VARCHAR NOT NULL, key VARCHAR NOT NULL,
    failures INTEGER NOT NULL, last_failed_at TIMESTAMP, locked_until TIMESTAMP, locks INTEGER NOT NULL,
    PRIMARY KEY (kind, key));
"""

USERNAME = re.compile(r"[a-z0-9._-]{3,64}")
MIN_PASSWORD = 8          # characters other than spaces
MAX_PASSWORD_BYTES = 72   # bcrypt's limit; longer passwords are refused, never truncated

# Login throttling, per account name (known or not, so that a lock tells nothing) and per client
# address. After `free` failures each attempt waits 2, 4, 8 ... seconds (at most MAX_DELAY);
# the limit-th failure locks for LOCK_MINUTES, doubled for every earlier lock of that key
# (at most MAX_LOCK). A key with no failure for FORGET_AFTER starts afresh. The counters are
# in the store (table login_throttle), so they hold across sessions and restarts.
ACCOUNT_LIMIT, ACCOUNT_FREE = 5, 1
CLIENT_LIMIT, CLIENT_FREE = 20, 5
LOCK_MINUTES = 15
MAX_DELAY = timedelta(seconds=60)
MAX_LOCK = timedelta(hours=24)
FORGET_AFTER = timedelta(hours=24)
clock = datetime.now  # replaced by tests
_THROTTLE_LOCK = threading.Lock()
# A bcrypt hash (same cost as hash_password's) of a random secret nobody knows: unknown names
# are checked against it so that they take as long as known ones.
_DUMMY_HASH = b"$2b$12$yRQvVhaK9S.CnGneOuMTQeOFPWhno/UlQufWjhSRBFfWoSKTbWmZm"


class AccessDenied(PermissionError):
    """Vietnamese message: what the user may not do."""


class LoginThrottled(AccessDenied):
    """Too many failed logins for this name or client: the message says when to retry."""


@dataclass(frozen=True)
class User:
    username: str
    full_name: str
    role: str
    unit_code: str | None        # province or commune; None for a national admin
    grants: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.full_name or self.username} ({ROLES.get(self.role, self.role)})"


_ACTING: contextvars.ContextVar[User | None] = contextvars.ContextVar("acting_user", default=None)


@contextlib.contextmanager
def acting_as(user: User | None):
    """Run writes on behalf of `user` (None: a system job such as the CLI or bootstrap)."""
    token = _ACTING.set(user)
    try:
        yield
    finally:
        _ACTING.reset(token)


def current_user() -> User | None:
    return _ACTING.get()


def session_hours() -> float:
    """How long a login lasts: SESSION_HOURS, or $KPI_SESSION_HOURS (e.g. a short one for tests)."""
    try:
        return float(os.environ.get("KPI_SESSION_HOURS") or SESSION_HOURS)
    except ValueError:
        return SESSION_HOURS


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """The account tables (store.connect's migrations create them; the calls on every page
    run, session_user and log, rely on that rather than run DDL each time)."""
    con.execute(SCHEMA)


def has_accounts(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store holds any account (a fresh store asks for the first admin)."""
    ensure_schema(con)
    return con.execute("SELECT count(*) FROM users").fetchall()[0][0] > 0


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


def _unit_label(con, code: str) -> str:
    rows = con.execute("SELECT full_name FROM units WHERE code = ?", [code]).fetchall()
    return f"{rows[0][0]} ({code})" if rows else code


def validate_account(con, username: str, password: str, role: str, unit_code: str | None,
                     grants: list[str] | None) -> None:
    """Raise ValueError (Vietnamese, naming the field) unless the account can be created."""
    if role not in ROLES:
        raise ValueError(f"Vai trò «{role}» không hợp lệ.")
    if not USERNAME.fullmatch(username or ""):
        raise ValueError(f"Tên đăng nhập «{username}» không hợp lệ: cần 3–64 ký tự, chỉ gồm chữ thường "
                         "không dấu (a–z), chữ số và các dấu . _ -")
    if len("".join((password or "").split())) < MIN_PASSWORD:
        raise ValueError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự không phải khoảng trắng.")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise ValueError(f"Mật khẩu dài quá {MAX_PASSWORD_BYTES} byte (chữ có dấu chiếm 2–3 byte): "
                         "hãy chọn mật khẩu ngắn hơn.")
    if role in ("officer", "leader") and not unit_code:
        raise ValueError("Cán bộ và lãnh đạo phải gắn với một đơn vị.")
    if grants and role != "analyst":
        raise ValueError("Chỉ chuyên viên phân tích được gán thêm đơn vị được xem.")
    if unit_code:
        unit = _unit(con, unit_code)
        if unit is None:
            raise ValueError(f"Mã đơn vị «{unit_code}» không có trong danh mục đơn vị hành chính.")
        if role == "officer" and unit[0] != "commune":
            raise ValueError(f"Cán bộ một cửa phải gắn với một xã/phường, không phải "
                             f"«{_unit_label(con, unit_code)}».")
    for grant in grants or ():
        if _unit(con, grant) is None:
            raise ValueError(f"Đơn vị được xem thêm «{grant}» không có trong danh mục đơn vị hành chính.")
    if con.execute("SELECT count(*) FROM users WHERE username = ?", [username]).fetchall()[0][0]:
        raise ValueError(f"Tên đăng nhập «{username}» đã có.")


def create_user(con, username: str, password: str, role: str, unit_code: str | None = None,
                full_name: str = "", grants: list[str] | None = None, by: str | None = None,
                email: str | None = None) -> User:
    ensure_schema(con)
    validate_account(con, username, password, role, unit_code, grants)
    _check_creator(con, by, unit_code, grants)
    con.execute("INSERT INTO users (username, full_name, password_hash, role, unit_code, grants, active, created_at, "
                "email) VALUES (?, ?, ?, ?, ?, ?, TRUE, ?, ?)", [username, full_name, hash_password(password), role,
                                                               unit_code, grants or [], datetime.now(), email or None])
    log(con, by, "create_user", f"{username} ({role}, {unit_code or 'toàn quốc'})")
    return User(username, full_name, role, unit_code, tuple(grants or ()))


def _check_creator(con, by: str | None, unit_code: str | None, grants: list[str] | None) -> None:
    """An admin of a province (or commune) creates accounts only within their own scope: never a
    national account, nor one whose unit or grants they may not see. `by` not an account of the
    store (bootstrap, CLI): no limit."""
    rows = con.execute("SELECT role, unit_code, grants FROM users WHERE username = ?", [by]).fetchall() if by else []
    if not rows:
        return
    creator = User(by, "", rows[0][0], rows[0][1], tuple(rows[0][2] or ()))
    visible = visible_units(con, creator) if creator.role == "admin" else set()
    if visible is None:
        return
    outside = [c for c in (unit_code, *(grants or ())) if c is None or c not in visible]
    if outside:
        where = ", ".join("toàn quốc" if c is None else _unit_label(con, c) for c in outside)
        scope = _unit_label(con, creator.unit_code) if creator.unit_code else "phạm vi của mình"
        raise ValueError(f"Tài khoản «{by}» chỉ quản trị {scope}: không được tạo tài khoản cho {where}.")


def _throttle_keys(username: str, client: str | None) -> list[tuple[str, str, int, int]]:
    keys = [("account", username, ACCOUNT_LIMIT, ACCOUNT_FREE)]
    if client:
        keys.append(("client", client, CLIENT_LIMIT, CLIENT_FREE))
    return keys


def _when(moment: datetime) -> str:
    return f"{moment:%H:%M} ngày {moment:%d/%m/%Y}"


def _throttled(con, username: str, client: str | None, now: datetime) -> str | None:
    """The Vietnamese refusal if an attempt for this name or client must wait, else None."""
    for kind, key, _limit, free in _throttle_keys(username, client):
        rows = con.execute("SELECT failures, last_failed_at, locked_until FROM login_throttle "
                           "WHERE kind = ? AND key = ?", [kind, key]).fetchall()
        if not rows:
            continue
        failures, last_failed, locked_until = rows[0]
        who = f"tài khoản «{username}»" if kind == "account" else "từ địa chỉ này"
        if locked_until is not None and locked_until > now:
            return (f"Tạm khóa đăng nhập {who} do nhập sai mật khẩu nhiều lần. "
                    f"Vui lòng thử lại sau {_when(locked_until)}.")
        wait = _delay(failures, free)
        if last_failed is not None and last_failed + wait > now:
            seconds = max(1, round((last_failed + wait - now).total_seconds() + 0.49))
            return f"Đăng nhập sai nhiều lần: vui lòng chờ {seconds} giây rồi thử lại."
    return None


def _delay(failures: int, free: int) -> timedelta:
    if failures <= free:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(failures - free, 16)), MAX_DELAY)


def _record_failure(con, username: str, client: str | None, now: datetime) -> None:
    for kind, key, limit, _free in _throttle_keys(username, client):
        rows = con.execute("SELECT failures, last_failed_at, locks FROM login_throttle WHERE kind = ? AND key = ?",
                           [kind, key]).fetchall()
        failures, last_failed, locks = rows[0] if rows else (0, None, 0)
        if last_failed is not None and now - last_failed > FORGET_AFTER:
            failures, locks = 0, 0
        failures += 1
        locked_until = None
        if failures >= limit:
            locked_until = now + min(timedelta(minutes=LOCK_MINUTES) * 2 ** min(locks, 10), MAX_LOCK)
            failures, locks = 0, locks + 1
            target = f"tài khoản «{username}»" if kind == "account" else f"địa chỉ {client}"
            log(con, username, "login_locked", f"{target} tạm khóa đến {_when(locked_until)}")
        con.execute("INSERT OR REPLACE INTO login_throttle VALUES (?, ?, ?, ?, ?, ?)",
                    [kind, key, failures, now, locked_until, locks])


def authenticate(con, username: str, password: str, client: str | None = None) -> str | None:
    """A session token, or None (wrong name or password, or account disabled). Raises
    LoginThrottled while the name or the client (e.g. its IP address) must wait or is locked.
    Known and unknown names get the same answer in the same time (one bcrypt check each)."""
    ensure_schema(con)
    now = clock()
    with _THROTTLE_LOCK:
        refusal = _throttled(con, username, client, now)
        if refusal:
            log(con, username, "login_refused", f"{client or ''} {refusal}".strip())
            raise LoginThrottled(refusal)
        rows = con.execute("SELECT password_hash FROM users WHERE username = ? AND active", [username]).fetchall()
        secret = (password or "").encode("utf-8")
        stored = rows[0][0].encode("ascii") if rows else _DUMMY_HASH
        try:
            matched = bcrypt.checkpw(secret[:MAX_PASSWORD_BYTES], stored)
        except ValueError:  # a malformed stored hash
            matched = False
        if not rows or not matched or len(secret) > MAX_PASSWORD_BYTES:
            log(con, username, "login_failed", client)
            _record_failure(con, username, client, now)
            return None
        # The account's count starts again (its lock history stays); the client's does not, so
        # that an attacker cannot reset it by logging into an account of their own.
        con.execute("UPDATE login_throttle SET failures = 0, locked_until = NULL WHERE kind = 'account' AND key = ?",
                    [username])
    token = secrets.token_urlsafe(32)
    started = datetime.now()
    con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)",
                [token, username, started, started + timedelta(hours=session_hours())])
    log(con, username, "login", client)
    return token


def session_user(con, token: str | None, now: datetime | None = None) -> User | None:
    if not token:
        return None
    rows = con.execute(
        """SELECT u.username, u.full_name, u.role, u.unit_code, u.grants FROM sessions s
           JOIN users u USING (username) WHERE s.token = ? AND s.expires_at > ? AND u.active""",
        [token, now or datetime.now()],
    ).fetchall()
    if not rows:
        return None
    username, full_name, role, unit_code, grants = rows[0]
    return User(username, full_name or "", role, unit_code, tuple(grants or ()))


def account(con, username: str) -> User | None:
    """The active account `username` (the OIDC login maps the provider's address to it)."""
    rows = con.execute("SELECT username, full_name, role, unit_code, grants FROM users WHERE username = ? AND active",
                       [username]).fetchall()
    if not rows:
        return None
    username, full_name, role, unit_code, grants = rows[0]
    return User(username, full_name or "", role, unit_code, tuple(grants or ()))


def account_by_email(con, email: str) -> User | None:
    """The active account whose e-mail address is `email` (case-insensitive): how an
    organisation's OIDC login (README «Đăng nhập qua OIDC») finds its user; none if no account
    or more than one has that address (an ambiguous login gets no access)."""
    rows = con.execute("SELECT username FROM users WHERE lower(trim(email)) = lower(trim(?)) AND active",
                       [email or ""]).fetchall()
    return account(con, rows[0][0]) if len(rows) == 1 and email and email.strip() else None


def logout(con, token: str) -> None:
    """End the session server-side (a cookie or token copied earlier is worth nothing after)."""
    rows = con.execute("DELETE FROM sessions WHERE token = ? RETURNING username", [token]).fetchall()
    if rows:
        log(con, rows[0][0], "logout", None)


def log(con, username: str | None, action: str, detail: str | None) -> None:
    con.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?)", [datetime.now(), username, action, detail])


def _unit(con, code: str) -> tuple[str, str] | None:
    rows = con.execute("SELECT level, province_code FROM units WHERE code = ?", [code]).fetchall()
    return rows[0] if rows else None


def unit_account(con, username: str, full_name: str, code: str) -> User | None:
    """A system account that writes exactly the unit `code` under the one permission rule: a
    province's admin for a province, a commune's officer for a commune (None: no such unit).
    The inbox loads a unit's folder as it (service/inbox.py)."""
    unit = _unit(con, code)
    if unit is None:
        return None
    return User(username, full_name, "admin" if unit[0] == "province" else "officer", code)


def visible_units(con, user: User | None) -> set[str] | None:
    """THE scope rule: the codes of every unit `user` may see figures of, or None for all
    (a national admin, or no user: a system job such as the CLI). A scope code (the user's
    unit, and an analyst's grants) that is a province (`units.level = 'province'`) gives the
    province and all its communes; a commune gives that commune alone. Pages, exports,
    reports and the CLI all filter through this (or `can_view` / `only_visible`)."""
    if user is None or (user.role == "admin" and user.unit_code is None):
        return None
    scopes = [c for c in (user.unit_code, *(user.grants if user.role == "analyst" else ())) if c]
    if not scopes:
        return set()
    rows = con.execute(
        """SELECT u.code FROM units u
           WHERE list_contains(?::VARCHAR[], u.code)
              OR u.province_code IN (SELECT p.code FROM units p
                                     WHERE p.level = 'province' AND list_contains(?::VARCHAR[], p.code))""",
        [scopes, scopes],
    ).fetchall()
    return {code for (code,) in rows}


def can_view(con, user: User, unit_code: str) -> bool:
    visible = visible_units(con, user)
    return visible is None or unit_code in visible


def only_visible(con, user: User | None, rows: list[dict], key: str = "unit_code") -> list[dict]:
    """The rows (dicts with a unit code under `key`) of units the user may see."""
    visible = visible_units(con, user)
    return rows if visible is None else [r for r in rows if r[key] in visible]


def check_view(con, user: User | None, unit_code: str) -> None:
    """Raise AccessDenied (Vietnamese, naming the unit) unless the user may see the unit."""
    if user is not None and not can_view(con, user, unit_code):
        raise AccessDenied(f"Tài khoản «{user.username}» ({ROLES.get(user.role, user.role)}) không được xem "
                           f"số liệu của {_unit_label(con, unit_code)}.")


def can_write(con, user: User, unit_code: str) -> bool:
    """Officers write only for their own commune; admins for their scope; others never."""
    if user.role == "officer":
        return unit_code == user.unit_code
    if user.role == "admin":
        return can_view(con, user, unit_code)
    return False


def check_write(con, unit_codes: list[str], action: str) -> None:
    """Raise AccessDenied unless the acting user may write for every unit. No acting user
    means a system job (CLI, scheduled pull, bootstrap), which the OS account controls."""
    user = current_user()
    if user is None:
        return
    denied = sorted({c for c in unit_codes if not can_write(con, user, c)})
    if denied:
        raise AccessDenied(
            f"Tài khoản «{user.username}» ({ROLES.get(user.role, user.role)}) không được {action} "
            f"cho đơn vị: {', '.join(unit_labels(con, denied[:10]))}{'…' if len(denied) > 10 else ''}."
        )
    if not unit_codes and user.role not in WRITER_ROLES:
        raise AccessDenied(f"Tài khoản «{user.username}» không được {action}.")


def unit_labels(con, codes: list[str]) -> list[str]:
    """Units as people know them, «Xã Vân Tụ (17611)» (the code only where the store has no such unit)."""
    names = dict(con.execute("SELECT code, full_name FROM units WHERE list_contains(?, code)", [list(codes)]).fetchall())
    return [f"{names[c]} ({c})" if c in names else c for c in codes]


def users_in_scope(con, viewer: User):
    """The accounts an admin manages, as a polars frame (username, full_name, role, unit_code,
    grants, active, created_at): every account for a national admin, else the accounts whose
    unit is one the viewer may see (an analyst's grants too)."""
    from store.db import query_pl

    ensure_schema(con)
    visible = visible_units(con, viewer)
    where = "TRUE" if visible is None else (
        "(list_contains($units, unit_code) AND list_bool_and(list_transform(coalesce(grants, []), "
        "lambda g: list_contains($units, g))) IS NOT FALSE)")
    params = {} if visible is None else {"units": sorted(visible)}
    return query_pl(con, "SELECT username, full_name, role, unit_code, grants, active, created_at FROM users "
                         f"WHERE {where} ORDER BY username", params)


def audit_in_scope(con, viewer: User, limit: int = 500):
    """The newest audit entries an admin may read: all for a national admin, else those of the
    accounts they manage (`users_in_scope`), their own included."""
    from store.db import query_pl

    ensure_schema(con)
    names = None if visible_units(con, viewer) is None else [
        viewer.username, *users_in_scope(con, viewer)["username"].to_list()]
    where = "TRUE" if names is None else "list_contains($names, username)"
    params = {"limit": int(limit)} | ({} if names is None else {"names": names})
    return query_pl(con, f"SELECT logged_at, username, action, detail FROM audit_log WHERE {where} "
                         "ORDER BY logged_at DESC LIMIT $limit", params)
