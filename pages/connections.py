"""Kết nối và tự động (admins): personal API tokens, scheduled SQL pulls, the inbox folder and
the record of every automatic run. The page lays out; tokens are store/api_tokens.py,
schedules and runs store/jobs.py, the scheduler service/scheduler.py."""

from __future__ import annotations

import polars as pl
import streamlit as st

from kpi import format as fmt
from service import scheduler as schedules
from service import server
from store import accounts, api_tokens, jobs
from ui import auth, data, widgets
from ui.text import md

widgets.page_style()
user = auth.require_admin()
st.title("Kết nối và tự động")
cur = data.cursor()
runtime = server.RUNTIME
if runtime is None:
    st.info("Ứng dụng đang chạy không qua máy chủ của hệ thống (python -m service): API, lịch kéo dữ liệu và "
            "hộp thư nhận tệp không hoạt động.")


def when(value) -> str:
    return fmt.day_time(value) if value is not None else "—"


# ---------------------------------------------------------------- API tokens
st.subheader("Mã truy cập API")
st.caption("Hệ thống khác (IOC của tỉnh, phần mềm một cửa) gọi API tại «/api/v1/…» bằng mã truy cập của một "
           "tài khoản; mã chỉ có quyền của tài khoản đó. Tài liệu API: /api/docs.")
tokens = api_tokens.tokens_in_scope(cur, user)
if tokens:
    frame = pl.DataFrame([{
        "Mã": t["token_id"], "Tài khoản": t["username"], "Tên": t["name"], "Cấp lúc": when(t["created_at"]),
        "Hết hạn": when(t["expires_at"]), "Dùng lần cuối": when(t["last_used_at"]),
        "Trạng thái": "Đã thu hồi" if t["revoked_at"] else "Hiệu lực",
    } for t in tokens])
    st.dataframe(frame, hide_index=True, width="stretch")
else:
    widgets.empty_state("Chưa cấp mã truy cập API nào.")
if issued := st.session_state.pop("issued_token", None):
    st.success("Đã cấp mã truy cập. Hãy sao chép ngay: mã chỉ hiển thị một lần này.")
    st.code(issued, language=None)
names = accounts.users_in_scope(cur, user)["username"].to_list()
with st.form("issue_token"):
    col1, col2, col3 = st.columns([2, 3, 1])
    owner = col1.selectbox("Tài khoản", names, index=None, placeholder="Chọn tài khoản")
    label = col2.text_input("Tên mã (hệ thống sẽ dùng)", placeholder="Ví dụ: Hệ thống IOC của tỉnh")
    days = col3.number_input("Số ngày hiệu lực", min_value=1, max_value=api_tokens.MAX_DAYS, value=90)
    if st.form_submit_button("Cấp mã truy cập"):
        try:
            if owner is None:
                raise api_tokens.TokenError("Hãy chọn tài khoản.")
            st.session_state["issued_token"] = api_tokens.issue(cur, user, owner, label, int(days))
            st.rerun()
        except (api_tokens.TokenError, accounts.AccessDenied) as exc:
            st.error(md(str(exc)))
active = [t for t in tokens if not t["revoked_at"]]
if active:
    col1, col2 = st.columns([3, 1])
    chosen = col1.selectbox("Thu hồi mã", [t["token_id"] for t in active], index=None, placeholder="Chọn mã",
                            format_func=lambda i: next(f"{t['token_id']} · {t['username']} · {t['name']}"
                                                       for t in active if t["token_id"] == i))
    if col2.button("Thu hồi", disabled=chosen is None):
        api_tokens.revoke(cur, user, chosen)
        st.success(f"Đã thu hồi mã {md(chosen)}.")

# ---------------------------------------------------------------- scheduled pulls
st.divider()
st.subheader("Lịch kéo dữ liệu từ CSDL một cửa")
folder = runtime.sources_dir if runtime else None
st.caption("Mỗi nguồn là một tệp cấu hình (.toml hoặc .json) trong thư mục nguồn của máy chủ"
           f"{f' («{md(str(folder))}»)' if folder else ''}. Lịch theo cú pháp cron 5 trường: phút giờ ngày tháng thứ, "
           "ví dụ «30 1 * * *» là 1 giờ 30 mỗi ngày. Nguồn lỗi được thử lại sau 1, 2, 4 phút và không chặn nguồn khác.")
current = jobs.schedules(cur)
if current:
    st.dataframe(pl.DataFrame([{
        "Nguồn": s["name"], "Tệp cấu hình": s["config_file"], "Lịch": s["cron"],
        "Trạng thái": "Bật" if s["enabled"] else "Tắt", "Sửa lúc": when(s["updated_at"]),
    } for s in current]), hide_index=True, width="stretch")
files = schedules.config_files(folder)
if files:
    with st.form("schedule"):
        col1, col2, col3 = st.columns([3, 2, 1])
        config_file = col1.selectbox("Tệp cấu hình", files)
        cron = col2.text_input("Lịch (cron)", value="30 1 * * *")
        enabled = col3.checkbox("Bật", value=True)
        if st.form_submit_button("Lưu lịch"):
            try:
                name = schedules.save(cur, user, folder, config_file, cron, enabled)
                if runtime and runtime.scheduler:
                    runtime.scheduler.reload()
                st.success(f"Đã lưu lịch kéo nguồn «{md(name)}».")
            except (schedules.ScheduleError, accounts.AccessDenied) as exc:
                st.error(md(str(exc)))
elif runtime:
    widgets.empty_state("Thư mục nguồn của máy chủ chưa có tệp cấu hình nào.",
                        "Đặt tệp cấu hình (xem sample_data/sql_source.example.toml) vào thư mục nguồn rồi tải lại trang.")
if current and runtime and runtime.scheduler:
    col1, col2 = st.columns([3, 1])
    now_name = col1.selectbox("Kéo ngay một nguồn", [s["name"] for s in current], index=None, placeholder="Chọn nguồn")
    if col2.button("Kéo ngay", disabled=now_name is None):
        runtime.scheduler.run_now(now_name)
        st.success(f"Đã đưa nguồn «{md(now_name)}» vào hàng đợi; kết quả hiện ở bảng dưới.")

# ---------------------------------------------------------------- inbox
st.divider()
st.subheader("Hộp thư nhận tệp")
if runtime and runtime.inbox_dir:
    st.caption(f"Tệp đặt vào «{md(str(runtime.inbox_dir))}/<mã đơn vị>/» được nạp như lần tải lên của đơn vị đó, "
               "rồi chuyển sang «processed/» hoặc «rejected/» kèm tệp kết quả «….ket-qua.txt».")
else:
    st.caption("Hộp thư nhận tệp đang tắt.")

# ---------------------------------------------------------------- runs
st.divider()
st.subheader("Các lần chạy tự động")
runs = jobs.runs(cur, 200)
if runs:
    kinds = {"pull": "Kéo CSDL", "inbox": "Hộp thư"}
    frame = pl.DataFrame([{
        "Loại": kinds.get(r["kind"], r["kind"]), "Nguồn / tệp": r["name"], "Lần thử": r["attempt"],
        "Bắt đầu": when(r["started_at"]), "Kết thúc": when(r["finished_at"]),
        "Kết quả": jobs.STATUS_LABELS.get(r["status"], r["status"]),
        "Dòng đọc": fmt.number(r["rows_read"]) if r["rows_read"] is not None else "",
        "Dòng nạp": fmt.number(r["loaded"]) if r["loaded"] is not None else "",
        "Từ chối": fmt.number(r["rejected"]) if r["rejected"] is not None else "",
        "Lần tải": f"#{r['batch_id']}" if r["batch_id"] else "",
        "Lỗi": r["error"] or "", "Thử lại lúc": when(r["next_try_at"]) if r["next_try_at"] else "",
    } for r in runs])
    st.dataframe(frame, hide_index=True, width="stretch")
    widgets.excel_button(frame, "cac_lan_chay_tu_dong", "Tải Excel", key="runs_xlsx")
else:
    widgets.empty_state("Chưa có lần chạy tự động nào.")
