"""A login that survives a reload: the store's session token in a signed, HttpOnly,
SameSite=Strict cookie set by the server.

Streamlit pages cannot set an HttpOnly cookie, so the login form (ui/auth.py) hands the new
session over: it mints a one-time ticket here (in this process's memory, 60 s, single use)
and the browser posts it to `/auth/session`, whose answer sets the cookie. On every later
connection (F5, a kiosk screen's restart) the browser sends the cookie with the page's
websocket and `session_token` reads it back. The session itself stays in the store: it
expires after accounts.SESSION_HOURS and logging out deletes it, so a copied cookie is
worth nothing afterwards. `/auth/logout` clears the cookie and ends its session.
"""

from __future__ import annotations

import secrets
import threading
import time

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from store import accounts
from store import db as store

COOKIE = "kpi_session"
TICKET_SECONDS = 60
_tickets: dict[str, tuple[str, float]] = {}
_lock = threading.Lock()
_state: dict[str, object] = {}


def enable(db, secret: str, secure: bool = False) -> None:
    """Called by the server at start: tickets are minted only when /auth/session exists."""
    _state.update(db=db, signer=URLSafeSerializer(secret, salt="kpi-session"), secure=secure)


def enabled() -> bool:
    return "signer" in _state


def secret_for(con) -> str:
    """The cookie-signing secret: kept in the store's meta so cookies survive a restart."""
    rows = con.execute("SELECT value FROM meta WHERE key = 'cookie_secret'").fetchall()
    if rows:
        return rows[0][0]
    secret = secrets.token_urlsafe(48)
    store.set_meta(con, "cookie_secret", secret)
    return secret


def mint_ticket(token: str) -> str | None:
    if not enabled():
        return None
    ticket = secrets.token_urlsafe(32)
    now = time.monotonic()
    with _lock:
        for key in [k for k, (_, until) in _tickets.items() if until < now]:
            del _tickets[key]
        _tickets[ticket] = (token, now + TICKET_SECONDS)
    return ticket


def session_token(cookie: str | None) -> str | None:
    """The session token a cookie carries, if its signature is ours (None otherwise)."""
    if not cookie or not enabled():
        return None
    try:
        value = _state["signer"].loads(cookie)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    return origin is None or origin.split("://", 1)[-1] == request.headers.get("host")


async def _session(request: Request) -> Response:
    if not _same_origin(request):
        return JSONResponse({"detail": "Yêu cầu không hợp lệ."}, status_code=403)
    try:
        ticket = str((await request.json()).get("ticket", ""))
    except (ValueError, AttributeError):
        ticket = ""
    with _lock:
        token, until = _tickets.pop(ticket, (None, 0.0))
    if token is None or until < time.monotonic():
        return JSONResponse({"detail": "Phiếu đăng nhập không hợp lệ hoặc đã hết hạn."}, status_code=403)
    response = Response(status_code=204)
    response.set_cookie(COOKIE, _state["signer"].dumps(token), max_age=int(accounts.session_hours() * 3600),
                        path="/", httponly=True, samesite="strict", secure=bool(_state.get("secure")))
    return response


async def _logout(request: Request) -> Response:
    if not _same_origin(request):
        return JSONResponse({"detail": "Yêu cầu không hợp lệ."}, status_code=403)
    token = session_token(request.cookies.get(COOKIE))
    if token:
        accounts.logout(store.shared(_state["db"]).cursor(), token)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


ROUTES = [Route("/auth/session", _session, methods=["POST"]), Route("/auth/logout", _logout, methods=["POST"])]
