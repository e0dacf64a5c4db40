"""The global selection (province, commune, period) in the sidebar, kept in the URL so a
view can be shared: ?tinh=40&don_vi=16969&ky=2025-Q3.

The URL is the one source of truth. On each run the sidebar's widgets are set from it, except
the widget the user has just changed (its on_change callback marks it), whose value then goes
to the URL. So Back/Forward in the browser (which rerun with an older URL) and links written
by other pages show exactly the view the URL names. Streamlit turns every write of
st.query_params into a browser-history entry (pushState), so a change of several parameters
goes through `navigate`: one write, one entry, never a half-changed view in the history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from kpi.periods import Period, PeriodError, latest_complete_month, parse
from store import accounts
from ui import data

PERIOD_KINDS = {"month": "Tháng", "quarter": "Quý", "year": "Năm", "range": "Khoảng ngày"}


@dataclass
class Selection:
    province: str
    province_name: str
    unit: str            # the province code or a commune code
    unit_name: str
    period: Period
    today: date
    visible: frozenset[str] | None = None   # accounts.visible_units of the user; None: everything

    @property
    def is_province(self) -> bool:
        return self.unit == self.province

    def sees(self, code: str) -> bool:
        return self.visible is None or code in self.visible

    def only_visible(self, rows: list[dict], key: str = "unit_code") -> list[dict]:
        """The rows of units the user may see (the one rule, accounts.visible_units)."""
        return rows if self.visible is None else [r for r in rows if r[key] in self.visible]


SCOPE_PARAMS = ("tinh", "don_vi", "ky")


def _param(name: str, default: str | None = None) -> str | None:
    """The URL's value; when the URL names no scope at all (switching pages through the
    sidebar drops the query string), the last choice in this session; else the default. A URL
    that names some of the scope (a link, or Back to ?tinh=40&ky=…) is taken as it is: its
    missing parts are the defaults, not this session's last choice."""
    value = st.query_params.get(name)
    if value in (None, "") and not any(st.query_params.get(p) for p in SCOPE_PARAMS):
        value = st.session_state.get(f"chosen_{name}")
    return value if value not in (None, "") else default


def navigate(**changes: str | None) -> None:
    """Change URL parameters in one write (None removes one): one browser-history entry, so
    Back returns to the previous view and never to a mix of old and new parameters."""
    params = st.query_params.to_dict()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    if params != st.query_params.to_dict():
        st.query_params.from_dict(params)


_TOUCHED = "_sb_touched"


def _touch(key: str) -> None:
    """on_change of a sidebar widget: this run keeps the value the user chose."""
    st.session_state.setdefault(_TOUCHED, set()).add(key)


def _sync(key: str, value, touched: set[str]) -> None:
    """Show `value` (from the URL) in the keyed widget unless the user just changed it. Set
    even when the session already holds it: after Back/Forward the browser may send the widget
    a value of its own (seen in Chromium: the month reset to January on Back to the map), and
    only a value set through st.session_state in this run wins over it."""
    if key not in touched:
        st.session_state[key] = value


def default_period(today: date) -> Period:
    """The latest complete month, or the last month with data if that is earlier."""
    latest = latest_complete_month(today)
    _first, last = data.data_months(data.version())
    if last and date.fromisoformat(last) < latest.start:
        return parse(last[:7])
    return latest


def scope() -> frozenset[str] | None:
    """The units the logged-in user may see (None: all): accounts.visible_units, the one rule."""
    from ui import auth

    visible = accounts.visible_units(data.cursor(), auth.current())
    return None if visible is None else frozenset(visible)


def sidebar() -> Selection:
    version = data.version()
    today = data.today()
    visible = scope()
    all_provinces = data.provinces(version)
    if visible is None:
        provinces = all_provinces
    else:
        reachable = data.provinces_of(version, tuple(sorted(visible)))
        provinces = [p for p in all_provinces if p[0] in reachable]
    if not provinces:
        st.error("Tài khoản chưa được gán đơn vị nào. Liên hệ quản trị viên.")
        st.stop()
    codes = [p[0] for p in provinces]
    names = {p[0]: p[1] for p in provinces}
    province = _param("tinh", codes[0])
    if province not in names:
        province = codes[0]
    touched = st.session_state.pop(_TOUCHED, set())
    with st.sidebar:
        st.markdown("### Phạm vi")
        _sync("sb_province", province, touched)
        province = st.selectbox("Tỉnh/thành phố", codes, format_func=lambda c: names[c], key="sb_province",
                                on_change=_touch, args=("sb_province",))
        communes = data.communes(version, province)
        commune_codes = ([province] if visible is None or province in visible else []) + [
            c for c, _ in communes if visible is None or c in visible]
        commune_names = {province: "Toàn tỉnh"} | dict(communes)
        unit = _param("don_vi", commune_codes[0])
        if unit not in commune_codes:
            unit = commune_codes[0]
        unit_key = f"sb_unit_{province}"
        _sync(unit_key, unit, touched)
        unit = st.selectbox("Xã/phường", commune_codes, format_func=lambda c: commune_names[c], key=unit_key,
                            on_change=_touch, args=(unit_key,))
        period = _period_picker(today, touched)
    chosen = {"tinh": province, "don_vi": unit, "ky": period.label}
    st.query_params.update(chosen)
    st.session_state.update({f"chosen_{k}": v for k, v in chosen.items()})
    return Selection(province, names[province], unit,
                     names[province] if unit == province else commune_names[unit], period, today, visible)


def _period_picker(today: date, touched: set[str] = frozenset()) -> Period:
    current = _param("ky")
    try:
        chosen = parse(current) if current else default_period(today)
    except PeriodError:
        chosen = default_period(today)
    # The period's widgets follow the URL unless one of them was just changed (then the others
    # keep their own values too: the new period is made of them).
    period_keys = {"sb_kind", "sb_range", "sb_year", "sb_quarter", "sb_month"}
    follow = set() if touched & period_keys else period_keys
    keep = period_keys - follow

    def widget(key: str):
        return {"on_change": _touch, "args": (key,), "key": key}

    st.markdown("### Kỳ báo cáo")
    kinds = list(PERIOD_KINDS)
    _sync("sb_kind", chosen.kind, keep)
    kind = st.radio("Loại kỳ", kinds, format_func=PERIOD_KINDS.get, horizontal=True, **widget("sb_kind"))
    years = list(range(today.year, 2024, -1))
    if kind == "range":
        if chosen.kind == "range":
            _sync("sb_range", (chosen.start, chosen.end), keep)
        elif "sb_range" not in st.session_state:
            st.session_state["sb_range"] = (chosen.start, chosen.end)
        start_end = st.date_input("Từ ngày – đến ngày", format="DD/MM/YYYY", **widget("sb_range"))
        if isinstance(start_end, tuple) and len(start_end) == 2:
            return parse(f"{start_end[0]:%Y-%m-%d}..{start_end[1]:%Y-%m-%d}")
        return chosen
    if "sb_year" in keep and st.session_state.get("sb_year") in years:
        year = st.session_state["sb_year"]
    else:
        year = chosen.start.year if chosen.start.year in years else years[0]
    _sync("sb_year", year, keep)
    year = st.selectbox("Năm", years, **widget("sb_year"))
    if kind == "year":
        return parse(str(year))
    if kind == "quarter":
        quarters = [q for q in range(1, 5) if date(year, 3 * q - 2, 1) <= today]
        q_now = (chosen.start.month - 1) // 3 + 1
        if "sb_quarter" in keep and st.session_state.get("sb_quarter") in quarters:
            q_now = st.session_state["sb_quarter"]
        _sync("sb_quarter", q_now if q_now in quarters else quarters[-1], set())
        q = st.selectbox("Quý", quarters, format_func=lambda q: f"Quý {('I', 'II', 'III', 'IV')[q - 1]}",
                         **widget("sb_quarter"))
        return parse(f"{year}-Q{q}")
    months = [m for m in range(1, 13) if date(year, m, 1) <= today]
    m_now = chosen.start.month
    if "sb_month" in keep and st.session_state.get("sb_month") in months:
        m_now = st.session_state["sb_month"]
    _sync("sb_month", m_now if m_now in months else months[-1], set())
    m = st.selectbox("Tháng", months, format_func=lambda m: f"Tháng {m:02d}", **widget("sb_month"))
    return parse(f"{year}-{m:02d}")
