"""Vietnamese number and date formatting (1.234,5; 81,2%; 31/12/2025) via Babel's vi
locale, so grouping and decimal marks follow CLDR rather than hand-rolled rules."""

from __future__ import annotations

from datetime import date, datetime

from babel.numbers import format_decimal, format_percent

LOCALE = "vi_VN"
NO_DATA = "Chưa có dữ liệu"


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return NO_DATA
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


def percent(value: float | None, digits: int = 1) -> str:
    if value is None:
        return NO_DATA
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return format_percent(value, format=pattern, locale=LOCALE)


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%d/%m/%Y")


# --- KPI values: one text per KPI kind, used by cards, tables, the CLI and the reports ------------

def day_time(value: datetime | None) -> str:
    """31/12/2025 14:05 (empty when there is none)."""
    return "" if value is None else value.strftime("%d/%m/%Y %H:%M")


def _close_to_whole(value: float) -> bool:
    return abs(value - round(value)) < 1e-9


def format_value(defn, value: float | None) -> str:
    """The text of a KPI value (`defn` is a kpi.definitions.KpiDef, or anything with its `kind`):
    "Chưa có dữ liệu" without a value (never 0), a rate as a percent with 1 decimal ("66,7%"),
    a count as an integer with Vietnamese grouping ("1.234"), a ratio with 1 decimal ("216,3")."""
    if value is None:
        return NO_DATA
    if defn.kind == "rate":
        return percent(value)
    return number(value, 1 if defn.kind == "ratio" else 0)


def format_target(defn, value: float | None) -> str:
    """The text of a KPI's target: as its value, but a whole number without decimals
    ("80%", not "80,0%"; "100" hồ sơ/dịch vụ, not "100,0")."""
    if value is None:
        return NO_DATA
    if defn.kind == "rate":
        return percent(value, 0 if _close_to_whole(value * 100) else 1)
    return number(value, 0 if defn.kind == "count" or _close_to_whole(value) else 1)


def format_gap(defn, gap: float, signed: bool = True) -> str:
    """Value minus target: "-13,3 điểm %" for a rate (percentage points), "+5" for a count,
    "-12,5" for a ratio; "0" when met exactly. `signed=False` gives the magnitude only (the
    card says "vượt"/"thiếu" in words)."""
    if abs(gap) < 1e-9:
        return "0"
    sign = "+" if signed and gap > 0 else ""
    shown = gap if signed else abs(gap)
    if defn.kind == "rate":
        return f"{sign}{number(shown * 100, 1)} điểm %"
    return sign + number(shown, 1 if defn.kind == "ratio" else 0)
