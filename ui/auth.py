"""Login gate for the pages: local accounts by default (store/accounts.py).

A fresh store without accounts asks for the first admin account. Under the server
(service/server.py) a login also sets a signed HttpOnly cookie (service/web_session.py), so a
reload or a kiosk screen keeps the user until the session expires or they log out.
Organisations with an OIDC provider set KPI_AUTH=oidc and Streamlit's `[auth]` settings:
see README "Đăng nhập qua OIDC".
"""

from __future__ import annotations

import json
import os

import streamlit as st

from service import web_session
from store import accounts
from ui import data
from ui.text import md

TOKEN = "kpi_token"
TICKET = "kpi_cookie_ticket"


def oidc() -> bool:
    return os.environ.get("KPI_AUTH", "local").strip().lower() == "oidc"


def current() -> accounts.User | None:
    if oidc():
        return _oidc_user()
    token = st.session_state.get(TOKEN)
    if token is None and not st.session_state.get("logged_out"):
        token = web_session.session_token(_cookie())  # a reload: the login is in the cookie
        if token:
            st.session_state[TOKEN] = token
    return accounts.session_user(data.cursor(), token)


def require_admin() -> accounts.User:
    """The logged-in admin; anyone else sees a Vietnamese refusal and the page stops (the
    admin pages: Quản trị, Kết nối và tự động, Thư và nhắc hạn)."""
    user = current()
    if user is None or user.role != "admin":
        st.error("Chỉ quản trị viên được vào trang này.")
        st.stop()
    return user


def _cookie() -> str | None:
    try:
        return st.context.cookies.get(web_session.COOKIE)
    except Exception:  # noqa: BLE001 - no browser context (AppTest, bare mode)
        return None


def _signed_in(token: str) -> None:
    """After a successful login: keep the token for this session and, under the server, have
    the browser turn it into the HttpOnly cookie (sidebar_account posts the ticket)."""
    st.session_state[TOKEN] = token
    st.session_state.pop("logged_out", None)
    ticket = web_session.mint_ticket(token)
    if ticket:
        st.session_state[TICKET] = ticket


def _post(path: str, body: dict | None = None) -> None:
    """A same-origin POST from the browser (the answer's Set-Cookie is what matters)."""
    payload = json.dumps(body or {})
    st.html(f"<script>fetch({json.dumps(path)}, {{method: 'POST', credentials: 'same-origin', "
            f"headers: {{'Content-Type': 'application/json'}}, body: {json.dumps(payload)}}});</script>",
            unsafe_allow_javascript=True, width="content")


def _pending_posts() -> None:
    if ticket := st.session_state.pop(TICKET, None):
        _post("/auth/session", {"ticket": ticket})
    if st.session_state.pop("clear_cookie", False):
        _post("/auth/logout")


def _oidc_user() -> accounts.User | None:
    """The organisation's login (Streamlit's st.login with `[auth]` in secrets.toml): the
    account is the `users` row with the e-mail address the provider vouches for (role and
    units stay in the store); an unknown address gets no access."""
    if not st.user.is_logged_in:
        return None
    return accounts.account_by_email(data.cursor(), str(st.user.get("email") or ""))


def login_screen() -> None:
    """The login form (or the first-admin form on a store without accounts)."""
    if oidc():
        st.title("KPI chuyển đổi số")
        if st.user.is_logged_in:
            st.error("Địa chỉ thư điện tử của bạn chưa được cấp tài khoản trên hệ thống; hãy liên hệ quản trị viên.")
            st.button("Đăng xuất", on_click=st.logout)
        else:
            st.button("Đăng nhập bằng tài khoản của cơ quan", type="primary", on_click=st.login)
        return
    _pending_posts()
    cur = data.cursor()
    first_run = not accounts.has_accounts(cur)
    st.title("KPI chuyển đổi số")
    if first_run:
        _first_admin(cur)
    else:
        _login_form(cur)


def _login_form(cur) -> None:
    st.subheader("Đăng nhập")
    if st.session_state.pop("session_expired", False):
        st.warning("Phiên làm việc đã hết hạn, vui lòng đăng nhập lại.")
    with st.form("login", border=True):
        username = st.text_input("Tên đăng nhập")
        password = st.text_input("Mật khẩu", type="password")
        if st.form_submit_button("Đăng nhập", type="primary"):
            try:
                token = accounts.authenticate(cur, username.strip(), password, client=client_address())
            except accounts.LoginThrottled as exc:  # says when to retry
                st.error(str(exc))
                return
            if token:
                _signed_in(token)
                st.rerun()
            st.error("Tên đăng nhập hoặc mật khẩu không đúng.")


def client_address() -> str | None:
    """The visitor's IP address for the per-client login throttle (None on localhost, where
    only the per-account throttle applies)."""
    try:
        address = st.context.ip_address
    except Exception:  # noqa: BLE001 - no client context (bare mode)
        return None
    return address if isinstance(address, str) and address else None


def _first_admin(cur) -> None:
    st.subheader("Tạo tài khoản quản trị đầu tiên")
    st.caption("Kho dữ liệu chưa có tài khoản nào. Tài khoản này quản lý các tài khoản khác và chỉ tiêu.")
    with st.form("first_admin", border=True):
        username = st.text_input("Tên đăng nhập", value="admin")
        full_name = st.text_input("Họ và tên")
        password = st.text_input("Mật khẩu (ít nhất 8 ký tự, không tính khoảng trắng)", type="password")
        if st.form_submit_button("Tạo tài khoản", type="primary"):
            try:
                accounts.create_user(cur, username.strip(), password, "admin", None, full_name)
            except ValueError as exc:
                st.error(str(exc))
                return
            try:
                _signed_in(accounts.authenticate(cur, username.strip(), password, client=client_address()))
            except accounts.LoginThrottled as exc:
                st.error(str(exc))
                return
            st.rerun()


def sidebar_account(user: accounts.User) -> None:
    with st.sidebar:
        st.caption(f"Đăng nhập: **{md(user.label)}**")
        _pending_posts()
        if oidc():
            st.button("Đăng xuất", key="logout", on_click=st.logout)
        elif st.button("Đăng xuất", key="logout"):
            accounts.logout(data.cursor(), st.session_state.pop(TOKEN, ""))
            st.session_state["logged_out"] = True  # the cookie's session is gone; do not read it again
            st.session_state["clear_cookie"] = True
            st.rerun()
