"""Quản trị: accounts and their units, plan targets, the audit log (admins only)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from kpi import format as fmt
from kpi.definitions import KPIS
from loaders import accounts, limits, store
from loaders.store import query_pl
from ui import auth, data, widgets
from ui.text import md

widgets.page_style()
user = auth.current()
if user is None or user.role != "admin":
    st.error("Chỉ quản trị viên được vào trang này.")
    st.stop()
st.title("Quản trị")
cur = data.cursor()

st.subheader("Tài khoản")
users = query_pl(cur, "SELECT username, full_name, role, unit_code, grants, active, created_at FROM users ORDER BY 1")
st.dataframe(users.with_columns(pl.col("role").replace_strict(accounts.ROLES, default=pl.col("role")),
                                pl.col("grants").list.join(", ")),
             hide_index=True, width="stretch")
with st.form("new_user", border=True):
    st.markdown("**Tạo tài khoản**")
    c1, c2, c3 = st.columns(3)
    username = c1.text_input("Tên đăng nhập")
    full_name = c2.text_input("Họ và tên")
    role = c3.selectbox("Vai trò", list(accounts.ROLES), format_func=accounts.ROLES.get)
    c4, c5, c6 = st.columns(3)
    unit_code = c4.text_input("Mã đơn vị (tỉnh 2 số hoặc xã 5 số)")
    grants = c5.text_input("Đơn vị được xem thêm (chuyên viên; mã, cách nhau dấu phẩy)")
    password = c6.text_input("Mật khẩu ban đầu", type="password")
    if st.form_submit_button("Tạo", type="primary"):
        try:
            accounts.create_user(cur, username.strip(), password, role, unit_code.strip() or None, full_name,
                                 [g.strip() for g in grants.split(",") if g.strip()], by=user.username)
            st.success(f"Đã tạo tài khoản «{md(username)}».")
            st.rerun()
        except (ValueError, Exception) as exc:  # noqa: BLE001 - shown to the admin
            st.error(f"Không tạo được tài khoản: {md(str(exc))}")

st.subheader("Chỉ tiêu")
targets = query_pl(cur, "SELECT unit_code, kpi, value, op, deadline, from_date, plan_slug, note FROM targets "
                        "ORDER BY unit_code NULLS FIRST, kpi, deadline")
edited = st.data_editor(
    targets, hide_index=True, width="stretch", num_rows="dynamic", key="targets_editor",
    column_config={"kpi": st.column_config.SelectboxColumn("KPI", options=list(KPIS), required=True),
                   "unit_code": st.column_config.TextColumn("Mã đơn vị (trống = mọi đơn vị)"),
                   "value": st.column_config.NumberColumn("Mục tiêu", required=True),
                   "op": st.column_config.SelectboxColumn("So sánh", options=[">=", "<=", "=="], required=True),
                   "deadline": st.column_config.DateColumn("Thời hạn", format="DD/MM/YYYY"),
                   "from_date": st.column_config.DateColumn("Áp dụng từ", format="DD/MM/YYYY")})
if st.button("Lưu chỉ tiêu", type="primary"):
    store.WRITE_LOCK.acquire()
    cur.execute("BEGIN TRANSACTION")
    try:
        cur.execute("DELETE FROM targets")
        cur.register("edited_targets", edited)
        cur.execute("INSERT INTO targets SELECT unit_code, kpi, value, op, deadline, from_date, plan_slug, note "
                    "FROM edited_targets WHERE kpi IS NOT NULL AND value IS NOT NULL")
        cur.unregister("edited_targets")
        accounts.log(cur, user.username, "edit_targets", f"{edited.height} dòng")
        cur.execute("COMMIT")
        st.cache_data.clear()
        st.success("Đã lưu chỉ tiêu.")
    except Exception as exc:  # noqa: BLE001
        cur.execute("ROLLBACK")
        st.error(f"Không lưu được: {exc}")
    finally:
        store.WRITE_LOCK.release()

st.subheader("Giới hạn tệp tải lên")
st.caption("Tệp vượt một giới hạn bị từ chối ngay, trước khi đọc, để một tệp lỗi hoặc cố ý phá hoại không làm "
           "dừng dịch vụ. Thứ tự áp dụng: mặc định < biến môi trường KPI_MAX_… < giá trị lưu ở đây.")
in_force = limits.get_limits(cur).as_dict()
with st.form("upload_limits", border=True):
    chosen = {name: st.number_input(limits.LABELS[name], min_value=1, value=int(value), step=1,
                                    format="%d", key=f"limit_{name}")
              for name, value in in_force.items()}
    if st.form_submit_button("Lưu giới hạn", type="primary"):
        changed = {name: int(value) for name, value in chosen.items() if int(value) != in_force[name]}
        try:
            with store.WRITE_LOCK:
                for name, value in changed.items():
                    limits.set_limit(cur, name, value)
                    accounts.log(cur, user.username, "set_limit", f"{name} = {value}")
            st.success(f"Đã lưu {fmt.number(len(changed))} giới hạn." if changed
                       else "Không có giới hạn nào thay đổi.")
        except ValueError as exc:
            st.error(md(str(exc)))

st.subheader("Nhật ký thao tác")
log = query_pl(cur, "SELECT logged_at, username, action, detail FROM audit_log ORDER BY logged_at DESC LIMIT 500")
st.dataframe(log, hide_index=True, width="stretch")
widgets.excel_button(log, "nhat_ky_thao_tac", "Tải nhật ký (Excel)", key="audit_xlsx")
