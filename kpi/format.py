"""Vietnamese number and date formatting (1.234,5; 81,2%; 31/12/2025) via Babel's vi
locale, so grouping and decimal marks follow CLDR rather than hand-rolled rules."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

import polars as pl
from babel.numbers import NumberFormatError, format_decimal, format_percent, parse_decimal

LOCALE = "vi_VN"
NO_DATA = "Chưa có dữ liệu"
# The vi locale's marks (CLDR, as Babel has them; tests/test_kpi_format.py compares with Babel).
_GROUP, _DECIMAL = ".", ","
_TO_VI = str.maketrans({",": _GROUP, ".": _DECIMAL})


def _vi(value: Decimal, digits: int) -> str:
    """`value` rounded half-even to `digits` decimals, in vi marks: Babel's own rounding
    (Decimal of the float's repr, ROUND_HALF_EVEN) without its per-call pattern machinery,
    which cost ~50 µs a number (python -m kpi formats ~4,000 of them for a province)."""
    return f"{value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN):,.{digits}f}".translate(_TO_VI)


def _finite(value) -> bool:
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return NO_DATA
    if _finite(value) and not isinstance(value, bool):
        return _vi(Decimal(value) if isinstance(value, int) else Decimal(repr(value)), digits)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


def percent(value: float | None, digits: int = 1) -> str:
    if value is None:
        return NO_DATA
    if _finite(value) and not isinstance(value, bool):
        return _vi((Decimal(value) if isinstance(value, int) else Decimal(repr(value))).scaleb(2), digits) + "%"
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return format_percent(value, format=pattern, locale=LOCALE)


def shorten(text: str, width: int) -> str:
    """`text` in `width` characters, cut at a word boundary with «…» when it is longer (0:
    no limit)."""
    if not width or len(text) <= width:
        return text
    cut = text[: width - 1].rsplit(" ", 1)[0].rstrip(" ,;:—-")
    return cut + "…"


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%d/%m/%Y")


def parse_number(text: object, percent: bool = False) -> float | None:
    """A number typed the Vietnamese way ("1.234,5", "0,8", "80%") as a float; None when
    empty. `percent`: the number is a rate, written as "80%", "80" or "0,8" (a bare number
    above 1 is read as percent). ValueError (Vietnamese) when it is no number."""
    if text is None:
        return None
    if isinstance(text, int | float):
        value = float(text)
        return value / 100 if percent and value > 1 else value
    raw = str(text).strip().replace(" ", "").replace("\u00a0", "")
    if not raw:
        return None
    has_sign = raw.endswith("%")
    try:
        value = parse_decimal(raw.rstrip("%"), locale=LOCALE, strict=True)  # a Decimal: 83,33% is 0.8333
    except NumberFormatError:
        raise ValueError(f"«{text}» không phải là số (viết như 1.234,5 hoặc 80%).") from None
    if has_sign or (percent and value > 1):
        return float(value / 100)
    return float(value)


def exact_text(value: float, percent: bool = False, max_digits: int = 6) -> str:
    """`value` as a Vietnamese text that parse_number reads back as the same number: the
    fewest decimals that do ("80%", "82,5%", "83,333%"; "1.234", "12,5")."""
    scaled = value * 100 if percent else value
    for digits in range(max_digits + 1):
        if abs(round(scaled, digits) - scaled) < 1e-9:
            break
    text = number(scaled, digits)
    return text + "%" if percent else text


# --- Tables as a page shows them ------------------------------------------------------------------

def display_frame(frame: pl.DataFrame, labels: dict[str, str] | None = None, *, percent: tuple[str, ...] = (),
                  digits: dict[str, int] | None = None, missing: str = "") -> pl.DataFrame:
    """`frame` as a table shows it to an official, every cell a text: columns renamed by
    `labels` (the others keep their names; a column labelled None is dropped), numbers
    with Vietnamese grouping ("1.234", floats with 1 decimal unless `digits` says, `percent`
    columns as "30%"), dates "31/12/2025", times "31/12/2025 14:05", yes/no as "Có"/"Không",
    lists joined by ", ", and an empty cell as `missing` (never "None"). Tables are formatted
    here rather than by the grid, whose number format follows the browser's language."""
    labels = labels or {}
    digits = digits or {}
    out = {}
    for name in frame.columns:
        label = labels.get(name, name)
        if label is None:
            continue
        column = frame[name]
        dtype = column.dtype
        if name in percent:
            texts = [None if v is None else percent_text(v, digits.get(name, 1)) for v in column.to_list()]
        elif dtype.is_integer():
            texts = [None if v is None else number(v) for v in column.to_list()]
        elif dtype.is_float():
            places = digits.get(name, 1)
            texts = [None if v is None or v != v else number(v, places) for v in column.to_list()]
        elif dtype == pl.Datetime or isinstance(dtype, pl.Datetime):
            texts = [None if v is None else day_time(v) for v in column.to_list()]
        elif dtype == pl.Date:
            texts = [None if v is None else day(v) for v in column.to_list()]
        elif dtype == pl.Boolean:
            texts = [None if v is None else ("Có" if v else "Không") for v in column.to_list()]
        elif isinstance(dtype, pl.List):
            texts = [None if v is None else ", ".join("" if x is None else str(x) for x in v) for v in column.to_list()]
        else:
            texts = [None if v is None else str(v) for v in column.to_list()]
        out[label] = pl.Series(label, [missing if t is None else t for t in texts], dtype=pl.String)
    return pl.DataFrame(out, schema={k: pl.String for k in out})


def percent_text(value: float, digits: int = 1) -> str:
    """A rate as "30%" (no needless decimals: "82,5%", "30%")."""
    whole = abs(value * 100 - round(value * 100)) < 1e-9
    return percent(value, 0 if whole else digits)


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
