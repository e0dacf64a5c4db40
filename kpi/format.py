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
