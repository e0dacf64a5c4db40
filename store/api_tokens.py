"""Personal API tokens: how another system (the province's IOC, a one-door system's export
job) acts as an account through the HTTP API (service/api.py).

An admin issues a token for an account in their scope; it is shown once
(`kpi_<id>_<secret>`), stored as a SHA-256 digest of the secret (a 256-bit random secret
needs no slow hash), expires, can be revoked, and every use is written to the audit log.
A token acts with its account's role and units under the one scope rule
(store.accounts.visible_units / check_write): it is a way to log in, not a grant.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from store import accounts

SCHEMA = """CREATE TABLE IF NOT EXISTS api_tokens (
    token_id VARCHAR PRIMARY KEY, username VARCHAR NOT NULL, name VARCHAR NOT NULL,
    secret_sha256 VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, created_by VARCHAR,
    expires_at TIMESTAMP NOT NULL, revoked_at TIMESTAMP, revoked_by VARCHAR, last_used_at TIMESTAMP)"""

MAX_DAYS = 366
TOKEN = re.compile(r"kpi_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})")
clock = datetime.now  # replaced by tests


class TokenError(ValueError):
    """Vietnamese message: why the token cannot be issued or revoked."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _check_admin(con, by: accounts.User | None, username: str) -> None:
    if by is None:
        return  # the OS account (CLI)
    if by.role != "admin":
        raise accounts.AccessDenied("Chỉ quản trị viên được cấp hoặc thu hồi mã truy cập API.")
    if username not in {r["username"] for r in accounts.users_in_scope(con, by).to_dicts()}:
        raise accounts.AccessDenied(f"Tài khoản «{username}» không thuộc phạm vi quản trị của «{by.username}».")


def issue(con, by: accounts.User | None, username: str, name: str, days: int = 90) -> str:
    """A new token for `username`, returned once (only its digest is stored)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise TokenError("Hãy đặt tên cho mã truy cập (tối đa 100 ký tự), ví dụ «Hệ thống IOC».")
    if not 1 <= int(days) <= MAX_DAYS:
        raise TokenError(f"Thời hạn của mã truy cập phải từ 1 đến {MAX_DAYS} ngày.")
    if not con.execute("SELECT 1 FROM users WHERE username = ? AND active", [username]).fetchall():
        raise TokenError(f"Không có tài khoản đang hoạt động «{username}».")
    _check_admin(con, by, username)
    token_id = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") for _ in range(12))
    secret = secrets.token_urlsafe(32)
    now = clock()
    con.execute("INSERT INTO api_tokens VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)",
                [token_id, username, name, _digest(secret), now, by.username if by else None,
                 now + timedelta(days=int(days))])
    accounts.log(con, by.username if by else None, "issue_token", f"{token_id} cho {username}: {name}")
    return f"kpi_{token_id}_{secret}"


def revoke(con, by: accounts.User | None, token_id: str) -> None:
    rows = con.execute("SELECT username FROM api_tokens WHERE token_id = ? AND revoked_at IS NULL",
                       [token_id]).fetchall()
    if not rows:
        raise TokenError(f"Không có mã truy cập đang hiệu lực «{token_id}».")
    _check_admin(con, by, rows[0][0])
    con.execute("UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE token_id = ?",
                [clock(), by.username if by else None, token_id])
    accounts.log(con, by.username if by else None, "revoke_token", f"{token_id} của {rows[0][0]}")


def user_for(con, token: str | None, use: str) -> accounts.User | None:
    """The account a presented token acts as, or None (malformed, unknown, wrong secret,
    revoked, expired, or the account disabled). A valid use is audited as `use`."""
    match = TOKEN.fullmatch(token or "")
    if not match:
        return None
    token_id, secret = match.groups()
    now = clock()
    rows = con.execute(
        """SELECT t.secret_sha256, u.username, u.full_name, u.role, u.unit_code, u.grants FROM api_tokens t
           JOIN users u USING (username)
           WHERE t.token_id = ? AND t.revoked_at IS NULL AND t.expires_at > ? AND u.active""",
        [token_id, now]).fetchall()
    if not rows or not hmac.compare_digest(rows[0][0], _digest(secret)):
        return None
    _, username, full_name, role, unit_code, grants = rows[0]
    con.execute("UPDATE api_tokens SET last_used_at = ? WHERE token_id = ?", [now, token_id])
    accounts.log(con, username, "api", f"{token_id} {use}")
    return accounts.User(username, full_name or "", role, unit_code, tuple(grants or ()))


def tokens_in_scope(con, viewer: accounts.User | None) -> list[dict]:
    """The tokens of the accounts `viewer` administers (never the secret or its digest)."""
    rows = con.execute(
        """SELECT token_id, username, name, created_at, created_by, expires_at, revoked_at, last_used_at
           FROM api_tokens ORDER BY created_at DESC""").fetchall()
    keys = ("token_id", "username", "name", "created_at", "created_by", "expires_at", "revoked_at", "last_used_at")
    tokens = [dict(zip(keys, r, strict=True)) for r in rows]
    if viewer is None:
        return tokens
    mine = {r["username"] for r in accounts.users_in_scope(con, viewer).to_dicts()}
    return [t for t in tokens if t["username"] in mine]
