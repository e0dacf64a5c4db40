"""Reminders on opening the dashboard: the deadlines of the user's units due within the window
(7 days unless the user changes it) and those overdue, with what is missing
(reports.reminders.for_user), in the sidebar of every page, open on the session's first page.
A failure here is logged and shows nothing: reminders never stop the dashboard."""

from __future__ import annotations

import logging
from datetime import date

import streamlit as st

from kpi import format as fmt
from reports import reminders
from store import accounts
from ui import data
from ui.text import md

log = logging.getLogger(__name__)
SEEN = "nhac_han_da_xem"
WINDOW = "nhac_han_so_ngay"
SHOWN = 5     # reminders listed in the sidebar; the rest are counted, and all are on the tasks page
WHAT_CHARS = 110  # a plan task's text is cut at a word there (Phú Thọ's run to 200 characters and more)


@st.cache_data(show_spinner=False, ttl=600, max_entries=256)
def _for_user(data_version: tuple, username: str, role: str, unit_code: str | None, grants: tuple,
              today_iso: str, window: int, upload_day: int) -> list[reminders.Reminder]:
    user = accounts.User(username, "", role, unit_code, grants)
    return reminders.for_user(data.cursor(), user, date.fromisoformat(today_iso), window)


def show(user: accounts.User) -> None:
    """The reminders box in the sidebar (nothing when there is nothing to remind)."""
    window = int(st.session_state.get(WINDOW, reminders.WINDOW_DAYS))
    try:
        found = _for_user(data.version(), user.username, user.role, user.unit_code, tuple(user.grants),
                          data.today().isoformat(), window, reminders.upload_day(data.cursor()))
    except Exception:  # noqa: BLE001 - logged; the pages must still open
        log.exception("Không lập được danh sách nhắc hạn cho %s", user.username)
        return
    first = not st.session_state.get(SEEN)
    st.session_state[SEEN] = True
    title = f"Nhắc hạn: {reminders.summary(found)}" if found else "Nhắc hạn: không có việc đến hạn"
    with st.sidebar.expander(md(title), expanded=first and bool(found), icon=":material/notifications:"):
        for r in found[:SHOWN]:
            color = "red" if r.overdue else "orange" if r.days_left <= 3 else "blue"
            st.markdown(f"**:{color}[{md(r.when_text.capitalize())}]**  \n{md(r.label)} — {md(r.unit_name)}: "
                        f"{md(fmt.shorten(r.what, WHAT_CHARS))}")
            notes = [r.detail] if r.detail else []
            if r.missing and r.kind != "missing_upload":
                notes.append(r.missing)
            if r.missing_names and r.level != "commune":
                notes.append(f"Chưa tải: {r.names_text}")
            if notes:
                st.caption(md("; ".join(notes)))
        if len(found) > SHOWN:
            st.caption(f"… và {len(found) - SHOWN} việc khác (xem trang «Nhiệm vụ và thời hạn»).")
        st.number_input("Xem trước bao nhiêu ngày", min_value=1, max_value=90, value=reminders.WINDOW_DAYS, step=1,
                        key=WINDOW)
