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
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import bcrypt
import duckdb

ROLES = {"admin": "Quản trị", "leader": "Lãnh đạo", "officer": "Cán bộ một cửa", "analyst": "Chuyên viên phân tích"}
SESSION_HOURS = 8

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username VARCHAR PRIMARY KEY, full_name VARCHAR, password_hash VARCHAR NOT NULL, role VARCHAR NOT NULL,
    unit_code VARCHAR, grants VARCHAR[], active BOOLEAN NOT NULL DEFAULT TRUE, created_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS sessions (token VARCHAR PRIMARY KEY, username VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL, expires_at TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS audit_log (logged_at TIMESTAMP NOT NULL, username VARCHAR, action VARCHAR NOT NULL,
    detail VARCHAR);
"""


class AccessDenied(PermissionError):
    """Vietnamese message: what the user may not do."""


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


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SCHEMA)


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


def create_user(con, username: str, password: str, role: str, unit_code: str | None = None,
                full_name: str = "", grants: list[str] | None = None, by: str | None = None) -> User:
    ensure_schema(con)
    if role not in ROLES:
        raise ValueError(f"Vai trò «{role}» không hợp lệ.")
    if role in ("officer", "leader") and not unit_code:
        raise ValueError("Cán bộ và lãnh đạo phải gắn với một đơn vị.")
    if len(password) < 8:
        raise ValueError("Mật khẩu phải có ít nhất 8 ký tự.")
    con.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, TRUE, ?)",
                [username, full_name, hash_password(password), role, unit_code, grants or [], datetime.now()])
    log(con, by, "create_user", f"{username} ({role}, {unit_code or 'toàn quốc'})")
    return User(username, full_name, role, unit_code, tuple(grants or ()))


def authenticate(con, username: str, password: str) -> str | None:
    """A session token, or None (wrong name or password, or account disabled)."""
    ensure_schema(con)
    rows = con.execute("SELECT password_hash FROM users WHERE username = ? AND active", [username]).fetchall()
    if not rows or not bcrypt.checkpw(password.encode("utf-8"), rows[0][0].encode("ascii")):
        log(con, username, "login_failed", None)
        return None
    token = secrets.token_urlsafe(32)
    now = datetime.now()
    con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", [token, username, now, now + timedelta(hours=SESSION_HOURS)])
    log(con, username, "login", None)
    return token


def session_user(con, token: str | None, now: datetime | None = None) -> User | None:
    if not token:
        return None
    ensure_schema(con)
    rows = con.execute(
        """SELECT u.username, u.full_name, u.role, u.unit_code, u.grants FROM sessions s
           JOIN users u USING (username) WHERE s.token = ? AND s.expires_at > ? AND u.active""",
        [token, now or datetime.now()],
    ).fetchall()
    if not rows:
        return None
    username, full_name, role, unit_code, grants = rows[0]
    return User(username, full_name or "", role, unit_code, tuple(grants or ()))


def logout(con, token: str) -> None:
    con.execute("DELETE FROM sessions WHERE token = ?", [token])


def log(con, username: str | None, action: str, detail: str | None) -> None:
    ensure_schema(con)
    con.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?)", [datetime.now(), username, action, detail])


def _unit(con, code: str) -> tuple[str, str] | None:
    rows = con.execute("SELECT level, province_code FROM units WHERE code = ?", [code]).fetchall()
    return rows[0] if rows else None


def can_view(con, user: User, unit_code: str) -> bool:
    if user.role == "admin" and user.unit_code is None:
        return True
    unit = _unit(con, unit_code)
    if unit is None:
        return False
    level, province = unit
    scopes = [user.unit_code] if user.unit_code else []
    if user.role == "analyst":
        scopes += list(user.grants)
    return any(s == unit_code or (s == province and len(s) == 2) for s in scopes)


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
            f"cho đơn vị: {', '.join(denied[:10])}{'…' if len(denied) > 10 else ''}."
        )
    if not unit_codes and user.role not in ("admin", "officer"):
        raise AccessDenied(f"Tài khoản «{user.username}» không được {action}.")
