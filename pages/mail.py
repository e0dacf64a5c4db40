"""Thư và nhắc hạn (admins only): the SMTP server, each unit's schedule (monthly report day,
reminders N days before), the accounts' e-mail addresses, «Gửi ngay» with a dry-run
preview, and the delivery log. The page lays out; settings, schedules, sending and the log
are reports.mail and reports.delivery. The SMTP settings hold for the whole store: a national
admin edits them, an admin of a province reads them and works within their units."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import streamlit as st

from kpi import format as fmt
from kpi.periods import PeriodError, latest_complete_month
from reports import delivery, mail, reminders
from store import accounts
from ui import auth, data, widgets
from ui.text import md

widgets.page_style()
user = auth.require_admin()
st.title("Thư và nhắc hạn")
cur = data.cursor()
visible = accounts.visible_units(cur, user)
national = visible is None
version = data.version()
today = data.today()
now = datetime.combine(today, datetime.now().time())


def unit_label(code: str | None) -> str:
    return data.unit_name(version, code) if code else "Toàn quốc"


def show_summary(summary: delivery.Summary) -> None:
    (st.success if not summary.errors else st.warning)(md(summary.text))
    for error in summary.errors:
        st.error(md(error), icon=":material/error:")


def planned_table(planned: list[delivery.Planned]) -> pl.DataFrame:
    return pl.DataFrame({"Loại": [delivery.KINDS.get(p.kind, p.kind) for p in planned],
                         "Gửi đến": [p.recipient for p in planned],
                         "Đơn vị": [unit_label(p.unit_code) if p.unit_code else "" for p in planned],
                         "Nội dung": [p.subject for p in planned]},
                        schema={c: pl.String for c in ("Loại", "Gửi đến", "Đơn vị", "Nội dung")})


# --- the SMTP server ---------------------------------------------------------------------------------
st.subheader("Máy chủ thư (SMTP)")
settings = mail.load_settings(cur)
st.caption(f"Mật khẩu: {md(mail.password_source(cur))}. Mật khẩu không bao giờ được hiển thị lại hay ghi vào nhật ký.")
if national:
    with st.form("smtp", border=True):
        c1, c2, c3 = st.columns([3, 1, 2])
        host = c1.text_input("Máy chủ", value=settings.host, placeholder="mail.tinh.gov.vn")
        port = c2.number_input("Cổng", min_value=1, max_value=65535, value=settings.port, step=1)
        security = c3.selectbox("Bảo mật", list(mail.SECURITY), index=list(mail.SECURITY).index(settings.security)
                                if settings.security in mail.SECURITY else 0, format_func=mail.SECURITY.get)
        c4, c5, c6 = st.columns(3)
        username = c4.text_input("Tài khoản đăng nhập", value=settings.username)
        secret = c5.text_input("Mật khẩu (để trống: giữ mật khẩu đã lưu)", type="password")
        sender = c6.text_input("Địa chỉ người gửi", value=settings.sender, placeholder="kpi@tinh.gov.vn")
        if st.form_submit_button("Lưu cấu hình", type="primary"):
            try:
                mail.save_settings(cur, mail.Settings(host, int(port), security, username, sender), secret or None)
                st.success("Đã lưu cấu hình máy chủ thư.")
                st.rerun()
            except ValueError as exc:
                st.error(md(str(exc)))
elif settings.configured:
    st.markdown(f"Máy chủ: **{md(settings.label)}**, người gửi **{md(settings.sender)}**.")
else:
    widgets.empty_state("Chưa cấu hình máy chủ thư.", "Quản trị viên toàn quốc cấu hình máy chủ thư trên trang này.")
with st.form("test_mail", border=False):
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    test_to = c1.text_input("Gửi thư thử đến địa chỉ")
    if c2.form_submit_button("Gửi thư thử"):
        try:
            show_summary(delivery.send_test(cur, test_to, now))
        except ValueError as exc:
            st.error(md(str(exc)))

# --- schedules ---------------------------------------------------------------------------------------
st.subheader("Lịch gửi theo đơn vị")
schedules = delivery.schedules(cur)
if not national:
    schedules = schedules.filter(pl.col("unit_code").is_in(sorted(visible)))
if schedules.is_empty():
    widgets.empty_state("Chưa có đơn vị nào được lập lịch gửi thư.",
                        "Thêm lịch bên dưới: ngày gửi báo cáo tháng (ví dụ ngày 15, trước hạn «trước ngày 20») "
                        "và số ngày nhắc trước mỗi hạn.")
else:
    widgets.table(pl.DataFrame({
        "Đơn vị": [unit_label(c) for c in schedules["unit_code"]],
        "Gửi báo cáo tháng": [f"Từ ngày {d} hằng tháng" if d else "Không gửi" for d in schedules["report_day"]],
        "Nhắc trước hạn": [f"{fmt.number(n)} ngày" for n in schedules["remind_days"]],
        "Người nhận": [", ".join(accounts.ROLES.get(r, r) for r in roles) for roles in schedules["roles"]],
        "Trạng thái": ["Đang dùng" if a else "Tạm dừng" for a in schedules["active"]],
    }))
with st.form("schedule", border=True):
    st.markdown("**Thêm hoặc sửa lịch của một đơn vị**")
    c1, c2, c3 = st.columns(3)
    sched_unit = c1.text_input("Mã đơn vị (tỉnh 2 số hoặc xã 5 số)")
    report_day = c2.number_input("Ngày gửi báo cáo tháng (0: không gửi)", min_value=0, max_value=28, value=15)
    remind_days = c3.number_input("Nhắc trước hạn (ngày)", min_value=0, max_value=60,
                                  value=delivery.DEFAULT_REMIND_DAYS)
    roles = st.multiselect("Vai trò nhận thư", list(accounts.ROLES), default=list(delivery.DEFAULT_ROLES),
                           format_func=accounts.ROLES.get)
    active = st.checkbox("Đang dùng", value=True)
    c4, c5 = st.columns(2)
    save = c4.form_submit_button("Lưu lịch", type="primary")
    remove = c5.form_submit_button("Xóa lịch của đơn vị này")
    if save or remove:
        code = sched_unit.strip()
        try:
            accounts.check_view(cur, user, code)
            if remove:
                delivery.delete_schedule(cur, code)
            else:
                delivery.save_schedule(cur, code, int(report_day) or None, int(remind_days), roles, active)
            st.success(f"Đã {'xóa' if remove else 'lưu'} lịch của {md(unit_label(code))}.")
            st.rerun()
        except (ValueError, accounts.AccessDenied) as exc:
            st.error(md(str(exc)))

if national:
    with st.form("upload_day", border=False):
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        day = c1.number_input("Xã/phường chưa tải dữ liệu tháng trước đến ngày này được nhắc (cán bộ một cửa và "
                              "lãnh đạo tỉnh)", min_value=1, max_value=28, value=reminders.upload_day(cur))
        if c2.form_submit_button("Lưu ngày"):
            try:
                reminders.set_upload_day(cur, int(day))
                st.success(f"Đã lưu: nhắc từ ngày {int(day)} hằng tháng.")
            except ValueError as exc:
                st.error(md(str(exc)))

# --- addresses ---------------------------------------------------------------------------------------
st.subheader("Địa chỉ thư của tài khoản")
people = delivery.addresses(cur, user)
st.caption("Chỉ tài khoản đang dùng, có địa chỉ thư, nhận thư; mỗi người chỉ nhận số liệu trong phạm vi được xem.")
if people.is_empty():
    widgets.empty_state("Chưa có tài khoản nào trong phạm vi này.")
else:
    widgets.table(people.select(
        pl.col("username").alias("Tên đăng nhập"), pl.col("full_name").fill_null("").alias("Họ và tên"),
        pl.col("role").replace_strict(accounts.ROLES, default=pl.col("role")).alias("Vai trò"),
        pl.col("unit_code").map_elements(unit_label, return_dtype=pl.String).fill_null("Toàn quốc").alias("Đơn vị"),
        pl.col("email").fill_null("Chưa có").alias("Địa chỉ thư"),
    ))
    with st.form("email", border=False):
        c1, c2, c3 = st.columns([2, 3, 1], vertical_alignment="bottom")
        who = c1.selectbox("Tài khoản", people["username"].to_list())
        address = c2.text_input("Địa chỉ thư (để trống: xóa)")
        if c3.form_submit_button("Lưu địa chỉ"):
            try:
                delivery.set_email(cur, who, address)
                st.success(f"Đã lưu địa chỉ thư của «{md(who)}».")
                st.rerun()
            except ValueError as exc:
                st.error(md(str(exc)))

# --- send now / dry run ------------------------------------------------------------------------------
st.subheader("Gửi ngay")
with st.form("send_now", border=True):
    c1, c2, c3 = st.columns(3)
    send_unit = c1.text_input("Mã đơn vị", value=user.unit_code or "")
    send_period = c2.text_input("Kỳ báo cáo (2025-11, 2025-Q4, 2025)", value=latest_complete_month(today).label)
    send_to = c3.text_input("Chỉ gửi đến địa chỉ (để trống: người nhận của đơn vị)")
    c4, c5 = st.columns(2)
    dry = c4.form_submit_button("Xem trước (không gửi)")
    go = c5.form_submit_button("Gửi ngay", type="primary")
    if dry or go:
        try:
            accounts.check_view(cur, user, send_unit.strip())
            planned, summary = delivery.send_now(cur, send_unit.strip(), send_period.strip(), now,
                                                 to=send_to.strip() or None, dry_run=dry)
            if not planned:
                st.warning("Không có người nhận: chưa tài khoản nào của đơn vị có địa chỉ thư.")
            else:
                if dry:
                    st.info(f"Chạy thử: sẽ gửi {fmt.number(len(planned))} thư (báo cáo Excel và PDF đính kèm).")
                else:
                    show_summary(summary)
                widgets.table(planned_table(planned), widths={"Nội dung": "large"})
        except (ValueError, PeriodError, accounts.AccessDenied) as exc:
            st.error(md(str(exc)))

c1, c2 = st.columns(2)
if c1.button("Xem trước các thư đến hạn (không gửi)", key="preview_due"):
    due = delivery.preview(cur, now)
    due = [p for p in due if national or p.unit_code in visible]
    if due:
        widgets.table(planned_table(due), widths={"Nội dung": "large"})
    else:
        st.info("Hiện không có thư nào đến hạn gửi.")
if national and c2.button("Gửi các thư đến hạn ngay", key="run_due"):
    show_summary(delivery.run_due(cur, now))

# --- the log -----------------------------------------------------------------------------------------
st.subheader("Nhật ký gửi thư")
log = delivery.outbox(cur, visible)
if log.is_empty():
    widgets.empty_state("Chưa có thư nào được tạo.")
else:
    waiting = log.filter((pl.col("status") != "sent") & pl.col("last_error").is_not_null())
    if not waiting.is_empty():
        st.error(f"{fmt.number(waiting.height)} thư chưa gửi được. Lỗi gần nhất: {md(waiting['last_error'][0])}",
                 icon=":material/error:")
    widgets.table(delivery.log_table(log), widths={"Nội dung": "large", "Kết quả": "large"})
    if national and log.filter(pl.col("status") == "failed").height and st.button(
            "Gửi lại các thư thất bại", key="retry_failed"):
        st.success(f"Đã đưa {fmt.number(delivery.retry_failed(cur, now))} thư vào hàng chờ gửi lại.")
        st.rerun()
