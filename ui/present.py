"""Presentation ("Trình chiếu"): the kiosk mode of the meeting-room screen, on every page.

The URL is the one source of truth: ?trinh_chieu=1 turns it on, lam_moi=60 reloads the figures
every 60 seconds when new data has arrived (the pages' caches are keyed by the store's data
version, so a rerun shows a new upload), xoay=trang shows the meeting pages one after
another, xoay=don_vi the province and its communes one after another, at the same interval.
A link such as /?tinh=40&trinh_chieu=1&lam_moi=60&xoay=don_vi opens straight into it (the overview is
the root page: Streamlit serves the default page at /, not at its url_path).

The toggle reads the URL on each run and writes it in its on_change callback, which runs before
the page: one click turns presentation on or off in that same run (before, the page styled
itself from the URL first and the toggle changed the URL after: one click late).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import streamlit as st

from service import addresses
from ui import data, state

PARAM, REFRESH, ROTATE = "trinh_chieu", "lam_moi", "xoay"
REFRESH_CHOICES = (0, 30, 60, 120, 300, 600)   # seconds; 0: no automatic refresh
DEFAULT_REFRESH = 60
ROTATE_LABELS = {"": "Không xoay vòng", "trang": "Lần lượt các trang", "don_vi": "Lần lượt tỉnh và các xã/phường"}
ROTATION_PAGES = (addresses.OVERVIEW, addresses.MAP, addresses.TASKS)   # the meeting pages, in this order


@dataclass(frozen=True)
class Settings:
    on: bool
    refresh: int        # seconds between checks for new data (and rotation steps); 0: none
    rotate: str         # "" | "trang" | "don_vi"


def parse(params: dict[str, str]) -> Settings:
    """The presentation settings a URL names (anything unreadable falls back to the defaults:
    a refresh of 10 s to 1 h, 60 s when absent or unreadable)."""
    on = params.get(PARAM) == "1"
    raw = params.get(REFRESH)
    refresh = DEFAULT_REFRESH
    if raw is not None and raw.strip().isdigit():
        refresh = int(raw)
        refresh = 0 if refresh == 0 else min(3600, max(10, refresh))
    rotate = params.get(ROTATE) or ""
    return Settings(on, refresh, rotate if rotate in ROTATE_LABELS else "")


def next_in(items: list[str], current: str | None) -> str | None:
    """The item after `current`, wrapping around (the first when `current` is not among them)."""
    if not items:
        return None
    if current not in items:
        return items[0]
    return items[(items.index(current) + 1) % len(items)]


def refresh_label(seconds: int) -> str:
    if seconds == 0:
        return "Không tự làm mới"
    return f"Mỗi {seconds} giây" if seconds < 60 else f"Mỗi {seconds // 60} phút"


def settings() -> Settings:
    return parse(st.query_params.to_dict())


CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stSidebarCollapseButton"], header[data-testid="stHeader"], [data-testid="stToolbar"],
[data-testid="stDecoration"], [data-testid="stStatusWidget"] {display: none !important;}
[data-testid="stMainBlockContainer"], .block-container {padding-top: 1rem !important; padding-left: 2rem !important;
  padding-right: 2rem !important; max-width: 100% !important;}
[data-testid="stMain"] {margin-left: 0 !important;}
html, body, [data-testid="stMarkdownContainer"] p, [data-testid="stCaptionContainer"] {font-size: 20px;}
h1 {font-size: 2.4rem !important;}
.kpi-value {font-size: 3.2rem;}
.kpi-label {font-size: 1.2rem;}
.kpi-target, .kpi-fraction, .kpi-change {font-size: 1.05rem;}
</style>
"""


def _sync_widget(key: str, value) -> None:
    """The URL's value into the widget, set in this run so it wins over what the browser sends
    (see ui.state._sync)."""
    st.session_state[key] = value


def _toggled() -> None:
    state.navigate(**{PARAM: "1" if st.session_state.get("present_on") else None})


def _refresh_chosen() -> None:
    state.navigate(**{REFRESH: str(st.session_state["present_refresh"])})


def _rotate_chosen() -> None:
    state.navigate(**{ROTATE: st.session_state["present_rotate"] or None})


def controls() -> Settings:
    """The toggle (and, when on, the refresh and rotation choices) at the top right of every page,
    the kiosk style when on, and "Sao chép liên kết". Returns the settings in force."""
    chosen = settings()
    _sync_widget("present_on", chosen.on)
    if chosen.on:
        st.html(CSS)
    with st.container(horizontal=True, horizontal_alignment="right", vertical_alignment="center", gap="small",
                      key="present_bar"):
        copy_link_button()
        if chosen.on:
            _sync_widget("present_refresh", chosen.refresh if chosen.refresh in REFRESH_CHOICES else DEFAULT_REFRESH)
            _sync_widget("present_rotate", chosen.rotate)
            with st.popover("Tùy chọn trình chiếu", icon=":material/tune:"):
                st.selectbox("Tự làm mới số liệu", REFRESH_CHOICES, format_func=refresh_label,
                             key="present_refresh", on_change=_refresh_chosen,
                             help="Số liệu mới tải lên hiện trên màn hình mà không cần bấm gì.")
                st.selectbox("Xoay vòng", list(ROTATE_LABELS), format_func=ROTATE_LABELS.get,
                             key="present_rotate", on_change=_rotate_chosen,
                             help="Chuyển sang trang hoặc đơn vị tiếp theo sau mỗi khoảng làm mới.")
        st.toggle("Trình chiếu", key="present_on", on_change=_toggled,
                  help="Ẩn thanh bên và thanh công cụ, phóng to chữ để chiếu trong cuộc họp; "
                       "tự làm mới khi có số liệu mới.")
    return chosen


def copy_link_button() -> None:
    """A button copying the page's current address (the URL holds the whole view). Uses the
    Clipboard API where the page is a secure context, else a hidden text field and execCommand."""
    st.html("""
<button class="copy-link" type="button" title="Sao chép địa chỉ của trang đang xem để gửi cho người khác">
  Sao chép liên kết</button><span class="copy-link-done" aria-live="polite"></span>
<style>
.copy-link {border: 1px solid rgba(49,51,63,.2); background: white; border-radius: .5rem; padding: .25rem .75rem;
  font-size: .95rem; cursor: pointer; color: #1f2328;}
.copy-link:hover {border-color: #0969da; color: #0969da;}
.copy-link-done {font-size: .85rem; color: #1a7f37; margin-left: .4rem;}
</style>
<script>
(() => {
  const button = document.currentScript ? document.currentScript.parentElement.querySelector(".copy-link")
                                        : document.querySelector(".copy-link");
  const buttons = button ? [button] : Array.from(document.querySelectorAll(".copy-link"));
  for (const b of buttons) {
    if (b.dataset.ready) continue;
    b.dataset.ready = "1";
    b.addEventListener("click", async () => {
      const url = window.location.href;
      const done = b.parentElement.querySelector(".copy-link-done");
      window.__copiedLink = url;
      try {
        await navigator.clipboard.writeText(url);
      } catch (e) {
        const field = document.createElement("textarea");
        field.value = url; document.body.appendChild(field); field.select();
        document.execCommand("copy"); field.remove();
      }
      if (done) { done.textContent = "Đã sao chép"; setTimeout(() => { done.textContent = ""; }, 3000); }
    });
  }
})();
</script>""", width="content", unsafe_allow_javascript=True)


def keep_fresh(pages: list, current) -> None:
    """In presentation with a refresh interval: every `refresh` seconds, rerun the page when the
    store's data version changed (an upload, an undo), and step the rotation if one is chosen.
    `pages` are the st.Page objects of the navigation, `current` the one running."""
    chosen = settings()
    if not chosen.on or not chosen.refresh:
        return
    st.session_state["_present_seen"] = data.version()
    st.session_state["_present_since"] = time.monotonic()

    @st.fragment(run_every=chosen.refresh)
    def tick() -> None:
        since = st.session_state.get("_present_since", time.monotonic())
        if time.monotonic() - since < chosen.refresh * 0.8:
            return  # the run that drew the page
        if chosen.rotate == "trang":
            order = [p for p in pages if p.url_path in ROTATION_PAGES]
            following = next_in([p.url_path for p in order], current.url_path)
            target = next((p for p in order if p.url_path == following), None)
            if target is not None and target.url_path != current.url_path:
                st.switch_page(target, query_params=st.query_params.to_dict())
        if chosen.rotate == "don_vi":
            province = st.query_params.get("tinh")
            if province:
                version = data.version()
                visible = state.scope()
                units = [c for c in [province, *(c for c, _ in data.communes(version, province))]
                         if visible is None or c in visible]
                following = next_in(units, st.query_params.get("don_vi") or province)
                if following:
                    state.navigate(don_vi=following)
                    st.rerun()
        if data.version() != st.session_state.get("_present_seen"):
            st.rerun()

    tick()
