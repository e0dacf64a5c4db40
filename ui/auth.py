"""Login gate for the pages: local accounts by default (store/accounts.py).

A fresh store without accounts asks for the first admin account. Organisations with an
OIDC provider can use Streamlit's own login instead: see README "Đăng nhập qua OIDC".
"""

from __future__ import annotations

import streamlit as st

from store import accounts
from ui import data
from ui.text import md

TOKEN = "kpi_token"


def current() -> accounts.User | None:
    return accounts.session_user(data.cursor(), st.session_state.get(TOKEN))


def login_screen() -> None:
    """The login form (or the first-admin form on a store without accounts)."""
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
                st.session_state[TOKEN] = token
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
                st.session_state[TOKEN] = accounts.authenticate(cur, username.strip(), password,
                                                                client=client_address())
            except accounts.LoginThrottled as exc:
                st.error(str(exc))
                return
            st.rerun()


def sidebar_account(user: accounts.User) -> None:
    with st.sidebar:
        st.caption(f"Đăng nhập: **{md(user.label)}**")
        if st.button("Đăng xuất", key="logout"):
            accounts.logout(data.cursor(), st.session_state.pop(TOKEN, ""))
            st.rerun()
