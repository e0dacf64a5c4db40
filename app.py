"""Bảng điều khiển KPI chuyển đổi số: the Streamlit entry point.

`make run` (or `streamlit run app.py`) on the store at $KPI_DB or data/kpi.duckdb.
"""

from __future__ import annotations

# Imported whole before any page runs: plotly's JSON encoder and Streamlit look pandas up in
# sys.modules, so two sessions starting at once after a restart saw it half-initialised
# ("partially initialized module 'pandas' has no attribute 'NaT'") while a third imported it.
import pandas  # noqa: F401
import streamlit as st

from service import addresses
from store import accounts
from ui import auth, present, reminders

# "auto": the sidebar starts open on a wide screen and closed on a phone, where it would cover
# the page a leader opens from a shared link.
st.set_page_config(page_title="KPI Chuyển đổi số", page_icon="📊", layout="wide",
                   initial_sidebar_state="auto")


def pages_for(user) -> list:
    """Every page, each registered for everyone so that its address is always known (a viewer
    opening an admin's link gets the page's Vietnamese refusal, not Streamlit's English "Page
    not found"); the pages a role may not use are hidden from its menu and refuse by
    themselves (ui/auth.require_admin, the upload page's role check)."""
    admin = user is not None and user.role == "admin"
    writer = user is not None and user.role in accounts.WRITER_ROLES

    def page(script, title, icon, url_path, shown=True, **kwargs):
        return st.Page(script, title=title, icon=icon, url_path=url_path,
                       visibility="visible" if shown else "hidden", **kwargs)

    return [
        page("pages/overview.py", "Tổng quan", ":material/dashboard:", addresses.OVERVIEW, default=True),
        page("pages/map.py", "Bản đồ", ":material/map:", addresses.MAP),
        page("pages/drilldown.py", "Phân tích chi tiết", ":material/query_stats:", addresses.DRILLDOWN),
        page("pages/tasks.py", "Nhiệm vụ và thời hạn", ":material/event:", addresses.TASKS),
        page("pages/reports.py", "Báo cáo", ":material/description:", addresses.REPORTS),
        page("pages/upload.py", "Tải dữ liệu lên", ":material/upload_file:", addresses.UPLOAD, writer),
        page("pages/admin.py", "Quản trị", ":material/admin_panel_settings:", addresses.ADMIN, admin),
        page("pages/connections.py", "Kết nối và tự động", ":material/hub:", addresses.CONNECTIONS, admin),
        page("pages/mail.py", "Thư và nhắc hạn", ":material/mail:", addresses.MAIL, admin),
    ]


user = auth.current()
if user is None:
    # Register the pages (hidden) so a shared deep link survives the login, then ask for it.
    st.navigation(pages_for(None), position="hidden")
    auth.login_screen()
    st.stop()
pages = pages_for(user)
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
