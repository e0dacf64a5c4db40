"""Quản trị: accounts and their units, plan targets, upload caps, the audit log (admins only).

A national admin (no unit) manages everything; an admin of a province or commune sees and
edits only the accounts, targets and audit entries of their own units (the one scope rule,
`accounts.visible_units`), and the upload caps, which hold for the whole store, only read.
The page lays out; the data and the writes are `accounts.users_in_scope/audit_in_scope`,
`kpi.targets.editable_targets/save_targets` and `limits`."""

from __future__ import annotations

import polars as pl
import streamlit as st

from kpi import format as fmt
from kpi import targets as kpi_targets
from kpi.definitions import KPIS
from loaders import limits
from loaders.audit_text import audit_detail
from store import accounts
from store import db as store
from ui import auth, data, widgets
from ui.text import md

widgets.page_style()
user = auth.require_admin()
st.title("Quản trị")
cur = data.cursor()
visible = accounts.visible_units(cur, user)
national = visible is None
version = data.version()


def unit_label(code: str | None) -> str:
    return data.unit_name(version, code) if code else "Toàn quốc"


def account_unit(code: str | None, role: str) -> str:
    return unit_label(code) if code or role == "admin" else "Không gắn đơn vị"


st.subheader("Tài khoản")
if not national:
    st.caption(f"Các tài khoản thuộc phạm vi quản lý: {md(unit_label(user.unit_code))}.")
users = accounts.users_in_scope(cur, user)
if users.is_empty():
    widgets.empty_state("Chưa có tài khoản nào trong phạm vi này.")
else:
    widgets.table(users.select(
        pl.col("username").alias("Tên đăng nhập"),
        pl.col("full_name").alias("Họ và tên"),
        pl.col("role").replace_strict(accounts.ROLES, default=pl.col("role")).alias("Vai trò"),
        pl.struct("unit_code", "role").map_elements(lambda r: account_unit(r["unit_code"], r["role"]),
                                                    return_dtype=pl.String).alias("Đơn vị"),
        pl.col("grants").list.eval(pl.element().map_elements(unit_label, return_dtype=pl.String))
        .list.join(", ").alias("Đơn vị được xem thêm"),
        pl.when(pl.col("active")).then(pl.lit("Đang dùng")).otherwise(pl.lit("Đã khóa")).alias("Trạng thái"),
        pl.col("created_at").alias("Ngày tạo"),
    ), widths={"Tên đăng nhập": "small", "Vai trò": "small", "Trạng thái": "small", "Ngày tạo": "small"})
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
        except ValueError as exc:  # Vietnamese validation messages
            st.error(f"Không tạo được tài khoản: {md(str(exc))}")

st.subheader("Chỉ tiêu")
kpi_names = {k: d.label for k, d in KPIS.items()}
kpi_ids = {label: k for k, label in kpi_names.items()}
OPS = {">=": "≥ (ít nhất)", "<=": "≤ (nhiều nhất)", "==": "= (đúng bằng)"}
op_codes = {label: code for code, label in OPS.items()}
targets = kpi_targets.editable_targets(cur, visible)


def _target_text(kpi: str, value: float | None) -> str:
    """A target as typed and read back: "80%" for a rate, "1.234" / "12,5" otherwise, with as
    many decimals as it has (saving an untouched row must not round it)."""
    if value is None:
        return ""
    rate = kpi in KPIS and KPIS[kpi].kind == "rate"
    return fmt.exact_text(value, percent=rate)


# Every cell a Vietnamese text: KPI and comparison by name, targets as "80%", dates as
# dd/mm/yyyy, empty cells empty (the editor would print "None").
shown = targets.with_columns(
    pl.col("unit_code").map_elements(lambda c: unit_label(c) if c else "Mọi đơn vị", return_dtype=pl.String,
                                     skip_nulls=False).alias("unit_name"),
    pl.struct("kpi", "value").map_elements(lambda r: _target_text(r["kpi"], r["value"]), return_dtype=pl.String)
    .alias("value"),
    pl.col("kpi").replace_strict(kpi_names, default=pl.col("kpi")),
    pl.col("op").replace_strict(OPS, default=pl.col("op")),
    *[pl.col(c).dt.strftime("%d/%m/%Y").fill_null("") for c in ("deadline", "from_date")],
    *[pl.col(c).fill_null("") for c in ("unit_code", "plan_slug", "note")],
).select("unit_code", "unit_name", *[c for c in kpi_targets.TARGET_COLUMNS if c != "unit_code"])
st.caption("Tỷ lệ ghi dạng phần trăm (80%), số ghi kiểu Việt Nam (1.234 hoặc 12,5); ngày ghi dạng ngày/tháng/năm, "
           "để trống nếu không có.")
edited = st.data_editor(
    shown, hide_index=True, width="stretch", num_rows="dynamic", key="targets_editor", placeholder="",
    # Widths in pixels that fit each header and its usual texts at 1366 px; the KPI's name is
    # pinned, so it stays in view when the later columns are scrolled to.
    column_config={"unit_code": st.column_config.TextColumn(
                       "Mã đơn vị", width=100, help="Để trống: mọi đơn vị" if national else None),
                   "unit_name": st.column_config.TextColumn("Tên đơn vị", disabled=True, width=140),
                   "kpi": st.column_config.SelectboxColumn("Chỉ tiêu", options=list(kpi_ids), required=True,
                                                           width=330, pinned=True),
                   "value": st.column_config.TextColumn("Mục tiêu", required=True, width=85, alignment="right"),
                   "op": st.column_config.SelectboxColumn("So sánh", options=list(op_codes), required=True,
                                                          width=130),
                   "deadline": st.column_config.TextColumn("Thời hạn", width=95),
                   "from_date": st.column_config.TextColumn("Áp dụng từ", width=95),
                   "plan_slug": st.column_config.TextColumn("Kế hoạch", width=90),
                   "note": st.column_config.TextColumn("Ghi chú", width=160)})
if st.button("Lưu chỉ tiêu", type="primary"):
    try:
        rows = edited.drop("unit_name").with_columns(
            pl.col("kpi").replace_strict(kpi_ids, default=pl.col("kpi")),
            pl.col("op").replace_strict(op_codes, default=pl.col("op")))
        rows = rows.with_columns(pl.Series("value", [
            fmt.parse_number(r["value"], percent=r["kpi"] in KPIS and KPIS[r["kpi"]].kind == "rate")
            for r in rows.select("kpi", "value").iter_rows(named=True)], dtype=pl.Float64))
        saved = kpi_targets.save_targets(cur, rows, visible, user.username)
        st.cache_data.clear()
        st.success(f"Đã lưu {fmt.number(saved)} chỉ tiêu.")
    except ValueError as exc:
        st.error(f"Không lưu được: {md(str(exc))}")

st.subheader("Giới hạn tệp tải lên")
st.caption("Tệp vượt một giới hạn bị từ chối ngay, trước khi đọc, để một tệp lỗi hoặc cố ý phá hoại không làm "
           "dừng dịch vụ. Thứ tự áp dụng: mặc định < biến môi trường KPI_MAX_… < giá trị lưu ở đây.")
in_force = limits.get_limits(cur).as_dict()
if not national:
    st.caption("Giới hạn áp dụng cho toàn bộ hệ thống; chỉ quản trị viên toàn quốc được thay đổi.")
    widgets.plain_table(pl.DataFrame({"Giới hạn": [limits.LABELS[n] for n in in_force],
                                      "Giá trị": [fmt.number(v) for v in in_force.values()]}))
else:
    with st.form("upload_limits", border=True):
        # Texts, so that the figures read 6.000.000.000 (a number box groups no digits).
        chosen = {name: st.text_input(limits.LABELS[name], value=fmt.number(value), key=f"limit_{name}")
                  for name, value in in_force.items()}
        if st.form_submit_button("Lưu giới hạn", type="primary"):
            try:
                typed = {name: fmt.parse_number(text) for name, text in chosen.items()}
                wrong = [limits.LABELS[n] for n, v in typed.items() if v is None or v < 1 or v != int(v)]
                if wrong:
                    raise ValueError(f"Giới hạn phải là số nguyên dương: {', '.join(wrong)}.")
                changed = {name: int(value) for name, value in typed.items() if int(value) != in_force[name]}
                with store.WRITE_LOCK:
                    for name, value in changed.items():
                        limits.set_limit(cur, name, value)
                        accounts.log(cur, user.username, "set_limit", f"{name} = {value}")
                st.success(f"Đã lưu {fmt.number(len(changed))} giới hạn." if changed
                           else "Không có giới hạn nào thay đổi.")
            except ValueError as exc:
                st.error(md(str(exc)))

st.subheader("Nhật ký thao tác")
log = accounts.audit_in_scope(cur, user).select(
    pl.col("logged_at").dt.strftime("%d/%m/%Y %H:%M:%S").alias("Thời điểm"),
    pl.col("username").fill_null("Hệ thống").alias("Tài khoản"),
    pl.col("action").replace_strict(accounts.ACTIONS, default=pl.col("action")).alias("Thao tác"),
    pl.struct("action", "detail").map_elements(lambda r: audit_detail(r["action"], r["detail"], unit_label),
                                               return_dtype=pl.String).alias("Chi tiết"))
if log.is_empty():
    widgets.empty_state("Chưa có thao tác nào được ghi lại.")
else:
    widgets.table(log, widths={"Thời điểm": "small", "Tài khoản": "small", "Thao tác": "small",
                               "Chi tiết": "large"})
    widgets.excel_button(log, "nhat_ky_thao_tac", "Tải nhật ký (Excel)", key="audit_xlsx")
