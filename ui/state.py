"""The global selection (province, commune, period) in the sidebar, kept in the URL so a
view can be shared: ?tinh=40&don_vi=16969&ky=2025-Q3."""

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


def _param(name: str, default: str | None = None) -> str | None:
    """The URL's value, else the last choice in this session (switching pages through the
    sidebar drops the query string), else the default."""
    value = st.query_params.get(name)
    if value in (None, ""):
        value = st.session_state.get(f"chosen_{name}")
    return value if value not in (None, "") else default


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
    with st.sidebar:
        st.markdown("### Phạm vi")
        province = st.selectbox("Tỉnh/thành phố", codes, index=codes.index(province),
                                format_func=lambda c: names[c], key="sb_province")
        communes = data.communes(version, province)
        commune_codes = ([province] if visible is None or province in visible else []) + [
            c for c, _ in communes if visible is None or c in visible]
        commune_names = {province: "Toàn tỉnh"} | dict(communes)
        unit = _param("don_vi", commune_codes[0])
        if unit not in commune_codes:
            unit = commune_codes[0]
        unit = st.selectbox("Xã/phường", commune_codes, index=commune_codes.index(unit),
                            format_func=lambda c: commune_names[c], key=f"sb_unit_{province}")
        period = _period_picker(today)
    chosen = {"tinh": province, "don_vi": unit, "ky": period.label}
    st.query_params.update(chosen)
    st.session_state.update({f"chosen_{k}": v for k, v in chosen.items()})
    return Selection(province, names[province], unit,
                     names[province] if unit == province else commune_names[unit], period, today, visible)


def _period_picker(today: date) -> Period:
    current = _param("ky")
    try:
        chosen = parse(current) if current else default_period(today)
    except PeriodError:
        chosen = default_period(today)
    st.markdown("### Kỳ báo cáo")
    kinds = list(PERIOD_KINDS)
    kind = st.radio("Loại kỳ", kinds, index=kinds.index(chosen.kind), format_func=PERIOD_KINDS.get,
                    horizontal=True, key="sb_kind")
    years = list(range(today.year, 2024, -1))
    if kind == "range":
        start_end = st.date_input("Từ ngày – đến ngày", value=(chosen.start, chosen.end), format="DD/MM/YYYY",
                                  key="sb_range")
        if isinstance(start_end, tuple) and len(start_end) == 2:
            return parse(f"{start_end[0]:%Y-%m-%d}..{start_end[1]:%Y-%m-%d}")
        return chosen
    year = st.selectbox("Năm", years, index=years.index(chosen.start.year) if chosen.start.year in years else 0,
                        key="sb_year")
    if kind == "year":
        return parse(str(year))
    if kind == "quarter":
        quarters = [q for q in range(1, 5) if date(year, 3 * q - 2, 1) <= today]
        q_now = (chosen.start.month - 1) // 3 + 1
        q = st.selectbox("Quý", quarters, index=quarters.index(q_now) if q_now in quarters else len(quarters) - 1,
                         format_func=lambda q: f"Quý {('I', 'II', 'III', 'IV')[q - 1]}", key="sb_quarter")
        return parse(f"{year}-Q{q}")
    months = [m for m in range(1, 13) if date(year, m, 1) <= today]
    m = st.selectbox("Tháng", months, index=months.index(chosen.start.month) if chosen.start.month in months
                     else len(months) - 1, format_func=lambda m: f"Tháng {m:02d}", key="sb_month")
    return parse(f"{year}-{m:02d}")
