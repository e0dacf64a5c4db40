"""Bảng điều khiển KPI chuyển đổi số: the Streamlit entry point.

`make run` (or `streamlit run app.py`) on the store at $KPI_DB or data/kpi.duckdb.
"""

from __future__ import annotations

# Imported whole before any page runs: plotly's JSON encoder and Streamlit look pandas up in
# sys.modules, so two sessions starting at once after a restart saw it half-initialised
# ("partially initialized module 'pandas' has no attribute 'NaT'") while a third imported it.
import pandas  # noqa: F401
import streamlit as st

from ui import auth, present, reminders

# "auto": the sidebar starts open on a wide screen and closed on a phone, where it would cover
# the page a leader opens from a shared link.
st.set_page_config(page_title="KPI Chuyển đổi số", page_icon="📊", layout="wide",
                   initial_sidebar_state="auto")

PAGES = [
    st.Page("pages/overview.py", title="Tổng quan", icon=":material/dashboard:", default=True, url_path="tong-quan"),
    st.Page("pages/map.py", title="Bản đồ", icon=":material/map:", url_path="ban-do"),
    st.Page("pages/drilldown.py", title="Phân tích chi tiết", icon=":material/query_stats:", url_path="chi-tiet"),
    st.Page("pages/tasks.py", title="Nhiệm vụ và thời hạn", icon=":material/event:", url_path="nhiem-vu"),
    st.Page("pages/reports.py", title="Báo cáo", icon=":material/description:", url_path="bao-cao"),
    st.Page("pages/upload.py", title="Tải dữ liệu lên", icon=":material/upload_file:", url_path="tai-len"),
]
ADMIN_PAGE = st.Page("pages/admin.py", title="Quản trị", icon=":material/admin_panel_settings:", url_path="quan-tri")
CONNECTIONS_PAGE = st.Page("pages/connections.py", title="Kết nối và tự động", icon=":material/hub:",
                           url_path="ket-noi")

user = auth.current()
if user is None:
    # Register the pages (hidden) so a shared deep link survives the login, then ask for it.
    st.navigation([*PAGES, ADMIN_PAGE, CONNECTIONS_PAGE], position="hidden")
    auth.login_screen()
    st.stop()
pages = [p for p in PAGES if user.role in ("officer", "admin") or p.title != "Tải dữ liệu lên"]
if user.role == "admin":
    pages += [ADMIN_PAGE, CONNECTIONS_PAGE]
    pages.append(st.Page("pages/mail.py", title="Thư và nhắc hạn", icon=":material/mail:", url_path="thu-nhac-han"))
auth.sidebar_account(user)
reminders.show(user)
current = st.navigation(pages, position="sidebar")
# Presentation (kiosk) mode, from the URL, on every page: toggle, style, auto-refresh, rotation.
present.controls()
present.keep_fresh(pages, current)
try:
    current.run()
except Exception:
    # The visitor gets a Vietnamese notice; Streamlit then logs the details and, with
    # client.showErrorDetails = "none" (.streamlit/config.toml), shows no traceback or message.
    st.error("Đã xảy ra lỗi khi hiển thị trang này. Chi tiết đã được ghi vào nhật ký máy chủ; "
             "vui lòng thử lại hoặc báo quản trị viên.", icon=":material/error:")
    raise
